"""shortly.scope(): structured concurrency whose cancellation reaches thread code."""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import trio

import shortly
from shortly._scope import Scope
from tests.helpers import eventually

if sys.version_info < (3, 11):  # pragma: no cover
    from exceptiongroup import ExceptionGroup

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]


def sleepers(scope: Scope, n: int = 1) -> None:
    """Return once ``n`` threads sleep at a wait point of ``scope`` (polls a condition)."""
    eventually(lambda: len(scope._sleepers) >= n)


def assert_cancelled(future: shortly.Future[Any]) -> None:
    """Cancelled before it started, or stopped at a wait point once running."""
    assert future.wait(5)
    assert future.cancelled() or isinstance(future.exception(), shortly.CancelledError)


def sleep_long() -> str:
    shortly.sleep(60).result()
    return "woke up"


class TestWaitPoints:
    def test_cancel_wakes_a_thread_sleeping_in_result(self) -> None:
        with shortly.scope() as s:
            f = s.submit(sleep_long)
            sleepers(s)
            s.cancel()
        assert_cancelled(f)

    def test_each_wait_point_raises_at_once_in_a_cancelled_scope(self) -> None:
        lock = shortly.Lock("test-scope-wait-points")
        queue = shortly.SerialExecutor()
        gate = threading.Event()
        blocked = queue.submit(gate.wait, 5)
        waits: dict[str, Callable[[], object]] = {
            "result": lambda: shortly.Future[int]().result(),
            "wait": lambda: shortly.Future[int]().wait(),
            "exception": lambda: shortly.Future[int]().exception(),
            "sleep": lambda: shortly.sleep(60).result(),
            "serial": lambda: queue.submit(int).result(),
            "lock": lambda: lock.acquire(blocking=60),
        }
        with lock:
            for name, wait in waits.items():
                with shortly.scope() as s:
                    s.cancel()
                    started = time.monotonic()
                    with pytest.raises(shortly.CancelledError):
                        wait()
                    assert time.monotonic() - started < 1, name
        gate.set()
        blocked.result(timeout=5)
        queue.shutdown()
        assert not lock.locked()

    def test_an_abandoned_wait_gives_up_its_future_by_the_upward_rule(self) -> None:
        nap = shortly.sleep(60)
        shared: shortly.Future[int] = shortly.Future()
        shared.add_done_callback(lambda f: None)  # somebody else wants this one
        with shortly.scope() as s:
            s.cancel()
            for waited in (nap, shared):
                with pytest.raises(shortly.CancelledError):
                    waited.result()
        assert nap.cancelled()  # its timer is disarmed, not left to fire in a minute
        assert not shared.cancelled()
        shared.set_result(1)

    def test_a_done_future_still_gives_its_result(self) -> None:
        with shortly.scope() as s:
            s.cancel()
            assert shortly.Future.resolved(5).result() == 5

    def test_cpu_loop_checks(self) -> None:
        rounds = []

        def crunch() -> None:
            while not shortly.cancelled():
                rounds.append(1)
                if len(rounds) == 3:
                    started.set()
            shortly.checkpoint()

        started = threading.Event()
        with shortly.scope() as s:
            f = s.submit(crunch)
            assert started.wait(5)
            s.cancel()
        assert_cancelled(f)
        assert shortly.cancelled() is False
        shortly.checkpoint()  # outside any scope: nothing to raise

    def test_outside_a_scope_waits_are_untouched(self) -> None:
        assert shortly.later(0.01, lambda: 3).result(timeout=5) == 3


class TestLifetime:
    def test_exit_waits_for_every_child(self) -> None:
        gate = threading.Event()
        with shortly.scope() as s:
            slow = s.submit(gate.wait, 5)
            s.later(0.02, gate.set)
        assert slow.done() and slow.result() is True

    def test_first_failure_cancels_the_rest_and_comes_out_as_a_group(self) -> None:
        def boom() -> None:
            raise ValueError("bad input")

        with pytest.raises(ExceptionGroup) as caught, shortly.scope() as s:
            slow = s.submit(sleep_long)
            sleepers(s)
            s.submit(boom)
        assert [type(e) for e in caught.value.exceptions] == [ValueError]
        assert_cancelled(slow)

    def test_body_failure_cancels_children_and_joins_the_group(self) -> None:
        with pytest.raises(ExceptionGroup) as caught, shortly.scope() as s:
            slow = s.submit(sleep_long)
            raise KeyError("body")
        assert [type(e) for e in caught.value.exceptions] == [KeyError]
        assert_cancelled(slow)

    def test_a_failure_read_by_the_body_is_not_counted_twice(self) -> None:
        with pytest.raises(ExceptionGroup) as caught, shortly.scope() as s:
            s.submit(int, "x").result(timeout=5)
        assert len(caught.value.exceptions) == 1

    def test_timeout_is_a_deadline_for_the_block(self) -> None:
        started = time.monotonic()
        with pytest.raises(shortly.TimeoutError), shortly.scope(timeout=0.05) as s:
            child = s.submit(sleep_long)
            shortly.sleep(60).result()
        assert time.monotonic() - started < 5
        assert_cancelled(child)

    def test_timeout_not_reached(self) -> None:
        with shortly.scope(timeout=5) as s:
            f = s.submit(sum, [1, 2])
        assert f.result() == 3

    def test_work_not_started_never_starts(self) -> None:
        ran: list[int] = []
        queue = shortly.SerialExecutor()
        gate = threading.Event()
        with shortly.scope() as s:
            s.submit(gate.wait, 5, executor=queue)
            later = s.submit(ran.append, 1, executor=queue)
            s.cancel()
            gate.set()
        assert later.cancelled() and ran == []
        queue.shutdown()

    def test_closed_scope_refuses_work(self) -> None:
        with shortly.scope() as s:
            pass
        with pytest.raises(RuntimeError, match="not open"):
            s.submit(int)
        with pytest.raises(RuntimeError, match="entered twice"), s:
            pass

    def test_timeout_is_checked(self) -> None:
        with pytest.raises(TypeError, match="timeout"):
            shortly.scope(timeout="1")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            shortly.scope(timeout=float("nan"))


class TestPropagation:
    def test_plain_submit_then_and_serial_actions_see_the_scope(self) -> None:
        queue = shortly.SerialExecutor()
        gate: shortly.Future[None] = shortly.Future()
        with shortly.scope() as s:
            by_submit = shortly.submit(sleep_long)
            by_serial = queue.submit(sleep_long)
            by_then = gate.then(lambda _: sleep_long())
            threading.Thread(target=gate.set_result, args=(None,)).start()
            sleepers(s, 3)
            s.cancel()
        assert_cancelled(by_submit)
        assert_cancelled(by_serial)
        assert_cancelled(by_then)
        queue.shutdown()

    def test_a_then_handler_run_later_elsewhere_sees_the_scope(self) -> None:
        gate: shortly.Future[None] = shortly.Future()
        seen: list[bool] = []
        with shortly.scope() as s:
            handled = gate.then(lambda _: seen.append(shortly.cancelled()))
            s.cancel()
        threading.Thread(target=gate.set_result, args=(None,)).start()
        handled.result(timeout=5)
        assert seen == [True]

    def test_context_variables_still_travel(self) -> None:
        var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="none")
        var.set("set")
        with shortly.scope() as s:
            f = s.submit(var.get)
        assert f.result() == "set"


class TestNesting:
    def test_outer_cancel_reaches_inner_scopes(self) -> None:
        def nested() -> None:
            with shortly.scope():
                sleep_long()

        with shortly.scope() as s:
            f = s.submit(nested)
            sleepers_in_tree(s)
            s.cancel()
        assert_cancelled(f)

    def test_inner_cancel_leaves_the_outer_alone(self) -> None:
        with shortly.scope() as outer:
            with shortly.scope() as inner:
                inner.cancel()
                with pytest.raises(shortly.CancelledError):
                    shortly.checkpoint()
            assert not shortly.cancelled()
            assert not outer.cancel_called

    def test_a_shielded_scope_is_not_reached(self) -> None:
        with shortly.scope() as outer:
            with shortly.scope(shield=True):
                outer.cancel()
                assert not shortly.cancelled()
                assert shortly.later(0.01, lambda: "kept").result(timeout=5) == "kept"
            assert shortly.cancelled()

    def test_outer_cancellation_passes_through_inner_scope(self) -> None:
        with shortly.scope() as outer, pytest.raises(shortly.CancelledError), shortly.scope():
            outer.cancel()
            shortly.checkpoint()


def sleepers_in_tree(scope: Scope) -> None:
    eventually(lambda: any(inner._sleepers for inner in list(scope._nested)))


class TestStress:
    def test_many_threads_cancelled_mid_wait_exact_counts(self) -> None:
        n = 40
        finished = []
        lock = threading.Lock()

        def worker(i: int) -> None:
            try:
                shortly.sleep(60).result()
            except shortly.CancelledError:
                with lock:
                    finished.append(i)

        with shortly.scope() as s:
            threads = [threading.Thread(target=s._run_here, args=(worker, i)) for i in range(n)]
            for t in threads:
                t.start()
            sleepers(s, n)
            s.cancel()
            for t in threads:
                t.join(5)
        assert sorted(finished) == list(range(n))
        assert not s._sleepers

    def test_cancel_racing_resolution_never_loses_a_wake(self) -> None:
        for _ in range(200):
            f: shortly.Future[int] = shortly.Future()
            out: list[Any] = []
            with shortly.scope() as s:
                t = threading.Thread(target=s._run_here, args=(wait_into, f, out))
                t.start()
                threading.Thread(target=f.set_result, args=(1,)).start()
                s.cancel()
                t.join(5)
            assert len(out) == 1 and (out[0] == 1 or isinstance(out[0], shortly.CancelledError))


def wait_into(future: shortly.Future[int], out: list[Any]) -> None:
    try:
        out.append(future.result(timeout=5))
    except shortly.CancelledError as error:
        out.append(error)


class TestAsyncio:
    def test_timeout_cancels_body_and_children(self) -> None:
        async def main() -> tuple[Any, ...]:
            with pytest.raises(shortly.TimeoutError):
                async with shortly.scope(timeout=0.05) as s:
                    thread_child = s.submit(sleep_long)
                    task_child = s.spawn(asyncio.sleep(60))
                    await asyncio.sleep(60)
            return thread_child, task_child

        thread_child, task_child = asyncio.run(main())
        assert_cancelled(thread_child)
        assert task_child.cancelled()

    def test_failure_of_a_task_cancels_the_rest(self) -> None:
        async def boom() -> None:
            await asyncio.sleep(0)
            raise ValueError("task")

        async def main() -> None:
            async with shortly.scope() as s:
                s.spawn(boom())
                s.submit(sleep_long)
                await asyncio.sleep(60)

        with pytest.raises(ExceptionGroup) as caught:
            asyncio.run(main())
        assert [type(e) for e in caught.value.exceptions] == [ValueError]

    def test_results_and_outer_cancellation(self) -> None:
        async def main() -> Any:
            async with shortly.scope() as s:
                f = s.spawn(asyncio.sleep(0, "value"))
            assert f.result() == "value"
            children: list[shortly.Future[str]] = []

            async def body() -> None:
                async with shortly.scope() as s:
                    children.append(s.submit(sleep_long))
                    await asyncio.sleep(60)

            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(body(), 0.05)
            return children[0]

        child = asyncio.run(main())
        assert_cancelled(child)


class TestTrio:
    def test_timeout_cancels_body_and_children(self) -> None:
        async def main() -> tuple[Any, ...]:
            with pytest.raises(shortly.TimeoutError):
                async with shortly.scope(timeout=0.05) as s:
                    thread_child = s.submit(sleep_long)
                    task_child = s.spawn(trio.sleep(60))
                    await trio.sleep(60)
            return thread_child, task_child

        thread_child, task_child = trio.run(main)
        assert_cancelled(thread_child)
        assert task_child.cancelled()

    def test_failure_and_outer_cancellation(self) -> None:
        async def boom() -> None:
            await trio.sleep(0)
            raise ValueError("task")

        async def main() -> Any:
            with pytest.raises(ExceptionGroup) as caught:
                async with shortly.scope() as s:
                    s.spawn(boom())
                    await trio.sleep(60)
            assert [type(e) for e in caught.value.exceptions] == [ValueError]
            with trio.move_on_after(0.05) as outer:
                async with shortly.scope() as s:
                    child = s.submit(sleep_long)
                    await trio.sleep(60)
            assert outer.cancelled_caught
            return child

        child = trio.run(main)
        assert_cancelled(child)

    def test_spawned_results(self) -> None:
        async def value() -> str:
            await trio.sleep(0)
            return "v"

        async def main() -> Any:
            async with shortly.scope() as s:
                f = s.spawn(value())
            return f.result()

        assert trio.run(main) == "v"
