"""Fair Redis locks: waiters of many processes served in the order they came."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

import shortly
from shortly import Lock
from shortly.contrib.redis import RedisBackend
from tests.helpers import eventually
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.timeout(30), pytest.mark.usefixtures("no_unhandled_failures")]

Make = Callable[..., RedisBackend]


@pytest.fixture
def prefix() -> str:
    return f"fair:{uuid.uuid4().hex}:"


@pytest.fixture
def make(redis_server: RedisServer, prefix: str) -> Iterator[Make]:
    made: list[RedisBackend] = []

    def backend(**options: object) -> RedisBackend:
        made.append(RedisBackend(redis_server.url, prefix=prefix, fair=True, **options))  # type: ignore[arg-type]
        return made[-1]

    yield backend
    for each in made:
        each.close()


def _in_thread(fn: Callable[[], object]) -> shortly.Future[object]:
    future: shortly.Future[object] = shortly.Future()
    threading.Thread(target=lambda: future.set_result(fn()), daemon=True).start()
    return future


def test_waiters_of_many_processes_get_the_lock_in_arrival_order(
    make: Make, redis_server: RedisServer, prefix: str
) -> None:
    client = redis_server.client()
    holder = Lock("fifo", backend=make()).acquire()
    assert holder is not None
    order: list[int] = []
    done = []
    for i in range(6):
        lock = Lock("fifo", backend=make(poll=0.05))  # one backend: one process

        def take(lock: Lock = lock, i: int = i) -> None:
            lease = lock.acquire(timeout=20)
            assert lease is not None
            order.append(i)
            lease.release()

        done.append(_in_thread(take))
        eventually(lambda i=i: client.llen(f"{prefix}queue:fifo") == i + 1)
    holder.release()
    for future in done:
        future.result(timeout=20)
    assert order == list(range(6))


def test_a_try_never_barges_past_the_queue(
    make: Make, redis_server: RedisServer, prefix: str
) -> None:
    client = redis_server.client()
    # Someone waits (its place kept for 60 s), and the lock is free this instant.
    due = int(client.time()[0]) * 1000 + 60_000
    client.rpush(f"{prefix}queue:barge", "someone")
    client.zadd(f"{prefix}places:barge", {"someone": due})
    lock = Lock("barge", backend=make())
    assert lock.acquire(blocking=False) is None
    assert not lock.locked()


def test_a_waiter_that_vanished_loses_its_place(
    make: Make, redis_server: RedisServer, prefix: str
) -> None:
    client = redis_server.client()
    # A waiter ahead whose process died: its place lapses 0.3 s from now.
    seconds, micros = client.time()
    client.rpush(f"{prefix}queue:ghost", "ghost")
    client.zadd(f"{prefix}places:ghost", {"ghost": seconds * 1000 + micros // 1000 + 300})
    started = time.monotonic()
    lease = Lock("ghost", backend=make(poll=0.05)).acquire(timeout=10)
    assert lease is not None
    assert time.monotonic() - started >= 0.2
    lease.release()
    assert client.llen(f"{prefix}queue:ghost") == 0


def test_a_waiter_that_gives_up_leaves_the_queue(
    make: Make, redis_server: RedisServer, prefix: str
) -> None:
    client = redis_server.client()
    holder = Lock("leave", backend=make()).acquire()
    assert holder is not None
    quitter = _in_thread(lambda: Lock("leave", backend=make(poll=0.05)).acquire(timeout=0.3))
    eventually(lambda: client.llen(f"{prefix}queue:leave") == 1)
    stayer = _in_thread(lambda: Lock("leave", backend=make(poll=0.05)).acquire(timeout=20))
    eventually(lambda: client.llen(f"{prefix}queue:leave") == 2)
    assert quitter.result(timeout=10) is None
    eventually(lambda: client.llen(f"{prefix}queue:leave") == 1)  # its place given up at once
    holder.release()
    lease = stayer.result(timeout=1.5)  # well before the quitter's place would lapse (2 s)
    assert isinstance(lease, shortly.Lease) and lease.token > holder.token
    lease.release()
