"""shortly.map against ThreadPoolExecutor.map, over no-op items.

``ThreadPoolExecutor.map`` submits every item up front and then reads the results in
order; ``shortly.map`` keeps at most ``limit`` calls in flight and reads its input
lazily, which is what lets it run over an endless generator. Both run on a pool of the
stdlib's default size (``shortly.map`` on its shared pool, which is one), and both
results are read in order.

Scenario, one batch per call: 100,000 no-op items mapped and every result read.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

import shortly

from ._runner import Report

N = 100_000


def _noop(item: int) -> int:
    return item


def _shortly_map(n: int, limit: int, ordered: bool = True) -> Callable[[], None]:
    def run() -> None:
        for _ in shortly.map(_noop, range(n), limit=limit, ordered=ordered):
            pass

    return run


def _stdlib_map(pool: concurrent.futures.ThreadPoolExecutor, n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in pool.map(_noop, range(n)):
            pass

    return run


def run(report: Report) -> None:
    n = N // 10 if report.quick else N
    pool = concurrent.futures.ThreadPoolExecutor()
    try:
        report.compare(
            f"map over {n:,} no-op items, per item",
            {
                "shortly.map, limit=8": _shortly_map(n, 8),
                "shortly.map, limit=8, ordered=False": _shortly_map(n, 8, ordered=False),
                "shortly.map, limit=64": _shortly_map(n, 64),
                "ThreadPoolExecutor.map": _stdlib_map(pool, n),
            },
            per=n,
            baseline="ThreadPoolExecutor.map",
            target="shortly.map, limit=8 <= 1.5x ThreadPoolExecutor.map",
            limits=[("shortly.map, limit=8", "ThreadPoolExecutor.map", 1.5)],
        )
    finally:
        pool.shutdown()
