"""RedisBackend against a real redis-server: hand-off, leases, crashes, restarts."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

import anyio
import pytest
import redis

import shortly
from shortly import Lease, Lock, LockError, LockTimeout
from shortly.contrib.redis import RedisBackend
from tests.helpers import eventually
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.timeout(30), pytest.mark.usefixtures("no_unhandled_failures")]


def in_thread(fn: Callable[[], Any]) -> shortly.Future[Any]:
    future: shortly.Future[Any] = shortly.Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


class Backends:
    """Makes RedisBackends on one server under one prefix (each like another process)."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.prefix = f"test:{uuid.uuid4().hex}:"
        self.made: list[RedisBackend] = []

    def __call__(self, poll: float = 0.25, **client_options: Any) -> RedisBackend:
        client: redis.Redis | str = self.server.url
        if client_options:
            client = self.server.client(**client_options)
        backend = RedisBackend(client, prefix=self.prefix, poll=poll)
        self.made.append(backend)
        return backend

    def settle(self) -> None:
        """Every waiter served or withdrawn, every listener gone."""
        for backend in self.made:
            eventually(lambda b=backend: not b._waiting.queues and b._waiting.thread is None)
            backend.close()


@pytest.fixture
def make(redis_server: RedisServer) -> Iterator[Backends]:
    backends = Backends(redis_server)
    yield backends
    backends.settle()


@pytest.fixture
def backend(make: Backends) -> RedisBackend:
    return make()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- construction -------------------------------------------------------------------------


def test_bad_arguments_are_refused(redis_server: RedisServer) -> None:
    with pytest.raises(TypeError, match=r"client_or_url must be a redis\.Redis client"):
        RedisBackend(6379)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="prefix"):
        RedisBackend(redis_server.url, prefix="")
    with pytest.raises(TypeError, match="prefix"):
        RedisBackend(redis_server.url, prefix=b"x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="poll"):
        RedisBackend(redis_server.url, poll=0)
    with pytest.raises(TypeError, match="poll"):
        RedisBackend(redis_server.url, poll="1")  # type: ignore[arg-type]


def test_it_is_a_lock_backend(backend: RedisBackend) -> None:
    assert isinstance(backend, shortly.LockBackend)


# -- the basics, across backend objects (as across processes) ----------------------------------


@pytest.mark.parametrize("decode_responses", [False, True])
def test_acquire_release_and_tokens(make: Backends, decode_responses: bool) -> None:
    one = Lock("basic", backend=make(decode_responses=decode_responses))
    two = Lock("basic", backend=make())
    first = one.acquire()
    assert first is not None and first.expires_at is None
    assert one.locked() and two.locked()
    assert two.acquire(blocking=False) is None
    assert two.statistics() == shortly.LockStatistics(True, first.token, 0)
    one.release()
    assert not two.locked()
    with two as second:
        assert second.token > first.token
    assert two.statistics() == shortly.LockStatistics(False, None, 0)


def test_release_by_a_non_holder_raises_and_changes_nothing(make: Backends) -> None:
    holder = Lock("owned", backend=make())
    other = Lock("owned", backend=make())
    lease = holder.acquire()
    assert lease is not None
    with pytest.raises(LockError):
        other.release()
    with pytest.raises(LockError, match="another backend"):
        other.backend.release(lease)
    assert other.statistics().holder_token == lease.token
    lease.release()
    with pytest.raises(LockError, match="already released"):
        lease.release()
    with pytest.raises(LockError, match="not locked"):
        holder.release()


def test_with_raises_lock_timeout(make: Backends) -> None:
    lease = Lock("busy", backend=make()).acquire()
    assert lease is not None
    with pytest.raises(LockTimeout), Lock("busy", blocking=0.05, backend=make()):
        pytest.fail("entered a held lock")
    lease.release()


def test_reacquiring_without_a_timeout_raises_deadlock_error(backend: RedisBackend) -> None:
    lock = Lock("self", backend=backend)
    with lock:
        with pytest.raises(shortly.DeadlockError, match="already holds"):
            lock.acquire()
        assert lock.acquire(blocking=0.02) is None


# -- waiting: notification, expiry, fallback poll ------------------------------------------------


def test_a_release_wakes_a_waiter_without_waiting_for_the_poll(make: Backends) -> None:
    holder = Lock("wake", backend=make()).acquire()
    assert holder is not None
    # With a 60 s poll, only the release notification can wake the waiter in time.
    waiter = Lock("wake", backend=make(poll=60))
    got = in_thread(lambda: waiter.acquire(blocking=20))
    eventually(lambda: waiter.statistics().waiters == 1)
    holder.release()
    lease = got.result(timeout=20)
    assert lease is not None and lease.token > holder.token
    lease.release()


def test_an_expiring_lease_wakes_a_waiter_when_it_runs_out(make: Backends) -> None:
    stalled = Lock("lapse", lease=0.2, backend=make()).acquire()
    assert stalled is not None
    lease = Lock("lapse", backend=make(poll=60)).acquire(blocking=20)
    assert lease is not None and lease.token > stalled.token
    with pytest.raises(LockError, match="ran out"):
        stalled.release()
    with pytest.raises(LockError, match="ran out"):
        stalled.extend(10)
    assert Lock("lapse", backend=make()).statistics().holder_token == lease.token
    lease.release()


def test_a_lost_notification_is_made_up_by_the_poll(make: Backends) -> None:
    holder = Lock("lost", backend=make()).acquire()
    assert holder is not None
    waiter = Lock("lost", backend=make(poll=0.05))
    got = in_thread(lambda: waiter.acquire(blocking=20))
    eventually(lambda: waiter.statistics().waiters == 1)
    # The key disappears without the release message (as if the message were lost).
    make.server.client().delete(f"{make.prefix}held:lost")
    lease = got.result(timeout=20)
    assert lease is not None
    lease.release()


def test_waiters_of_one_process_are_served_in_order(backend: RedisBackend) -> None:
    lock = Lock("queue", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    order: list[int] = []
    done = []
    for i in range(5):

        def take(i: int = i) -> None:
            with lock:
                order.append(i)

        done.append(in_thread(take))
        eventually(lambda i=i: lock.statistics().waiters == i + 1)
    holder.release()
    for future in done:
        future.result(timeout=20)
    assert order == list(range(5))


def test_a_timed_out_waiter_leaves_the_queue(backend: RedisBackend) -> None:
    lock = Lock("withdraw", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    assert lock.acquire(blocking=0.02) is None
    assert lock.statistics().waiters == 0
    holder.release()
    assert not lock.locked()


# -- leases ---------------------------------------------------------------------------------


def test_extend_keeps_the_lock_and_can_shorten_it(make: Backends) -> None:
    lease = Lock("renew", lease=1.0, backend=make()).acquire()
    assert lease is not None
    lease.extend(60)
    assert lease.expires_at is not None and lease.expires_at > time.monotonic() + 30
    other = Lock("renew", backend=make())
    assert other.acquire(blocking=1.2) is None
    lease.extend(0.01)
    successor = other.acquire(blocking=20)
    assert successor is not None
    successor.release()


def _hold_until_killed(url: str, prefix: str, conn: Connection) -> None:
    lease = Lock("crash", lease=0.3, backend=RedisBackend(url, prefix=prefix)).acquire()
    assert lease is not None
    conn.send(lease.token)
    threading.Event().wait()


def test_a_process_killed_while_holding_frees_the_lock_after_its_lease(make: Backends) -> None:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(
        target=_hold_until_killed, args=(make.server.url, make.prefix, theirs), daemon=True
    )
    process.start()
    try:
        assert ours.poll(20), "the holder process never reported"
        token = ours.recv()
    finally:
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(10)
    lease = Lock("crash", backend=make()).acquire(blocking=20)
    assert lease is not None and lease.token > token
    lease.release()


# -- faults -----------------------------------------------------------------------------------


def test_a_restart_mid_hold_is_reported_and_never_reuses_a_token(
    fresh_redis_server: RedisServer,
) -> None:
    holder_backend = RedisBackend(fresh_redis_server.url)
    holder = Lock("restart", backend=holder_backend).acquire()
    assert holder is not None
    fresh_redis_server.restart()  # no persistence: the lock and the counter are gone

    newcomer_backend = RedisBackend(fresh_redis_server.url)
    newcomer = Lock("restart", backend=newcomer_backend).acquire(blocking=False)
    assert newcomer is not None
    assert newcomer.token > holder.token
    with pytest.raises(LockError, match="Redis lost"):
        holder.extend(10)
    with pytest.raises(LockError, match="Redis lost"):
        holder.release()
    # The refused release changed nothing.
    assert Lock("restart", backend=holder_backend).statistics().holder_token == newcomer.token
    newcomer.release()

    # A backend that saw a token never lets the counter restart below it, even if the
    # server's clock is behind the tokens (here: tokens from a clock far ahead).
    fresh_redis_server.client().set("shortly:lock:fence", 5 * 10**15)
    ahead = Lock("restart", backend=newcomer_backend).acquire()
    assert ahead is not None and ahead.token == 5 * 10**15 + 1
    ahead.release()
    fresh_redis_server.client().flushall()
    again = Lock("restart", backend=newcomer_backend).acquire()
    assert again is not None and again.token > ahead.token
    again.release()
    holder_backend.close()
    newcomer_backend.close()


def test_waiters_outlast_a_stopped_server_and_holders_learn_they_lost_the_lock(
    fresh_redis_server: RedisServer,
) -> None:
    holder_backend = RedisBackend(fresh_redis_server.url)
    waiter_backend = RedisBackend(fresh_redis_server.url, poll=0.05)
    holder = Lock("down", backend=holder_backend).acquire()
    assert holder is not None
    waiter = Lock("down", backend=waiter_backend)
    waiting = in_thread(lambda: waiter.acquire(blocking=20))
    eventually(lambda: waiter.statistics().waiters == 1)
    fresh_redis_server.stop()

    with pytest.raises(LockError, match="could not acquire") as caught:
        Lock("down", backend=holder_backend).acquire()
    assert isinstance(caught.value.__cause__, redis.ConnectionError)
    # The waiter keeps trying (every 0.05 s) and keeps waiting.
    with pytest.raises(TimeoutError):
        waiting.result(timeout=0.5)
    fresh_redis_server.start()  # without persistence: the holder's key is gone

    lease = waiting.result(timeout=20)
    assert lease is not None and lease.token > holder.token
    with pytest.raises(LockError, match="Redis lost"):
        holder.release()
    lease.release()
    eventually(lambda: waiter_backend._waiting.thread is None)
    holder_backend.close()
    waiter_backend.close()


# -- asyncio and trio -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_with_and_an_async_waiter(make: Backends) -> None:
    lock = Lock("async", backend=make())
    async with lock as first:
        assert lock.statistics().holder_token == first.token
    holder = Lock("async", backend=make()).acquire()
    assert holder is not None

    def release_once_waited_for() -> None:
        eventually(lambda: lock.statistics().waiters == 1)
        holder.release()

    threading.Thread(target=release_once_waited_for).start()
    async with lock as second:
        assert second.token > holder.token


@pytest.mark.anyio
async def test_async_timeout_and_cancellation_withdraw_the_waiter(make: Backends) -> None:
    holder = Lock("async-busy", backend=make()).acquire()
    assert holder is not None
    lock = Lock("async-busy", blocking=0.05, backend=make())
    with pytest.raises(LockTimeout):
        async with lock:
            pytest.fail("entered a held lock")
    with anyio.move_on_after(0.05):
        await lock.acquire_async(blocking=True)
    assert lock.statistics().waiters == 0
    holder.release()
    lease = await lock.acquire_async()
    assert isinstance(lease, Lease)
    lease.release()
