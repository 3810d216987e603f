"""The serial worker against ThreadPoolExecutor(max_workers=1) and a bare floor.

The floor is the least machinery that runs callables in order on one other thread: a
``queue.SimpleQueue`` and one thread looping ``get()()``. For submits, the floor hands
results back through a second ``SimpleQueue`` (and, as a second reference, through a
stdlib ``Future`` per call, which is what a real result object costs).

Scenarios, each one batch per call:

* 100,000 ``put``s of a no-op, until the last has run;
* 100,000 ``submit``s of a no-op, then every result read;
* the time from a put to the start of the action when the worker is idle: with
  ``idle_timeout=0`` that means a thread start, since its worker has exited; by
  default (a grace of ``IDLE_GRACE``) its worker is parked like the floor's. Median of
  many single round trips, in microseconds;
* the same after 50 ms of idleness (issue 18's case: bursts a little apart), the
  default ``SerialExecutor`` against the floor, sampled in turns so that both see the
  same machine load. Target: at most 1.5x the floor.

How the 50 ms case is made fair. Each sample of each entry is one trip that wakes its
worker (not timed), exactly ``idle`` seconds of quiet, then the timed trip; the entries
take turns, one such triple each per round. Both sides then do the same thing: one
put to a thread parked in a ``SimpleQueue.get`` (the floor's untimed, the executor's
with the grace as its timeout, which wakes no slower), timed with ``perf_counter_ns``
from before the put to the first line of the action, in one process. An earlier
version slept ``idle`` before each entry's trip only, which was unfair in two ways:

* each worker had last run a whole round before, three times ``idle`` (150 ms, not
  the 50 ms of the target), with the other entries' trips in between; every entry's
  code and data then went colder than the target says, which costs the entries with
  more Python on the path (the executor, the thread pool) far more than the floor;
* the executor's first sample was a thread start, not a wake-up: its worker had
  outlived its grace during the scenario before (hundreds of 1 ms samples of the
  other entries), so one sample in 60 (one in 20 with ``--quick``) measured the
  wrong thing.
"""

from __future__ import annotations

import concurrent.futures
import queue
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import shortly

from ._runner import Report

N = 100_000
SAMPLES = 300


def _noop() -> None:
    pass


class Floor:
    """One thread running callables from a SimpleQueue, in order."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.results: queue.SimpleQueue[Any] = queue.SimpleQueue()
        threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        get = self.queue.get
        while True:
            get()()


# -- 100,000 puts until the last ran -------------------------------------------------


def _put_batch(put: Callable[[Callable[[], object]], object], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            put(_noop)
        last = threading.Event()
        put(last.set)
        last.wait()

    return run


# -- 100,000 submits, results read ------------------------------------------------------


def _submit_batch(
    submit: Callable[[Callable[[], object]], concurrent.futures.Future[Any]], n: int
) -> Callable[[], None]:
    def run() -> None:
        futures = [submit(_noop) for _ in range(n)]
        for f in futures:
            f.result()

    return run


def _floor_submit_batch(floor: Floor, n: int) -> Callable[[], None]:
    put, deliver, get = floor.queue.put, floor.results.put, floor.results.get

    def run() -> None:
        for _ in range(n):
            put(lambda: deliver(_noop()))
        for _ in range(n):
            get()

    return run


def _floor_stdlib_future_batch(floor: Floor, n: int) -> Callable[[], None]:
    put = floor.queue.put

    def run() -> None:
        futures = []
        for _ in range(n):
            f: concurrent.futures.Future[None] = concurrent.futures.Future()
            put(lambda f=f: f.set_result(_noop()))
            futures.append(f)
        for f in futures:
            f.result()

    return run


# -- put to action start, worker idle ---------------------------------------------------


def _latency(put: Callable[[Callable[[], object]], object], settle: Callable[[], None]) -> float:
    """Median microseconds from ``put`` to the action starting, the worker idle each time."""
    samples = []
    for _ in range(SAMPLES):
        settle()
        started: list[int] = []
        ran = threading.Event()

        def action(started: list[int] = started, ran: threading.Event = ran) -> None:
            started.append(time.perf_counter_ns())
            ran.set()

        before = time.perf_counter_ns()
        put(action)
        ran.wait()
        samples.append((started[0] - before) / 1000)
    return statistics.median(samples)


def _worker_gone(executor: shortly.SerialExecutor) -> Callable[[], None]:
    def settle() -> None:
        thread = executor.__shortly_owner_thread__()
        if thread is not None:
            thread.join()

    return settle


def _parked() -> None:
    time.sleep(0.001)  # let the worker go back to waiting for work


def _one_trip(put: Callable[[Callable[[], object]], object]) -> float:
    """Microseconds from ``put`` to the action starting."""
    started: list[int] = []
    ran = threading.Event()

    def action() -> None:
        started.append(time.perf_counter_ns())
        ran.set()

    before = time.perf_counter_ns()
    put(action)
    ran.wait()
    return (started[0] - before) / 1000


def _after_idle(
    puts: dict[str, Callable[[Callable[[], object]], object]], idle: float, samples: int
) -> dict[str, float]:
    """Median put-to-start after ``idle`` seconds of quiet, each entry in turn per round.

    Each sample: a trip that leaves the worker just back to waiting (not timed),
    ``idle`` seconds in which nothing runs, then the timed trip (see the module
    docstring for why).
    """
    trips: dict[str, list[float]] = {name: [] for name in puts}
    for _ in range(samples):
        for name, put in puts.items():
            _one_trip(put)  # its worker has just run: the idleness starts now
            time.sleep(idle)  # the idleness under test
            trips[name].append(_one_trip(put))
    return {name: statistics.median(values) for name, values in trips.items()}


def run(report: Report) -> None:
    n = N // 10 if report.quick else N
    serial = shortly.SerialExecutor(name="bench")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    floor = Floor()
    try:
        report.compare(
            f"SerialExecutor: {n:,} puts until the last has run",
            {
                "shortly SerialExecutor.put": _put_batch(serial.put, n),
                "ThreadPoolExecutor(1).submit": _put_batch(pool.submit, n),
                "floor (SimpleQueue + thread)": _put_batch(floor.queue.put, n),
            },
            per=n,
            baseline="floor (SimpleQueue + thread)",
            target="shortly <= 3x floor",
            limits=[("shortly SerialExecutor.put", "floor (SimpleQueue + thread)", 3)],
        )
        report.compare(
            f"SerialExecutor: {n:,} submits, results read",
            {
                "shortly SerialExecutor.submit": _submit_batch(serial.submit, n),
                "ThreadPoolExecutor(1).submit": _submit_batch(pool.submit, n),
                "floor (SimpleQueue + thread)": _floor_submit_batch(floor, n),
                "floor + stdlib Future": _floor_stdlib_future_batch(floor, n),
            },
            per=n,
            baseline="floor (SimpleQueue + thread)",
            target="shortly <= 2x floor",
            limits=[("shortly SerialExecutor.submit", "floor (SimpleQueue + thread)", 2)],
        )
        cold = shortly.SerialExecutor(name="bench-cold", idle_timeout=0)
        report.record(
            "SerialExecutor: put to action start, worker idle (median)",
            {
                "shortly, idle_timeout=0 (thread start)": _latency(cold.put, _worker_gone(cold)),
                "shortly, default (parked)": _latency(serial.put, _parked),
                "ThreadPoolExecutor(1) (parked)": _latency(pool.submit, _parked),
                "floor (parked on SimpleQueue.get)": _latency(floor.queue.put, _parked),
            },
            unit="us",
            baseline="floor (parked on SimpleQueue.get)",
        )
        cold.shutdown()
        report.record(
            "SerialExecutor: put after 50 ms idle to action start (median)",
            _after_idle(
                {
                    "shortly SerialExecutor (default)": serial.put,
                    "ThreadPoolExecutor(1)": pool.submit,
                    "floor (parked on SimpleQueue.get)": floor.queue.put,
                },
                idle=0.05,
                samples=20 if report.quick else 60,
            ),
            unit="us",
            baseline="floor (parked on SimpleQueue.get)",
            target="shortly <= 1.5x floor",
            limits=[("shortly SerialExecutor (default)", "floor (parked on SimpleQueue.get)", 1.5)],
        )
    finally:
        serial.shutdown()
        pool.shutdown()
