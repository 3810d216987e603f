"""shortly.compat.kaa: one test per sentence of the kaa InProgress document, plus the
behaviours recorded in the seeds README (BaseException aborts, ``(tp, exc, tb)``
handlers, ``finish`` returning self and adopting, InProgressAny/All results)."""

from __future__ import annotations

import gc
import logging
import sys
import threading
import time
from collections.abc import Generator
from typing import Any

import pytest

import shortly
from shortly.compat import kaa
from tests.helpers import when_waited_on

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


def failed_with(error: BaseException) -> kaa.InProgress:
    return kaa.InProgress().throw(type(error), error, None)


# -- InProgress objects ----------------------------------------------------------------------


def test_asynchronous_functions_return_inprogress_objects() -> None:
    @kaa.coroutine()
    def connect(site: str) -> Generator[Any, Any, str]:
        yield kaa.delay(0)
        return f"connected to {site}"

    ip = connect("www.freevo.org:80")
    assert isinstance(ip, kaa.InProgress)
    assert ip.wait(timeout=5) == "connected to www.freevo.org:80"


def test_an_inprogress_is_a_signal_for_result_and_exception_callbacks() -> None:
    ip = kaa.InProgress()
    assert isinstance(ip, kaa.Signal)
    results: list[Any] = []
    ip.connect(results.append)
    assert ip.count() == 1 and len(ip) == 1 and bool(kaa.InProgress())
    ip.finish("value")
    assert results == ["value"]


def test_emitted_means_finished_and_finished_is_true() -> None:
    ip = kaa.InProgress()
    assert ip.finished is False
    assert ip.emit("payload") is True
    assert ip.finished is True and ip.result == "payload"
    several = kaa.InProgress()
    several.emit(1, 2)
    assert several.result == (1, 2)


def test_handlers_retrieve_the_return_value_when_emitted() -> None:
    ip = kaa.InProgress()
    got: list[tuple[Any, ...]] = []
    ip.connect(lambda *args, **kwargs: got.append((*args, kwargs)), "extra", key="word")
    ip.finish(42)
    assert got == [(42, "extra", {"key": "word"})]


def test_exception_member_is_a_signal_emitted_when_the_task_raises() -> None:
    ip = kaa.InProgress()
    assert isinstance(ip.exception, kaa.Signal)
    seen: list[BaseException] = []
    ip.exception.connect(lambda tp, exc, tb: seen.append(exc))
    error = OSError("unreachable")
    ip.throw(OSError, error, None)
    assert seen == [error]


def test_exception_handlers_get_class_instance_and_traceback_as_exc_info() -> None:
    ip = kaa.InProgress()
    seen: list[tuple[Any, ...]] = []
    ip.exception.connect(lambda *info: seen.append(info))
    try:
        raise KeyError("k")
    except KeyError:
        expected = sys.exc_info()
        ip.throw()
    ((tp, exc, tb),) = seen
    assert (tp, exc) == expected[:2] and tb is expected[2]


def test_connect_and_exception_connect_handle_success_and_failure() -> None:
    log: list[str] = []

    def handle_connect(result: Any) -> None:
        log.append(f"Connected: {result}")

    def handle_exception(tp: type, exc: BaseException, tb: Any) -> None:
        log.append(f"Connect failed: {exc}")

    ok, broken = kaa.InProgress(), kaa.InProgress()
    for ip in (ok, broken):
        ip.connect(handle_connect)
        ip.exception.connect(handle_exception)
    ok.finish("socket")
    broken.throw(ConnectionError, ConnectionError("refused"), None)
    assert log == ["Connected: socket", "Connect failed: refused"]


def test_connect_both_replaces_the_two_lines() -> None:
    log: list[Any] = []
    ok, broken = kaa.InProgress(), kaa.InProgress()
    ok.connect_both(log.append, lambda tp, exc, tb: log.append(tp))
    broken.connect_both(log.append, lambda tp, exc, tb: log.append(tp))
    ok.finish(1)
    broken.throw(ValueError, ValueError(), None)
    assert log == [1, ValueError]


def test_connect_both_with_one_callable_connects_it_to_both() -> None:
    calls: list[tuple[Any, ...]] = []
    ok, broken = kaa.InProgress(), kaa.InProgress()
    ok.connect_both(lambda *args: calls.append(args))
    broken.connect_both(lambda *args: calls.append(args))
    ok.finish("r")
    error = ValueError()
    broken.throw(ValueError, error, None)
    assert calls[0] == ("r",) and calls[1][:2] == (ValueError, error)


def test_coroutines_handle_results_and_exceptions_without_callbacks() -> None:
    log: list[str] = []

    @kaa.coroutine()
    def connect(site: kaa.InProgress) -> Generator[Any, Any, None]:
        try:
            yield site
        except Exception as exc:
            log.append(f"Connect failed: {exc}")
        else:
            log.append("Connected to remote site successfully")

    up, down = kaa.InProgress(), kaa.InProgress()
    a, b = connect(up), connect(down)
    up.finish("sock")
    down.throw(OSError, OSError("no route"), None)
    assert a.finished and b.finished
    assert log == ["Connected to remote site successfully", "Connect failed: no route"]


def test_coroutine_resumes_in_the_thread_that_finishes_what_it_waits_for() -> None:
    where: list[threading.Thread] = []

    @kaa.coroutine()
    def body(ip: kaa.InProgress) -> Generator[Any, Any, int]:
        value = yield ip
        where.append(threading.current_thread())
        return value * 2

    ip = kaa.InProgress()
    task = body(ip)
    worker = threading.Thread(target=ip.finish, args=(21,))
    worker.start()
    assert task.wait(timeout=5) == 42
    worker.join(5)
    assert where == [worker]


def test_coroutine_yielding_a_plain_value_finishes_with_it() -> None:
    after: list[str] = []

    @kaa.coroutine()
    def old_style() -> Generator[Any, Any, None]:
        yield kaa.delay(0)
        yield "the result"
        after.append("never reached")

    assert old_style().wait(timeout=5) == "the result" and after == []


def test_coroutine_yielding_a_finished_inprogress_resumes_at_once() -> None:
    @kaa.coroutine()
    def quick() -> Generator[Any, Any, int]:
        value = yield kaa.InProgress().finish(5)
        return value + 1

    ip = quick()
    assert ip.finished and ip.result == 6


def test_coroutine_not_finished_resumes_later() -> None:
    steps: list[int] = []

    @kaa.coroutine(interval=0.001)
    def slices() -> Generator[Any, Any, str]:
        for i in range(3):
            steps.append(i)
            yield kaa.NotFinished
        return "sliced"

    ip = slices()
    assert steps == [0] and not ip.finished
    assert ip.wait(timeout=5) == "sliced" and steps == [0, 1, 2]
    assert repr(kaa.NotFinished) == "kaa.NotFinished"


def test_coroutine_decorator_without_parentheses_and_validation() -> None:
    @kaa.coroutine
    def bare() -> Generator[Any, Any, int]:
        yield kaa.InProgress().finish(None)
        return 1

    assert bare().result == 1

    @kaa.coroutine()
    def not_a_generator() -> int:
        return 1

    with pytest.raises(TypeError, match="not a generator"):
        not_a_generator()
    with pytest.raises(ValueError, match="interval"):
        kaa.coroutine(-1)


def test_coroutine_failing_before_its_first_wait_raises_to_the_caller() -> None:
    @kaa.coroutine()
    def broken() -> Generator[Any, Any, None]:
        raise LookupError("early")
        yield

    with pytest.raises(LookupError, match="early"):
        broken()


def test_coroutine_yielding_a_signal_waits_for_its_emission() -> None:
    signal = kaa.Signal()

    @kaa.coroutine()
    def listen() -> Generator[Any, Any, Any]:
        value = yield signal
        return value

    ip = listen()
    assert not ip.finished
    signal.emit("heard")
    assert ip.result == "heard"


def test_coroutine_can_await_shortly_futures() -> None:
    @kaa.coroutine()
    def mixed(f: shortly.Future[int]) -> Generator[Any, Any, int]:
        return (yield f) + 1

    f: shortly.Future[int] = shortly.Future()
    ip = mixed(f)
    f.set_result(1)
    assert ip.result == 2


def test_failed_property_is_true_for_an_exception() -> None:
    ip = kaa.InProgress()
    assert ip.failed is False
    ip.execute(int, "x")
    assert ip.failed is True and ip.finished is True
    with pytest.raises(ValueError):
        _ = ip.result


def test_an_unhandled_exception_is_logged_with_the_kaa_heading(
    reports: list[shortly.Unhandled], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="shortly"):
        ip = failed_with(RuntimeError("nobody listens"))
        del ip
        gc.collect()
        shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert [u.context for u in reports] == ["Unhandled asynchronous exception."]
    assert "Unhandled asynchronous exception." in caplog.text


def test_an_exception_handled_by_a_handler_is_not_logged(reports: list[shortly.Unhandled]) -> None:
    ip = kaa.InProgress()
    ip.exception.connect(lambda tp, exc, tb: None)
    ip.throw(ValueError, ValueError(), None)
    late = failed_with(ValueError())
    late.exception.connect(lambda tp, exc, tb: None)  # connected afterwards: handled too
    del ip, late
    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert reports == []


def test_an_exception_caught_in_a_coroutine_is_not_logged(reports: list[shortly.Unhandled]) -> None:
    @kaa.coroutine()
    def careful(ip: kaa.InProgress) -> Generator[Any, Any, str]:
        try:
            yield ip
        except ValueError:
            return "caught"
        return "no error"

    source = kaa.InProgress()
    task = careful(source)
    source.throw(ValueError, ValueError(), None)
    assert task.result == "caught"
    del source, task
    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert reports == []


def test_an_exception_read_from_result_is_not_logged(reports: list[shortly.Unhandled]) -> None:
    ip = failed_with(KeyError("k"))
    with pytest.raises(KeyError):
        _ = ip.result
    del ip
    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert reports == []


def test_connect_is_invoked_only_when_the_task_returned_normally() -> None:
    results: list[Any] = []
    ip = kaa.InProgress()
    ip.connect(results.append)
    ip.exception.connect(lambda *info: None)
    ip.throw(ValueError, ValueError(), None)
    ip.connect(results.append)  # late, on a failed InProgress: never called
    assert results == []


def test_a_callback_connected_after_the_finish_is_called_at_once() -> None:
    ip = kaa.InProgress().finish("early")
    got: list[Any] = []
    ip.connect(got.append)
    assert got == ["early"]


def test_a_raising_callback_is_reported_and_others_still_run(
    reports: list[shortly.Unhandled],
) -> None:
    ip = kaa.InProgress()
    got: list[int] = []
    ip.connect(lambda v: 1 / 0)
    ip.connect(got.append)
    ip.finish(3)
    assert got == [3] and [type(u.error) for u in reports] == [ZeroDivisionError]


# -- the methods: abort, connect, connect_both, execute, finish, throw, timeout, wait, waitfor


def test_finish_returns_self_to_prime_an_inprogress() -> None:
    ip = kaa.InProgress()
    assert ip.finish(42) is ip and ip.result == 42


def test_finish_twice_raises_runtime_error() -> None:
    ip = kaa.InProgress().finish(1)
    with pytest.raises(RuntimeError, match="already finished"):
        ip.finish(2)
    with pytest.raises(RuntimeError, match="already finished"):
        ip.throw(ValueError, ValueError(), None)
    with pytest.raises(RuntimeError, match="already finished"):
        ip.finish(kaa.InProgress())


def test_finish_with_an_unfinished_inprogress_waits_for_it() -> None:
    inner, outer = kaa.InProgress(), kaa.InProgress()
    assert outer.finish(inner) is outer
    assert not outer.finished
    inner.finish("inner value")
    assert outer.result == "inner value"
    failing, relay = kaa.InProgress(), kaa.InProgress()
    relay.finish(failing)
    failing.throw(KeyError, KeyError("k"), None)
    with pytest.raises(KeyError):
        _ = relay.result


def test_throw_without_arguments_outside_except_is_refused() -> None:
    with pytest.raises(ValueError, match="no current exception"):
        kaa.InProgress().throw()
    with pytest.raises(TypeError):
        kaa.InProgress().throw(42)  # type: ignore[arg-type]


def test_throw_a_class_instantiates_it() -> None:
    ip = kaa.InProgress().throw(LookupError)
    with pytest.raises(LookupError):
        _ = ip.result


def test_execute_finishes_with_the_return_or_the_exception() -> None:
    assert kaa.InProgress().execute(sorted, [3, 1]).result == [1, 3]
    failed = kaa.InProgress().execute(int, "x")
    with pytest.raises(ValueError):
        _ = failed.result

    def interrupted() -> None:
        raise KeyboardInterrupt

    ip = kaa.InProgress()
    ip.exception.connect(lambda *info: None)
    with pytest.raises(KeyboardInterrupt):
        ip.execute(interrupted)
    assert ip.failed


def test_abort_throws_inprogress_aborted_and_emits_the_abort_signal() -> None:
    ip = kaa.InProgress()
    heard: list[BaseException] = []
    ip.signals["abort"].connect(heard.append)
    assert ip.abortable
    caught: list[Any] = []
    ip.exception.connect(lambda tp, exc, tb: caught.append(tp))
    ip.abort()
    assert len(heard) == 1 and isinstance(heard[0], kaa.InProgressAborted)
    assert caught == [kaa.InProgressAborted] and ip.failed
    error = heard[0]
    assert isinstance(error, kaa.InProgressAborted)
    assert error.inprogress is ip and error.origin is ip


def test_abort_refused_when_finished_not_abortable_or_vetoed() -> None:
    with pytest.raises(RuntimeError, match="already finished"):
        kaa.InProgress(abortable=True).finish(1).abort()
    with pytest.raises(RuntimeError, match="cannot be aborted"):
        kaa.InProgress().abort()
    veto = kaa.InProgress()
    veto.signals["abort"].connect(lambda exc: False)
    with pytest.raises(RuntimeError, match="cannot be aborted"):
        veto.abort()
    with pytest.raises(ValueError, match="InProgressAborted"):
        kaa.InProgress(abortable=True).abort(ValueError())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="abortable must be a bool"):
        kaa.InProgress(abortable="yes")  # type: ignore[arg-type]


def test_abort_of_an_inprogress_its_abort_handler_finished_is_refused() -> None:
    ip = kaa.InProgress()
    ip.signals["abort"].connect(lambda exc: ip.finish("finished instead"))
    with pytest.raises(RuntimeError, match="already finished"):
        ip.abort()
    assert ip.result == "finished instead"


def test_abort_with_a_given_exception_and_abortable_setter() -> None:
    ip = kaa.InProgress()
    ip.abortable = True
    reason = kaa.InProgressAborted("user closed the window")
    ip.abort(reason)
    with pytest.raises(kaa.InProgressAborted) as raised:
        ip.wait(timeout=5)
    assert raised.value is reason and reason.inprogress is ip


def test_finishing_an_aborted_inprogress_is_a_quiet_no_op() -> None:
    ip = kaa.InProgress(abortable=True)
    ip.abort()
    ip.finish("too late")  # the producer is not disturbed
    ip.throw(ValueError, ValueError(), None)
    with pytest.raises(kaa.InProgressAborted):
        _ = ip.result


def test_abort_of_a_coroutine_raises_inside_it_and_ends_it() -> None:
    cleanup: list[str] = []
    waiting = kaa.InProgress()

    @kaa.coroutine()
    def worker() -> Generator[Any, Any, None]:
        try:
            yield waiting
        except kaa.InProgressAborted as exc:
            cleanup.append(f"cleaned up after {exc}")
            yield "ignored: an aborted coroutine ends aborted"

    ip = worker()
    assert ip.abortable
    ip.abort()
    assert cleanup == ["cleaned up after InProgress task aborted by abort()"]
    with pytest.raises(kaa.InProgressAborted):
        _ = ip.result
    assert waiting.finished  # nothing else wanted it: aborted along (kaa's rule)


def test_abort_of_a_coroutine_spares_what_others_still_wait_for() -> None:
    shared = kaa.InProgress()
    shared.connect(lambda v: None)  # someone else wants it

    @kaa.coroutine()
    def worker() -> Generator[Any, Any, None]:
        yield shared

    ip = worker()
    ip.abort()
    assert ip.failed and not shared.finished
    shared.finish("still delivered")


def test_a_coroutine_may_catch_the_abort_of_what_it_waits_for() -> None:
    step = kaa.InProgress(abortable=True)

    @kaa.coroutine()
    def resilient() -> Generator[Any, Any, str]:
        try:
            yield step
        except kaa.InProgressAborted:
            return "recovered"
        return "not aborted"

    ip = resilient()
    step.abort()
    assert ip.result == "recovered"


def test_timeout_throws_timeout_exception_into_a_new_inprogress() -> None:
    original = kaa.InProgress()
    timed = original.timeout(0.01)
    assert timed is not original
    with pytest.raises(kaa.TimeoutException) as raised:
        timed.wait(timeout=5)
    assert raised.value.inprogress is original and not original.finished
    assert "timed out after 0.01 seconds" in str(raised.value)


def test_timeout_finishes_with_the_original_result_in_time() -> None:
    original = kaa.InProgress()
    timed = original.timeout(5)
    original.finish("in time")
    assert timed.result == "in time"


def test_timeout_callback_and_abort_of_the_original() -> None:
    original = kaa.InProgress()
    order: list[str] = []
    original.exception.connect(lambda tp, exc, tb: order.append(f"original {tp.__name__}"))
    timed = original.timeout(0.01, callback=lambda: order.append("callback"), abort=True)
    timed.exception.connect(lambda tp, exc, tb: order.append(f"timed {tp.__name__}"))
    with pytest.raises(kaa.TimeoutException):
        timed.wait(timeout=5)
    assert order == ["callback", "original TimeoutException", "timed TimeoutException"]


def test_timeout_with_abort_ends_a_coroutine_even_if_it_catches_the_timeout() -> None:
    seen: list[str] = []

    @kaa.coroutine()
    def stubborn() -> Generator[Any, Any, Any]:
        try:
            yield kaa.InProgress()
        except kaa.TimeoutException as exc:
            seen.append(type(exc).__name__)
            yield "carry on"  # ignored: an aborted coroutine ends aborted

    ip = stubborn()
    timed = ip.timeout(0.01, abort=True)
    with pytest.raises(kaa.TimeoutException):
        timed.wait(timeout=5)
    assert seen == ["TimeoutException"] and ip.failed


def test_aborting_the_timeout_inprogress_aborts_the_original_only_with_abort() -> None:
    kept, dropped = kaa.InProgress(), kaa.InProgress()
    kept.timeout(60).abort()
    dropped.timeout(60, abort=True).abort()
    assert not kept.finished and dropped.failed
    with pytest.raises(TypeError, match="callback must be callable"):
        kept.timeout(1, callback=3)  # type: ignore[arg-type]


def test_wait_blocks_until_finished_and_returns_the_result() -> None:
    ip = kaa.InProgress()
    finisher = when_waited_on(shortly.future_of(ip), lambda: ip.finish("done"))
    assert ip.wait() == "done"
    finisher.join(5)


def test_wait_raises_the_exception_or_timeout_exception() -> None:
    with pytest.raises(kaa.TimeoutException):
        kaa.InProgress().wait(timeout=0.01)
    with pytest.raises(ZeroDivisionError):
        kaa.InProgress().execute(lambda: 1 / 0).wait()


def test_wait_inside_the_coroutine_on_itself_is_a_deadlock() -> None:
    box: list[kaa.InProgress] = []
    gate = kaa.InProgress()

    @kaa.coroutine()
    def selfish() -> Generator[Any, Any, str]:
        yield gate
        try:
            box[0].wait()
        except shortly.DeadlockError:
            return "refused"
        return "waited"

    box.append(selfish())
    gate.finish(None)
    assert box[0].result == "refused"


def test_waitfor_finishes_b_with_the_result_or_exception_of_a() -> None:
    a, b = kaa.InProgress(), kaa.InProgress()
    b.waitfor(a)
    a.finish("from a")
    assert b.result == "from a"
    c, d = kaa.InProgress(), kaa.InProgress()
    d.waitfor(c)
    d.exception.connect(lambda *info: None)
    c.throw(OSError, OSError(), None)
    assert d.failed


# -- collections, exceptions, functions -----------------------------------------------------------


def test_inprogress_any_finishes_with_index_and_result_of_the_first() -> None:
    a, b, c = kaa.InProgress(), kaa.InProgress(), kaa.InProgress()
    first = kaa.InProgressAny(a, [b, c])
    b.finish("b wins")
    a.finish("too late")
    assert first.result == (1, "b wins")


def test_inprogress_any_reports_a_failed_child_as_its_exc_info() -> None:
    a = kaa.InProgress()
    first = kaa.InProgressAny(a, kaa.InProgress())
    error = KeyError("k")
    a.throw(KeyError, error, None)
    index, (tp, exc, _tb) = first.result
    assert (index, tp, exc) == (0, KeyError, error)


def test_inprogress_any_needs_at_least_one_child() -> None:
    with pytest.raises(ValueError, match="at least one"):
        kaa.InProgressAny()


def test_inprogress_all_finishes_with_itself_when_every_child_finished_or_failed() -> None:
    a, b = kaa.InProgress(), kaa.InProgress()
    every = kaa.InProgressAll(a, b)
    a.finish(1)
    assert not every.finished
    b.throw(ValueError, ValueError("b broke"), None)
    assert every.finished and every.result is every
    assert [ip.finished for ip in every] == [True, True] and every[0].result == 1
    assert every[1].failed


def test_an_empty_inprogress_all_finishes_at_once() -> None:
    assert kaa.InProgressAll().finished


def test_exceptions_derive_from_base_exception() -> None:
    assert issubclass(kaa.InProgressAborted, BaseException)
    assert not issubclass(kaa.InProgressAborted, Exception)
    assert issubclass(kaa.TimeoutException, kaa.InProgressAborted)
    assert not issubclass(kaa.TimeoutException, Exception)


def test_inprogress_function_calls_the_protocol_and_accepts_inprogress() -> None:
    ip = kaa.InProgress()
    assert kaa.inprogress(ip) is ip

    class Process:
        def __init__(self) -> None:
            self.exited = kaa.InProgress()

        def __inprogress__(self) -> kaa.InProgress:
            return self.exited

    process = Process()
    assert kaa.inprogress(process) is process.exited
    with pytest.raises(TypeError, match="object of type 'str' has no __inprogress__"):
        kaa.inprogress("text")
    wrapped = kaa.inprogress(shortly.Future.resolved(7))
    assert wrapped.result == 7


def test_a_signal_inprogress_finishes_when_the_signal_is_next_emitted() -> None:
    signal = kaa.Signal()
    ip = kaa.inprogress(signal)
    assert not ip.finished and signal.count() == 1
    signal.emit("first", "emission")
    assert ip.result == ("first", "emission") and signal.count() == 0
    later = kaa.inprogress(signal)
    later.abort()  # given up: it leaves nothing connected
    assert signal.count() == 0


def test_protocol_objects_can_be_passed_to_inprogress_any_and_all() -> None:
    signal = kaa.Signal()
    done = kaa.InProgress()
    any_of = kaa.InProgressAny(signal, done)
    all_of = kaa.InProgressAll(signal, done)
    signal.emit("ping")
    assert any_of.result == (0, "ping") and not all_of.finished
    done.finish(None)
    assert all_of.finished


def test_delay_finishes_after_the_given_seconds() -> None:
    start = time.monotonic()
    ip = kaa.delay(0.02)
    assert ip.wait(timeout=5) is None
    assert time.monotonic() - start >= 0.02
    cancelled = kaa.delay(60)
    cancelled.abort()
    assert cancelled.failed


def test_signal_basics() -> None:
    signal = kaa.Signal()
    calls: list[Any] = []
    signal.connect(calls.append)
    signal.connect_once(lambda v: calls.append(("once", v)))
    signal.emit(1)
    signal.emit(2)
    assert calls == [1, ("once", 1), 2]
    assert signal.disconnect(calls.append) is True and signal.disconnect(print) is False
    assert signal.emit(3) is True and calls[-1] == 2
    with pytest.raises(TypeError, match="callback must be callable"):
        signal.connect(None)  # type: ignore[arg-type]


def test_inprogress_works_with_the_core() -> None:
    ip = kaa.InProgress()
    doubled = shortly.future_of(ip).then(lambda x: x * 2)
    ip.finish(21)
    assert doubled.result(timeout=5) == 42
    assert repr(ip).startswith("<InProgress object (finished)")
