"""submit() onto any executor: pools, serial executors, processes, foreign executors."""

from __future__ import annotations

import concurrent.futures
import contextvars
import functools
import gc
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import shortly
from tests.helpers import blocker

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]

user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="nobody")


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
        later: list[shortly.Future[str]] = []

        def waits_for_a_later_one() -> Any:
            later.append(shortly.submit(str, executor=queue, delay=0))
            return later[0].result(timeout=5)

        f = queue.submit(waits_for_a_later_one)
        assert isinstance(f.exception(timeout=5), shortly.DeadlockError)
        # The refused wait leaves the later call queued: it runs once the worker is free
        # (and is not left to fail against the fixture's shutdown after the test).
        assert later[0].result(timeout=5) == ""

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
        self, queue: shortly.SerialExecutor, reports: list[shortly.Unhandled], action: Any
    ) -> None:
        # put() is fire and forget: the worker closes the coroutine and reports.
        queue.put(action, 1)
        queue.shutdown()
        gc.collect()
        shortly.flush_reports()
        assert len(reports) == 1 and isinstance(reports[0].error, TypeError)
        assert "returned a coroutine" in str(reports[0].error)
        assert "shortly.spawn(_async_double(...))" in str(reports[0].error)

    def test_the_right_tool_runs_it(self) -> None:
        assert shortly.spawn(_async_double(21)).result(timeout=5) == 42
