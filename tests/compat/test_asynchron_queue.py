"""shortly.compat.asynchron: the original's Queue-like idiom (put/get/join/empty/raise_),
the ``Result(name, final, lock, result)`` constructor and ``OnDemandFunction``, as the
cs.asynchron/cs.result source behaves (``Result.join`` returns ``(result, exc_info)``,
``get`` returns ``default`` on failure, ``final`` runs on every kind of completion)."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from shortly.compat.asynchron import Asynchron, CancellationError, OnDemandFunction, Result

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


def test_put_completes_and_get_returns_the_value() -> None:
    R: Result[int] = Result()
    assert R.empty()
    R.put(7)
    assert not R.empty()
    assert R.get() == 7
    assert R() == 7


def test_get_blocks_until_put_from_another_thread() -> None:
    R: Result[str] = Result()
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append(R.get()))
    waiter.start()
    R.put("late")
    waiter.join(5)
    assert got == ["late"]


def test_get_returns_default_on_failure_and_on_cancel() -> None:
    failed: Result[int] = Result()
    failed.call(int, "x")
    cancelled: Result[int] = Result()
    assert cancelled.cancel()
    assert failed.get(default=-1) == -1
    assert failed.get() is None
    assert cancelled.get(default="gone") == "gone"


def test_join_returns_result_and_exc_info_pairs() -> None:
    ok: Result[int] = Result()
    ok.put(3)
    failed: Result[int] = Result()
    failed.call(int, "x")
    cancelled: Result[int] = Result()
    cancelled.cancel()
    assert ok.join() == (3, None)
    result, exc_info = failed.join()
    assert result is None and exc_info is not None
    assert exc_info[0] is ValueError and isinstance(exc_info[1], ValueError)
    assert exc_info[2] is exc_info[1].__traceback__
    assert cancelled.join() == (None, None)


def test_join_waits_for_completion_in_many_threads() -> None:
    R: Result[int] = Result()
    results: list[Any] = []
    lock = threading.Lock()

    def join() -> None:
        pair = R.join()
        with lock:
            results.append(pair)

    threads = [threading.Thread(target=join) for _ in range(32)]
    for thread in threads:
        thread.start()
    R.put(5)
    for thread in threads:
        thread.join(5)
    assert results == [(5, None)] * 32


def test_raise_stores_an_instance_or_a_class_with_a_traceback() -> None:
    A: Result[int] = Result()
    A.raise_(KeyError("k"))
    B: Result[int] = Result()
    B.raise_(OSError)
    assert A.exc_info is not None and isinstance(A.exc_info[1], KeyError)
    assert A.exc_info[2] is not None  # raised inside raise_(), as the original does
    assert B.exc_info is not None and B.exc_info[0] is OSError
    with pytest.raises(KeyError):
        A()


def test_raise_without_argument_records_the_exception_being_handled() -> None:
    A: Result[int] = Result()
    try:
        {}["missing"]
    except KeyError:
        A.raise_()
    with pytest.raises(KeyError, match="missing"):
        A()


def test_raise_without_argument_outside_except_names_the_problem() -> None:
    with pytest.raises(ValueError, match="none being handled"):
        Result().raise_()
    with pytest.raises(TypeError, match="exc must be"):
        Result().raise_(42)  # type: ignore[arg-type]


def test_result_argument_prefills_the_value() -> None:
    R = Result(result=9)
    assert R.ready and R() == 9
    assert Result(result=None).pending  # None means "no value given", as in the original


@pytest.mark.parametrize("how", ["result", "exception", "cancel"])
def test_final_runs_once_for_every_kind_of_completion(how: str) -> None:
    calls: list[str] = []
    R: Result[int] = Result(final=lambda: calls.append("final"))
    R.notify(lambda _: calls.append("notifier"))
    if how == "result":
        R.put(1)
    elif how == "exception":
        R.raise_(ValueError("v"))
        R.join()
    else:
        R.cancel()
    assert calls == ["final", "notifier"]


def test_final_that_raises_is_logged_and_notifiers_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[str] = []
    R: Result[int] = Result(name="f", final=lambda: 1 / 0)
    R.notify(lambda _: calls.append("notifier"))
    with caplog.at_level(logging.ERROR, logger="shortly.compat.asynchron"):
        R.put(1)
    assert calls == ["notifier"]
    assert "exception from .final()" in caplog.text


def test_final_returning_a_value_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="shortly.compat.asynchron"):
        Result(name="w", final=lambda: "ignored").put(1)
    assert "discarding non-None result" in caplog.text


def test_lock_is_held_while_completing() -> None:
    lock = threading.RLock()
    seen: list[bool] = []
    # RLock._is_owned() is private; acquire(blocking=False) from another thread is not.
    probe: list[bool] = []

    def notifier(_: Any) -> None:
        thread = threading.Thread(target=lambda: probe.append(lock.acquire(blocking=False)))
        thread.start()
        thread.join(5)
        seen.append(True)

    R: Result[int] = Result(lock=lock)
    R.notify(notifier)
    R.put(1)
    assert seen == [True] and probe == [False]


def test_constructor_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="final"):
        Result(final=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="lock"):
        Result(lock=object())


def test_on_demand_function_runs_once_on_first_call_in_the_callers_thread() -> None:
    threads: list[threading.Thread] = []
    F = OnDemandFunction(lambda a, b: threads.append(threading.current_thread()) or a + b, 2, b=3)
    assert F.pending
    assert F() == 5 and F() == 5
    assert threads == [threading.current_thread()]
    assert isinstance(F, Asynchron) and F.ready


def test_on_demand_function_concurrent_callers_share_one_run() -> None:
    gate = threading.Event()
    runs: list[int] = []

    def slow() -> str:
        runs.append(1)
        gate.wait(5)
        return "once"

    F = OnDemandFunction(slow)
    answers: list[str] = []
    callers = [threading.Thread(target=lambda: answers.append(F())) for _ in range(16)]
    for caller in callers:
        caller.start()
    gate.set()
    for caller in callers:
        caller.join(5)
    assert runs == [1] and answers == ["once"] * 16


def test_on_demand_function_reraises_for_every_caller() -> None:
    F = OnDemandFunction(int, "x")
    for _ in range(2):
        with pytest.raises(ValueError):
            F()


def test_on_demand_function_cancelled_before_running_raises() -> None:
    F = OnDemandFunction(lambda: 1, final=lambda: None)
    assert F.cancel()
    with pytest.raises(CancellationError):
        F()
    with pytest.raises(TypeError, match="func"):
        OnDemandFunction(3)  # type: ignore[arg-type]
