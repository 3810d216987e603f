"""Redis locks against real failures: killed, stalled and restarted servers, cut links.

Each scenario runs worker processes (:mod:`tests.faults.worker`) that share a lock and
a counter file, injects its fault while they run, and checks with
:meth:`~tests.faults.harness.Crew.check` that mutual exclusion held, nothing was lost
or doubled, and the tokens grew. Servers are real ``redis-server`` processes on
127.0.0.1, killed, paused and restarted by PID.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import shortly
from shortly import Lock, LockError
from shortly.contrib import _redis_scripts as scripts
from shortly.contrib.redis import RedisBackend
from tests.faults.harness import Crew, counted
from tests.faults.proxy import Proxy
from tests.helpers import eventually
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_unhandled_failures")]

Servers = Callable[[str], RedisServer]

# Short leases, so that a lock a crash leaves behind frees itself quickly.
WATCHDOG = 1.0


def _sha(script: str) -> bytes:
    return hashlib.sha1(script.encode()).hexdigest().encode()


def _progress(crew: Crew, more: int) -> None:
    """Wait until the workers made ``more`` acquisitions beyond now."""
    target = counted(crew) + more
    eventually(lambda: counted(crew) >= target, 30, f"{target} acquisitions")


# -- the server dies and comes back ------------------------------------------------------


@pytest.mark.parametrize("persistence", ["none", "rdb", "aof"])
def test_kill_9_of_the_server_while_held_and_waited_for(
    redis_servers: Servers, tmp_path: Path, persistence: str
) -> None:
    server = redis_servers(persistence)
    crew = Crew(server.url, tmp_path, count=12, hold=0.01, watchdog=WATCHDOG)
    crew.start(workers=3)
    try:
        for _ in range(2):
            _progress(crew, 3)
            if persistence == "rdb":
                server.client().save()  # a snapshot that is old by the time of the crash
                _progress(crew, 3)
            key = f"{crew.prefix}held:shared"
            eventually(lambda k=key: server.client().exists(k), 10, "a holder")
            server.stop()  # SIGKILL
            server.start()
        outcome = crew.finish()
    finally:
        crew.kill()
    # A restart may lose the holder's key (its snapshot is older, or there is none):
    # the next holder then gets a larger token, and the storage refuses the old one.
    crew.check(outcome, fenced_allowed=True)
    assert len(outcome.ok) == 36


@pytest.mark.parametrize("persistence", ["none", "rdb", "aof"])
def test_tokens_grow_across_a_kill_9_and_restart(redis_servers: Servers, persistence: str) -> None:
    server = redis_servers(persistence)
    before = RedisBackend(server.url, prefix="restart:")
    lock = Lock("token", lease=30, backend=before)
    tokens = []
    for i in range(10):
        lease = lock.acquire(timeout=5)
        assert lease is not None
        tokens.append(lease.token)
        lease.release()
        if i == 4 and persistence == "rdb":
            server.client().save()  # the counter in the snapshot is 5 tokens behind
    server.stop()
    server.start()
    # A new process: it has seen no token, so only Redis can keep the order.
    after = RedisBackend(server.url, prefix="restart:")
    lease = Lock("token", lease=30, backend=after).acquire(timeout=5)
    assert lease is not None and lease.token > max(tokens)
    assert tokens == sorted(set(tokens))
    lease.release()
    before.close()
    after.close()


# -- the server stalls ------------------------------------------------------------------------


def test_sigstop_and_sigcont_during_acquire_hold_and_release(
    redis_servers: Servers, tmp_path: Path
) -> None:
    server = redis_servers("none")
    # A lease long enough that a renewal held up by a stall still comes in time.
    crew = Crew(server.url, tmp_path, count=12, hold=0.01, watchdog=2.0)
    crew.start(workers=3)
    try:
        for _ in range(4):
            _progress(crew, 2)
            server.pause()
            threading.Event().wait(0.4)  # the stall itself
            server.resume()
        outcome = crew.finish()
    finally:
        server.resume()
        crew.kill()
    crew.check(outcome)
    assert len(outcome.ok) == 36


@pytest.mark.parametrize("fair", [False, True], ids=["default", "fair"])
def test_a_bounded_acquire_keeps_its_bound_while_the_server_is_stopped(
    redis_servers: Servers, fair: bool
) -> None:
    server = redis_servers("none")
    backend = RedisBackend(server.url, prefix="stall:", timeout=0.25, fair=fair)
    margin = (2 if fair else 1) * 0.25 + 0.5  # the first attempt(s), and slack
    lock = Lock("bound", backend=backend)
    first = lock.acquire(timeout=5)
    assert first is not None
    first.release()
    server.pause()
    try:
        for kwargs, bound in (
            ({"blocking": False}, 0.0),
            ({"blocking": 1.0}, 1.0),
            ({"timeout": 0.5}, 0.5),
        ):
            started = time.monotonic()
            with contextlib.suppress(LockError):  # raising within the bound is allowed too
                assert lock.acquire(**kwargs) is None  # type: ignore[arg-type]
            took = time.monotonic() - started
            assert took < bound + margin, f"acquire({kwargs}) took {took:.2f} s"
    finally:
        server.resume()
    # The attempts Redis runs now that it answers again are abandoned: nothing stays held.
    eventually(lambda: not lock.locked(), 15, "the lock free again")
    lease = lock.acquire(timeout=5)
    assert lease is not None and lease.token > first.token
    lease.release()
    backend.close()


# -- connections are killed -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["pubsub", "normal"])
def test_client_kill_repeatedly(redis_servers: Servers, tmp_path: Path, kind: str) -> None:
    server = redis_servers("none")
    crew = Crew(server.url, tmp_path, count=100, hold=0.001, watchdog=WATCHDOG, poll=0.25)
    crew.start(workers=4)
    killer = server.client()
    stop = threading.Event()
    kills = 0
    try:
        while not stop.wait(0.05) and any(p.poll() is None for p in crew.processes):
            kills += killer.execute_command("CLIENT", "KILL", "TYPE", kind)
        outcome = crew.finish()
    finally:
        crew.kill()
    assert kills >= 5
    crew.check(outcome)
    assert len(outcome.ok) == 400
    if kind == "pubsub":
        # A dropped subscription fails no waiter: every acquisition got the lock.
        assert not outcome.errors, outcome.errors
    else:
        # A killed command connection may fail a first attempt twice in a row (the
        # acquirer is told); releases and renewals are retried and never fail.
        assert all(line.startswith("error acquire") for line in outcome.errors), outcome.errors


# -- replies are lost ---------------------------------------------------------------------------


def test_lost_replies_to_acquire_release_and_extend(redis_servers: Servers, tmp_path: Path) -> None:
    server = redis_servers("none")
    proxy = Proxy(server.port)
    crew = Crew(proxy.url, tmp_path, count=15, hold=0.005, lease=5.0, extend=5.0)
    crew.start(workers=3)
    try:
        # One at a time: a repeat that lost its reply too would be a second fault.
        for script in (scripts.ACQUIRE, scripts.RELEASE, scripts.EXTEND) * 3:
            lost = proxy.drop_replies(_sha(script))
            assert lost.wait(30), "the reply was never sent"
        outcome = crew.finish()
    finally:
        crew.kill()
        proxy.close()
    crew.check(outcome)
    assert len(outcome.ok) == 45 and not outcome.errors, outcome.errors
    assert not server.client().exists(f"{crew.prefix}held:shared")


# -- holders die or stall ---------------------------------------------------------------------


@pytest.mark.parametrize("lease", [None, 1.0], ids=["watchdog", "fixed"])
def test_a_holder_killed_while_holding(
    redis_servers: Servers, tmp_path: Path, lease: float | None
) -> None:
    server = redis_servers("none")
    crew = Crew(server.url, tmp_path, count=5, hold=0.002, watchdog=WATCHDOG, lease=lease)
    (holder,) = crew.start(workers=1, mode="hold")
    assert holder.stdout is not None
    word, token = holder.stdout.readline().split()
    assert word == "held"
    key = f"{crew.prefix}held:shared"
    if lease is None:
        # The watchdog keeps a live holder's lock past its lease...
        threading.Event().wait(2 * WATCHDOG)
        assert server.client().get(key).split(b":")[0] == token.encode()
    waiting = crew.start(workers=2)
    eventually(lambda: server.client().exists(f"{crew.prefix}held:shared"), 5)
    os.kill(holder.pid, signal.SIGKILL)  # ...and a dead one's runs out within a lease.
    killed = time.monotonic()
    holder.wait(10)
    crew.processes = waiting
    eventually(lambda: counted(crew) >= 1, 10, "the next holder")
    assert time.monotonic() - killed < (lease or WATCHDOG) + 1.0
    outcome = crew.finish()
    crew.check(outcome)
    assert min(t for _, t in outcome.ok) > int(token)


def test_a_holder_stalled_past_a_fixed_lease_is_refused_and_older(redis_servers: Servers) -> None:
    server = redis_servers("none")
    stale_backend = RedisBackend(server.url, prefix="stall:")
    fresh_backend = RedisBackend(server.url, prefix="stall:")
    stale = Lock("report", lease=0.3, backend=stale_backend).acquire(timeout=5)
    assert stale is not None
    # The holder stalls; meanwhile its lease runs out and another process takes over.
    fresh = Lock("report", backend=fresh_backend).acquire(timeout=10)
    assert fresh is not None and fresh.token > stale.token
    with pytest.raises(LockError, match="no longer holds"):
        stale.extend(10)
    with pytest.raises(LockError, match="no longer holds"):
        stale.release()
    assert Lock("report", backend=stale_backend).statistics().holder_token == fresh.token
    fresh.release()
    stale_backend.close()
    fresh_backend.close()


def test_a_lost_acquire_reply_never_orphans_the_lock(redis_servers: Servers) -> None:
    server = redis_servers("none")
    proxy = Proxy(server.port)
    backend = RedisBackend(proxy.url, prefix="orphan:")
    lock = Lock("job", backend=backend)
    try:
        # One lost reply: the repeat with the same nonce finds its own hold.
        proxy.drop_replies(_sha(scripts.ACQUIRE))
        lease = lock.acquire(blocking=False)
        assert lease is not None and proxy.dropped == 1
        assert lock.statistics().holder_token == lease.token
        lease.release()
        # Both lost: the acquirer is told, and the hold Redis made is given up.
        proxy.drop_replies(_sha(scripts.ACQUIRE), times=2)
        with pytest.raises(LockError, match="could not acquire"):
            lock.acquire(blocking=False)
        assert proxy.dropped == 3
        eventually(lambda: not lock.locked(), 10, "the orphaned hold released")
        again = lock.acquire(blocking=False)
        assert again is not None and again.token > lease.token
        again.release()
    finally:
        backend.close()
        proxy.close()


def test_a_dropped_subscription_keeps_waiters_waiting(redis_servers: Servers) -> None:
    server = redis_servers("none")
    holder = Lock("sub", backend=RedisBackend(server.url, prefix="sub:")).acquire()
    assert holder is not None
    # A 60 s poll: only a renewed subscription can wake the waiter in time.
    waiter_backend = RedisBackend(server.url, prefix="sub:", poll=60)
    got: shortly.Future[shortly.Lease | None] = shortly.Future()
    threading.Thread(
        target=lambda: got.set_result(Lock("sub", backend=waiter_backend).acquire(timeout=20))
    ).start()
    client = server.client()
    eventually(lambda: client.pubsub_numsub("sub:released")[0][1] == 1, 10, "a subscriber")
    assert client.execute_command("CLIENT", "KILL", "TYPE", "pubsub") == 1
    eventually(lambda: client.pubsub_numsub("sub:released")[0][1] == 1, 10, "resubscribed")
    holder.release()
    lease = got.result(timeout=5)
    assert lease is not None and lease.token > holder.token
    lease.release()
    waiter_backend.close()
