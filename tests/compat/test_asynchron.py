"""shortly.compat.asynchron: one test per sentence of the cs.asynchron document, plus the
behaviours recorded in the seeds README (notifiers get the Asynchron and run at once when
ready; report yields in completion order)."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from typing import Any

import pytest

import shortly
from shortly.compat.asynchron import (
    ASYNCH_CANCELLED,
    ASYNCH_PENDING,
    ASYNCH_READY,
    ASYNCH_RUNNING,
    Asynchron,
    CancellationError,
    Result,
    report,
)

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


def call_in_thread(fn: Any, *args: Any) -> shortly.Future[Any]:
    future: shortly.Future[Any] = shortly.Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run).start()
    return future


def blocked_caller(A: Asynchron[Any]) -> tuple[shortly.Future[Any], threading.Event]:
    """A thread calling ``A()``; the event is set just before it calls."""
    calling = threading.Event()

    def call() -> Any:
        calling.set()
        return A()

    return call_in_thread(call), calling


def test_result_and_friends_are_callables_receiving_a_value_later() -> None:
    assert Result is Asynchron
    R: Result[int] = Result()
    assert callable(R)
    R.result = 1
    assert R() == 1


def test_asynchron_can_be_subclassed_and_used_standalone() -> None:
    class Answer(Asynchron[int]):
        __slots__ = ()

        def double(self) -> int:
            return 2 * self()

    answer = Answer(name="answer")
    answer.result = 21
    assert answer.double() == 42 and repr(answer) == "<Answer 'answer' ready>"
    standalone: Asynchron[str] = Asynchron()
    standalone.result = "alone"
    assert standalone() == "alone" and standalone.name.startswith("Asynchron-")


def test_name_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="name must be a str"):
        Asynchron(name=3)  # type: ignore[arg-type]


def test_a_call_blocks_until_the_value_is_received() -> None:
    A: Asynchron[int] = Asynchron()
    caller, calling = blocked_caller(A)
    calling.wait(5)
    assert not caller.done()
    A.result = 3
    assert caller.result(timeout=5) == 3


def test_cancelling_raises_an_exception_in_the_blocked_caller() -> None:
    A: Asynchron[int] = Asynchron(name="doomed")
    caller, calling = blocked_caller(A)
    calling.wait(5)
    assert A.cancel() is True
    error = caller.exception(timeout=5)
    assert isinstance(error, CancellationError) and str(error) == "doomed: cancelled"
    assert isinstance(error, RuntimeError) and isinstance(error, shortly.CancelledError)


def test_many_callers_before_and_after_delivery_all_get_the_value() -> None:
    A: Asynchron[str] = Asynchron()
    early = [blocked_caller(A) for _ in range(8)]
    for _, calling in early:
        calling.wait(5)
    A.result = "v"
    assert [caller.result(timeout=5) for caller, _ in early] == ["v"] * 8
    assert A() == "v"  # after delivery: returns at once


def test_state_may_be_inspected_pending_running_ready_cancelled() -> None:
    A: Asynchron[str] = Asynchron()
    assert (A.state, A.pending, A.running, A.ready, A.cancelled) == (
        ASYNCH_PENDING,
        True,
        False,
        False,
        False,
    )
    inside = A.call(lambda: (A.state, A.running, A.pending))
    assert inside is None and A() == (ASYNCH_RUNNING, True, False)
    assert (A.state, A.ready) == (ASYNCH_READY, True)
    B: Asynchron[str] = Asynchron()
    B.cancel()
    assert (B.state, B.cancelled, B.ready, B.pending) == (ASYNCH_CANCELLED, True, True, False)
    assert [ASYNCH_PENDING, ASYNCH_RUNNING, ASYNCH_READY, ASYNCH_CANCELLED] == [0, 1, 2, 3]


def test_callbacks_are_registered_with_notify() -> None:
    A: Asynchron[int] = Asynchron()
    seen: list[Asynchron[int]] = []
    A.notify(seen.append)
    assert seen == []
    A.result = 5
    assert seen == [A]  # the notifier receives the Asynchron itself


def test_notify_on_a_ready_asynchron_runs_at_once() -> None:
    A: Asynchron[int] = Asynchron()
    A.result = 1
    seen: list[tuple[Asynchron[int], threading.Thread]] = []
    A.notify(lambda a: seen.append((a, threading.current_thread())))
    assert seen == [(A, threading.current_thread())]


def test_notify_requires_a_callable() -> None:
    with pytest.raises(TypeError, match="notifier must be callable"):
        Asynchron().notify("no")  # type: ignore[arg-type]


def test_a_raising_notifier_is_reported_and_the_others_still_run(
    reports: list[shortly.Unhandled],
) -> None:
    A: Asynchron[int] = Asynchron()
    seen: list[int] = []
    A.notify(lambda a: 1 / 0)
    A.notify(lambda a: seen.append(a()))
    A.result = 4
    assert seen == [4] and [type(u.error) for u in reports] == [ZeroDivisionError]


def test_call_stores_the_function_return_as_the_value() -> None:
    A: Asynchron[int] = Asynchron()
    A.call(pow, 2, exp=5)
    assert A() == 32 and A.result == 32 and A.exc_info is None


def test_call_records_the_exception_information_if_the_function_raises() -> None:
    A: Asynchron[int] = Asynchron()
    A.call(int, "x")
    info = A.exc_info
    assert info is not None
    kind, error, traceback = info
    assert kind is ValueError and isinstance(error, ValueError) and traceback is not None


def test_call_records_keyboard_interrupt_and_reraises_it() -> None:
    A: Asynchron[None] = Asynchron()

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        A.call(interrupted)
    with pytest.raises(KeyboardInterrupt):
        A()  # callers are not left blocked for ever


def test_call_requires_a_callable() -> None:
    with pytest.raises(TypeError, match="func must be callable"):
        Asynchron().call(3)  # type: ignore[arg-type]


def test_an_exception_is_reraised_for_every_caller() -> None:
    A: Asynchron[int] = Asynchron()
    callers = [blocked_caller(A) for _ in range(3)]
    for _, calling in callers:
        calling.wait(5)
    A.call(lambda: {}["missing"])
    for caller, _ in callers:
        assert isinstance(caller.exception(timeout=5), KeyError)
    with pytest.raises(KeyError):
        A()


def test_exc_info_assignment_completes_with_that_exception() -> None:
    A: Asynchron[int] = Asynchron()
    try:
        raise OSError("disk")
    except OSError:
        A.exc_info = sys.exc_info()  # type: ignore[assignment]
    with pytest.raises(OSError, match="disk") as raised:
        A()
    assert raised.value.__traceback__ is not None
    with pytest.raises(TypeError, match="exc_info must be a"):
        Asynchron().exc_info = "not a triple"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"exc_info\[1\] must be an exception"):
        Asynchron().exc_info = (ValueError, "x", None)  # type: ignore[assignment]


def test_exc_info_accepts_a_class_without_instance() -> None:
    A: Asynchron[int] = Asynchron()
    A.exc_info = (LookupError, None, None)  # type: ignore[assignment]
    with pytest.raises(LookupError):
        A()


def test_the_trite_example_of_three_threads() -> None:
    A: Asynchron[int] = Asynchron(name="my demo")
    thread1, calling = blocked_caller(A)  # value = A(): blocks
    calling.wait(5)
    assert not thread1.done()
    call_in_thread(setattr, A, "result", 3).result(timeout=5)  # thread 2: A.result = 3
    assert thread1.result(timeout=5) == 3
    assert call_in_thread(A).result(timeout=5) == 3  # thread 3: returns immediately


def test_report_yields_in_completion_order_and_results_return_immediately() -> None:
    As = [Asynchron[int](name=f"A{i}") for i in range(5)]
    order = [3, 0, 4, 1, 2]
    gates = [threading.Event() for _ in As]

    def complete_in_order() -> None:
        for i in order:
            As[i].result = i
            gates[i].wait(5)  # the next one completes only after this one was collected

    call_in_thread(complete_in_order)
    collected = []
    for A in report(As):
        collected.append(A())  # returns at once: it is complete
        gates[A()].set()
    assert collected == order


def test_report_accepts_other_notify_objects_and_futures_and_repeats() -> None:
    class Slip:
        def __init__(self) -> None:
            self.notifiers: list[Any] = []

        def notify(self, fn: Any) -> None:
            self.notifiers.append(fn)

        def fire(self) -> None:
            for fn in self.notifiers:
                fn(self)

    slip, A = Slip(), Asynchron[int]()
    future: shortly.Future[int] = shortly.Future.resolved(1)
    it = report([slip, A, future, A])
    assert next(it) is future
    A.result = 2
    assert [next(it), next(it)] == [A, A]
    slip.fire()
    assert next(it) is slip
    with pytest.raises(StopIteration):
        next(it)
    with pytest.raises(TypeError):
        list(report([object()]))


def test_result_before_completion_is_no_attribute() -> None:
    A: Asynchron[int] = Asynchron()
    assert not hasattr(A, "result") and not hasattr(A, "exc_info")


def test_reading_result_of_a_failed_asynchron_reraises_instead_of_none() -> None:
    A: Asynchron[int] = Asynchron()
    A.call(int, "x")
    with pytest.raises(ValueError):
        A.result  # noqa: B018 - the property read is the test


def test_reading_a_cancelled_asynchron_raises_cancellation_error() -> None:
    A: Asynchron[int] = Asynchron()
    assert A.cancel() and A.cancel()  # cancelling twice still says True
    with pytest.raises(CancellationError):
        A.result  # noqa: B018
    with pytest.raises(CancellationError):
        A.exc_info  # noqa: B018


def test_cancel_while_running_succeeds_and_drops_the_late_value() -> None:
    A: Asynchron[int] = Asynchron()
    assert A.call(lambda: int(A.cancel())) is None
    assert A.cancelled and A.state == ASYNCH_CANCELLED
    with pytest.raises(CancellationError):
        A()


def test_cancel_after_ready_returns_false() -> None:
    A: Asynchron[int] = Asynchron()
    A.result = 1
    assert A.cancel() is False and A() == 1


def test_completing_twice_warns_and_keeps_the_first(caplog: pytest.LogCaptureFixture) -> None:
    A: Asynchron[int] = Asynchron(name="twice")
    A.result = 1
    with caplog.at_level(logging.WARNING, logger="shortly.compat.asynchron"):
        A.result = 2
        A.exc_info = (ValueError, ValueError("late"), None)
    assert A() == 1
    assert [r.getMessage().split(":")[0] for r in caplog.records] == [
        "<Asynchron 'twice' ready>"
    ] * 2


def test_an_unread_failure_is_reported_when_dropped(reports: list[shortly.Unhandled]) -> None:
    A: Asynchron[int] = Asynchron()
    A.call(int, "never read")
    del A
    gc.collect()
    shortly.flush_reports()  # drops seen inside shortly's code report a moment later
    assert [type(u.error) for u in reports] == [ValueError]


def test_asynchrons_work_with_the_core() -> None:
    A: Asynchron[int] = Asynchron()
    doubled = shortly.future_of(A).then(lambda x: 2 * x)
    call_in_thread(setattr, A, "result", 21)
    assert doubled.result(timeout=5) == 42
