"""Progress reports nobody listens to, and one somebody does.

A report is meant to sit in a hot loop: ``shortly.progress(i, n)`` once per item. When
nobody listens it must cost next to nothing, wherever it runs: outside any work, inside
work started by ``shortly.submit`` (a context lookup and one dictionary miss), or in a
``SerialExecutor`` action (a thread-local read). With a listener, reports are
throttled, so the cost per report stays bounded however many there are. The floor is a
bare Python call with the same arguments.

Scenarios, each one batch of 100,000 reports per call.
"""

from __future__ import annotations

from collections.abc import Callable

import shortly

from ._runner import Report

N = 100_000


def _floor(done: float, total: float | None = None, note: str | None = None) -> None:
    pass


def _reports(report: Callable[..., object], n: int) -> Callable[[], None]:
    def run() -> None:
        for i in range(n):
            report(i, n)

    return run


def run(report: Report) -> None:
    n = N // 10 if report.quick else N
    queue = shortly.SerialExecutor(name="bench-progress", idle_timeout=60)
    heard: shortly.Future[None] = shortly.Future()
    heard.on_progress(lambda update: None)
    unheard: shortly.Future[None] = shortly.Future()
    batch = _reports(shortly.progress, n)
    try:
        report.compare(
            f"progress report nobody listens to ({n:,} reports), per report",
            {
                "shortly.progress, outside any work": batch,
                "shortly.progress, in shortly.submit work": lambda: shortly.submit(batch).result(
                    timeout=60
                ),
                "shortly.progress, in a SerialExecutor action": lambda: queue.submit(batch).result(
                    timeout=60
                ),
                "Future.report_progress": _reports(unheard.report_progress, n),
                "floor (a bare call)": _reports(_floor, n),
            },
            per=n,
            baseline="floor (a bare call)",
            target="shortly < 200 ns per report",
            limits=[
                ("shortly.progress, outside any work", None, 200),
                ("shortly.progress, in shortly.submit work", None, 200),
                ("shortly.progress, in a SerialExecutor action", None, 200),
                ("Future.report_progress", None, 200),
            ],
        )
        report.compare(
            f"progress report with a listener, throttled ({n:,} reports), per report",
            {
                "Future.report_progress, one listener": _reports(heard.report_progress, n),
                "floor (a bare call)": _reports(_floor, n),
            },
            per=n,
            baseline="floor (a bare call)",
        )
    finally:
        heard.set_result(None)
        unheard.set_result(None)
        queue.shutdown()
