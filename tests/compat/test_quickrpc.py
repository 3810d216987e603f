"""shortly.compat.quickrpc: one test per sentence of the quickrpc document, plus the
behaviours recorded in the seeds README (default setter, late ``then``, the ActionQueue
that must not stall)."""

from __future__ import annotations

import concurrent.futures
import inspect
import threading
import time
from typing import Any

import pytest

import shortly
from shortly.compat.quickrpc import (
    ActionQueue,
    Promise,
    PromiseDeadlockError,
    PromiseDoneError,
    PromiseError,
    PromiseTimeoutError,
)

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


def setter() -> threading.Thread:
    """A thread that will never wait on anything: a promise's setter other than us."""
    return threading.Thread(name="setter")


def run_in_thread(fn: Any, *args: Any) -> shortly.Future[Any]:
    future: shortly.Future[Any] = shortly.Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run).start()
    return future


# -- the package -------------------------------------------------------------------------


def test_a_promise_is_an_order_slip_for_something_still_being_produced() -> None:
    p: Promise[str] = Promise(setter_thread=setter())
    with pytest.raises(PromiseTimeoutError):
        p.result(timeout=0.01)  # nothing produced yet
    p.set_result("produced")
    assert p.result() == "produced"


def test_an_action_queue_is_a_background_worker_managing_its_own_thread() -> None:
    queue = ActionQueue()
    where: shortly.Future[threading.Thread] = shortly.Future()
    queue.put(lambda: where.set_result(threading.current_thread()))
    worker = where.result(timeout=5)
    assert worker is not threading.current_thread()
    worker.join(5)
    assert not worker.is_alive() and not queue.statistics().worker_alive


# -- quickrpc.promise ----------------------------------------------------------------------


def test_method_names_are_aligned_with_concurrent_futures() -> None:
    for name in ("result", "set_result", "set_exception"):
        assert callable(getattr(Promise, name))
        assert callable(getattr(concurrent.futures.Future, name))


def test_promise_encapsulates_a_result_that_arrives_later() -> None:
    go = threading.Event()
    worker = threading.Thread(target=lambda: (go.wait(5), p.set_result(42)))
    p: Promise[int] = Promise(setter_thread=worker)
    worker.start()
    go.set()
    assert p.result(timeout=5) == 42


def test_result_waits_until_the_operation_is_complete_then_returns_it() -> None:
    started = threading.Event()
    p: Promise[str] = Promise(setter_thread=setter())
    waiter = run_in_thread(lambda: (started.set(), p.result(timeout=5))[1])
    started.wait(5)
    assert not waiter.done()  # the waiter cannot have a result before there is one
    p.set_result("complete")
    assert waiter.result(timeout=5) == "complete"


def test_then_has_the_promise_call_you_with_the_result() -> None:
    p: Promise[int] = Promise()
    got: list[int] = []
    p.then(got.append)
    p.set_result(7)
    assert got == [7]


def test_setter_thread_is_the_thread_that_will_set_the_result() -> None:
    worker = setter()
    p: Promise[int] = Promise(setter_thread=worker)
    assert shortly.future_of(p).owner is worker


def test_default_setter_thread_is_the_creating_thread() -> None:
    p: Promise[int] = Promise()
    with pytest.raises(PromiseDeadlockError):
        p.result()  # this thread is the setter
    # Any other thread may wait: it times out instead.
    other = run_in_thread(lambda: p.result(timeout=0.01))
    assert isinstance(other.exception(timeout=5), PromiseTimeoutError)


def test_setter_thread_provides_basic_deadlock_protection() -> None:
    created = run_in_thread(Promise)  # a promise whose setter is another thread
    p = created.result(timeout=5)
    with pytest.raises(PromiseTimeoutError):
        p.result(timeout=0.01)  # not the setter: a plain timeout, no deadlock


def test_setter_thread_must_be_a_thread() -> None:
    with pytest.raises(TypeError, match=r"setter_thread must be a threading\.Thread"):
        Promise(setter_thread="main")  # type: ignore[arg-type]


def test_result_timeout_defaults_to_one_second() -> None:
    assert inspect.signature(Promise.result).parameters["timeout"].default == 1.0


def test_result_returns_the_result_waiting_if_necessary() -> None:
    p: Promise[list[int]] = Promise()
    p.set_result([1])
    assert p.result() == [1]


def test_result_raises_the_exception_the_issuer_gave() -> None:
    p: Promise[int] = Promise()
    error = KeyError("sold out")
    p.set_exception(error)
    with pytest.raises(KeyError) as raised:
        p.result()
    assert raised.value is error


def test_issuers_timeout_or_deadlock_error_is_raised_as_given() -> None:
    p: Promise[int] = Promise()
    p.set_exception(shortly.DeadlockError("the issuer's own"))
    with pytest.raises(shortly.DeadlockError) as raised:
        p.result()
    assert not isinstance(raised.value, PromiseDeadlockError)


def test_unfulfilled_after_timeout_raises_promise_timeout_error() -> None:
    p: Promise[int] = Promise(setter_thread=setter())
    start = time.monotonic()
    with pytest.raises(PromiseTimeoutError):
        p.result(timeout=0.05)
    assert time.monotonic() - start >= 0.05


def test_setter_thread_waiting_on_its_pending_promise_raises_deadlock_at_once() -> None:
    p: Promise[int] = Promise()
    start = time.monotonic()
    with pytest.raises(PromiseDeadlockError, match="would wait for ever"):
        p.result(timeout=600)
    assert time.monotonic() - start < 5  # at once, not after the timeout


def test_a_cycle_of_setters_waiting_on_each_other_raises_deadlock() -> None:
    # A waits on B's promise while B waits on A's: the wait that closes it is refused.
    barrier = threading.Barrier(2)
    promises: dict[str, Promise[str]] = {}

    def side(me: str, other: str) -> str:
        promises[me] = Promise()
        barrier.wait(5)
        try:
            return promises[other].result(timeout=10)
        except PromiseDeadlockError:
            promises[me].set_result(f"{me} gave up")
            return "deadlock"

    a, b = run_in_thread(side, "a", "b"), run_in_thread(side, "b", "a")
    outcomes = {a.result(timeout=15), b.result(timeout=15)}
    assert outcomes in ({"deadlock", "a gave up"}, {"deadlock", "b gave up"})


def test_set_exception_is_called_by_the_issuer_to_indicate_failure() -> None:
    p: Promise[int] = Promise()
    p.set_exception(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        p.result()


def test_set_exception_requires_an_exception() -> None:
    with pytest.raises(TypeError, match="exception must be an exception instance"):
        Promise().set_exception("bad")  # type: ignore[arg-type]


def test_set_result_is_called_by_the_issuer_to_set_the_result() -> None:
    p: Promise[str] = Promise()
    p.set_result("ok")
    assert p.result() == "ok"


def test_then_handler_runs_as_soon_as_the_result_is_set_in_the_setting_thread() -> None:
    p: Promise[int] = Promise(setter_thread=setter())
    where: list[threading.Thread] = []
    p.then(lambda _: where.append(threading.current_thread()))
    assert where == []
    setting = run_in_thread(p.set_result, 1)
    setting.result(timeout=5)
    assert len(where) == 1 and where[0] is not threading.current_thread()


def test_callback_takes_the_result_as_single_argument() -> None:
    p: Promise[tuple[int, int]] = Promise()
    seen: list[Any] = []
    p.then(lambda *args: seen.append(args))
    p.set_result((1, 2))
    assert seen == [((1, 2),)]


def test_errback_is_called_in_case_of_an_exception() -> None:
    p: Promise[int] = Promise()
    calls: list[tuple[str, Any]] = []
    p.then(lambda v: calls.append(("callback", v)), lambda e: calls.append(("errback", e)))
    error = OSError("down")
    p.set_exception(error)
    assert calls == [("errback", error)]


def test_without_errback_the_exception_is_passed_to_callback_as_result() -> None:
    p: Promise[int] = Promise()
    seen: list[Any] = []
    p.then(seen.append)
    error = OSError("down")
    p.set_exception(error)
    assert seen == [error]


def test_late_then_calls_back_immediately_in_the_callers_thread() -> None:
    p: Promise[str] = Promise()
    p.set_result("early")
    where: list[tuple[str, threading.Thread]] = []
    p.then(lambda v: where.append((v, threading.current_thread())))
    assert where == [("early", threading.current_thread())]
    failed: Promise[str] = Promise()
    failed.set_exception(KeyError("k"))
    errors: list[BaseException] = []
    failed.then(lambda v: None, errors.append)
    assert [type(e) for e in errors] == [KeyError]


def test_a_raising_callback_is_reported_not_lost(reports: list[shortly.Unhandled]) -> None:
    p: Promise[int] = Promise()
    outcome = p.then(lambda v: 1 / v)
    p.set_result(0)
    assert isinstance(outcome.exception(), ZeroDivisionError)
    p2: Promise[int] = Promise()
    p2.then(lambda v: 1 / v)  # nobody looks at the outcome
    p2.set_result(0)
    import gc

    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert [type(u.error) for u in reports] == [ZeroDivisionError]


def test_then_requires_callables() -> None:
    with pytest.raises(TypeError, match="callback must be callable"):
        Promise().then(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_error must be callable"):
        Promise().then(print, "nope")  # type: ignore[arg-type]


# -- the error classes ----------------------------------------------------------------------


def test_promise_error_is_a_promise_related_exception() -> None:
    assert PromiseError.__bases__ == (Exception,)


def test_promise_timeout_error_bases() -> None:
    assert issubclass(PromiseTimeoutError, PromiseError)
    assert issubclass(PromiseTimeoutError, TimeoutError)
    assert issubclass(PromiseTimeoutError, shortly.TimeoutError)


def test_promise_done_error_is_raised_to_the_issuer_if_already_set() -> None:
    assert issubclass(PromiseDoneError, PromiseError) and issubclass(PromiseDoneError, RuntimeError)
    p: Promise[int] = Promise()
    p.set_result(1)
    with pytest.raises(PromiseDoneError):
        p.set_result(2)
    with pytest.raises(PromiseDoneError):
        p.set_exception(ValueError())
    assert p.result() == 1  # the first result stands


def test_promise_deadlock_error_is_raised_if_the_setter_waits_for_itself() -> None:
    assert issubclass(PromiseDeadlockError, PromiseError)
    assert issubclass(PromiseDeadlockError, RuntimeError)
    assert issubclass(PromiseDeadlockError, shortly.DeadlockError)


def test_a_promise_cancelled_through_its_future_ignores_late_results() -> None:
    p: Promise[int] = Promise()
    assert shortly.future_of(p).cancel()
    p.set_result(1)  # the producer is not disturbed
    with pytest.raises(shortly.CancelledError):
        p.result()


def test_promises_work_with_the_core_combinators() -> None:
    a: Promise[int] = Promise()
    b: Promise[int] = Promise()
    both = shortly.all_of([a, b])
    a.set_result(1)
    b.set_result(2)
    assert both.result(timeout=5) == [1, 2]


# -- quickrpc.action_queue --------------------------------------------------------------------


def test_work_items_are_enqueued_with_put_and_returns_immediately() -> None:
    queue = ActionQueue()
    gate = threading.Event()
    ran = threading.Event()
    queue.put(lambda: (gate.wait(5), ran.set()))
    assert not ran.is_set()  # put returned while the action waits on the gate
    gate.set()
    assert ran.wait(5)


def test_work_items_take_no_parameters_and_their_return_value_is_not_used() -> None:
    queue = ActionQueue()
    done: shortly.Future[None] = shortly.Future()
    queue.put(lambda: "ignored")
    queue.put(lambda: done.set_result(None))
    assert done.result(timeout=5) is None


def test_work_items_run_in_a_background_thread_in_arrival_order() -> None:
    queue = ActionQueue()
    order: list[int] = []
    threads: set[threading.Thread] = set()
    done: shortly.Future[None] = shortly.Future()
    for i in range(200):
        queue.put(lambda i=i: (order.append(i), threads.add(threading.current_thread())))
    queue.put(lambda: done.set_result(None))
    done.result(timeout=10)
    assert order == list(range(200))
    assert threading.current_thread() not in threads


def test_only_one_work_item_is_processed_at_a_time() -> None:
    queue = ActionQueue()
    lock = threading.Lock()
    overlaps: list[int] = []
    active = 0
    done: shortly.Future[None] = shortly.Future()

    def item() -> None:
        nonlocal active
        with lock:
            active += 1
            overlaps.append(active)
        time.sleep(0)  # give another worker, if there were one, its chance
        with lock:
            active -= 1

    producers = [
        threading.Thread(target=lambda: [queue.put(item) for _ in range(50)]) for _ in range(4)
    ]
    for t in producers:
        t.start()
    for t in producers:
        t.join(10)
    queue.put(lambda: done.set_result(None))
    done.result(timeout=10)
    assert len(overlaps) == 200 and max(overlaps) == 1


def test_thread_started_when_there_is_work_and_torn_down_when_empty() -> None:
    queue = ActionQueue()
    assert queue.statistics().worker_alive is False  # nothing to do: no thread
    where: shortly.Future[threading.Thread] = shortly.Future()
    queue.put(lambda: where.set_result(threading.current_thread()))
    first = where.result(timeout=5)
    first.join(5)
    assert not first.is_alive() and queue.statistics().worker_alive is False
    again: shortly.Future[threading.Thread] = shortly.Future()
    queue.put(lambda: again.set_result(threading.current_thread()))
    second = again.result(timeout=5)
    assert second is not first and queue.statistics().threads_started == 2
    second.join(5)


def test_put_requires_a_callable() -> None:
    with pytest.raises(TypeError, match="action must be callable"):
        ActionQueue().put("not callable")  # type: ignore[arg-type]


def test_queue_goes_on_after_an_action_raises(reports: list[shortly.Unhandled]) -> None:
    # The original's worker died with the exception and the queue stalled for ever.
    queue = ActionQueue()
    done: shortly.Future[str] = shortly.Future()
    queue.put(lambda: 1 / 0)
    queue.put(lambda: done.set_result("still running"))
    assert done.result(timeout=5) == "still running"
    assert [type(u.error) for u in reports] == [ZeroDivisionError]
