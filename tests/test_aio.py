"""Awaiting from asyncio and trio; run_in_loop and in_loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
import sniffio
import trio

import shortly
import shortly.testing
from shortly._core._future import listed

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


async def registered(f: shortly.Future[Any], count: int = 1) -> None:
    """Let other tasks run until ``f`` has ``count`` callbacks (an awaiter is parked)."""
    for _ in range(10_000):
        if len(listed(f._callbacks)) >= count:
            return
        await anyio.sleep(0)
    raise AssertionError("the awaiter never registered")


@pytest.fixture
def wakeups(anyio_backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Counts thread-safe wake-ups of the running loop (asyncio) or run (trio)."""
    calls: list[str] = []
    if anyio_backend == "trio":
        original = trio.lowlevel.TrioToken.run_sync_soon

        def counting(self: Any, *args: Any, **kwargs: Any) -> None:
            calls.append("run_sync_soon")
            original(self, *args, **kwargs)

        monkeypatch.setattr(trio.lowlevel.TrioToken, "run_sync_soon", counting)
        yield calls
    else:
        original_asyncio = asyncio.BaseEventLoop.call_soon_threadsafe

        def counting_asyncio(self: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append("call_soon_threadsafe")
            return original_asyncio(self, *args, **kwargs)

        monkeypatch.setattr(asyncio.BaseEventLoop, "call_soon_threadsafe", counting_asyncio)
        yield calls


class TestAwait:
    @pytest.mark.anyio
    async def test_done_future(self) -> None:
        assert await shortly.Future.resolved(5) == 5

    @pytest.mark.anyio
    async def test_failed_future_raises_and_counts_as_observed(self) -> None:
        f = shortly.Future.failed(KeyError("k"))
        with pytest.raises(KeyError):
            await f
        assert f._guard is None

    @pytest.mark.anyio
    async def test_resolved_from_another_thread_wakes_once_thread_safely(
        self, wakeups: list[str]
    ) -> None:
        f: shortly.Future[str] = shortly.Future()
        result: list[str] = []
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                result.append(await f)

            tg.start_soon(wait)
            await registered(f)
            before = len(wakeups)
            await anyio.to_thread.run_sync(f.set_result, "from a thread")
        assert result == ["from a thread"]
        assert len(wakeups) - before >= 1  # our wake-up (anyio's worker adds its own)

    @pytest.mark.anyio
    async def test_resolved_on_the_loop_thread_pays_no_thread_safe_wakeup(
        self, wakeups: list[str]
    ) -> None:
        f: shortly.Future[str] = shortly.Future()
        result: list[str] = []
        async with anyio.create_task_group() as tg:

            async def wait() -> None:
                result.append(await f)

            tg.start_soon(wait)
            await registered(f)
            f.set_result("same thread")
        assert result == ["same thread"]
        assert wakeups == []

    @pytest.mark.anyio
    async def test_failure_from_another_thread(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        error = OSError("far away")
        async with anyio.create_task_group() as tg:

            async def fail_later() -> None:
                await registered(f)
                await anyio.to_thread.run_sync(f.set_exception, error)

            tg.start_soon(fail_later)
            with pytest.raises(OSError, match="far away"):
                await f

    @pytest.mark.anyio
    async def test_cancelling_the_task_cancels_an_unshared_future(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        async with anyio.create_task_group() as tg:
            tg.start_soon(_await, f)
            await registered(f)
            tg.cancel_scope.cancel()
        assert f.cancelled()
        assert f._callbacks is None

    @pytest.mark.anyio
    async def test_cancelling_the_task_spares_a_future_someone_else_wants(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        other = f.then(lambda x: x)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_await, f)
            await registered(f, 2)  # the link and the awaiter
            tg.cancel_scope.cancel()
        assert not f.cancelled()
        f.set_result("wanted")
        assert other.result() == "wanted"

    @pytest.mark.anyio
    async def test_cancelled_awaiters_leave_nothing_behind(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        keep = f.then(lambda x: x)
        for _ in range(50):
            with anyio.CancelScope() as scope:
                scope.cancel()
                await f
        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(_await, f)
            await registered(f, 51)
            tg.cancel_scope.cancel()
        assert len(listed(f._callbacks)) == 1
        f.set_result("done")
        assert keep.result() == "done"

    @pytest.mark.anyio
    async def test_shield_protects_the_future_from_a_cancelled_awaiter(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        with anyio.CancelScope() as scope:
            scope.cancel()
            await shortly.shield(f)
        assert not f.cancelled()
        assert f._callbacks is None
        f.set_result("done")

    @pytest.mark.anyio
    async def test_cancelled_future_raises(self, anyio_backend: str) -> None:
        f: shortly.Future[str] = shortly.Future()
        f.cancel("no longer needed")
        expected = asyncio.CancelledError if anyio_backend == "asyncio" else shortly.CancelledError
        with pytest.raises(expected, match="no longer needed"):
            await f

    @pytest.mark.anyio
    async def test_future_cancelled_while_awaited(self, anyio_backend: str) -> None:
        f: shortly.Future[str] = shortly.Future()
        expected = asyncio.CancelledError if anyio_backend == "asyncio" else shortly.CancelledError
        async with anyio.create_task_group() as tg:

            async def cancel_later() -> None:
                await registered(f)
                await anyio.to_thread.run_sync(f.cancel, "stopped")

            tg.start_soon(cancel_later)
            with pytest.raises(expected, match="stopped"):
                await f


async def _await(f: shortly.Future[Any]) -> Any:
    return await f


class TestAsyncioSpecifics:
    def test_task_cancel_message_reaches_the_future(self) -> None:
        async def main() -> shortly.Future[str]:
            f: shortly.Future[str] = shortly.Future()
            task = asyncio.ensure_future(_await(f))
            await asyncio.sleep(0)
            task.cancel("caller gave up")
            with pytest.raises(asyncio.CancelledError):
                await task
            return f

        f = asyncio.run(main())
        with pytest.raises(shortly.CancelledError, match="caller gave up"):
            f.result()

    def test_wait_for_timeout_cancels_the_future(self) -> None:
        async def main() -> shortly.Future[str]:
            f: shortly.Future[str] = shortly.Future()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(_await(f), 0.01)
            return f

        assert asyncio.run(main()).cancelled()

    def test_await_in_a_loop_running_in_another_thread(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        f: shortly.Future[int] = shortly.Future()
        done = asyncio.run_coroutine_threadsafe(_await(f), loop)
        registered_event = threading.Event()
        loop.call_soon_threadsafe(registered_event.set)
        registered_event.wait(5)
        f.set_result(11)
        assert done.result(5) == 11


class TestOtherDrivers:
    def test_without_a_library_the_future_itself_is_yielded_to_the_driver(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        coroutine = _await(f)
        assert coroutine.send(None) is f
        f.set_result(3)
        with pytest.raises(StopIteration) as stop:
            coroutine.send(None)
        assert stop.value.value == 3

    def test_an_early_resume_yields_the_future_again(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        coroutine = _await(f)
        assert coroutine.send(None) is f
        assert coroutine.send(None) is f
        coroutine.close()

    def test_unsupported_library_is_refused(self) -> None:
        coroutine = _await(shortly.Future())
        previous = sniffio.thread_local.name
        sniffio.thread_local.name = "curio"
        try:
            with pytest.raises(RuntimeError, match="not under curio"):
                coroutine.send(None)
        finally:
            sniffio.thread_local.name = previous


class TestRunInLoop:
    def test_plain_function_runs_on_the_loop_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        f = shortly.run_in_loop(
            loop, lambda a, b=0: (a + b, threading.current_thread().name), 1, b=2
        )
        assert f.result(timeout=5) == (3, "loop")

    def test_coroutine_is_awaited_on_the_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        async def work(x: int) -> int:
            await asyncio.sleep(0)
            return x * 3

        assert shortly.run_in_loop(loop, work, 5).result(timeout=5) == 15

    def test_returned_shortly_future_is_awaited(self, loop: asyncio.AbstractEventLoop) -> None:
        inner: shortly.Future[str] = shortly.Future()
        outer = shortly.run_in_loop(loop, lambda: inner)
        inner.set_result("inner")
        assert outer.result(timeout=5) == "inner"

    def test_exception_fails_the_future(self, loop: asyncio.AbstractEventLoop) -> None:
        async def boom() -> None:
            raise LookupError("on the loop")

        with pytest.raises(LookupError, match="on the loop"):
            shortly.run_in_loop(loop, boom).result(timeout=5)
        with pytest.raises(ZeroDivisionError):
            shortly.run_in_loop(loop, lambda: 1 / 0).result(timeout=5)

    def test_cancelled_before_it_starts_never_runs(self, loop: asyncio.AbstractEventLoop) -> None:
        ran: list[str] = []
        release = threading.Event()
        blocked = threading.Event()
        loop.call_soon_threadsafe(lambda: (blocked.set(), release.wait(5)))
        blocked.wait(5)
        f = shortly.run_in_loop(loop, lambda: ran.append("ran"))
        assert f.cancel()
        release.set()
        assert shortly.run_in_loop(loop, lambda: "later").result(timeout=5) == "later"
        assert ran == []

    def test_cancelling_the_future_cancels_the_running_task(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        started = threading.Event()
        seen: list[str] = []

        async def forever() -> None:
            started.set()
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError as error:
                seen.append(str(error))
                raise

        f = shortly.run_in_loop(loop, forever)
        started.wait(5)
        f.cancel("enough")
        assert shortly.run_in_loop(loop, lambda: None).result(timeout=5) is None
        assert shortly.run_in_loop(loop, asyncio.sleep, 0).result(timeout=5) is None
        assert seen == ["enough"]

    def test_blocking_on_it_from_the_loop_thread_is_a_deadlock_error(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        async def wrong() -> str:
            inner = shortly.run_in_loop(asyncio.get_running_loop(), lambda: "never")
            with pytest.raises(shortly.DeadlockError):
                inner.result()
            return await inner

        assert shortly.run_in_loop(loop, wrong).result(timeout=5) == "never"

    def test_future_from_another_thread_blocked_on_from_the_loop_is_a_deadlock_error(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        gate = threading.Event()
        loop.call_soon_threadsafe(gate.wait, 5)  # hold the loop until both are scheduled
        box: list[shortly.Future[str]] = []
        outcome = shortly.run_in_loop(loop, lambda: _try_result(box[0]))  # runs first
        pending = shortly.run_in_loop(loop, lambda: "late")
        box.append(pending)
        gate.set()
        assert outcome.result(timeout=5) == "DeadlockError"
        assert pending.result(timeout=5) == "late"

    def test_owner_is_the_loop_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        f = shortly.run_in_loop(loop, lambda: None)
        f.result(timeout=5)
        owner = f.owner
        assert owner is not None and not isinstance(owner, threading.Thread)
        assert owner.__shortly_owner_thread__().name == "loop"  # type: ignore[union-attr]

    def test_runs_in_the_callers_context(self, loop: asyncio.AbstractEventLoop) -> None:
        request_id.set("caller")

        async def read() -> str:
            return request_id.get()

        assert shortly.run_in_loop(loop, read).result(timeout=5) == "caller"
        assert shortly.run_in_loop(loop, request_id.get).result(timeout=5) == "caller"

    def test_from_the_loop_thread_needs_no_thread_safe_call(
        self, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        calls: list[Any] = []

        async def inside() -> int:
            running = asyncio.get_running_loop()
            original = running.call_soon_threadsafe

            def counting(*args: Any, **kwargs: Any) -> Any:
                calls.append(args)
                return original(*args, **kwargs)

            monkeypatch.setattr(running, "call_soon_threadsafe", counting)
            try:
                return await shortly.run_in_loop(running, lambda: 4)
            finally:
                monkeypatch.undo()

        assert shortly.run_in_loop(loop, inside).result(timeout=5) == 4
        assert calls == []

    def test_closed_loop_is_refused_at_the_call(self) -> None:
        closed = asyncio.new_event_loop()
        closed.close()
        with pytest.raises(RuntimeError, match="closed"):
            shortly.run_in_loop(closed, print)

    def test_bad_arguments(self, loop: asyncio.AbstractEventLoop) -> None:
        with pytest.raises(TypeError, match="loop must be an asyncio event loop, not str"):
            shortly.run_in_loop("loop", print)  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="fn must be callable, not int"):
            shortly.run_in_loop(loop, 5)  # type: ignore[call-overload]


def _try_result(f: shortly.Future[Any]) -> str:
    try:
        f.result()
    except shortly.DeadlockError:
        return "DeadlockError"
    return "no error"


class TestInLoop:
    def test_decorated_functions_run_on_the_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        @shortly.in_loop(loop)
        async def add(a: int, b: int) -> tuple[int, str]:
            await asyncio.sleep(0)
            return a + b, threading.current_thread().name

        @shortly.in_loop(loop)
        def name() -> str:
            return threading.current_thread().name

        assert add(1, 2).result(timeout=5) == (3, "loop")
        assert name().result(timeout=5) == "loop"
        assert add.__name__ == "add"

    def test_calls_from_many_threads(self, loop: asyncio.AbstractEventLoop) -> None:
        seen: list[int] = []

        @shortly.in_loop(loop)
        def record(i: int) -> int:
            seen.append(i)  # only the loop thread touches the list
            return i

        results: list[shortly.Future[int]] = []
        lock = threading.Lock()

        def caller(base: int) -> None:
            for i in range(base, base + 100):
                f = record(i)
                with lock:
                    results.append(f)

        threads = [threading.Thread(target=caller, args=(k * 100,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(f.result(timeout=5) for f in results) == list(range(400))
        assert sorted(seen) == list(range(400))

    def test_bad_arguments(self, loop: asyncio.AbstractEventLoop) -> None:
        with pytest.raises(TypeError, match="loop must be an asyncio event loop, not NoneType"):
            shortly.in_loop(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="in_loop\\(\\) decorates a callable, not int"):
            shortly.in_loop(loop)(3)  # type: ignore[call-overload]


def test_then_with_a_coroutine_handler_needs_a_loop(loop: asyncio.AbstractEventLoop) -> None:
    async def handler(x: int) -> int:
        return x + 1

    unused: Callable[[int], Any] = handler
    assert shortly.Future.resolved(1).then(unused, loop=loop).result(timeout=5) == 2


class TestLoopsThatAreGone:
    """Issue 12: a closed loop neither strands a future nor causes a spurious report."""

    def test_resolving_from_the_closed_loops_own_thread_reports_nothing(self) -> None:
        loop = asyncio.new_event_loop()
        awaited: shortly.Future[int] = shortly.Future()

        async def wait() -> int:
            return await awaited

        task = loop.create_task(wait())
        loop.run_until_complete(asyncio.sleep(0))  # the task is parked on the future
        assert not task.done()
        loop.close()
        task._log_destroy_pending = False  # type: ignore[attr-defined]  # it never ends
        with shortly.testing.no_unhandled():
            awaited.set_result(1)  # this thread is the loop's
        assert awaited.result() == 1

    def test_resolving_from_another_thread_reports_nothing(self) -> None:
        loop = asyncio.new_event_loop()
        awaited: shortly.Future[int] = shortly.Future()

        async def wait() -> int:
            return await awaited

        task = loop.create_task(wait())
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        task._log_destroy_pending = False  # type: ignore[attr-defined]
        with shortly.testing.no_unhandled():
            thread = threading.Thread(target=awaited.set_result, args=(1,))
            thread.start()
            thread.join(5)

    def test_run_in_loop_on_a_loop_closed_before_it_runs_fails_the_future(self) -> None:
        loop = asyncio.new_event_loop()  # never run: the call waits in its queue
        ran: list[int] = []
        f = shortly.run_in_loop(loop, ran.append, 1)
        loop.close()
        error = f.exception(timeout=5)
        assert isinstance(error, RuntimeError) and "closed before it ran" in str(error)
        assert ran == []

    def test_run_in_loop_from_another_thread_on_a_loop_that_stops_and_closes(self) -> None:
        loop = asyncio.new_event_loop()
        ran: list[int] = []
        scheduled = threading.Event()

        def stop_then_let_the_other_thread_schedule() -> None:
            loop.stop()  # this iteration ends the run; what comes later stays queued
            thread = threading.Thread(
                target=lambda: (
                    calls.append(shortly.run_in_loop(loop, ran.append, 1)),
                    scheduled.set(),
                )
            )
            thread.start()
            thread.join(5)

        calls: list[shortly.Future[None]] = []
        loop.call_soon(stop_then_let_the_other_thread_schedule)
        loop.run_forever()
        assert scheduled.is_set()
        loop.close()
        error = calls[0].exception(timeout=5)
        assert isinstance(error, RuntimeError) and "closed" in str(error)
        assert ran == []

    def test_a_call_that_ran_is_not_failed_when_dropped(self) -> None:
        loop = asyncio.new_event_loop()
        f = shortly.run_in_loop(loop, int, "7")
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()
        assert f.result(timeout=5) == 7

    def test_run_in_loop_on_an_already_closed_loop_raises_at_the_call(self) -> None:
        loop = asyncio.new_event_loop()
        loop.close()
        with pytest.raises(RuntimeError, match="closed"):
            shortly.run_in_loop(loop, int)
