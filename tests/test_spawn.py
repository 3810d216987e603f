"""spawn(): coroutines and generators driven without an event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
import types
from collections.abc import Generator
from typing import Any

import pytest
import sniffio

import shortly
from shortly._core._future import listed
from shortly.testing import recording_unhandled

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]

tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")


def resolve_from_thread(future: shortly.Future[Any], value: Any, name: str) -> threading.Thread:
    thread = threading.Thread(target=future.set_result, args=(value,), name=name)
    thread.start()
    return thread


class TestCoroutines:
    def test_runs_at_once_until_it_awaits(self) -> None:
        steps: list[str] = []

        async def code() -> str:
            steps.append("started")
            return "done"

        task = shortly.spawn(code())
        assert steps == ["started"]
        assert isinstance(task, shortly.Future) and task.result() == "done"

    def test_resumes_in_the_thread_that_resolves(self) -> None:
        gate: shortly.Future[int] = shortly.Future()

        async def code() -> tuple[int, str]:
            value = await gate
            return value, threading.current_thread().name

        task = shortly.spawn(code())
        assert not task.done()
        resolve_from_thread(gate, 7, "resolver").join()
        assert task.result(timeout=5) == (7, "resolver")

    def test_awaiting_settled_futures_does_not_recurse(self) -> None:
        async def code() -> int:
            total = 0
            done = shortly.Future.resolved(1)
            for _ in range(100_000):
                total += await done
            return total

        task = shortly.spawn(code())
        assert task.done(), "settled awaits continue in place, without parking"
        assert task.result() == 100_000

    def test_a_chain_of_thread_hops(self) -> None:
        async def code() -> list[int]:
            values = []
            for i in range(20):
                values.append(await shortly.submit(lambda i=i: i * i))
            return values

        assert shortly.spawn(code()).result(timeout=10) == [i * i for i in range(20)]

    def test_raising_fails_the_task(self) -> None:
        async def code() -> None:
            raise LookupError("missing")

        error = shortly.spawn(code()).exception(timeout=5)
        assert isinstance(error, LookupError)

    def test_a_dropped_failed_task_is_reported(self) -> None:
        gate: shortly.Future[None] = shortly.Future()

        async def code() -> None:
            await gate
            raise LookupError("nobody looks")

        with recording_unhandled() as seen:
            shortly.spawn(code())
            gate.set_result(None)  # the task ends, and is dropped, in there
            # Dropped inside shortly's code, its report comes from the deferred thread.
            assert shortly.flush_reports()
        assert [type(u.error) for u in seen] == [LookupError]
        assert "code=TestCoroutines.test_a_dropped_failed_task_is_reported" in (
            seen[0].source or ""
        )

    def test_a_failed_await_raises_inside_and_counts_as_seen(self) -> None:
        async def code() -> str:
            try:
                await shortly.Future.failed(KeyError("k"))
            except KeyError as error:
                return f"caught {error!r}"
            return "not reached"

        assert shortly.spawn(code()).result(timeout=5) == "caught KeyError('k')"

    def test_awaits_timers(self) -> None:
        async def code() -> str:
            await shortly.sleep(0.001)
            return threading.current_thread().name

        assert shortly.spawn(code()).result(timeout=5) == "shortly-timers"

    def test_a_bare_yield_resumes_at_once(self) -> None:
        async def code() -> str:
            await asyncio.sleep(0)
            return "after sleep(0)"

        assert shortly.spawn(code()).result(timeout=5) == "after sleep(0)"

    def test_sniffio_names_the_driver(self) -> None:
        async def code() -> str:
            return sniffio.current_async_library()

        assert shortly.spawn(code()).result() == "shortly"
        with pytest.raises(sniffio.AsyncLibraryNotFoundError):
            sniffio.current_async_library()

    def test_steps_run_in_the_spawners_context(self) -> None:
        gate: shortly.Future[None] = shortly.Future()

        async def code() -> tuple[str, str]:
            before = tenant.get()
            tenant.set("changed inside")
            await gate
            return before, tenant.get()

        token = tenant.set("acme")
        try:
            task = shortly.spawn(code())
        finally:
            tenant.reset(token)
        assert tenant.get() == "none"
        resolve_from_thread(gate, None, "other").join()
        assert task.result(timeout=5) == ("acme", "changed inside")

    def test_nested_coroutines_are_spawned_and_awaited(self) -> None:
        @types.coroutine
        def awaits_a_coroutine(coro: Any) -> Generator[Any, Any, Any]:
            return (yield coro)

        async def inner() -> int:
            await shortly.sleep(0)
            return 5

        async def outer() -> int:
            return 2 * await awaits_a_coroutine(inner())

        assert shortly.spawn(outer()).result(timeout=5) == 10

    def test_a_yielded_coroutine_runs_in_the_yielders_context(self) -> None:
        @types.coroutine
        def awaits_a_coroutine(coro: Any) -> Generator[Any, Any, Any]:
            return (yield coro)

        async def inner() -> str:
            return tenant.get()

        async def outer() -> str:
            tenant.set("outer's")
            return await awaits_a_coroutine(inner())

        assert shortly.spawn(outer()).result(timeout=5) == "outer's"

    def test_awaiting_something_else_throws_a_type_error_in(self) -> None:
        @types.coroutine
        def bad_yield() -> Generator[Any, Any, Any]:
            return (yield 42)

        async def code() -> str:
            try:
                await bad_yield()
            except TypeError as error:
                return str(error)
            return "not reached"

        assert "it yielded int" in shortly.spawn(code()).result(timeout=5)

    def test_awaiting_its_own_task_is_refused(self) -> None:
        box: list[shortly.Future[Any]] = []
        gate: shortly.Future[None] = shortly.Future()

        async def code() -> Any:
            await gate
            return await box[0]

        box.append(shortly.spawn(code()))
        gate.set_result(None)
        error = box[0].exception(timeout=5)
        assert isinstance(error, RuntimeError) and "its own future" in str(error)

    def test_blocking_on_its_own_task_is_a_deadlock(self) -> None:
        box: list[shortly.Future[Any]] = []
        gate: shortly.Future[None] = shortly.Future()

        async def code() -> Any:
            await gate
            return box[0].result(timeout=5)

        box.append(shortly.spawn(code()))
        gate.set_result(None)
        assert isinstance(box[0].exception(timeout=5), shortly.DeadlockError)

    def test_the_owner_is_the_driving_thread(self) -> None:
        gate: shortly.Future[None] = shortly.Future()
        box: list[shortly.Future[Any]] = []

        async def code() -> Any:
            await gate
            return box[0].owner.__shortly_owner_thread__()  # type: ignore[union-attr]

        box.append(shortly.spawn(code()))
        assert box[0].owner.__shortly_owner_thread__() is None, "parked: nobody drives it"  # type: ignore[union-attr]
        resolve_from_thread(gate, None, "waker").join()
        assert box[0].result(timeout=5).name == "waker"

    def test_keyboard_interrupt_reaches_the_spawner(self) -> None:
        async def code() -> None:
            raise KeyboardInterrupt

        coro = code()
        with pytest.raises(KeyboardInterrupt):
            shortly.spawn(coro)

    def test_repr_names_the_code(self) -> None:
        async def fetch_user() -> int:
            return 1

        assert "code=TestCoroutines.test_repr_names_the_code.<locals>.fetch_user" in repr(
            shortly.spawn(fetch_user())
        )


class TestGenerators:
    def test_yield_gets_the_value(self) -> None:
        gate: shortly.Future[int] = shortly.Future()

        def code() -> Generator[Any, Any, int]:
            value = yield gate
            again = yield shortly.Future.resolved(value + 1)
            return again * 10

        task = shortly.spawn(code())
        resolve_from_thread(gate, 1, "resolver").join()
        assert task.result(timeout=5) == 20

    def test_a_failure_is_thrown_in(self) -> None:
        def code() -> Generator[Any, Any, str]:
            try:
                yield shortly.Future.failed(ValueError("bad"))
            except ValueError:
                return "handled"
            return "not reached"

        assert shortly.spawn(code()).result(timeout=5) == "handled"

    def test_yields_what_future_of_adapts(self) -> None:
        with concurrent.futures.ThreadPoolExecutor() as pool:

            def code() -> Generator[Any, Any, int]:
                return (yield pool.submit(pow, 2, 8))

            assert shortly.spawn(code()).result(timeout=5) == 256

    def test_yields_a_sub_generator(self) -> None:
        def child() -> Generator[Any, Any, str]:
            yield shortly.sleep(0)
            return "child"

        def parent() -> Generator[Any, Any, str]:
            return "parent of " + (yield child())

        assert shortly.spawn(parent()).result(timeout=5) == "parent of child"


class TestCancel:
    def test_cancel_while_parked_throws_in_and_cancels_the_awaited(self) -> None:
        awaited: shortly.Future[None] = shortly.Future()
        seen: list[str] = []

        async def code() -> None:
            try:
                await awaited
            except shortly.CancelledError as error:
                seen.append(f"cancelled: {error}")
                raise

        task = shortly.spawn(code())
        assert task.cancel("stop") is True
        assert seen == ["cancelled: stop"]
        assert task.cancelled() and awaited.cancelled()
        with pytest.raises(shortly.CancelledError, match="stop"):
            task.result()

    def test_code_may_refuse_to_be_cancelled(self) -> None:
        awaited: shortly.Future[None] = shortly.Future()

        async def code() -> str:
            try:
                await awaited
            except shortly.CancelledError:
                return "carried on"
            return "not reached"

        task = shortly.spawn(code())
        assert task.cancel() is False
        assert task.result() == "carried on"

    def test_an_awaited_future_others_want_is_spared(self) -> None:
        shared: shortly.Future[int] = shortly.Future()
        other = shared.then(lambda x: x * 2)

        async def code() -> int:
            return await shared

        task = shortly.spawn(code())
        assert task.cancel()
        assert not shared.cancelled()
        shared.set_result(4)
        assert other.result(timeout=5) == 8

    def test_no_callback_is_left_on_the_awaited_future(self) -> None:
        shared: shortly.Future[int] = shortly.Future()
        keep = shared.then(lambda x: x)

        async def code() -> int:
            return await shared

        for _ in range(100):
            shortly.spawn(code()).cancel()
        assert len(listed(shared._callbacks)) == 1
        shared.set_result(1)
        assert keep.result() == 1

    def test_cancel_while_running_arrives_at_the_next_await(self) -> None:
        box: list[shortly.Future[Any]] = []
        later: shortly.Future[None] = shortly.Future()
        gate: shortly.Future[None] = shortly.Future()
        steps: list[str] = []

        async def code() -> None:
            await gate
            assert box[0].cancel("from inside") is False, "running: not cancelled yet"
            steps.append("still running")
            try:
                await later
            except shortly.CancelledError as error:
                steps.append(f"got {error}")
                raise

        box.append(shortly.spawn(code()))
        gate.set_result(None)
        assert box[0].cancelled()
        assert steps == ["still running", "got from inside"]
        assert later.cancelled()

    def test_a_request_that_finds_no_more_awaits_still_wins(self) -> None:
        box: list[shortly.Future[Any]] = []
        gate: shortly.Future[None] = shortly.Future()

        async def code() -> str:
            await gate
            box[0].cancel()
            return "finished anyway"

        box.append(shortly.spawn(code()))
        gate.set_result(None)
        assert box[0].cancelled()

    def test_cancelling_its_last_dependant_cancels_the_task(self) -> None:
        awaited: shortly.Future[int] = shortly.Future()

        async def code() -> int:
            return await awaited

        task = shortly.spawn(code())
        child = task.then(lambda x: x + 1)
        assert child.cancel()
        assert task.cancelled() and awaited.cancelled()

    def test_a_task_someone_waits_on_is_not_cancelled_upward(self) -> None:
        awaited: shortly.Future[int] = shortly.Future()

        async def code() -> int:
            return await awaited

        task = shortly.spawn(code())
        child = task.then(lambda x: x + 1)
        task.add_done_callback(lambda _: None)
        assert child.cancel()
        assert not task.cancelled()
        awaited.set_result(1)
        assert task.result() == 1

    def test_cancel_after_a_failure_keeps_the_failure(self) -> None:
        async def code() -> None:
            raise OSError("disk")

        task = shortly.spawn(code())
        assert task.cancel() is False
        assert isinstance(task.exception(), OSError)

    def test_code_raising_cancelled_error_cancels_the_task(self) -> None:
        async def code() -> None:
            raise shortly.CancelledError("gave up")

        task = shortly.spawn(code())
        assert task.cancelled()
        with pytest.raises(shortly.CancelledError, match="gave up"):
            task.result()

    def test_cancel_after_the_end_is_refused(self) -> None:
        async def code() -> int:
            return 1

        task = shortly.spawn(code())
        assert task.cancel() is False and task.result() == 1

    def test_cancel_races_the_resolution(self) -> None:
        for _ in range(200):
            race_once()


def race_once() -> None:
    """Cancel a parked task while another thread resolves what it awaits."""
    awaited: shortly.Future[int] = shortly.Future()
    resumed: list[str] = []
    barrier = threading.Barrier(2)

    async def code() -> str:
        try:
            await awaited
        except shortly.CancelledError:
            resumed.append("cancelled")
            raise
        resumed.append("value")
        return "value"

    def resolve() -> None:
        barrier.wait()
        awaited.try_set_result(1)

    task = shortly.spawn(code())
    thread = threading.Thread(target=resolve)
    thread.start()
    barrier.wait()
    task.cancel()
    thread.join()
    assert task.done()
    assert len(resumed) == 1, "the code was resumed exactly once"
    assert task.cancelled() == (resumed == ["cancelled"])


class TestBadInput:
    def test_not_a_coroutine(self) -> None:
        with pytest.raises(
            TypeError, match="code must be a coroutine or generator object, not int"
        ):
            shortly.spawn(3)  # type: ignore[call-overload]

    def test_a_coroutine_function_gets_a_hint(self) -> None:
        async def main() -> None:
            pass

        with pytest.raises(TypeError, match=r"call it first: spawn\(main\(\)\)"):
            shortly.spawn(main)  # type: ignore[call-overload]

    def test_an_exhausted_coroutine_fails_the_task(self) -> None:
        async def code() -> int:
            return 1

        coro = code()
        shortly.spawn(coro).result()
        assert isinstance(shortly.spawn(coro).exception(), RuntimeError)


# -- depth: chains and nests of tasks keep a flat stack ----------------------------------------


async def _relay(before: shortly.Future[Any]) -> Any:
    return await before


def test_cancelling_the_last_of_a_thousand_chained_tasks_cancels_them_all() -> None:
    root: shortly.Future[Any] = shortly.Future()
    tasks = []
    before = root
    for _ in range(1000):
        before = shortly.spawn(_relay(before))
        tasks.append(before)
    assert tasks[-1].cancel("stop") is True
    assert all(task.cancelled() for task in tasks)
    assert root.cancelled()


def test_cancelling_the_first_of_a_thousand_chained_tasks_cancels_them_all() -> None:
    root: shortly.Future[Any] = shortly.Future()
    tasks = []
    before = root
    for _ in range(1000):
        before = shortly.spawn(_relay(before))
        tasks.append(before)
    assert root.cancel("stop") is True
    assert all(task.cancelled() for task in tasks)


async def _nest(depth: int) -> int:
    if depth == 0:
        return 0
    return 1 + await shortly.spawn(_nest(depth - 1))


@pytest.mark.parametrize("depth", [250, 5000])
def test_spawn_nested_inside_spawn_goes_deep(depth: int) -> None:
    assert shortly.spawn(_nest(depth)).result(timeout=5) == depth


def test_nested_spawn_starts_before_a_blocking_wait_on_it() -> None:
    async def inner() -> str:
        return "inner ran"

    async def outer() -> str:
        return shortly.spawn(inner()).result(timeout=5)  # blocks: the trampoline runs it

    assert shortly.spawn(outer()).result(timeout=5) == "inner ran"
