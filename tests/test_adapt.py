"""future_of and register_adapter: every kind of future in, one kind out."""

from __future__ import annotations

import asyncio
import concurrent.futures
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

import shortly
from shortly._core._cancel import fail, when_cancelled

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(30)]


def on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> Any:
    """Run ``fn()`` on the loop's thread and return what it returned."""

    async def call() -> Any:
        return fn()

    return asyncio.run_coroutine_threadsafe(call(), loop).result(5)


class DuckFuture:
    """Shaped like a dask future: not a stdlib Future, but with its methods."""

    def __init__(self) -> None:
        self._inner: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def add_done_callback(self, fn: Callable[[DuckFuture], object]) -> None:
        self._inner.add_done_callback(lambda _: fn(self))

    def done(self) -> bool:
        return self._inner.done()

    def cancelled(self) -> bool:
        return self._inner.cancelled()

    def result(self, timeout: float | None = None) -> Any:
        return self._inner.result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        return self._inner.exception(timeout)

    def cancel(self) -> bool:
        return self._inner.cancel()


class TestFutures:
    def test_a_shortly_future_is_itself(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert shortly.future_of(f) is f

    def test_stdlib_future_value_and_failure(self) -> None:
        ok: concurrent.futures.Future[int] = concurrent.futures.Future()
        bad: concurrent.futures.Future[int] = concurrent.futures.Future()
        a, b = shortly.future_of(ok), shortly.future_of(bad)
        assert not a.done()
        ok.set_result(3)
        error = ValueError("bad")
        bad.set_exception(error)
        assert a.result() == 3
        assert b.exception() is error

    def test_stdlib_future_already_done_is_adapted_at_once(self) -> None:
        source: concurrent.futures.Future[str] = concurrent.futures.Future()
        source.set_result("now")
        assert shortly.future_of(source).result(timeout=0) == "now"

    def test_cancellation_goes_both_ways_with_stdlib_futures(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        shortly.future_of(source).cancel()
        assert source.cancelled()
        other: concurrent.futures.Future[int] = concurrent.futures.Future()
        adapted = shortly.future_of(other)
        other.cancel()
        assert adapted.cancelled()

    def test_cancelling_a_chain_on_an_adapted_future_reaches_the_source(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        shortly.future_of(source).then(lambda x: x).cancel()
        assert source.cancelled()

    def test_resolved_from_another_thread_while_adapting(self) -> None:
        sources: list[concurrent.futures.Future[int]] = [
            concurrent.futures.Future() for _ in range(2000)
        ]
        go = threading.Event()

        def resolve_all() -> None:
            go.wait(5)
            for i, source in enumerate(sources):
                source.set_result(i)

        t = threading.Thread(target=resolve_all)
        t.start()
        go.set()
        adapted = [shortly.future_of(source) for source in sources]
        t.join(10)
        assert [f.result(timeout=5) for f in adapted] == list(range(2000))

    def test_dask_shaped_future(self) -> None:
        source = DuckFuture()
        adapted = shortly.future_of(source)
        source._inner.set_result("duck")
        assert adapted.result(timeout=5) == "duck"
        other = DuckFuture()
        shortly.future_of(other).cancel()
        assert other.cancelled()

    def test_stop_iteration_from_a_source_arrives_as_runtime_error(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        adapted = shortly.future_of(source)
        source.set_exception(StopIteration())
        assert isinstance(adapted.exception(), RuntimeError)


class TestAsyncio:
    def test_future_of_another_threads_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        source: asyncio.Future[int] = on_loop(loop, loop.create_future)
        adapted = shortly.future_of(source)
        loop.call_soon_threadsafe(source.set_result, 9)
        assert adapted.result(timeout=5) == 9

    def test_failing_task(self, loop: asyncio.AbstractEventLoop) -> None:
        async def boom() -> None:
            raise KeyError("task")

        task = asyncio.run_coroutine_threadsafe(_start(boom()), loop).result(5)
        assert isinstance(shortly.future_of(task).exception(timeout=5), KeyError)

    def test_cancelled_source_cancels_with_its_message(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        source: asyncio.Future[int] = on_loop(loop, loop.create_future)
        adapted = shortly.future_of(source)
        loop.call_soon_threadsafe(source.cancel, "asyncio says stop")
        assert adapted.wait(timeout=5)
        with pytest.raises(shortly.CancelledError, match="asyncio says stop"):
            adapted.result()

    def test_cancelling_the_adapted_future_cancels_the_source_on_its_loop(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        source: asyncio.Future[int] = on_loop(loop, loop.create_future)
        shortly.future_of(source).cancel("from a thread")
        # The cancel is scheduled on the loop; anything scheduled after it sees it done.
        assert on_loop(loop, source.cancelled)

    def test_done_future_on_its_own_loop_is_adapted_at_once(self) -> None:
        async def main() -> bool:
            source = asyncio.get_running_loop().create_future()
            source.set_result(1)
            return shortly.future_of(source).done()

        assert asyncio.run(main())

    def test_coroutine_inside_a_loop_becomes_a_task(self) -> None:
        async def work() -> str:
            await asyncio.sleep(0)
            return "ran as a task"

        async def main() -> str:
            return await shortly.future_of(work())

        assert asyncio.run(main()) == "ran as a task"

    def test_coroutine_outside_a_loop_points_to_spawn(self) -> None:
        async def work() -> None:
            pass

        coroutine = work()
        with pytest.raises(TypeError, match=r"a coroutine outside a running asyncio loop.*spawn"):
            shortly.future_of(coroutine)
        coroutine.close()


async def _start(coroutine: Any) -> asyncio.Task[Any]:
    return asyncio.ensure_future(coroutine)


class TestProtocolAndRegistry:
    def test_shortly_future_protocol(self) -> None:
        inner = shortly.Future.resolved("from protocol")

        class Wrapper:
            def __shortly_future__(self) -> shortly.Future[str]:
                return inner

        assert shortly.future_of(Wrapper()) is inner

    def test_protocol_returning_something_else_is_a_type_error(self) -> None:
        class Liar:
            def __shortly_future__(self) -> object:
                return 5

        with pytest.raises(TypeError, match=r"Liar.__shortly_future__\(\) returned int"):
            shortly.future_of(Liar())

    def test_registered_adapter_covers_subclasses_and_can_be_removed(self) -> None:
        class Box:
            def __init__(self, value: int) -> None:
                self.value = value

        class SmallBox(Box):
            pass

        def adapt(box: Box) -> shortly.Future[int]:
            return shortly.Future.resolved(box.value)

        assert shortly.register_adapter(Box, adapt) is None
        try:
            assert shortly.future_of(SmallBox(4)).result() == 4
        finally:
            assert shortly.register_adapter(Box, None) is adapt
        with pytest.raises(TypeError, match="from a SmallBox"):
            shortly.future_of(SmallBox(4))

    def test_registered_adapter_wins_over_built_in_rules(self) -> None:
        class Special(concurrent.futures.Future[int]):
            pass

        shortly.register_adapter(Special, lambda _: shortly.Future.resolved(-1))
        try:
            assert shortly.future_of(Special()).result() == -1
        finally:
            shortly.register_adapter(Special, None)

    def test_adapter_returning_something_else_is_a_type_error(self) -> None:
        class Thing:
            pass

        shortly.register_adapter(Thing, lambda _: "nope")  # type: ignore[arg-type, return-value]
        try:
            with pytest.raises(TypeError, match=r"adapter registered for Thing returned str"):
                shortly.future_of(Thing())
        finally:
            shortly.register_adapter(Thing, None)

    @pytest.mark.parametrize(
        ("cls", "fn", "error", "match"),
        [
            ("Box", print, TypeError, "cls must be a class, not str"),
            (int, 5, TypeError, "fn must be callable or None, not int"),
            (shortly.Future, print, ValueError, "need no adapter"),
        ],
    )
    def test_bad_registrations(self, cls: Any, fn: Any, error: type[Exception], match: str) -> None:
        with pytest.raises(error, match=match):
            shortly.register_adapter(cls, fn)


class TestValues:
    def test_unknown_objects_are_refused_naming_the_type(self) -> None:
        with pytest.raises(TypeError, match="cannot make a shortly future from an int"):
            shortly.future_of(5)
        with pytest.raises(TypeError, match="from a dict"):
            shortly.future_of({})

    def test_values_when_asked(self) -> None:
        assert shortly.future_of(5, allow_values=True).result() == 5
        f = shortly.Future.resolved(1)
        assert shortly.future_of(f, allow_values=True) is f

    def test_twisted_is_not_imported_for_other_objects(self) -> None:
        code = (
            "import sys, concurrent.futures, shortly\n"
            "shortly.future_of(concurrent.futures.Future())\n"
            "shortly.future_of(1, allow_values=True)\n"
            "assert 'twisted' not in sys.modules, 'twisted was imported'\n"
            "assert 'asyncio' not in sys.modules, 'asyncio was imported'\n"
        )
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr


class TestHelpers:
    def test_fail_turns_cancellation_into_cancel_with_the_message(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert fail(f, asyncio.CancelledError("asyncio's"))
        with pytest.raises(shortly.CancelledError, match="asyncio's"):
            f.result()

    def test_when_cancelled_runs_only_on_cancellation_and_wants_nothing(self) -> None:
        messages: list[Any] = []
        f: shortly.Future[int] = shortly.Future()
        when_cancelled(f, messages.append)
        child = f.then(lambda x: x)
        child.cancel("gone")  # the hook must not keep f wanted
        assert f.cancelled() and messages == ["gone"]
        g = shortly.Future.resolved(1)
        when_cancelled(g, messages.append)
        assert messages == ["gone"]


class TestStdlibFuturesAreMirrored:
    """Issue 11 item 3: running() and cancel() say what the stdlib future does."""

    def test_running_while_the_source_runs(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        mirror = shortly.future_of(source)
        assert not mirror.running()
        assert source.set_running_or_notify_cancel()
        assert mirror.running()
        assert not mirror.cancel() and not mirror.cancelled() and not source.cancelled()
        source.set_result(3)
        assert mirror.result(timeout=5) == 3 and not mirror.running()

    def test_cancel_of_a_pending_source_cancels_both_with_the_message(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        mirror = shortly.future_of(source)
        assert mirror.cancel("not needed")
        assert source.cancelled() and mirror.cancelled()
        with pytest.raises(shortly.CancelledError, match="not needed"):
            mirror.result()
        assert not source.set_running_or_notify_cancel()  # the executor skips the work

    def test_the_upward_rule_stops_at_a_running_source(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        mirror = shortly.future_of(source)
        child = mirror.then(lambda v: v + 1)
        source.set_running_or_notify_cancel()
        assert child.cancel()
        assert not mirror.cancelled() and not source.cancelled()
        source.set_result(1)
        assert mirror.result(timeout=5) == 1

    def test_a_source_cancelled_elsewhere_cancels_the_mirror(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        mirror = shortly.future_of(source)
        assert source.cancel()
        assert mirror.cancelled()

    def test_a_dropped_failed_mirror_is_reported_without_the_gc(self) -> None:
        import gc

        seen: list[shortly.Unhandled] = []
        previous = shortly.set_unhandled_handler(seen.append)
        gc.disable()
        try:
            source: concurrent.futures.Future[int] = concurrent.futures.Future()
            mirror = shortly.future_of(source)
            source.set_exception(KeyError("lost"))
            del mirror, source  # the source's callback list held the mirror: no cycle left
            assert [type(u.error) for u in seen] == [KeyError]
        finally:
            gc.enable()
            shortly.set_unhandled_handler(previous)

    def test_duck_typed_futures_keep_the_plain_adapter(self) -> None:
        duck = DuckFuture()
        adapted = shortly.future_of(duck)
        assert type(adapted) is shortly.Future
        assert adapted.cancel() and duck.cancelled()
