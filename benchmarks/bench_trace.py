"""What traced chains cost in debug mode.

A failure sent down a 1,000-link ``then`` chain (built on a pending root, which then
fails), per link, in three settings: debug mode off; debug mode on, where each link
records its creation site and the failure gathers one note per link; and debug mode
on with the notes switched off, to tell the cost of tracing from the cost of
recording sites, which debug mode paid before traced chains existed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import shortly
from shortly._core import _report

from ._runner import Report

LINKS = 1_000


def _inc(x: int) -> int:
    return x + 1


@contextmanager
def _debug(on: bool, notes: bool = True) -> Iterator[None]:
    note = _report.note_site
    if not notes:
        _report.note_site = lambda error, future: None
    shortly.set_debug(on)
    try:
        yield
    finally:
        shortly.set_debug(False)
        _report.note_site = note


def _failing_chain(on: bool, notes: bool = True) -> Callable[[], None]:
    def run() -> None:
        with _debug(on, notes):
            root: shortly.Future[int] = shortly.Future()
            f: shortly.Future[Any] = root
            for _ in range(LINKS):
                f = f.then(_inc)
            root.set_exception(ValueError("bad input"))
            error = f.exception()
        assert isinstance(error, ValueError)

    return run


def _propagation(on: bool, notes: bool = True, repeat: int = 5) -> float:
    """Best ns per link of the failure's trip alone, the chain built beforehand."""
    best = float("inf")
    for _ in range(repeat):
        with _debug(on, notes):
            root: shortly.Future[int] = shortly.Future()
            f: shortly.Future[Any] = root
            for _ in range(LINKS):
                f = f.then(_inc)
            start = time.perf_counter()
            root.set_exception(ValueError("bad input"))
            taken = time.perf_counter() - start
            f.exception()
        best = min(best, taken)
    return best * 1e9 / LINKS


def run(report: Report) -> None:
    report.compare(
        f"a failure through a {LINKS:,}-link chain (built and failed), per link",
        {
            "debug off": _failing_chain(False),
            "debug on, sites recorded, no notes": _failing_chain(True, notes=False),
            "debug on, traced (a note per link)": _failing_chain(True),
        },
        per=LINKS,
        baseline="debug off",
    )
    report.record(
        f"the failure's trip alone down a {LINKS:,}-link chain, per link",
        {
            "debug off": _propagation(False),
            "debug on, no notes": _propagation(True, notes=False),
            "debug on, traced (a note per link)": _propagation(True),
        },
        unit="ns/op",
        baseline="debug off",
    )
