"""Properties of the deadlock check on random graphs of threads, futures and pools.

1. No false alarm: when every future's resolver eventually runs (the waits between
   threads point one way only), no wait is ever refused.
2. A real cycle is refused exactly once: threads (and pool workers) in a ring, each
   waiting on something only the next one can settle; exactly one of them gets
   DeadlockError, and once it goes on, every other wait in the ring is served.

Expressions are built from owned futures with every derivation shortly offers (then,
catch, shield, all_of, gather, race, any_of, with_timeout, a timer, work submitted to a
serial worker or to a thread pool through shortly.submit, waits made by actions of
serial workers and by pool tasks, and work queued on a pool whose every worker waits).
"""

from __future__ import annotations

import concurrent.futures
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shortly

pytestmark = pytest.mark.timeout(60)

WAIT = 10.0  # a wait this long means the test itself hangs: fail, don't refuse
SATURATED = 2  # workers of a pool whose every worker waits

Expr = tuple[Any, ...]


def expressions(owners: list[int], *, free: bool) -> st.SearchStrategy[Expr]:
    """Expressions over futures owned by the threads in ``owners``.

    With ``free``, also leaves that settle by themselves (a timer, a serial worker, a
    resolved future) and ``with_timeout``, which the timer thread ends: those would
    make a ring of waits end by itself, so cycles are built without them.
    """
    leaves: list[st.SearchStrategy[Expr]] = [st.tuples(st.just("owned"), st.sampled_from(owners))]
    if free:
        leaves += [st.just(("sleep",)), st.just(("serial",)), st.just(("resolved",))]

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        unary = st.sampled_from(
            ["then", "catch", "shield", "pool", "serial-wait", "saturated"]
            + (["timeout"] if free else [])
        )
        nary = st.sampled_from(["all_of", "gather", "race", "any_of"])
        return st.one_of(
            st.tuples(unary, inner),
            st.tuples(nary, st.lists(inner, min_size=1, max_size=3).map(tuple)),
        )

    return st.recursive(st.one_of(leaves), extend, max_leaves=4)


def pool_jobs(expr: Expr) -> int:
    """How many pool jobs an expression submits (the pool gets a worker for each)."""
    if expr[0] == "pool":
        return 1 + pool_jobs(expr[1])
    if expr[0] in ("then", "catch", "shield", "timeout", "serial-wait", "saturated"):
        return pool_jobs(expr[1])
    if expr[0] in ("all_of", "gather", "race", "any_of"):
        return sum(pool_jobs(e) for e in expr[1])
    return 0


class World:
    """The futures each thread owns, a pool, a serial worker; waits recorded."""

    def __init__(self, threads: list[threading.Thread], pool_size: int) -> None:
        self.owned: dict[int, shortly.Future[int]] = {
            i: shortly.Future(owner=t) for i, t in enumerate(threads)
        }
        self.pool = concurrent.futures.ThreadPoolExecutor(
            max(pool_size, 1), thread_name_prefix="prop-pool"
        )
        self.serial = shortly.SerialExecutor(name="prop-serial")
        self.serials: list[shortly.SerialExecutor] = []
        self.saturated: list[concurrent.futures.ThreadPoolExecutor] = []
        self.refused: list[str] = []
        self.failed: list[BaseException] = []
        self.lock = threading.Lock()

    def wait(self, future: shortly.Future[Any], who: str) -> None:
        """Block on ``future``; record a refusal or any other failure."""
        try:
            future.result(timeout=WAIT)
        except shortly.DeadlockError:
            with self.lock:
                self.refused.append(who)
        except BaseException as error:
            with self.lock:
                self.failed.append(error)

    def build(self, expr: Expr) -> shortly.Future[Any]:
        kind = expr[0]
        if kind == "owned":
            return self.owned[expr[1]]
        if kind == "sleep":
            return shortly.sleep(0.001)
        if kind == "serial":
            return self.serial.submit(int, "1")
        if kind == "resolved":
            return shortly.Future.resolved(0)
        if kind in ("all_of", "gather", "race", "any_of"):
            inputs = [self.build(e) for e in expr[1]]
            if kind == "gather":
                return shortly.gather({"first": inputs[0], "rest": inputs[1:]})
            if kind == "all_of":
                return shortly.all_of(inputs)
            # Losers are left alone: another wait in the plan may still want them.
            combine = shortly.race if kind == "race" else shortly.any_of
            return combine(inputs, cancel_losers=False)
        source = self.build(expr[1])
        if kind == "then":
            return source.then(lambda v: v)
        if kind == "catch":
            return source.catch(lambda e: 0)
        if kind == "shield":
            return shortly.shield(source)
        if kind == "timeout":
            return source.with_timeout(WAIT)

        def job() -> None:
            self.wait(source, threading.current_thread().name)

        if kind == "saturated":
            # Every worker of a small pool waits on the source; the result is work
            # queued behind them, which only a worker that moves on can run.
            pool = concurrent.futures.ThreadPoolExecutor(
                SATURATED, thread_name_prefix=f"prop-full-{len(self.saturated)}"
            )
            self.saturated.append(pool)
            for _ in range(SATURATED):
                shortly.submit(job, executor=pool)
            return shortly.submit(int, "7", executor=pool)
        if kind == "serial-wait":
            # A worker of its own: behind another waiting action it would be stuck.
            self.serials.append(shortly.SerialExecutor(name=f"prop-serial-{len(self.serials)}"))
            return self.serials[-1].submit(job)
        assert kind == "pool"
        return shortly.submit(job, executor=self.pool)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        for serial in [self.serial, *self.serials]:
            serial.shutdown()
        for pool in self.saturated:
            pool.shutdown(wait=True)


def run(plans: list[list[Expr]]) -> World:
    """Thread i waits on each of ``plans[i]`` in turn, then settles its own future."""
    n = len(plans)
    start = threading.Barrier(n)
    threads: list[threading.Thread] = []

    def body(i: int) -> None:
        start.wait(WAIT)
        for future in waits[i]:
            world.wait(future, f"t{i}")
        world.owned[i].try_set_result(i)

    threads = [threading.Thread(target=body, args=(i,), name=f"t{i}") for i in range(n)]
    world = World(threads, sum(pool_jobs(e) for plan in plans for e in plan))
    waits = [[world.build(e) for e in plan] for plan in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(2 * WAIT)
    world.close()
    assert not any(t.is_alive() for t in threads)
    return world


@st.composite
def acyclic(draw: st.DrawFn) -> list[list[Expr]]:
    """Thread i waits only on what threads ranked after it settle: no cycle anywhere."""
    n = draw(st.integers(2, 4))
    plans: list[list[Expr]] = []
    for i in range(n):
        later = list(range(i + 1, n))
        strategy = expressions(later, free=True) if later else st.just(("resolved",))
        plans.append(draw(st.lists(strategy, max_size=2)))
    return plans


@st.composite
def rings(draw: st.DrawFn) -> list[list[Expr]]:
    """Thread i waits on something only thread i+1 (mod n) can settle."""
    n = draw(st.integers(2, 4))
    return [[draw(expressions([(i + 1) % n], free=False))] for i in range(n)]


_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


@_settings
@given(acyclic())
def test_no_wait_is_refused_when_every_resolver_eventually_runs(plans: list[list[Expr]]) -> None:
    world = run(plans)
    assert world.refused == []
    assert world.failed == []


@_settings
@given(rings())
def test_a_ring_of_waits_is_refused_exactly_once(plans: list[list[Expr]]) -> None:
    world = run(plans)
    assert len(world.refused) == 1, world.refused
    assert world.failed == []  # every other wait was served once the refused one went on
