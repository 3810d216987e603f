"""Stdlib ``wait``/``as_completed`` racing resolutions: exact sets, nothing twice.

A stdlib waiter installed while a future is being resolved must see it either pending
(and be notified once) or done (and never be notified). If both happen, ``wait()`` counts
one future twice and returns with another still pending, and ``as_completed`` yields a
future twice (``KeyError`` in the stdlib's bookkeeping). The window is a few bytecodes
wide, so each test runs thousands of short rounds with the switch interval at its floor
(about 1 failing round in 1,000 before the fix).
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

import shortly

ROUNDS = 3000
FUTURES = 8
RESOLVERS = 2


@pytest.fixture(autouse=True)
def fast_switching() -> Iterator[None]:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _rounds(check: Callable[[list[shortly.Future[int]]], None]) -> None:
    """Each round: resolvers and ``check`` start together on fresh futures."""
    for round_number in range(ROUNDS):
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(FUTURES)]
        for f in fs:
            f._condition  # noqa: B018  (stdlib mode, as after an earlier wait() call)
        start = threading.Barrier(RESOLVERS + 1)

        def resolve(chunk: list[shortly.Future[int]], start: threading.Barrier = start) -> None:
            start.wait(timeout=10)
            for i, f in enumerate(chunk):
                if i % 3 == 2:
                    f.cancel()
                else:
                    f.set_result(i)

        threads = [
            threading.Thread(target=resolve, args=(fs[i::RESOLVERS],)) for i in range(RESOLVERS)
        ]
        for thread in threads:
            thread.start()
        start.wait(timeout=10)
        try:
            check(fs)
        except Exception as error:
            raise AssertionError(f"round {round_number}: {error!r}") from error
        finally:
            for thread in threads:
                thread.join(timeout=10)


@pytest.mark.timeout(120)
def test_wait_returns_exactly_the_done_set() -> None:
    def check(fs: list[shortly.Future[int]]) -> None:
        done, not_done = cf.wait(fs, timeout=10)
        assert not not_done, f"wait() returned with {len(not_done)} pending"
        assert done == set(fs)

    _rounds(check)


@pytest.mark.timeout(120)
def test_as_completed_yields_each_future_exactly_once() -> None:
    def check(fs: list[shortly.Future[int]]) -> None:
        seen = list(cf.as_completed(fs, timeout=10))
        assert len(seen) == len(set(seen)) == FUTURES
        assert set(seen) == set(fs)

    _rounds(check)


@pytest.mark.timeout(120)
def test_first_completed_never_reports_a_pending_future_as_done() -> None:
    def check(fs: list[shortly.Future[int]]) -> None:
        pending = set(fs)
        while pending:
            done, pending = cf.wait(pending, timeout=10, return_when=cf.FIRST_COMPLETED)
            assert done, "FIRST_COMPLETED returned nothing before its timeout"
            assert all(f.done() for f in done)

    _rounds(check)
