"""shortly.compat.pyro4: one test per sentence of the Pyro4.futures document, plus the
behaviours recorded in the seeds README (single-shot Future, ``then``/``iferror``
returning self, cancel during a delay, blocking ``value``)."""

from __future__ import annotations

import concurrent.futures
import gc
import inspect
import threading
import time
from typing import Any

import pytest

import shortly
from shortly.compat.pyro4 import Future, FutureResult

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


class Gate:
    """A callable that says it started, then waits for the test to let it finish."""

    def __init__(self, value: Any = "done") -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.value = value
        self.thread: threading.Thread | None = None

    def __call__(self) -> Any:
        self.thread = threading.current_thread()
        self.started.set()
        assert self.release.wait(10)
        return self.value


# -- Future ----------------------------------------------------------------------------------


def test_future_runs_the_callable_asynchronously() -> None:
    gate = Gate()
    result = Future(gate)()  # returns while the callable still waits
    assert gate.started.wait(5) and not result.ready
    assert gate.thread is not threading.current_thread()
    gate.release.set()
    assert result.value == "done"


def test_results_interoperate_with_concurrent_futures() -> None:
    results = [Future(pow)(2, n) for n in range(5)]
    done, _ = concurrent.futures.wait([shortly.future_of(r) for r in results], timeout=5)
    assert sorted(f.result() for f in done) == [1, 2, 4, 8, 16]


def test_future_holds_a_callable_and_provides_its_value_later() -> None:
    future = Future(lambda a, b=0: a + b)
    assert future(1, b=2).value == 3


def test_future_is_more_general_any_callable_will_do() -> None:
    class Adder:
        def add(self, x: int) -> int:
            return x + 1

    assert Future(Adder().add)(1).value == 2
    assert Future(dict)(a=1).value == {"a": 1}
    with pytest.raises(TypeError, match="somecallable must be callable"):
        Future(42)  # type: ignore[arg-type]


def test_future_can_only_be_called_once() -> None:
    future = Future(str)
    assert future(1).value == "1"
    with pytest.raises(RuntimeError, match="already been evaluated"):
        future(2)


def test_cancel_cancels_the_execution_altogether() -> None:
    called: list[int] = []
    future = Future(called.append)
    assert future.delay(60)
    result = future(1)
    assert future.cancel() is True
    with pytest.raises(RuntimeError, match="cancelled"):
        _ = result.value
    assert called == [] and shortly.future_of(result).cancelled()


def test_cancel_before_the_call_returns_true_and_the_call_is_refused() -> None:
    future = Future(print)
    assert future.cancel() is True
    with pytest.raises(RuntimeError, match="cancelled"):
        future("never")


def test_cancel_after_execution_started_returns_false() -> None:
    gate = Gate()
    future = Future(gate)
    result = future()
    gate.started.wait(5)
    assert future.cancel() is False
    gate.release.set()
    assert result.value == "done"
    assert future.cancel() is False  # and after it completed


def test_delay_postpones_the_evaluation() -> None:
    started: shortly.Future[float] = shortly.Future()
    future = Future(lambda: started.set_result(time.monotonic()))
    assert future.delay(0.05) is True
    called_at = time.monotonic()
    future()
    assert started.result(timeout=5) - called_at >= 0.05


def test_delay_returns_true_until_evaluated_then_false() -> None:
    gate = Gate()
    future = Future(gate)
    assert future.delay(0) is True
    future()
    gate.started.wait(5)
    assert future.delay(1) is False  # running
    gate.release.set()
    shortly.future_of(future._state).result(timeout=5)
    assert future.delay(1) is False  # evaluated


def test_delay_after_the_call_restarts_the_delay_from_now() -> None:
    started: shortly.Future[float] = shortly.Future()
    future = Future(lambda: started.set_result(time.monotonic()))
    future.delay(60)
    future()
    changed_at = time.monotonic()
    assert future.delay(0.02) is True
    assert started.result(timeout=5) - changed_at >= 0.02


def test_delay_validates_seconds() -> None:
    with pytest.raises(TypeError, match="seconds must be a number"):
        Future(print).delay("1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seconds must be a number of seconds >= 0"):
        Future(print).delay(-1)


def test_iferror_handler_gets_the_exception_object_as_only_argument() -> None:
    seen: shortly.Future[tuple[Any, ...]] = shortly.Future()
    result = Future(int).iferror(lambda *args: seen.set_result(args))("x")
    (error,) = seen.result(timeout=5)
    assert isinstance(error, ValueError)
    with pytest.raises(ValueError) as raised:
        _ = result.value  # reading the value still raises it
    assert raised.value is error


def test_iferror_covers_the_call_chain_too() -> None:
    errors: list[BaseException] = []
    result = Future(int).then(lambda n: 1 / n).iferror(errors.append)("0")
    assert result.wait(5) and [type(e) for e in errors] == [ZeroDivisionError]


def test_an_unhandled_exception_is_reported_not_silently_ignored(
    reports: list[shortly.Unhandled],
) -> None:
    result = Future(int)("x")
    assert result.wait(5)
    del result
    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert [type(u.error) for u in reports] == [ValueError]


def test_an_exception_given_to_iferror_is_not_reported(reports: list[shortly.Unhandled]) -> None:
    handled = threading.Event()
    result = Future(int).iferror(lambda e: handled.set())("x")
    assert handled.wait(5) and result.wait(5)
    del result
    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert reports == []


def test_future_iferror_returns_self_and_is_refused_once_started() -> None:
    gate = Gate()
    future = Future(gate)
    assert future.iferror(print) is future
    future()
    gate.started.wait(5)
    with pytest.raises(RuntimeError, match="already been evaluated"):
        future.iferror(print)
    gate.release.set()
    with pytest.raises(TypeError, match="exceptionhandler must be callable"):
        Future(print).iferror(None)  # type: ignore[arg-type]


def test_future_then_adds_a_call_to_the_chain() -> None:
    calls: list[str] = []
    future = Future(lambda: calls.append("call") or 1).then(lambda v: calls.append("then") or v)
    assert future().value == 1 and calls == ["call", "then"]


def test_then_passes_the_current_result_as_first_argument() -> None:
    assert Future(lambda: 3).then(lambda v: v * 10).then(str)().value == "30"


def test_then_passes_extra_args_and_kwargs() -> None:
    def describe(value: int, unit: str, *, sep: str) -> str:
        return f"{value}{sep}{unit}"

    assert Future(lambda: 5).then(describe, "kg", sep=" ")().value == "5 kg"


def test_future_then_returns_self_and_is_refused_after_the_call() -> None:
    future = Future(str)
    assert future.then(str.upper) is future
    future("x")
    with pytest.raises(RuntimeError, match="already been evaluated"):
        future.then(str.lower)
    with pytest.raises(TypeError, match="call must be callable"):
        Future(str).then("upper")  # type: ignore[arg-type]


# -- FutureResult ------------------------------------------------------------------------------


def test_calling_a_future_returns_a_future_result() -> None:
    result = Future(len)("abc")
    assert isinstance(result, FutureResult) and result.value == 3


def test_future_result_is_limited_no_delay_no_cancel() -> None:
    assert not hasattr(FutureResult, "delay") and not hasattr(FutureResult, "cancel")


def test_future_result_wraps_only_shortly_futures() -> None:
    assert FutureResult(shortly.Future.resolved(1)).value == 1
    with pytest.raises(TypeError, match=r"future must be a shortly\.Future"):
        FutureResult(1)  # type: ignore[arg-type]


def test_result_iferror_is_invoked_when_asking_for_the_result_raises() -> None:
    errors: list[BaseException] = []
    result = Future(int)("x").iferror(errors.append)
    result.wait(5)
    assert [type(e) for e in errors] == [ValueError]
    with pytest.raises(ValueError):
        _ = result.value


def test_result_iferror_after_the_failure_is_called_at_once_and_once() -> None:
    result = Future(int)("x")
    result.wait(5)
    errors: list[BaseException] = []
    assert result.iferror(errors.append) is result
    result.then(str)  # the failure passes through the new link: no second call
    assert [type(e) for e in errors] == [ValueError]


def test_exception_result_is_raised_when_the_value_is_asked_for() -> None:
    with pytest.raises(ZeroDivisionError):
        _ = Future(lambda: 1 / 0)().value


def test_result_iferror_hears_about_a_cancelled_call() -> None:
    errors: list[BaseException] = []
    future = Future(print)
    future.delay(60)
    future("never").iferror(errors.append)
    future.cancel()
    assert [str(e) for e in errors] == ["the future has been cancelled"]


def test_ready_tells_the_readiness_of_the_result() -> None:
    gate = Gate()
    result = Future(gate)()
    assert result.ready is False
    gate.release.set()
    result.wait(5)
    assert result.ready is True


def test_result_then_chains_calls_on_the_value_and_returns_self() -> None:
    gate = Gate(value=4)
    result = Future(gate)()
    assert result.then(pow, 2).then(lambda v, extra: v + extra, extra=1) is result
    gate.release.set()
    assert result.value == 17


def test_result_then_on_a_ready_result_runs_at_once_in_this_thread() -> None:
    result = Future(lambda: 1)()
    result.wait(5)
    where: list[threading.Thread] = []
    result.then(lambda v: where.append(threading.current_thread()) or v + 1)
    assert where == [threading.current_thread()] and result.value == 2


def test_result_then_raising_makes_the_exception_the_value() -> None:
    result = Future(lambda: 0)()
    result.wait(5)
    result.then(lambda v: 1 / v)  # does not raise here
    with pytest.raises(ZeroDivisionError):
        _ = result.value


def test_concurrent_thens_all_apply_in_order() -> None:
    gate = Gate(value="")
    result = Future(gate)()
    barrier = threading.Barrier(4)

    def add(letter: str) -> None:
        barrier.wait(5)
        for _ in range(25):
            result.then(lambda v, letter=letter: v + letter)

    threads = [threading.Thread(target=add, args=(c,)) for c in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    gate.release.set()
    value = result.value
    assert len(value) == 100 and sorted(value) == sorted("abcd" * 25)


def test_value_blocks_until_available_without_a_timeout() -> None:
    assert list(inspect.signature(FutureResult.value.fget).parameters) == ["self"]  # type: ignore[attr-defined]
    gate = Gate()
    result = Future(gate)()
    reader: shortly.Future[Any] = shortly.Future()
    reading = threading.Event()
    threading.Thread(target=lambda: (reading.set(), reader.set_result(result.value))).start()
    reading.wait(5)
    assert not reader.done()
    gate.release.set()
    assert reader.result(timeout=5) == "done"


def test_value_includes_a_then_added_while_a_reader_waits() -> None:
    gate = Gate(value=1)
    result = Future(gate)()
    reader: shortly.Future[Any] = shortly.Future()
    reading = threading.Event()
    threading.Thread(target=lambda: (reading.set(), reader.set_result(result.value))).start()
    reading.wait(5)
    result.then(lambda v: v + 1)
    gate.release.set()
    assert reader.result(timeout=5) in (1, 2)  # before or after the then: never lost
    assert result.value == 2


def test_wait_with_optional_timeout_returns_readiness() -> None:
    gate = Gate()
    result = Future(gate)()
    assert result.wait(timeout=0.01) is False
    gate.release.set()
    assert result.wait() is True and result.wait(timeout=0) is True
    with pytest.raises(TypeError, match="timeout must be a number"):
        result.wait("1")  # type: ignore[arg-type]


def test_a_call_raising_stop_iteration_fails_with_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="StopIteration"):
        _ = Future(next)(iter(())).value
