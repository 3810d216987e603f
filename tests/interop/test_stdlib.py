"""shortly futures inside the stdlib's own machinery: wait, as_completed, asyncio."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import Any

import pytest

import shortly

pytestmark = pytest.mark.timeout(20)


def resolve_soon(action: Callable[[], object]) -> threading.Thread:
    t = threading.Thread(target=action)
    t.start()
    return t


class ShortlyExecutor(cf.Executor):
    """An executor whose submit returns shortly futures, run on plain threads."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> shortly.Future[Any]:
        f: shortly.Future[Any] = shortly.Future()

        def run() -> None:
            if not f.set_running_or_notify_cancel():
                return
            try:
                f.set_result(fn(*args, **kwargs))
            except BaseException as e:
                f.set_exception(e)

        threading.Thread(target=run).start()
        return f


def test_wait_all_completed() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(5)]
    threads = [resolve_soon(lambda f=f, i=i: f.set_result(i)) for i, f in enumerate(fs)]
    done, not_done = cf.wait(fs, timeout=10, return_when=cf.ALL_COMPLETED)
    assert done == set(fs) and not not_done
    for t in threads:
        t.join()


def test_wait_first_completed() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(3)]
    t = resolve_soon(lambda: fs[1].set_result(1))
    done, not_done = cf.wait(fs, timeout=10, return_when=cf.FIRST_COMPLETED)
    assert done == {fs[1]} and not_done == {fs[0], fs[2]}
    t.join()


def test_wait_first_exception() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(3)]
    fs[0].set_result(0)
    t = resolve_soon(lambda: fs[2].set_exception(ValueError()))
    done, not_done = cf.wait(fs, timeout=10, return_when=cf.FIRST_EXCEPTION)
    assert fs[2] in done and fs[1] in not_done
    t.join()
    fs[1].cancel()


def test_wait_sees_cancellation() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(2)]
    t = resolve_soon(lambda: fs[0].cancel())
    done, _ = cf.wait(fs, timeout=10, return_when=cf.FIRST_COMPLETED)
    assert done == {fs[0]}
    t.join()


def test_wait_timeout_leaves_no_waiters() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(3)]
    done, not_done = cf.wait(fs, timeout=0.01)
    assert not done and len(not_done) == 3
    assert all(len(f._waiters) == 0 for f in fs)
    fs[0].set_result(1)  # resolving after the stdlib used the future still works
    assert fs[0].result() == 1


def test_as_completed_yields_in_completion_order() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(4)]
    order = [2, 0, 3, 1]

    def resolve() -> None:
        for i in order:
            fs[i].set_result(i)

    seen: list[int] = []
    it = cf.as_completed(fs, timeout=10)
    t = resolve_soon(resolve)
    for f in it:
        seen.append(f.result())
    t.join()
    assert sorted(seen) == [0, 1, 2, 3]


def test_as_completed_timeout() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future(), shortly.Future.resolved(1)]
    it = cf.as_completed(fs, timeout=0.05)
    assert next(it) is fs[1]
    with pytest.raises(cf.TimeoutError):
        next(it)


def test_wrap_future_awaits_a_shortly_future() -> None:
    async def main() -> int:
        f: shortly.Future[int] = shortly.Future()
        t = resolve_soon(lambda: f.set_result(9))
        value = await asyncio.wrap_future(f)
        t.join()
        return value

    assert asyncio.run(main()) == 9


def test_wrap_future_cancelling_the_asyncio_side_cancels_ours() -> None:
    f: shortly.Future[int] = shortly.Future()

    async def main() -> None:
        wrapped = asyncio.wrap_future(f)
        wrapped.cancel()
        with pytest.raises(asyncio.CancelledError):
            await wrapped

    asyncio.run(main())
    assert f.cancelled()


def test_run_in_executor_with_shortly_futures() -> None:
    async def main() -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(ShortlyExecutor(), sum, [1, 2, 3])

    assert asyncio.run(main()) == 6


def test_run_in_executor_propagates_errors() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(ShortlyExecutor(), int, "x")

    with pytest.raises(ValueError):
        asyncio.run(main())
