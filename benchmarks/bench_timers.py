"""Timers: 100,000 set then cancelled, against asyncio's call_later and a bare heapq.

Each shortly timer is a future (cancellable, awaitable, chainable) armed on the shared
timer thread's heap under its lock; asyncio's ``TimerHandle`` is armed on a loop that
is not running (so no thread is involved); the floor is ``heapq.heappush`` of a
``[deadline, seq, item]`` entry and cancelling by clearing the item, as a lazy-deletion
heap does, with no lock and no future.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable

import shortly

from ._runner import Report

N = 100_000


def _shortly(n: int) -> Callable[[], None]:
    def run() -> None:
        timers = [shortly.later(3600) for _ in range(n)]
        for timer in timers:
            timer.cancel()

    return run


def _asyncio(n: int) -> Callable[[], None]:
    def run() -> None:
        loop = asyncio.new_event_loop()
        try:
            handles = [loop.call_later(3600, print) for _ in range(n)]
            for handle in handles:
                handle.cancel()
        finally:
            loop.close()

    return run


def _floor(n: int) -> Callable[[], None]:
    def run() -> None:
        heap: list[list[object]] = []
        seq = itertools.count()
        now = time.monotonic()
        entries = []
        for _ in range(n):
            entry: list[object] = [now + 3600, next(seq), print]
            heapq.heappush(heap, entry)
            entries.append(entry)
        for entry in entries:
            entry[2] = None
        heap.clear()

    return run


def run(report: Report) -> None:
    n = N // 10 if report.quick else N
    report.compare(
        f"Timers: {n:,} set then cancelled",
        {
            "shortly.later + cancel": _shortly(n),
            "asyncio call_later + cancel": _asyncio(n),
            "floor (bare heapq)": _floor(n),
        },
        per=n,
        baseline="floor (bare heapq)",
    )
