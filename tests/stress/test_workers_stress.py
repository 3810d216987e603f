"""Stress: many producers on one SerialExecutor; no action lost, doubled or reordered.

The dangerous moment is a worker deciding to exit because the queue looked empty
while a producer is putting: the action must then be taken by that worker or by a
new one, never left behind. The round tests make the worker go idle and exit many
times, and give a stranded action no later put to rescue it.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

import pytest

import shortly

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(60)]

PRODUCERS = 8
PER_PRODUCER = 50_000


def run_producers(executor: shortly.SerialExecutor, per_producer: int) -> list[tuple[int, int]]:
    ran: list[tuple[int, int]] = []  # appended by the worker only: one at a time
    record = ran.append
    barrier = threading.Barrier(PRODUCERS)

    def produce(producer: int) -> None:
        put = executor.put
        barrier.wait()
        for i in range(per_producer):
            put(record, (producer, i))

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whatever was queued has a worker to run it: shutdown only waits for that one.
    executor.shutdown(wait=True)
    return ran


def check(ran: list[tuple[int, int]], per_producer: int) -> None:
    assert len(ran) == PRODUCERS * per_producer, "an action was lost or ran twice"
    by_producer: dict[int, list[int]] = {p: [] for p in range(PRODUCERS)}
    for producer, i in ran:
        by_producer[producer].append(i)
    for producer, seen in by_producer.items():
        assert seen == list(range(per_producer)), f"producer {producer}'s order was broken"


def test_eight_producers_each_putting_fifty_thousand() -> None:
    executor = shortly.SerialExecutor(name="stress")
    check(run_producers(executor, PER_PRODUCER), PER_PRODUCER)


def run_rounds(
    executor: shortly.SerialExecutor, rounds: int, per_round: int, exit_every: int = 0
) -> None:
    """Producers put a burst together, then all fall quiet until the round has run.

    A stranded action would be rescued by the next put; here no put comes until
    every action of the round has run, so a stranded one shows as a round that never
    completes.
    """
    lock = threading.Lock()
    count = 0
    complete = threading.Event()
    expected = PRODUCERS * per_round
    ran: list[list[int]] = [[] for _ in range(PRODUCERS)]

    def record(producer: int, i: int) -> None:
        nonlocal count
        ran[producer].append(i)
        with lock:
            count += 1
            if count == expected:
                complete.set()

    start = threading.Barrier(PRODUCERS + 1)

    def produce(producer: int) -> None:
        put = executor.put
        with contextlib.suppress(threading.BrokenBarrierError):
            for r in range(rounds):
                start.wait()
                for i in range(r * per_round, (r + 1) * per_round):
                    put(record, producer, i)

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in threads:
        t.start()
    try:
        for r in range(rounds):
            with lock:
                count = 0
                complete.clear()
            if exit_every and r % exit_every == 0:
                # Now and then the worker is let go, so the rounds after it race a
                # worker deciding to exit (the others race one that stays).
                shortly.wait_until(
                    lambda: not executor.statistics().worker_alive, timeout=10, interval=0.0005
                ).result()
            start.wait()
            assert complete.wait(10), f"round {r}: an action was left queued with no worker"
    finally:
        start.abort()  # on failure, release the producers waiting for the next round
        for t in threads:
            t.join()
    executor.shutdown()
    for producer, seen in enumerate(ran):
        assert seen == list(range(rounds * per_round)), f"producer {producer}'s order broke"


def test_quiet_spells_against_a_worker_that_keeps_exiting() -> None:
    executor = shortly.SerialExecutor(name="stress-rounds", idle_timeout=0)
    run_rounds(executor, rounds=500, per_round=20, exit_every=10)
    # The worker went idle and exited between rounds, so the exit race was exercised.
    assert executor.statistics().threads_started > 1


def test_quiet_spells_with_an_idle_timeout() -> None:
    executor = shortly.SerialExecutor(name="stress-rounds-idle", idle_timeout=0.0005)
    run_rounds(executor, rounds=300, per_round=20)


def test_quiet_spells_against_a_worker_parked_for_good() -> None:
    # Every round wakes the one parked worker: a lost wake-up strands the round.
    executor = shortly.SerialExecutor(name="stress-rounds-parked", idle_timeout=None)
    run_rounds(executor, rounds=300, per_round=20)
    assert executor.statistics().threads_started == 1


def test_submitters_get_every_result() -> None:
    executor = shortly.SerialExecutor(name="stress-submit")
    results: list[list[shortly.Future[int]]] = [[] for _ in range(PRODUCERS)]
    barrier = threading.Barrier(PRODUCERS)

    def produce(producer: int) -> None:
        barrier.wait()
        mine = results[producer]
        for i in range(5_000):
            mine.append(executor.submit(int.__add__, producer * 10_000, i))

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for producer, futures in enumerate(results):
        assert [f.result(timeout=30) for f in futures] == [
            producer * 10_000 + i for i in range(5_000)
        ]
    executor.shutdown()


@pytest.mark.parametrize("kind", ["thread pool", "stdlib future", "serial"])
def test_cancel_races_the_start_and_never_lies(kind: str) -> None:
    # Issue 11: cancel() True <=> the work never ran, however the race falls.
    import concurrent.futures

    n = 4_000
    ran = [False] * n
    pool = concurrent.futures.ThreadPoolExecutor(4)
    serial = shortly.SerialExecutor(name="stress-cancel")

    def work(i: int) -> int:
        ran[i] = True
        return i

    def make(i: int) -> shortly.Future[int]:
        if kind == "thread pool":
            return shortly.submit(work, i, executor=pool)
        if kind == "stdlib future":
            return shortly.future_of(pool.submit(work, i))
        return serial.submit(work, i)

    futures: list[shortly.Future[int]] = []
    said: list[bool] = [False] * n

    def cancel_some(start: int) -> None:
        # Each future is cancelled as soon as it exists: right as its work starts.
        for i in range(start, n, 2):
            while len(futures) <= i:
                time.sleep(0)
            said[i] = futures[i].cancel()

    cancellers = [threading.Thread(target=cancel_some, args=(s,)) for s in (0, 1)]
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for t in cancellers:
            t.start()
        for i in range(n):
            futures.append(make(i))
        for t in cancellers:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    pool.shutdown(wait=True)
    serial.shutdown(wait=True)
    for i, f in enumerate(futures):
        assert said[i] == f.cancelled() == (not ran[i]), i
        if not said[i]:
            assert f.result(timeout=5) == i
    assert 0 < sum(said) < n, "the race was not exercised"
