"""SerialExecutor (ActionQueue) and submit() onto any executor."""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import gc
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import shortly
from shortly import _workers
from tests.helpers import when_waited_on

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]

user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="nobody")


@pytest.fixture
def queue() -> Iterator[shortly.SerialExecutor]:
    executor = shortly.SerialExecutor(name="test-queue")
    yield executor
    executor.shutdown(wait=True)


@pytest.fixture
def unhandled() -> Iterator[list[shortly.Unhandled]]:
    """Failures reported as unhandled during the test, which expects them."""
    seen: list[shortly.Unhandled] = []
    previous = shortly.set_unhandled_handler(seen.append)
    yield seen
    shortly.set_unhandled_handler(previous)


def blocker(executor: shortly.SerialExecutor) -> threading.Event:
    """Occupy the worker until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    executor.put(block)
    assert started.wait(5)
    return release


def worker_thread(executor: shortly.SerialExecutor) -> threading.Thread:
    """The thread that runs the executor's actions right now (starting one if needed)."""
    return executor.submit(threading.current_thread).result(timeout=5)


class TestOrderAndOutcomes:
    def test_actions_run_in_order(self, queue: shortly.SerialExecutor) -> None:
        seen: list[int] = []
        for i in range(1000):
            queue.put(seen.append, i)
        queue.shutdown()
        assert seen == list(range(1000))

    def test_submit_returns_a_shortly_future(self, queue: shortly.SerialExecutor) -> None:
        f = queue.submit(lambda a, b=0: a + b, 40, b=2)
        assert isinstance(f, shortly.Future)
        assert f.result(timeout=5) == 42
        assert f.owner is queue

    def test_put_and_submit_share_one_order(self, queue: shortly.SerialExecutor) -> None:
        seen: list[str] = []
        queue.put(seen.append, "put 1")
        f = queue.submit(seen.append, "submit")
        queue.put(seen.append, "put 2")
        f.result(timeout=5)
        queue.shutdown()
        assert seen == ["put 1", "submit", "put 2"]

    def test_one_action_at_a_time(self, queue: shortly.SerialExecutor) -> None:
        active = 0
        overlaps = 0
        lock = threading.Lock()

        def action() -> None:
            nonlocal active, overlaps
            with lock:
                active += 1
                overlaps += active > 1
            time.sleep(0)
            with lock:
                active -= 1

        threads = [
            threading.Thread(target=lambda: [queue.put(action) for _ in range(200)])
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        queue.shutdown()
        assert overlaps == 0

    def test_failing_put_is_reported_and_the_queue_goes_on(
        self, queue: shortly.SerialExecutor, unhandled: list[shortly.Unhandled]
    ) -> None:
        def boom() -> None:
            raise KeyError("lost")

        queue.put(boom)
        assert queue.submit(lambda: "next").result(timeout=5) == "next"
        assert len(unhandled) == 1
        assert isinstance(unhandled[0].error, KeyError)
        assert "test-queue" in unhandled[0].context
        assert "boom" in (unhandled[0].source or "")

    def test_a_dropped_failed_future_is_reported_without_the_gc(
        self, queue: shortly.SerialExecutor, unhandled: list[shortly.Unhandled]
    ) -> None:
        gc.disable()  # no reference cycle may hold the failed future
        try:
            queue.submit(int, "x")
            queue.shutdown()  # the worker lets go of it
            shortly.flush_reports()  # dropped inside shortly code: the reporter delivers
        finally:
            gc.enable()
        assert [type(u.error) for u in unhandled] == [ValueError]

    def test_even_system_exit_does_not_stop_the_queue(
        self, queue: shortly.SerialExecutor, unhandled: list[shortly.Unhandled]
    ) -> None:
        queue.put(sys.exit, 3)
        assert queue.submit(lambda: "alive").result(timeout=5) == "alive"
        assert [type(u.error) for u in unhandled] == [SystemExit]

    def test_failing_submit_fails_its_future(self, queue: shortly.SerialExecutor) -> None:
        f = queue.submit(int, "x")
        assert isinstance(f.exception(timeout=5), ValueError)
        assert queue.submit(int, "7").result(timeout=5) == 7

    def test_an_action_raising_cancelled_error_fails_its_future(
        self, queue: shortly.SerialExecutor
    ) -> None:
        def gives_up() -> None:
            raise shortly.CancelledError("inner")

        f = queue.submit(gives_up)
        assert isinstance(f.exception(timeout=5), shortly.CancelledError)
        assert not f.cancelled(), "it ran, so it failed rather than being cancelled"

    def test_cancelled_before_it_starts_is_skipped(self, queue: shortly.SerialExecutor) -> None:
        ran: list[str] = []
        release = blocker(queue)
        f = queue.submit(ran.append, "skipped")
        assert f.cancel()
        release.set()
        queue.submit(ran.append, "ran").result(timeout=5)
        assert ran == ["ran"]

    def test_map_keeps_order(self, queue: shortly.SerialExecutor) -> None:
        assert list(queue.map(pow, range(5), [2] * 5)) == [0, 1, 4, 9, 16]

    def test_futures_work_with_the_stdlib(self, queue: shortly.SerialExecutor) -> None:
        fs = [queue.submit(pow, 2, i) for i in range(10)]
        _, pending = concurrent.futures.wait(fs, timeout=5)
        assert not pending
        assert sorted(f.result() for f in concurrent.futures.as_completed(fs)) == [
            2**i for i in range(10)
        ]

    def test_action_queue_is_the_same_class(self) -> None:
        assert shortly.ActionQueue is shortly.SerialExecutor
        assert issubclass(shortly.ActionQueue, concurrent.futures.Executor)


class TestTheWorkerThread:
    def test_starts_on_demand_and_exits_when_idle(self, queue: shortly.SerialExecutor) -> None:
        assert not queue.statistics().worker_alive
        thread = worker_thread(queue)
        assert thread.name == "test-queue" and not thread.daemon
        thread.join(5)
        assert not thread.is_alive()
        assert not queue.statistics().worker_alive
        again = worker_thread(queue)
        assert again is not thread
        assert queue.statistics().threads_started == 2

    def test_idle_timeout_keeps_the_worker_for_the_next_put(self) -> None:
        executor = shortly.SerialExecutor(idle_timeout=10)
        first = worker_thread(executor)
        assert worker_thread(executor) is first
        assert executor.statistics().worker_alive
        executor.shutdown()  # wakes the idle worker: it must not wait 10 s
        first.join(5)
        assert not first.is_alive()

    def test_idle_timeout_expires(self) -> None:
        executor = shortly.SerialExecutor(idle_timeout=0.01)
        thread = worker_thread(executor)
        thread.join(5)
        assert not thread.is_alive()
        assert executor.statistics() == _workers.SerialStatistics(0, False, 1, False)

    def test_default_names_differ(self) -> None:
        a, b = shortly.SerialExecutor(), shortly.SerialExecutor()
        assert a.name != b.name and a.name.startswith("SerialExecutor-")

    def test_thread_start_failure_refuses_only_that_put(
        self, queue: shortly.SerialExecutor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class Unstartable(threading.Thread):
            def start(self) -> None:
                raise RuntimeError("can't start new thread")

        monkeypatch.setattr(_workers.threading, "Thread", Unstartable)
        ran: list[str] = []
        with pytest.raises(RuntimeError, match="can't start new thread"):
            queue.put(ran.append, "refused")
        assert queue.statistics() == _workers.SerialStatistics(0, False, 1, False)
        monkeypatch.undo()
        queue.submit(ran.append, "accepted").result(timeout=5)
        assert ran == ["accepted"]

    @pytest.mark.parametrize("idle", ["60", "None"])
    def test_an_idle_worker_does_not_delay_interpreter_exit(self, idle: str) -> None:
        code = (
            f"import shortly\nq = shortly.SerialExecutor(idle_timeout={idle})\n"
            "q.put(print, 'ran')\n"
        )
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
        assert done.stdout == "ran\n" and done.returncode == 0, done.stderr
        assert time.monotonic() - started < 20, "the idle worker kept the interpreter alive"

    def test_queued_work_still_runs_at_interpreter_exit(self) -> None:
        code = (
            "import shortly, time\n"
            "q = shortly.SerialExecutor()\n"
            "q.put(time.sleep, 0.05)\n"
            "q.put(print, 'last')\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
        assert done.stdout == "last\n", done.stderr


class TestContext:
    def test_action_runs_in_the_callers_context(self, queue: shortly.SerialExecutor) -> None:
        token = user.set("ada")
        try:
            f = queue.submit(user.get)
            queue.put(lambda: None)
        finally:
            user.reset(token)
        assert f.result(timeout=5) == "ada"
        assert queue.submit(user.get).result(timeout=5) == "nobody"

    @pytest.mark.parametrize("caller_value", [None, "grace"])
    def test_what_an_action_sets_does_not_leak(
        self, queue: shortly.SerialExecutor, caller_value: str | None
    ) -> None:
        def in_context(fn: Callable[[], Any]) -> Any:
            if caller_value is None:
                return queue.submit(fn)
            token = user.set(caller_value)
            try:
                return queue.submit(fn)
            finally:
                user.reset(token)

        in_context(lambda: user.set("intruder")).result(timeout=5)
        assert in_context(user.get).result(timeout=5) == (caller_value or "nobody")


class TestDeadlocks:
    def test_waiting_on_an_action_queued_behind_is_refused(
        self, queue: shortly.SerialExecutor
    ) -> None:
        def waits_for_the_next() -> Any:
            return queue.submit(lambda: "never").result(timeout=5)

        f = queue.submit(waits_for_the_next)
        error = f.exception(timeout=5)
        assert isinstance(error, shortly.DeadlockError)
        assert "test-queue" in str(error)

    def test_owner_thread_is_the_current_worker(self, queue: shortly.SerialExecutor) -> None:
        assert queue.__shortly_owner_thread__() is None
        release = blocker(queue)
        thread = queue.__shortly_owner_thread__()
        assert thread is not None and thread.name == "test-queue"
        release.set()

    def test_waiting_from_outside_is_fine(self, queue: shortly.SerialExecutor) -> None:
        release = blocker(queue)
        f = queue.submit(lambda: "ok")
        releaser = when_waited_on(f, release.set)
        assert f.result(timeout=5) == "ok"
        releaser.join(5)

    def test_shutdown_wait_from_an_action_is_refused(self, queue: shortly.SerialExecutor) -> None:
        f = queue.submit(queue.shutdown)
        assert isinstance(f.exception(timeout=5), shortly.DeadlockError)
        g = queue.submit(queue.shutdown, wait=False)
        assert g.result(timeout=5) is None
        with pytest.raises(RuntimeError, match="shut down"):
            queue.put(print)


class TestShutdown:
    def test_put_and_submit_after_shutdown_are_refused(self) -> None:
        executor = shortly.SerialExecutor(name="closed")
        executor.shutdown()
        with pytest.raises(RuntimeError, match="cannot queue work on 'closed'"):
            executor.put(print)
        with pytest.raises(RuntimeError, match="cannot queue work on 'closed'"):
            executor.submit(print)
        executor.shutdown()  # again: harmless

    def test_shutdown_waits_for_queued_work(self) -> None:
        executor = shortly.SerialExecutor()
        seen: list[int] = []
        release = blocker(executor)
        for i in range(100):
            executor.put(seen.append, i)
        threading.Timer(0.01, release.set).start()
        executor.shutdown(wait=True)
        assert seen == list(range(100))
        assert not executor.statistics().worker_alive

    def test_cancel_futures_drops_what_has_not_started(self) -> None:
        executor = shortly.SerialExecutor()
        ran: list[int] = []
        release = blocker(executor)
        futures = [executor.submit(ran.append, i) for i in range(10)]
        for i in range(10):
            executor.put(ran.append, 100 + i)
        executor.shutdown(wait=False, cancel_futures=True)
        release.set()
        executor.shutdown(wait=True)
        assert ran == []
        assert all(f.cancelled() for f in futures)

    def test_cancel_futures_drops_a_batch_already_taken(self) -> None:
        executor = shortly.SerialExecutor()
        ran: list[str] = []
        started, release = threading.Event(), threading.Event()

        def first() -> None:
            started.set()
            release.wait(10)

        # Queued together before the worker starts, so the worker takes them as one batch.
        gate = blocker(executor)
        executor.put(first)
        later = executor.submit(ran.append, "later")
        gate.set()
        assert started.wait(5)
        executor.shutdown(wait=False, cancel_futures=True)
        release.set()
        executor.shutdown()
        assert ran == [] and later.cancelled()

    def test_context_manager_shuts_down(self) -> None:
        with shortly.SerialExecutor() as executor:
            f = executor.submit(lambda: 1)
        assert f.result() == 1
        with pytest.raises(RuntimeError):
            executor.put(print)


class TestBadInput:
    def test_action_must_be_callable(self, queue: shortly.SerialExecutor) -> None:
        with pytest.raises(TypeError, match="action must be callable, not int"):
            queue.put(3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="fn must be callable, not str"):
            queue.submit("print")  # type: ignore[arg-type]
        assert queue.statistics().queued == 0

    def test_constructor_arguments(self) -> None:
        with pytest.raises(TypeError, match="name must be a str or None, not int"):
            shortly.SerialExecutor(name=3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="idle_timeout must be a number of seconds >= 0"):
            shortly.SerialExecutor(idle_timeout=-1)
        with pytest.raises(TypeError, match="idle_timeout must be a number"):
            shortly.SerialExecutor(idle_timeout="1")  # type: ignore[arg-type]

    def test_repr(self, queue: shortly.SerialExecutor) -> None:
        assert repr(queue) == "<SerialExecutor 'test-queue' idle queued=0>"


class NotStdlibFuture:
    """A future of some other library: adapted through __shortly_future__."""

    def __init__(self, value: Any) -> None:
        self.future = shortly.Future.resolved(value)

    def __shortly_future__(self) -> shortly.Future[Any]:
        return self.future


class OddExecutor:
    """Not a concurrent.futures.Executor, and its futures are not stdlib futures."""

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> NotStdlibFuture:
        return NotStdlibFuture(fn(*args, **kwargs))


class TestSubmit:
    def test_default_pool_in_the_callers_context(self) -> None:
        token = user.set("lin")
        try:
            f = shortly.submit(lambda x: (user.get(), x), 5)
        finally:
            user.reset(token)
        assert isinstance(f, shortly.Future)
        assert f.result(timeout=5) == ("lin", 5)

    def test_on_a_serial_executor(self, queue: shortly.SerialExecutor) -> None:
        f = shortly.submit(threading.current_thread, executor=queue)
        assert f.result(timeout=5).name == "test-queue"
        assert f.owner is queue

    def test_on_a_thread_pool(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(thread_name_prefix="pool") as pool:
            f = shortly.submit(lambda: threading.current_thread().name, executor=pool)
            assert f.result(timeout=5).startswith("pool")

    def test_on_an_executor_whose_futures_are_not_stdlib_futures(self) -> None:
        assert shortly.submit(pow, 3, 2, executor=OddExecutor()).result(timeout=5) == 9

    def test_failure_passes_through(self) -> None:
        f = shortly.submit(int, "x")
        assert isinstance(f.exception(timeout=5), ValueError)

    def test_keywords_reach_fn(self) -> None:
        assert shortly.submit(sorted, [3, 1, 2], reverse=True).result(timeout=5) == [3, 2, 1]

    def test_delay_submits_later(self, queue: shortly.SerialExecutor) -> None:
        token = user.set("delayed")
        try:
            f = shortly.submit(user.get, executor=queue, delay=0.01)
        finally:
            user.reset(token)
        assert f.result(timeout=5) == "delayed"

    def test_a_delayed_submit_is_owned_by_the_serial_executor(
        self, queue: shortly.SerialExecutor
    ) -> None:
        def waits_for_a_later_one() -> Any:
            return shortly.submit(str, executor=queue, delay=0).result(timeout=5)

        f = queue.submit(waits_for_a_later_one)
        assert isinstance(f.exception(timeout=5), shortly.DeadlockError)

    def test_cancel_during_the_delay_never_submits(self, queue: shortly.SerialExecutor) -> None:
        ran: list[str] = []
        f = shortly.submit(ran.append, "no", executor=queue, delay=0.05)
        assert f.cancel()
        shortly.later(0.1).result(timeout=5)  # the delay would have passed by now
        queue.shutdown()
        assert ran == [] and queue.statistics().threads_started == 0

    def test_cancel_after_submission_cancels_the_executors_future(
        self, queue: shortly.SerialExecutor
    ) -> None:
        ran: list[str] = []
        release = blocker(queue)
        f = shortly.submit(ran.append, "no", executor=queue, delay=0)
        shortly.wait_until(
            lambda: queue.statistics().queued == 1, timeout=5, interval=0.001
        ).result()
        assert f.cancel()
        release.set()
        queue.shutdown()
        assert ran == []

    def test_shut_down_executor(self) -> None:
        executor = shortly.SerialExecutor(name="gone")
        executor.shutdown()
        with pytest.raises(RuntimeError, match="gone"):
            shortly.submit(print, executor=executor)
        f = shortly.submit(print, executor=executor, delay=0)
        assert isinstance(f.exception(timeout=5), RuntimeError)

    def test_bad_input(self) -> None:
        with pytest.raises(TypeError, match="fn must be callable, not int"):
            shortly.submit(1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="executor must be an Executor"):
            shortly.submit(print, executor="pool")
        with pytest.raises(ValueError, match="delay must be a number of seconds >= 0"):
            shortly.submit(print, delay=-1)
        with pytest.raises(TypeError, match="delay must be a number"):
            shortly.submit(print, delay="1")  # type: ignore[arg-type]


class Work:
    """Work that records whether it ran, holding its thread until released."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.ran: list[int] = []

    def __call__(self) -> int:
        self.started.set()
        assert self.release.wait(10)
        self.ran.append(1)
        return 7


Maker = Callable[[Any, Work], shortly.Future[int]]
MAKERS: dict[str, Maker] = {
    "submit": lambda executor, work: shortly.submit(work, executor=executor),
    "submit-delay": lambda executor, work: shortly.submit(work, executor=executor, delay=0),
    "future_of": lambda executor, work: shortly.future_of(executor.submit(work)),
}


def _cancel(f: shortly.Future[int]) -> bool:
    return f.cancel()


def _with_timeout(f: shortly.Future[int]) -> bool:
    assert isinstance(f.with_timeout(0.01, cancel=True).exception(timeout=5), TimeoutError)
    return f.cancelled()


def _asyncio_timeout(f: shortly.Future[int]) -> bool:
    import asyncio

    async def main() -> None:
        # asyncio.timeout from 3.11; wait_for, which cancels the same way, before.
        with pytest.raises((TimeoutError, asyncio.TimeoutError)):
            if sys.version_info >= (3, 11):
                async with asyncio.timeout(0.01):
                    await f
            else:
                await asyncio.wait_for(f, 0.01)

    asyncio.run(main())
    return f.cancelled()


def _upward(f: shortly.Future[int]) -> bool:
    child = f.then(lambda v: v)
    assert child.cancel()
    return f.cancelled()


WAYS: dict[str, Callable[[shortly.Future[int]], bool]] = {
    "cancel": _cancel,
    "with_timeout": _with_timeout,
    "asyncio.timeout": _asyncio_timeout,
    "upward rule": _upward,
}


class Foreign(concurrent.futures.Executor):
    """An executor shortly knows nothing of (as a process pool is): it hands back
    stdlib futures and decides alone when the work starts."""

    def __init__(self) -> None:
        self._pool = concurrent.futures.ThreadPoolExecutor(1)

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait, cancel_futures=cancel_futures)


@pytest.fixture(params=["thread pool", "serial", "foreign"])
def one_worker(request: pytest.FixtureRequest) -> Iterator[concurrent.futures.Executor]:
    executors: dict[str, Callable[[], concurrent.futures.Executor]] = {
        "thread pool": lambda: concurrent.futures.ThreadPoolExecutor(1),
        "serial": shortly.SerialExecutor,
        "foreign": Foreign,
    }
    executor = executors[request.param]()
    yield executor
    executor.shutdown(wait=True)


class TestCancelTellsTheTruth:
    """Issue 11 item 3: cancel() is True only if the work was kept from starting."""

    @pytest.mark.parametrize("way", WAYS)
    @pytest.mark.parametrize("make", MAKERS)
    def test_running_work_is_not_cancelled(
        self, one_worker: concurrent.futures.Executor, make: str, way: str
    ) -> None:
        work = Work()
        f = MAKERS[make](one_worker, work)
        assert work.started.wait(5)
        assert f.running() and not f.done()
        assert WAYS[way](f) is False
        assert not f.cancelled()
        work.release.set()
        assert f.result(timeout=5) == 7 and work.ran == [1]
        assert not f.running()

    @pytest.mark.parametrize("way", WAYS)
    @pytest.mark.parametrize("make", MAKERS)
    def test_queued_work_is_cancelled_and_never_runs(
        self, one_worker: concurrent.futures.Executor, make: str, way: str
    ) -> None:
        busy, work = Work(), Work()
        one_worker.submit(busy)
        assert busy.started.wait(5)
        f = MAKERS[make](one_worker, work)
        assert not f.running()
        assert WAYS[way](f) is True
        assert f.cancelled()
        busy.release.set()
        work.release.set()
        one_worker.shutdown(wait=True)
        assert busy.ran == [1] and work.ran == [] and not work.started.is_set()

    def test_the_default_pool_tells_the_truth(self) -> None:
        work = Work()
        f = shortly.submit(work)
        assert work.started.wait(5)
        assert f.running() and not f.cancel() and not f.cancelled()
        work.release.set()
        assert f.result(timeout=5) == 7 and work.ran == [1]

    def test_shutdown_with_cancel_futures_cancels_the_shortly_future(self) -> None:
        pool = concurrent.futures.ThreadPoolExecutor(1)
        busy, work = Work(), Work()
        pool.submit(busy)
        assert busy.started.wait(5)
        f = shortly.submit(work, executor=pool)
        pool.shutdown(wait=False, cancel_futures=True)
        busy.release.set()
        with pytest.raises(shortly.CancelledError):
            f.result(timeout=5)
        pool.shutdown(wait=True)
        assert work.ran == []


async def _async_double(x: int) -> int:
    return 2 * x


class _AsyncCallable:
    async def __call__(self) -> int:
        return 1


@pytest.mark.filterwarnings("error")
class TestCoroutineFunctionsAreRefused:
    """Issue 11 item 4: no coroutine object as a result, none left un-awaited."""

    @pytest.mark.parametrize(
        "call",
        [
            lambda q: shortly.submit(_async_double, 1),
            lambda q: shortly.submit(_async_double, 1, executor=q),
            lambda q: shortly.submit(_async_double, 1, delay=0),
            lambda q: q.submit(_async_double, 1),
            lambda q: q.submit(functools.partial(_async_double, 1)),
        ],
    )
    def test_at_the_call_naming_spawn(self, queue: shortly.SerialExecutor, call: Any) -> None:
        with pytest.raises(TypeError, match=r"_async_double is an async function.*shortly\.spawn"):
            call(queue)
        assert queue.statistics().threads_started == 0

    @pytest.mark.parametrize(
        "make",
        [
            lambda q: shortly.submit(lambda: _async_double(1)),
            lambda q: shortly.submit(_AsyncCallable(), executor=q),
            lambda q: q.submit(lambda: _async_double(1)),
            lambda q: shortly.submit(lambda: _async_double(1), delay=0),
        ],
    )
    def test_a_returned_coroutine_is_closed_and_fails_the_future(
        self, queue: shortly.SerialExecutor, make: Any
    ) -> None:
        # With warnings as errors, an unclosed coroutine's "never awaited" would show
        # up as an unraisable error when collected below.
        f = make(queue)
        error = f.exception(timeout=5)
        assert isinstance(error, TypeError) and "returned a coroutine" in str(error)
        assert "shortly.spawn" in str(error)
        gc.collect()

    @pytest.mark.parametrize(
        "action",
        [_async_double, functools.partial(_async_double), lambda x: _async_double(x)],
        ids=["async def", "partial", "lambda"],
    )
    def test_a_put_of_an_async_function_is_reported_not_run(
        self, queue: shortly.SerialExecutor, unhandled: list[shortly.Unhandled], action: Any
    ) -> None:
        # put() is fire and forget: the worker closes the coroutine and reports.
        queue.put(action, 1)
        queue.shutdown()
        gc.collect()
        shortly.flush_reports()
        assert len(unhandled) == 1 and isinstance(unhandled[0].error, TypeError)
        assert "returned a coroutine" in str(unhandled[0].error)
        assert "shortly.spawn(_async_double(...))" in str(unhandled[0].error)

    def test_the_right_tool_runs_it(self) -> None:
        assert shortly.spawn(_async_double(21)).result(timeout=5) == 42


class TestBadNumbers:
    """Issue 11 item 5: one rule for durations (shortly._checks)."""

    @pytest.mark.parametrize("huge", [math.inf, 1e300, 10**400], ids=["inf", "1e300", "10**400"])
    def test_huge_idle_timeout_keeps_the_worker(self, huge: float) -> None:
        executor = shortly.SerialExecutor(idle_timeout=huge)
        first = worker_thread(executor)
        assert worker_thread(executor) is first
        executor.shutdown()
        first.join(5)
        assert not first.is_alive()

    @pytest.mark.parametrize("bad", [math.nan, -1])
    def test_nan_or_negative_idle_timeout(self, bad: float) -> None:
        with pytest.raises(ValueError, match="idle_timeout must be a number of seconds >= 0"):
            shortly.SerialExecutor(idle_timeout=bad)

    @pytest.mark.parametrize("huge", [math.inf, 1e300, 10**400], ids=["inf", "1e300", "10**400"])
    def test_huge_submit_delay_is_clamped(self, huge: float) -> None:
        ran: list[int] = []
        f = shortly.submit(ran.append, 1, delay=huge)
        assert not f.done() and f.cancel()
        assert ran == []

    @pytest.mark.parametrize("bad", [math.nan, -1])
    def test_nan_or_negative_submit_delay(self, bad: float) -> None:
        with pytest.raises(ValueError, match="delay must be a number of seconds >= 0"):
            shortly.submit(print, delay=bad)


class TestTheIdleWorker:
    """Issue 18: a grace period, a thread for life, and an initializer per thread."""

    def test_a_put_after_a_short_gap_reuses_the_parked_worker(self) -> None:
        executor = shortly.SerialExecutor(name="grace")
        first = worker_thread(executor)
        shortly.sleep(0.05).result(timeout=5)  # the gap under test, not a synchronisation
        assert worker_thread(executor) is first
        assert executor.statistics().threads_started == 1
        executor.shutdown()

    def test_after_the_grace_the_worker_goes(self) -> None:
        executor = shortly.SerialExecutor(name="grace-ends")
        thread = worker_thread(executor)
        thread.join(5)  # the default grace is a fraction of a second
        assert not thread.is_alive() and not executor.statistics().worker_alive
        assert _workers.IDLE_GRACE <= 1

    def test_idle_timeout_none_keeps_one_thread_until_shutdown(self) -> None:
        executor = shortly.SerialExecutor(name="for-life", idle_timeout=None)
        first = worker_thread(executor)
        shortly.sleep(0.3).result(timeout=5)  # longer than the default grace
        threads = {worker_thread(executor) for _ in range(20)}
        assert threads == {first} and executor.statistics().threads_started == 1
        executor.shutdown()
        first.join(5)
        assert not first.is_alive()

    def test_a_thread_bound_object_made_on_the_worker_keeps_working(self) -> None:
        import sqlite3

        executor = shortly.SerialExecutor(name="db", idle_timeout=None)
        db = executor.submit(sqlite3.connect, ":memory:").result(timeout=5)
        shortly.sleep(0.3).result(timeout=5)
        assert executor.submit(lambda: db.execute("select 1").fetchone()).result(5) == (1,)
        executor.submit(db.close).result(timeout=5)
        executor.shutdown()

    def test_initializer_runs_once_per_worker_thread_before_its_actions(self) -> None:
        seen: list[tuple[str, int]] = []
        executor = shortly.SerialExecutor(
            name="init",
            idle_timeout=0,
            initializer=lambda tag: seen.append((tag, threading.get_ident())),
            initargs=("ready",),
        )
        for _ in range(3):
            worker = executor.submit(threading.current_thread).result(timeout=5)
            assert seen[-1] == ("ready", worker.ident)
            worker.join(5)  # idle_timeout=0: the next submit starts a new worker
        assert len(seen) == executor.statistics().threads_started == 3
        executor.shutdown()

    def test_a_raising_initializer_breaks_the_executor(
        self, unhandled: list[shortly.Unhandled]
    ) -> None:
        def fail() -> None:
            raise OSError("no database")

        executor = shortly.SerialExecutor(name="broken", initializer=fail)
        f = executor.submit(int)
        error = f.exception(timeout=5)
        assert isinstance(error, concurrent.futures.BrokenExecutor)
        assert isinstance(error.__cause__, OSError) and "broken" in str(error)
        with pytest.raises(concurrent.futures.BrokenExecutor, match="no database"):
            executor.put(print)
        executor.shutdown()
        assert [type(u.error) for u in unhandled] == [OSError]

    def test_bad_initializer_arguments(self) -> None:
        with pytest.raises(TypeError, match="initializer must be callable or None, not int"):
            shortly.SerialExecutor(initializer=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="initargs must be a tuple, not list"):
            shortly.SerialExecutor(initializer=print, initargs=[1])  # type: ignore[arg-type]
