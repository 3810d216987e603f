"""Combinators: all_of and as_completed against asyncio, the stdlib and their floors.

all_of: 100,000 pending futures, combined, then resolved in order; one batch includes
creating the futures, so every entry pays that base cost (shown alone on the last line;
asyncio's C futures pay less of it). Its floor is the least a correct combinator can do
with shortly futures: a closure per input, and a counter and a preallocated result list
under one lock. (Its 100,000 closures weigh more on the cyclic GC than all_of's small
``__slots__`` callbacks, which is why all_of can come out below it; with the GC paused
the two tie.)

as_completed: 10,000 futures resolved from another thread in a shuffled order while
this thread iterates. Its floor: a done-callback putting each future on a
``queue.SimpleQueue`` and this thread taking them off.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import random
import threading
from collections.abc import Callable
from typing import Any

import shortly

from ._runner import Report


def _all_of_shortly(n: int) -> Callable[[], None]:
    def run() -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(n)]
        combined = shortly.all_of(fs)
        for i, f in enumerate(fs):
            f.set_result(i)
        assert len(combined.result()) == n

    return run


def _all_of_floor(n: int) -> Callable[[], None]:
    def run() -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(n)]
        out: shortly.Future[list[Any]] = shortly.Future()
        lock = threading.Lock()
        results: list[Any] = [None] * n
        left = [n]
        for i, f in enumerate(fs):
            # Unannotated: annotations would build a dict per closure.
            def arrived(f, i=i):  # type: ignore[no-untyped-def]
                value = f._result  # finished: read it as directly as all_of does
                with lock:
                    results[i] = value
                    left[0] -= 1
                    last = not left[0]
                if last:
                    out.set_result(results)

            f.add_done_callback(arrived)
        for i, f in enumerate(fs):
            f.set_result(i)
        assert len(out.result()) == n

    return run


def _futures_alone(n: int) -> Callable[[], None]:
    """Not a combinator: what creating and resolving the futures costs by itself."""

    def run() -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(n)]
        for i, f in enumerate(fs):
            f.set_result(i)

    return run


def _all_of_stdlib(n: int) -> Callable[[], None]:
    """What one writes with the stdlib alone: the floor's shape on stdlib futures."""

    def run() -> None:
        fs: list[concurrent.futures.Future[int]] = [concurrent.futures.Future() for _ in range(n)]
        out: concurrent.futures.Future[list[Any]] = concurrent.futures.Future()
        lock = threading.Lock()
        results: list[Any] = [None] * n
        left = [n]

        def slot(i: int) -> Callable[[concurrent.futures.Future[int]], None]:
            def arrived(f: concurrent.futures.Future[int]) -> None:
                value = f.result()
                with lock:
                    results[i] = value
                    left[0] -= 1
                    last = not left[0]
                if last:
                    out.set_result(results)

            return arrived

        for i, f in enumerate(fs):
            f.add_done_callback(slot(i))
        for i, f in enumerate(fs):
            f.set_result(i)
        assert len(out.result()) == n

    return run


def _all_of_asyncio(n: int, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    async def body() -> None:
        fs = [loop.create_future() for _ in range(n)]
        combined = asyncio.gather(*fs)
        for i, f in enumerate(fs):
            f.set_result(i)
        assert len(await combined) == n

    def run() -> None:
        loop.run_until_complete(body())

    return run


def _shuffled(n: int) -> list[int]:
    order = list(range(n))
    random.Random(5).shuffle(order)
    return order


def _resolver(fs: list[Any], order: list[int]) -> threading.Thread:
    def run() -> None:
        for i in order:
            fs[i].set_result(i)

    return threading.Thread(target=run)


def _as_completed_shortly(n: int) -> Callable[[], None]:
    order = _shuffled(n)

    def run() -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(n)]
        thread = _resolver(fs, order)
        iterator = shortly.as_completed(fs)
        thread.start()
        count = sum(1 for _ in iterator)
        thread.join()
        assert count == n

    return run


def _as_completed_floor(n: int) -> Callable[[], None]:
    order = _shuffled(n)

    def run() -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(n)]
        thread = _resolver(fs, order)
        done: queue.SimpleQueue[shortly.Future[int]] = queue.SimpleQueue()
        for f in fs:
            f.add_done_callback(done.put)
        thread.start()
        for _ in range(n):
            done.get()
        thread.join()

    return run


def _as_completed_stdlib(n: int) -> Callable[[], None]:
    order = _shuffled(n)

    def run() -> None:
        fs: list[concurrent.futures.Future[int]] = [concurrent.futures.Future() for _ in range(n)]
        thread = _resolver(fs, order)
        thread.start()
        count = sum(1 for _ in concurrent.futures.as_completed(fs))
        thread.join()
        assert count == n

    return run


def _as_completed_asyncio(n: int, loop: asyncio.AbstractEventLoop) -> Callable[[], None]:
    order = _shuffled(n)

    async def body() -> None:
        fs = [loop.create_future() for _ in range(n)]

        def resolve() -> None:  # asyncio futures are resolved on their loop's thread
            for i in order:
                loop.call_soon_threadsafe(fs[i].set_result, i)

        thread = threading.Thread(target=resolve)
        thread.start()
        count = 0
        for next_done in asyncio.as_completed(fs):
            await next_done
            count += 1
        thread.join()
        assert count == n

    def run() -> None:
        loop.run_until_complete(body())

    return run


def run(report: Report) -> None:
    loop = asyncio.new_event_loop()
    try:
        n = 10_000 if report.quick else 100_000
        report.compare(
            f"all_of over {n:,} pending futures resolved in order",
            {
                "shortly.all_of": _all_of_shortly(n),
                "asyncio.gather": _all_of_asyncio(n, loop),
                "stdlib emulation (callbacks + counter)": _all_of_stdlib(n),
                "floor (closure + locked counter)": _all_of_floor(n),
                "(futures alone: create + resolve)": _futures_alone(n),
            },
            per=n,
            baseline="floor (closure + locked counter)",
            target="shortly <= 2x floor (asyncio.gather about 3.5x)",
            limits=[("shortly.all_of", "floor (closure + locked counter)", 2)],
        )
        m = 2_000 if report.quick else 10_000
        report.compare(
            f"as_completed over {m:,} futures resolved from another thread, shuffled",
            {
                "shortly.as_completed": _as_completed_shortly(m),
                "concurrent.futures.as_completed": _as_completed_stdlib(m),
                "asyncio.as_completed": _as_completed_asyncio(m, loop),
                "floor (callback into SimpleQueue)": _as_completed_floor(m),
            },
            per=m,
            baseline="floor (callback into SimpleQueue)",
            target="shortly <= 3x floor (the stdlib's about 20x)",
            limits=[("shortly.as_completed", "floor (callback into SimpleQueue)", 3)],
        )
    finally:
        loop.close()
