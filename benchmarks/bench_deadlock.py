"""What the deadlock check costs a blocking wait: the core ping-pong, with owned futures.

The same round trip as bench_core's cross-thread ping-pong, once with futures that
have no owner (no check) and once with every future owned by the thread that settles
it, so that each blocking ``result()`` records its edge in the wait-for graph and
clears the owner (who is waiting on a future just settled) in one step. Run it with the
code before and after a change to the check (``PYTHONPATH=<that tree>/src python -m
benchmarks benchmarks/bench_deadlock.py``): the owned figure is the one to compare.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import shortly

from ._runner import Report


def _ping_pong(owned: bool, n: int) -> Callable[[], None]:
    """The main thread settles ``box``, the responder ``answers``; each blocks on the other's."""

    def run() -> None:
        main = threading.current_thread()
        responder: threading.Thread | None = None

        def make(owner: threading.Thread | None) -> shortly.Future[Any]:
            return shortly.Future(owner=owner if owned else None)

        def respond() -> None:
            for i in range(n):
                box[0].result()
                box[0] = make(main)
                reply, answers[0] = answers[0], make(responder)
                reply.set_result(i)

        responder = threading.Thread(target=respond)
        box, answers = [make(main)], [make(responder)]
        responder.start()
        for i in range(n):
            reply = answers[0]
            box[0].set_result(i)
            reply.result()
        responder.join()

    return run


def run(report: Report) -> None:
    p = 2_000 if report.quick else 20_000
    report.compare(
        "blocking result() with the deadlock check (cross-thread ping-pong)",
        {
            "owned futures (checked)": _ping_pong(True, p),
            "futures without owner (not checked)": _ping_pong(False, p),
        },
        per=p,
        baseline="futures without owner (not checked)",
    )
