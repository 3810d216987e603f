"""Combinators at scale: linear cost over 100,000 inputs, exact counts under threads."""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import shortly
from shortly import Future, Ok
from shortly._core._future import listed

pytestmark = pytest.mark.usefixtures("no_unhandled_failures")

SMALL, LARGE = 10_000, 100_000
# Linear work grows 10x from SMALL to LARGE (measured: 6x to 11x), quadratic work 100x.
# The bound leaves linear code 2.5x of slack for a noisy machine, while a rescan of
# even 1% of the inputs per input (about 35x here) trips it.
LINEAR_BOUND = 25


def best_time(run: Callable[[int], object], n: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs, with the cyclic GC paused: its passes over a growing
    heap would add noise that has nothing to do with the code under test."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            run(n)
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def assert_linear(run: Callable[[int], object]) -> None:
    small = best_time(run, SMALL)
    large = best_time(run, LARGE)
    assert large / small < LINEAR_BOUND, f"{SMALL:,}: {small:.4f}s, {LARGE:,}: {large:.4f}s"


def all_of_resolved_in_order(n: int) -> None:
    fs: list[Future[int]] = [Future() for _ in range(n)]
    combined = shortly.all_of(fs)
    for i, f in enumerate(fs):
        f.set_result(i)
    values = combined.result()
    assert len(values) == n and values[-1] == n - 1


def all_of_failing_at_the_first(n: int) -> None:
    fs: list[Future[int]] = [Future() for _ in range(n)]
    combined = shortly.all_of(fs)
    fs[0].set_exception(ValueError("first"))
    assert isinstance(combined.exception(), ValueError)
    assert fs[-1].cancelled()


def all_of_cancelled(n: int) -> None:
    fs: list[Future[int]] = [Future() for _ in range(n)]
    combined = shortly.all_of(fs)
    fs[0].set_result(0)
    combined.cancel()
    assert fs[-1].cancelled()


def gather_nested(n: int) -> None:
    leaves: list[Future[int]] = [Future() for _ in range(n)]
    structure = {"rows": [(leaves[i], {"v": leaves[i + 1]}) for i in range(0, n, 2)]}
    combined = shortly.gather(structure)
    for i, f in enumerate(leaves):
        f.set_result(i)
    rows = combined.result()["rows"]
    assert len(rows) == n // 2 and rows[-1] == (n - 2, {"v": n - 1})


def any_of_all_failing(n: int) -> None:
    fs: list[Future[int]] = [Future() for _ in range(n)]
    first = shortly.any_of(fs)
    error = KeyError()
    for f in fs:
        f.set_exception(error)
    group = first.exception()
    assert isinstance(group, shortly.AllFailed) and len(group.exceptions) == n


@pytest.mark.timing  # compares wall-clock times: `make test` runs it alone, after the rest
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "run",
    [
        all_of_resolved_in_order,
        all_of_failing_at_the_first,
        all_of_cancelled,
        gather_nested,
        any_of_all_failing,
    ],
)
def test_cost_grows_linearly_with_the_number_of_inputs(run: Callable[[int], object]) -> None:
    assert_linear(run)


def resolve_from_threads(
    fs: list[Future[Any]], threads: int, settle: Callable[[int, Future[Any]], object]
) -> list[threading.Thread]:
    start = threading.Barrier(threads)

    def work(part: int) -> None:
        start.wait()
        for i in range(part, len(fs), threads):
            settle(i, fs[i])

    workers = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in workers:
        t.start()
    return workers


@pytest.mark.timeout(60)
def test_as_completed_over_100k_futures_from_4_threads_yields_each_exactly_once() -> None:
    fs: list[Future[int]] = [Future() for _ in range(LARGE)]
    iterator = shortly.as_completed(fs, timeout=30)
    workers = resolve_from_threads(fs, 4, lambda i, f: f.set_result(i))
    seen = [0] * LARGE
    count = 0
    for f in iterator:
        seen[f.result()] += 1
        count += 1
    for t in workers:
        t.join()
    assert count == LARGE
    assert seen == [1] * LARGE


@pytest.mark.timeout(60)
def test_all_of_and_settled_over_100k_inputs_settled_from_8_threads() -> None:
    fs: list[Future[int]] = [Future() for _ in range(LARGE)]
    everything = shortly.all_of(fs)
    outcomes = shortly.settled(fs)
    workers = resolve_from_threads(fs, 8, lambda i, f: f.set_result(i))
    assert everything.result(timeout=30) == list(range(LARGE))
    assert outcomes.result(timeout=30) == [Ok(i) for i in range(LARGE)]
    for t in workers:
        t.join()


@pytest.mark.timeout(60)
def test_fail_fast_racing_resolutions_cancels_or_settles_every_input_once() -> None:
    n = 20_000
    fs: list[Future[int]] = [Future() for _ in range(n)]
    combined = shortly.all_of(fs)
    failing = {i for i in range(0, n, 997)}

    def settle(i: int, f: Future[int]) -> None:
        if i in failing:
            f.try_set_exception(ValueError(i))
        else:
            f.try_set_result(i)

    workers = resolve_from_threads(fs, 8, settle)
    for t in workers:
        t.join()
    error = combined.exception(timeout=30)
    assert isinstance(error, ValueError) and error.args[0] in failing
    cancelled = sum(f.cancelled() for f in fs)
    finished = sum(f.done() and not f.cancelled() for f in fs)
    assert cancelled + finished == n
    # A failed input either decided, or came late after fail-fast and was taken over:
    # the no_unhandled_failures fixture checks that nothing was reported.
    for f in fs:
        if f.done() and not f.cancelled() and f.exception() is None:
            assert f.result() not in failing


@pytest.mark.timeout(60)
def test_cancelling_a_combinator_while_threads_resolve_its_inputs() -> None:
    n = 20_000
    for _ in range(3):
        fs: list[Future[int]] = [Future() for _ in range(n)]
        combined = shortly.all_of(fs)
        workers = resolve_from_threads(fs, 4, lambda i, f: f.set_result(i))
        combined.cancel("stop")
        for t in workers:
            t.join()
        assert combined.cancelled() or combined.result() == list(range(n))
        assert all(f.done() for f in fs)
        if combined.cancelled():
            assert all(f.cancelled() or f.result() == i for i, f in enumerate(fs))


def test_consumers_racing_settlements_leave_nothing_on_a_shared_future() -> None:
    """8 threads race a shared long-lived future against their own, which 4 other
    threads settle as soon as the race is built; every race is won by its own input
    exactly once, and the shared future keeps only its one real callback."""
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    shared: Future[Any] = Future()
    shared.add_done_callback(lambda _: None)  # somebody else wants it
    per_thread, racers, settlers = 1_000, 8, 4
    todo: list[Future[int]] = []
    todo_lock = threading.Condition()
    wins = [0] * racers
    finished = threading.Event()

    def settle() -> None:
        while True:
            with todo_lock:
                while not todo and not finished.is_set():
                    todo_lock.wait(0.05)
                if not todo:
                    return
                f = todo.pop()
            f.set_result(1)

    def race(n: int) -> None:
        for i in range(per_thread):
            own: Future[int] = Future()
            kind = (shortly.race, shortly.any_of)[i % 2]
            inputs = [shared, own] if i % 4 < 2 else [own, shared]
            combined = kind(inputs)
            with todo_lock:
                todo.append(own)
                todo_lock.notify()
            assert combined.result(timeout=10) == 1
            wins[n] += 1

    try:
        threads = [threading.Thread(target=settle) for _ in range(settlers)]
        threads += [threading.Thread(target=race, args=(n,)) for n in range(racers)]
        for t in threads[settlers:] + threads[:settlers]:
            t.start()
        for t in threads[settlers:]:
            t.join(30)
        finished.set()
        for t in threads[:settlers]:
            t.join(10)
    finally:
        sys.setswitchinterval(switch_interval)
    assert wins == [per_thread] * racers
    left = listed(shared._callbacks)
    assert len(left) <= 2, f"{len(left)} callbacks left"  # its own, and the late-failure hook
    assert not shared.done()
