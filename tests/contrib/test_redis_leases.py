"""Redis leases: the watchdog, fixed leases, breaking a lock, and acquire(timeout=)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator

import pytest

import shortly
from shortly import Lock, LockError
from shortly.contrib.redis import RedisBackend
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.timeout(30), pytest.mark.usefixtures("no_unhandled_failures")]


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


@pytest.fixture
def backends(redis_server: RedisServer, prefix: str) -> Iterator[list[RedisBackend]]:
    made: list[RedisBackend] = []
    yield made
    for backend in made:
        backend.close()


def _backend(
    made: list[RedisBackend], server: RedisServer, prefix: str, **options: float
) -> RedisBackend:
    backend = RedisBackend(server.url, prefix=prefix, **options)  # type: ignore[arg-type]
    made.append(backend)
    return backend


def _pause(seconds: float) -> None:
    """Let time pass (the subject is a lease running out or being renewed)."""
    threading.Event().wait(seconds)


def test_the_default_lease_is_renewed_while_held(
    redis_server: RedisServer, prefix: str, backends: list[RedisBackend]
) -> None:
    lock = Lock("watched", backend=_backend(backends, redis_server, prefix, watchdog=0.5))
    lease = lock.acquire()
    assert lease is not None and lease.expires_at is None
    client = redis_server.client()
    assert 0 < client.pttl(f"{prefix}held:watched") <= 500
    _pause(1.2)  # more than two leases: only renewals keep it
    assert lock.statistics().holder_token == lease.token and lease.live()
    lease.release()
    assert not lock.locked()


def test_a_fixed_lease_is_not_renewed(
    redis_server: RedisServer, prefix: str, backends: list[RedisBackend]
) -> None:
    backend = _backend(backends, redis_server, prefix, watchdog=0.3)
    lease = Lock("fixed", lease=0.3, backend=backend).acquire()
    assert lease is not None and lease.expires_at is not None
    _pause(0.6)
    assert not Lock("fixed", backend=backend).locked()
    with pytest.raises(LockError, match="ran out"):
        lease.release()


def test_extend_turns_a_watched_lease_into_a_fixed_one(
    redis_server: RedisServer, prefix: str, backends: list[RedisBackend]
) -> None:
    lock = Lock("turned", backend=_backend(backends, redis_server, prefix, watchdog=0.3))
    lease = lock.acquire()
    assert lease is not None
    lease.extend(0.4)
    assert lease.expires_at is not None
    _pause(0.8)
    assert not lock.locked() and not lease.live()


def test_a_renewal_that_finds_the_lock_gone_expires_the_lease(
    redis_server: RedisServer, prefix: str, backends: list[RedisBackend]
) -> None:
    lock = Lock("gone", backend=_backend(backends, redis_server, prefix, watchdog=0.3))
    lease = lock.acquire()
    assert lease is not None
    redis_server.client().delete(f"{prefix}held:gone")
    deadline = time.monotonic() + 5
    while lease.live():
        assert time.monotonic() < deadline, "the watchdog never noticed"
        _pause(0.02)
    with pytest.raises(LockError, match="no longer holds"):
        lease.release()


def test_break_lock_frees_it_and_advances_the_token(
    redis_server: RedisServer, prefix: str, backends: list[RedisBackend]
) -> None:
    holder_backend = _backend(backends, redis_server, prefix, watchdog=0.3)
    operator = _backend(backends, redis_server, prefix)
    stuck = Lock("stuck", backend=holder_backend).acquire()
    assert stuck is not None
    fence = operator.break_lock("stuck")
    assert fence > stuck.token
    assert not Lock("stuck", backend=operator).locked()
    successor = Lock("stuck", backend=operator).acquire(blocking=False)
    assert successor is not None and successor.token > fence
    with pytest.raises(LockError, match="no longer holds"):
        stuck.extend(10)
    with pytest.raises(LockError, match="no longer holds"):
        stuck.release()
    assert Lock("stuck", backend=operator).statistics().holder_token == successor.token
    successor.release()
    assert operator.break_lock("stuck") > successor.token  # a free lock: still a fence
    with pytest.raises(ValueError, match="name"):
        operator.break_lock("")


def test_break_lock_wakes_waiters(
    redis_server: RedisServer, prefix: str, backends: list[RedisBackend]
) -> None:
    stuck = Lock("wake", backend=_backend(backends, redis_server, prefix)).acquire()
    assert stuck is not None
    waiter = Lock("wake", backend=_backend(backends, redis_server, prefix, poll=60))
    got: shortly.Future[shortly.Lease | None] = shortly.Future()
    threading.Thread(target=lambda: got.set_result(waiter.acquire(timeout=20))).start()
    deadline = time.monotonic() + 10
    while waiter.statistics().waiters != 1:
        assert time.monotonic() < deadline
        _pause(0.005)
    fence = backends[0].break_lock("wake")
    lease = got.result(timeout=5)  # woken by the break, not by the 60 s poll
    assert lease is not None and lease.token > fence
    lease.release()


def test_bad_backend_options_are_refused(redis_server: RedisServer) -> None:
    for option in ("watchdog", "timeout", "poll"):
        with pytest.raises(ValueError, match=option):
            RedisBackend(redis_server.url, **{option: 0})  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=option):
            RedisBackend(redis_server.url, **{option: "1"})  # type: ignore[arg-type]


# -- acquire(timeout=) has threading.Lock's meaning -------------------------------------------


@pytest.fixture(params=["local", "redis"])
def busy(
    request: pytest.FixtureRequest, prefix: str, backends: list[RedisBackend]
) -> Iterator[Lock]:
    backend = None
    if request.param == "redis":
        backend = _backend(backends, request.getfixturevalue("redis_server"), prefix)
    lock = Lock(f"busy-{uuid.uuid4().hex}", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    yield lock
    holder.release()


def test_timeout_waits_that_long(busy: Lock) -> None:
    started = time.monotonic()
    assert busy.acquire(timeout=0.1) is None
    assert 0.1 <= time.monotonic() - started < 2
    assert busy.acquire(blocking=True, timeout=0.01) is None
    assert busy.acquire(blocking=True, timeout=0) is None


def test_timeout_is_checked_as_the_stdlib_does(busy: Lock) -> None:
    plain = threading.Lock()
    with pytest.raises(ValueError, match="non-blocking"):
        plain.acquire(blocking=False, timeout=1)
    with pytest.raises(ValueError, match="non-blocking"):
        busy.acquire(blocking=False, timeout=1)
    with pytest.raises(ValueError, match="timeout"):
        busy.acquire(timeout=-2)
    with pytest.raises(ValueError, match="timeout"):
        busy.acquire(timeout=float("nan"))
    with pytest.raises(ValueError, match="not both"):
        busy.acquire(blocking=0.5, timeout=1)
    with pytest.raises(TypeError, match="timeout"):
        busy.acquire(timeout="1")  # type: ignore[arg-type]
    # -1 means "not given": blocking=False alone tries once.
    assert busy.acquire(blocking=False, timeout=-1) is None


def test_acquire_async_takes_timeout_too(busy: Lock) -> None:
    async def main() -> shortly.Lease | None:
        return await busy.acquire_async(timeout=0.05)

    assert asyncio.run(main()) is None
