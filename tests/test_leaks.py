"""Nothing accumulates on a long-lived future: each consumer that is done unregisters.

A service waits on one "shutdown" future for its whole life, with timeouts, races and
iterators around it. Each use below runs 10,000 times on one pending future that
somebody else wants (so the upward rule leaves it alone), and the memory traced by
tracemalloc may grow by a few KiB at most.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

import shortly
from shortly._core._future import listed

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(60)]

USES = 10_000
# Bytes: a few stray allocations (caches that grow once: about 1 KiB on 3.11, up to 7 KiB
# on 3.10), not one per use. A callback kept per use is 250 bytes or more, 2.4 MB or more
# over USES: this bound is 150 times below that.
BOUND = 16 * 1024


def long_lived() -> shortly.Future[Any]:
    f: shortly.Future[Any] = shortly.Future(name="shutdown")
    f.add_done_callback(lambda _: None)  # somebody else wants it for its whole life
    return f


def as_completed_closed(f: shortly.Future[Any]) -> None:
    it = shortly.as_completed([f, shortly.Future.resolved(1)])
    next(it)
    it.close()


def as_completed_dropped(f: shortly.Future[Any]) -> None:
    for _ in shortly.as_completed([f, shortly.Future.resolved(1)]):
        break


def as_completed_timed_out(f: shortly.Future[Any]) -> None:
    with pytest.raises(shortly.TimeoutError):
        next(iter(shortly.as_completed([f], timeout=0)))


def race_won(f: shortly.Future[Any]) -> None:
    assert shortly.race([f, shortly.Future.resolved(1)]).result() == 1


def race_won_kept_losers(f: shortly.Future[Any]) -> None:
    assert shortly.race([shortly.Future.resolved(1), f], cancel_losers=False).result() == 1


def any_of_won(f: shortly.Future[Any]) -> None:
    assert shortly.any_of([f, shortly.Future.resolved(1)]).result() == 1


def all_of_failed(f: shortly.Future[Any]) -> None:
    failed = shortly.all_of([f, shortly.Future.failed(KeyError("k"))]).exception()
    assert isinstance(failed, KeyError)


def all_of_cancelled(f: shortly.Future[Any]) -> None:
    both = shortly.all_of([f, shortly.Future()])
    assert both.cancel()


def settled_cancelled(f: shortly.Future[Any]) -> None:
    assert shortly.settled([f]).cancel()


def then_cancelled(f: shortly.Future[Any]) -> None:
    assert f.then(lambda v: v).cancel()


def finally_cancelled(f: shortly.Future[Any]) -> None:
    assert f.finally_(lambda: None).cancel()


def shield_cancelled(f: shortly.Future[Any]) -> None:
    assert shortly.shield(f).cancel()


USES_OF: dict[str, Callable[[shortly.Future[Any]], None]] = {
    "as_completed closed early": as_completed_closed,
    "as_completed dropped early": as_completed_dropped,
    "as_completed timed out": as_completed_timed_out,
    "race": race_won,
    "race, cancel_losers=False": race_won_kept_losers,
    "any_of": any_of_won,
    "all_of failed": all_of_failed,
    "all_of cancelled": all_of_cancelled,
    "settled cancelled": settled_cancelled,
    "then cancelled": then_cancelled,
    "finally_ cancelled": finally_cancelled,
    "shield cancelled": shield_cancelled,
}


def growth(f: shortly.Future[Any], use: Callable[[shortly.Future[Any]], None], n: int) -> int:
    for _ in range(100):  # warm up: caches, pools, free lists
        use(f)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(n):
            use(f)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", list(USES_OF))
def test_a_long_lived_future_keeps_nothing_per_use(name: str) -> None:
    f = long_lived()
    grown = growth(f, USES_OF[name], USES)
    assert len(listed(f._callbacks)) <= 8, f"{name}: {len(listed(f._callbacks))} callbacks"
    assert grown < BOUND, f"{name}: grew {grown} bytes over {USES} uses"
    assert not f.done()


def test_expired_timeouts_leave_nothing_on_a_long_lived_future() -> None:
    f = long_lived()

    def expire_batch(_: shortly.Future[Any]) -> None:
        batch = [f.with_timeout(0) for _ in range(100)]
        for timed in batch:
            assert isinstance(timed.exception(timeout=5), shortly.TimeoutError)

    grown = growth(f, expire_batch, USES // 100)
    assert len(listed(f._callbacks)) <= 8
    assert grown < BOUND, f"grew {grown} bytes over {USES} expired timeouts"


def test_an_expired_timeout_no_longer_stops_the_upward_rule() -> None:
    source: shortly.Future[int] = shortly.Future()
    timed = source.with_timeout(0)
    assert isinstance(timed.exception(timeout=5), shortly.TimeoutError)
    link = source.then(lambda v: v)
    assert link.cancel()
    assert source.cancelled()  # the expired timeout does not count as wanting it


def test_a_settled_link_no_longer_stops_the_upward_rule() -> None:
    source: shortly.Future[int] = shortly.Future()
    settled_by_hand = source.then(lambda v: v)
    settled_by_hand.set_result(0)
    link = source.then(lambda v: v)
    assert link.cancel()
    assert source.cancelled()


class Touchy:
    """A user's callback whose ``==`` must never run inside shortly."""

    compared = 0

    def __call__(self, _: object) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        Touchy.compared += 1
        raise AssertionError("a user's __eq__ ran inside shortly")

    __hash__ = object.__hash__


def test_internal_removal_never_runs_a_users_eq() -> None:
    f: shortly.Future[Any] = shortly.Future()
    f.add_done_callback(Touchy())
    Touchy.compared = 0
    for use in USES_OF.values():
        use(f)

    async def parked() -> Any:
        return await f

    assert shortly.spawn(parked()).cancel()
    timed = f.with_timeout(0)
    assert isinstance(timed.exception(timeout=5), shortly.TimeoutError)
    assert Touchy.compared == 0
    assert not f.done()
