"""Outcome, Ok and Err: values that stand for a return or a raise."""

from __future__ import annotations

import asyncio
import contextvars
import copy
import gc
import pickle
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import shortly
from shortly import Err, Ok, Outcome
from shortly._core._outcome import Raised, capture

pytestmark = pytest.mark.timeout(10)


def test_ok_holds_and_unwraps_its_value() -> None:
    ok = Ok([1, 2])
    assert ok.value == [1, 2]
    assert ok.unwrap() is ok.value
    assert isinstance(ok, Outcome)


def test_err_holds_and_raises_its_error() -> None:
    error = KeyError("k")
    err = Err(error)
    assert err.error is error
    assert isinstance(err, Outcome)
    with pytest.raises(KeyError) as caught:
        err.unwrap()
    assert caught.value is error


def test_err_can_be_unwrapped_more_than_once() -> None:
    err = Err(ValueError("again"))
    for _ in range(3):
        with pytest.raises(ValueError, match="again"):
            err.unwrap()


def test_err_unwrap_leaves_no_reference_to_itself_in_the_traceback() -> None:
    err = Err(ValueError("x"))
    with pytest.raises(ValueError) as caught:
        err.unwrap()
    tb = caught.value.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    unwrap_frame = frames[-1]
    assert unwrap_frame.f_code.co_name == "unwrap"
    assert "self" not in unwrap_frame.f_locals
    assert "error" not in unwrap_frame.f_locals


def test_err_refuses_a_non_exception_naming_the_argument() -> None:
    with pytest.raises(TypeError, match="error must be an exception instance, not str"):
        Err("boom")  # type: ignore[arg-type]


def test_outcome_is_abstract() -> None:
    with pytest.raises(TypeError):
        Outcome()  # type: ignore[abstract]


def test_equality_and_hash_follow_kind_and_content() -> None:
    assert Ok(1) == Ok(1)
    assert hash(Ok(1)) == hash(Ok(1))
    assert Ok(1) != Ok(2)
    error = OSError(5)
    assert Err(error) == Err(error)
    assert hash(Err(error)) == hash(Err(error))
    assert Err(error) != Err(OSError(5))  # exceptions compare by identity
    assert Ok(error) != Err(error)
    assert Ok(1) != 1


def test_outcomes_are_immutable() -> None:
    ok = Ok(1)
    with pytest.raises(AttributeError, match="immutable"):
        ok.value = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del ok.value
    err = Err(KeyError())
    with pytest.raises(AttributeError, match="immutable"):
        err.error = ValueError()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ok.other = 1  # type: ignore[attr-defined]


def test_repr_shows_kind_and_content() -> None:
    assert repr(Ok("v")) == "Ok('v')"
    assert repr(Err(KeyError("k"))) == "Err(KeyError('k'))"


def test_outcomes_pickle_and_copy() -> None:
    assert pickle.loads(pickle.dumps(Ok({"a": 1}))) == Ok({"a": 1})
    restored = pickle.loads(pickle.dumps(Err(ValueError("v"))))
    assert isinstance(restored, Err)
    assert isinstance(restored.error, ValueError)
    assert restored.error.args == ("v",)
    assert copy.copy(Ok(3)) == Ok(3)
    error = KeyError()
    assert copy.copy(Err(error)).error is error


def test_pattern_matching_unpacks_value_or_error() -> None:
    seen = []
    for outcome in (Ok(1), Err(KeyError("k"))):
        match outcome:
            case Ok(value):
                seen.append(("ok", value))
            case Err(error):
                seen.append(("err", type(error).__name__))
    assert seen == [("ok", 1), ("err", "KeyError")]


def test_outcomes_are_exported_from_shortly() -> None:
    assert shortly.Ok is Ok
    assert shortly.Err is Err
    assert shortly.Outcome is Outcome


# -- capture: failures that never keep their future alive ----------------------------------


def test_capture_returns_the_value_or_a_raised() -> None:
    assert capture(divmod, 7, 2) == (3, 1)
    assert capture(dict, a=1) == {"a": 1}
    outcome = capture(divmod, 1, 0)
    assert type(outcome) is Raised
    assert isinstance(outcome.error, ZeroDivisionError)
    interrupt = capture(_raise, KeyboardInterrupt())
    assert type(interrupt) is Raised and isinstance(interrupt.error, KeyboardInterrupt)


def _raise(error: BaseException) -> None:
    raise error


def test_capture_nests_and_runs_from_many_threads() -> None:
    def nested(depth: int) -> int:
        return depth if depth == 0 else 1 + capture(nested, depth - 1)

    assert capture(nested, 50) == 50
    results: list[Any] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(500):
            value = capture(divmod, n * 1000 + i, 1)
            with lock:
                results.append(value[0])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(results) == sorted(n * 1000 + i for n in range(8) for i in range(500))


def test_a_captured_failure_holds_no_frame_of_the_caller() -> None:
    class Holder:
        pass

    def caller() -> weakref.ref[Holder]:
        holder = Holder()
        holder.error = capture(_raise, ValueError("x")).error  # type: ignore[attr-defined]
        return weakref.ref(holder)

    gc.disable()
    try:
        ref = caller()
        assert ref() is None  # no cycle holder -> error -> traceback -> caller's frame
    finally:
        gc.enable()


@contextmanager
def prompt_reports() -> Iterator[list[shortly.Unhandled]]:
    """Collect reports with the cycle collector off: only dropping a future may report."""
    gc.collect()  # earlier tests' leftovers report now, not into this test's list
    seen: list[shortly.Unhandled] = []
    previous = shortly.set_unhandled_handler(seen.append)
    gc.disable()
    try:
        yield seen
    finally:
        gc.enable()
        shortly.set_unhandled_handler(previous)


def _until(predicate: Callable[[], bool]) -> bool:
    pause = threading.Event()
    for _ in range(2000):
        if predicate():
            return True
        pause.wait(0.001)
    return False


def _boom(*_: Any) -> Any:
    raise ValueError("boom")


async def _failing_coroutine(before: shortly.Future[Any] | None) -> None:
    if before is not None:
        await before
    raise ValueError("boom")


def _then_later() -> shortly.Future[Any]:
    f: shortly.Future[int] = shortly.Future()
    g = f.then(_boom)
    f.set_result(1)
    return g


def _spawn_resumed() -> shortly.Future[Any]:
    f: shortly.Future[int] = shortly.Future()
    task = shortly.spawn(_failing_coroutine(f))
    f.set_result(1)
    return task


_task_var: contextvars.ContextVar[Any] = contextvars.ContextVar("task")


def _spawn_holding_itself() -> shortly.Future[Any]:
    """Code whose context holds its own task (as a progress or scope variable would)."""
    gate: shortly.Future[int] = shortly.Future()
    box: list[shortly.Future[Any]] = []

    async def code() -> None:
        await gate
        _task_var.set(box.pop())
        raise ValueError("boom")

    task = shortly.spawn(code())
    box.append(task)
    gate.set_result(1)
    return task


SOURCES: dict[str, Callable[[], shortly.Future[Any]]] = {
    "then, settled later": _then_later,
    "then, settled already": lambda: shortly.Future.resolved(1).then(_boom),
    "catch": lambda: shortly.Future.failed(KeyError("k")).catch(_boom),
    "finally_": lambda: shortly.Future.resolved(1).finally_(_boom),
    "spawn, failing at once": lambda: shortly.spawn(_failing_coroutine(None)),
    "spawn, failing once resumed": _spawn_resumed,
    "spawn, its context holding the task": _spawn_holding_itself,
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_a_dropped_failure_is_reported_at_once_without_the_gc(source: str) -> None:
    with prompt_reports() as seen:
        future = SOURCES[source]()
        assert future.wait(5)
        del future
        assert _until(lambda: len(seen) == 1), f"{source}: no report without the GC"
        assert isinstance(seen[0].error, ValueError)


def test_a_failed_run_in_loop_is_reported_at_once_without_the_gc() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    try:
        with prompt_reports() as seen:
            future = shortly.run_in_loop(loop, _boom)
            assert future.wait(5)
            del future
            assert _until(lambda: len(seen) == 1), "no report without the GC"
            assert isinstance(seen[0].error, ValueError)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
