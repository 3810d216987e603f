"""Contention: many threads and processes increment one counter under one named lock.

The increment is a deliberate read, yield, write, so any two holders at once lose an
update and the final count comes out short. Each holder also checks its fencing token
against the largest one used so far (what a fencing storage does) and keeps the tokens
it saw, which must be strictly increasing.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
import uuid
from typing import Any

import pytest

from shortly import LocalBackend, Lock, LockBackend
from shortly.contrib.redis import RedisBackend
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_unhandled_failures")]

THREADS = 8
PROCESSES = 4
ROUNDS = 1_000


class Shared:
    """The counter and the fencing check, in memory shared with child processes."""

    def __init__(self, context: Any) -> None:
        # Unsynchronised on purpose: the lock under test is the only protection.
        self.counter: Any = context.RawValue("q", 0)
        self.last_token: Any = context.RawValue("q", 0)
        self.fencing_violations: Any = context.RawValue("q", 0)


def _increment(lock: Lock, shared: Shared, rounds: int) -> list[int]:
    tokens = []
    for _ in range(rounds):
        with lock as lease:
            tokens.append(lease.token)
            if lease.token <= shared.last_token.value:
                shared.fencing_violations.value += 1
            shared.last_token.value = lease.token
            value = shared.counter.value
            time.sleep(0)  # widen the window in which a second holder would lose an update
            shared.counter.value = value + 1
    return tokens


def _threads(make_lock: Any, shared: Shared, start: threading.Barrier) -> list[list[int]]:
    results: list[list[int]] = [[] for _ in range(THREADS)]

    def run(i: int) -> None:
        lock = make_lock()
        start.wait()
        results[i] = _increment(lock, shared, ROUNDS)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(50)
        assert not thread.is_alive(), "a thread is stuck"
    return results


def _check(shared: Shared, per_holder: list[list[int]], expected: int) -> None:
    assert shared.counter.value == expected
    assert shared.fencing_violations.value == 0
    for tokens in per_holder:
        assert len(tokens) == ROUNDS
        assert all(a < b for a, b in itertools.pairwise(tokens)), "tokens went backwards"
    every = [t for tokens in per_holder for t in tokens]
    assert len(set(every)) == len(every), "a token was granted twice"


def test_threads_on_the_local_backend() -> None:
    backend: LockBackend = LocalBackend()
    shared = Shared(multiprocessing.get_context("spawn"))
    start = threading.Barrier(THREADS)
    per_thread = _threads(lambda: Lock("counter", backend=backend), shared, start)
    _check(shared, per_thread, THREADS * ROUNDS)


def _process_main(url: str, prefix: str, shared: Shared, start: Any, out: Any) -> None:
    lock = Lock("counter", backend=RedisBackend(url, prefix=prefix))
    start.wait()
    out.send(_increment(lock, shared, ROUNDS))


def test_threads_and_processes_on_redis(redis_server: RedisServer) -> None:
    """8 threads here and 4 processes, all on one Redis lock, at the same time."""
    context = multiprocessing.get_context("spawn")
    shared = Shared(context)
    prefix = f"stress:{uuid.uuid4().hex}:"
    start = context.Barrier(THREADS + PROCESSES)
    pipes = [context.Pipe(duplex=False) for _ in range(PROCESSES)]
    processes = [
        context.Process(
            target=_process_main,
            args=(redis_server.url, prefix, shared, start, sender),
            daemon=True,
        )
        for _, sender in pipes
    ]
    for process in processes:
        process.start()
    backend = RedisBackend(redis_server.url, prefix=prefix)
    try:
        per_thread = _threads(lambda: Lock("counter", backend=backend), shared, start)
        per_process = []
        for receiver, _ in pipes:
            assert receiver.poll(50), "a process is stuck"
            per_process.append(receiver.recv())
    finally:
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        backend.close()
    _check(shared, per_thread + per_process, (THREADS + PROCESSES) * ROUNDS)
