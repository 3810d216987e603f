"""What the deadlock check costs a blocking wait: the core ping-pong, with owned futures.

The same round trip as bench_core's cross-thread ping-pong, once with futures that
have no owner (no check) and once with every future owned by the thread that settles
it, so that each blocking ``result()`` records its edge in the wait-for graph and
clears the owner (who is waiting on a future just settled) in one step. Run it with the
code before and after a change to the check (``PYTHONPATH=<that tree>/src python -m
benchmarks benchmarks/bench_deadlock.py``): the owned figure is the one to compare.
"""

from __future__ import annotations

import shortly

from ._runner import Report
from .bench_core import ping_pong


def run(report: Report) -> None:
    p = 2_000 if report.quick else 20_000
    report.compare(
        "blocking result() with the deadlock check (cross-thread ping-pong)",
        {
            "owned futures (checked)": ping_pong(lambda owner: shortly.Future(owner=owner), p),
            "futures without owner (not checked)": ping_pong(lambda _owner: shortly.Future(), p),
        },
        per=p,
        baseline="futures without owner (not checked)",
    )
