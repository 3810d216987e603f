"""Named locks shared by processes and machines through one Redis server (extra ``[redis]``).

:class:`RedisBackend` keeps each held lock as one Redis key whose value is the holder's
fencing token and a random nonce, with the lease as its expiry. Acquisition, release,
extension and breaking are Lua scripts (:mod:`._redis_scripts`), so a holder whose lease
ran out can never delete or prolong a later holder's key.

**Leases.** ``Lock(name, backend=...)`` without ``lease=`` gets a *watchdog* lease: the
key expires ``watchdog`` seconds (30) after it was last renewed, and this process renews
it every third of that in the background for as long as it holds the lock. A holder
that crashes frees the lock within one watchdog lease; one that lives keeps it until it
releases. ``lease=seconds`` is a fixed lease, never renewed by itself.

**Fencing tokens** grow strictly across restarts of the server, with RDB snapshots, with
an AOF or without persistence, as long as the server's clock does not step back: each
token is at least the server's clock in microseconds (:mod:`._redis_scripts`). A holder
whose lock Redis lost is told so by a :class:`~shortly.LockError` on release, extension
or renewal.

**Faults.** Round trips that might have run although their reply was lost are repeated
with the same nonce, or abandoned in the background; waiters outlast dropped
connections and subscriptions (:mod:`._redis_listener`); the first attempt of an
acquisition waits at most ``timeout`` seconds for a reply, so a bounded acquire keeps
its bound even when the server stalls (:mod:`._redis_wire`).

A single Redis server (or a primary with replicas) is assumed, not Redlock over several.

Creating a backend does not connect; the first lock operation does (the lines that
need a running server are skipped when the documentation is tested):

>>> import shortly
>>> from shortly.contrib.redis import RedisBackend
>>> backend = RedisBackend("redis://localhost:6379/0")
>>> invoices = shortly.Lock("invoices", backend=backend)
>>> with invoices as lease:  # doctest: +SKIP
...     storage.write(invoice, fencing_token=lease.token)
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from . import missing_extra

try:
    import redis
except ImportError as _error:
    raise missing_extra("redis", _error) from _error

from .._checks import check_name
from .._lock_backend import EXPIRED, HELD, RELEASED, Lease, LockError, LockStatistics
from . import _redis_scripts as scripts
from ._redis_hold import Hold, check_positive, lost, milliseconds, refusal
from ._redis_keeper import Keeper
from ._redis_listener import Listener
from ._redis_wire import Wire, text

if TYPE_CHECKING:
    from .._core import Future

__all__ = ["RedisBackend"]

# How long a tombstone stops an abandoned attempt at the least (ms), and how often the
# housekeeping thread retries a clean-up or a renewal that Redis did not answer (s).
_TOMBSTONE_MS = 60_000
_RETRY = 0.2


class RedisBackend:
    """Locks in a Redis server, for many processes on many machines.

    Args:
        client_or_url: a :class:`redis.Redis` client, or a URL such as
            ``"redis://host:6379/0"``. The backend copies the connection settings
            into connection pools of its own (see :meth:`close`).
        prefix: the prefix of every key and channel this backend uses.
        poll: the longest a waiter waits between attempts if a release notification
            is lost or the subscription is down (seconds).
        watchdog: the lease of a lock acquired without ``lease=``, renewed every third
            of it while held (seconds).
        timeout: the longest the first attempt of an acquisition waits for Redis to
            answer (seconds): a bounded ``acquire`` returns within its bound plus this,
            or plus twice this on a fair backend (a waiter first takes its place).
        fair: hand the lock to waiters in the order they started waiting, across
            processes (every backend with this prefix must agree).

    Raises:
        TypeError: if ``client_or_url`` is neither, ``prefix`` not a str, or ``poll``,
            ``watchdog`` or ``timeout`` not a number.
        ValueError: if ``prefix`` is empty or ``poll``, ``watchdog`` or ``timeout``
            not positive.

    An operation that cannot reach Redis raises :class:`~shortly.LockError` chained to
    redis-py's error; waiting goes on through such failures.

    >>> import shortly
    >>> from shortly.contrib.redis import RedisBackend
    >>> backend = RedisBackend("redis://localhost:6379/0", prefix="billing:")
    >>> backend
    <RedisBackend prefix='billing:' ...>
    >>> lease = shortly.Lock("jobs", backend=backend).acquire()  # doctest: +SKIP
    >>> lease.token  # doctest: +SKIP
    1795284303353146
    """

    def __init__(
        self,
        client_or_url: redis.Redis | str,
        *,
        prefix: str = "shortly:lock:",
        poll: float = 0.25,
        watchdog: float = 30.0,
        timeout: float = 0.25,
        fair: bool = False,
    ) -> None:
        if not isinstance(client_or_url, (str, redis.Redis)):
            raise TypeError(
                "client_or_url must be a redis.Redis client or a redis:// URL, "
                f"not {type(client_or_url).__name__}"
            )
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a non-empty str, not {type(prefix).__name__}")
        if not prefix:
            raise ValueError("prefix must be a non-empty str, not ''")
        self._poll = check_positive(poll, "poll")
        self._watchdog = check_positive(watchdog, "watchdog")
        self._wire = Wire(client_or_url, check_positive(timeout, "timeout"))
        self._prefix = prefix
        self._fair = bool(fair)
        self._fence_key = f"{prefix}fence"
        self._epoch_key = f"{prefix}epoch"
        self._channel = f"{prefix}released"
        self._wake_channel = f"{prefix}wake:{uuid.uuid4().hex}"
        script = self._wire.script
        self._acquire = script(scripts.ACQUIRE_FAIR if fair else scripts.ACQUIRE)
        self._release = script(scripts.RELEASE)
        self._extend = script(scripts.EXTEND)
        self._abandon_script = script(scripts.ABANDON)
        self._break = script(scripts.BREAK)
        self._lock = threading.Lock()
        self._held: dict[str, Lease] = {}
        self._floor = 0  # the largest token seen: no token below it is ever minted
        self._nonce_prefix = secrets.token_hex(8)
        self._nonces = itertools.count()
        self._waiting = Listener(self)
        self._keeper = Keeper(f"shortly-redis-keeper {prefix}")

    def _key(self, name: str) -> str:
        return f"{self._prefix}held:{name}"

    # -- one attempt, from any thread -------------------------------------------------------

    def _take(
        self,
        name: str,
        seconds: float | None,
        nonce: str,
        thread: threading.Thread,
        task: object | None,
        *,
        join: bool,
        quick: bool = False,
    ) -> tuple[Lease | None, float]:
        """One round trip: the lease, or None and how long the holder's lease has left."""
        started = time.monotonic()
        px = milliseconds(self._watchdog if seconds is None else seconds)
        keys = [
            self._key(name),
            self._fence_key,
            self._epoch_key,
            f"{self._prefix}abandoned:{nonce}",
        ]
        args: list[str | int] = [nonce, px, self._floor]
        if self._fair:
            keys += [f"{self._prefix}queue:{name}", f"{self._prefix}places:{name}"]
            args += [int(join), milliseconds(max(2.0, 4 * self._poll))]
        client = self._wire.quick if quick else self._wire.steady
        token = int(self._acquire(keys=keys, args=args, client=client))
        if token < 0:
            left = -2 - token  # ms left on the holder's lease, -1: unknown
            return None, self._poll if left < 0 else left / 1000
        hold = Hold(token, nonce, seconds, started)
        expires_at = None if seconds is None else started + seconds
        lease = Lease(self, name, token, expires_at, thread=thread, task=task, data=hold)
        with self._lock:
            self._held[name] = lease
            self._floor = max(self._floor, token)
        if seconds is None:
            self._keeper.schedule(lease, started + self._watchdog / 3, lambda: self._renew(lease))
        return lease, 0.0

    def _renew(self, lease: Lease) -> float | None:
        """The watchdog: renew a held lease; when to do it again, or None to stop."""
        hold: Hold = lease._data
        started = time.monotonic()
        try:
            reply = self._extend(
                keys=[self._key(lease._name), self._epoch_key],
                args=[hold.value, milliseconds(self._watchdog)],
                client=self._wire.steady,
            )
        except redis.RedisError:
            with self._lock:
                if lease._phase != HELD or not hold.watchdog:
                    return None
                # Held for sure only until one lease after the last renewal.
                lease._expires_at = hold.confirmed + self._watchdog
                return None if started >= lease._expires_at else started + _RETRY
        with self._lock:
            if lease._phase != HELD or not hold.watchdog:
                return None
            if reply == 1 and type(reply) is int:
                hold.confirmed = started
                lease._expires_at = None
                return started + self._watchdog / 3
            lease._phase = EXPIRED  # lost, broken or run out: the holder learns it on release
            if self._held.get(lease._name) is lease:
                del self._held[lease._name]
        return None

    def _abandon(self, name: str, nonce: str, seconds: float | None) -> None:
        """Give up an attempt or a place in the background, until Redis confirms it."""
        lease_ms = milliseconds(self._watchdog if seconds is None else seconds)
        give_up = time.monotonic() + max(lease_ms, _TOMBSTONE_MS) / 1000
        keys = [
            self._key(name),
            f"{self._prefix}abandoned:{nonce}",
            f"{self._prefix}queue:{name}",
            f"{self._prefix}places:{name}",
        ]
        args = [nonce, max(lease_ms, _TOMBSTONE_MS), self._channel, name]

        def job() -> float | None:
            try:
                self._abandon_script(keys=keys, args=args, client=self._wire.steady)
            except redis.RedisError:
                now = time.monotonic()
                return None if now >= give_up else now + _RETRY
            return None

        self._keeper.schedule(object(), time.monotonic(), job)

    def _wake(self, name: str) -> None:
        def job() -> None:
            # If it is lost, the listener's poll finds the waiter anyway.
            with contextlib.suppress(redis.RedisError):
                self._wire.steady.publish(self._wake_channel, name)

        self._keeper.schedule(("wake", name), time.monotonic(), job)

    def _own(self, lease: Lease) -> Hold:
        if not isinstance(lease, Lease):
            raise TypeError(f"lease must be a Lease, not {type(lease).__name__}")
        if lease._backend is not self:
            raise LockError(f"{lease!r} belongs to another backend than {self!r}")
        hold: Hold = lease._data
        return hold

    # -- the LockBackend protocol ---------------------------------------------------------

    def try_acquire(
        self, name: str, lease: float | None, *, thread: threading.Thread, task: object | None
    ) -> Lease | None:
        """Take ``name`` if it is free and no local waiter is ahead; else ``None``.

        It waits at most ``timeout`` seconds for Redis; ``None`` if it did not answer.

        Raises:
            LockError: if Redis cannot be reached.

        >>> import threading
        >>> from shortly.contrib.redis import RedisBackend
        >>> backend = RedisBackend("redis://localhost:6379/0")
        >>> me = threading.current_thread()
        >>> backend.try_acquire("jobs", 30, thread=me, task=None)  # doctest: +SKIP
        <Lease 'jobs' token=1795284303353146 held>
        """
        with self._waiting.lock:
            if name in self._waiting.queues:
                return None  # no barging past this process's own waiters
        nonce = f"{self._nonce_prefix}{next(self._nonces)}"  # unique, and cheap
        for again in (False, True):
            try:
                granted, _ = self._take(name, lease, nonce, thread, task, join=False, quick=True)
                return granted
            except redis.TimeoutError:
                self._abandon(name, nonce, lease)  # Redis may still run it, later
                return None
            except redis.ConnectionError as error:
                # Perhaps only the reply was lost: the same attempt again finds its hold.
                if again:
                    self._abandon(name, nonce, lease)
                    raise LockError(
                        f"could not acquire lock {name!r}: Redis failed: {error}"
                    ) from error
            except redis.RedisError as error:
                raise LockError(
                    f"could not acquire lock {name!r}: Redis failed: {error}"
                ) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def enqueue(
        self,
        name: str,
        lease: float | None,
        waiter: Future[Lease],
        *,
        thread: threading.Thread,
        task: object | None,
    ) -> None:
        """Queue ``waiter`` for ``name``; the listener thread hands it the lock.

        >>> import shortly, threading
        >>> from shortly.contrib.redis import RedisBackend
        >>> backend = RedisBackend("redis://localhost:6379/0")
        >>> waiter = shortly.Future()
        >>> me = threading.current_thread()
        >>> backend.enqueue("jobs", 30, waiter, thread=me, task=None)  # doctest: +SKIP
        >>> waiter.result(timeout=10)  # doctest: +SKIP
        <Lease 'jobs' token=1795284303353147 held>
        """
        self._waiting.enqueue(name, lease, waiter, thread, task)

    def release(self, lease: Lease) -> None:
        """Release ``lease`` (compare-and-delete) and announce it to waiters.

        A release whose reply is lost is sent again; if Redis cannot be reached, the
        lock is released in the background as soon as it answers.

        Raises:
            LockError: if Redis no longer holds the lock for ``lease`` (released, run
                out, broken or lost by the server), or cannot be reached.

        >>> import shortly
        >>> from shortly.contrib.redis import RedisBackend
        >>> lock = shortly.Lock("jobs", backend=RedisBackend("redis://localhost:6379/0"))
        >>> lease = lock.acquire()  # doctest: +SKIP
        >>> lock.backend.release(lease)  # doctest: +SKIP
        """
        hold = self._own(lease)
        name = lease._name
        self._keeper.cancel(lease)
        keys, args = [self._key(name), self._epoch_key], [hold.value, self._channel, name]
        reply, again, failure = self._twice(self._release, keys, args)
        if reply is None:
            with self._lock:
                if self._held.get(name) is lease:
                    del self._held[name]
                lease._phase = RELEASED
            self._abandon(name, hold.nonce, hold.seconds)
            raise LockError(
                f"could not release {lease!r}: Redis failed: {failure}; it is released in "
                "the background once Redis answers (or runs out with its lease)"
            ) from failure
        with self._lock:
            if self._held.get(name) is lease:
                del self._held[name]
            # A repeat that finds the key gone may follow a first try that released it.
            if type(reply) is int or (again and not lost(lease, reply) and lease.live()):
                lease._phase = RELEASED
                return
            why = refusal(lease, reply)
            if lease._phase == HELD:
                lease._phase = EXPIRED
        raise LockError(why)

    def _twice(
        self, script: Any, keys: list[str], args: list[Any]
    ) -> tuple[Any, bool, redis.RedisError | None]:
        """Run an idempotent script, again if the connection failed (the reply may be lost).

        Returns the reply (None if Redis failed), whether it was the repeat, the error.
        """
        failure: redis.RedisError | None = None
        for again in (False, True):
            try:
                return script(keys=keys, args=args, client=self._wire.steady), again, None
            except redis.ConnectionError as error:
                failure = error
            except redis.RedisError as error:
                return None, again, error
        return None, True, failure

    def extend(self, lease: Lease, seconds: float) -> None:
        """Make ``lease`` run out ``seconds`` from now (compare-and-expire).

        A lease the watchdog renewed becomes a fixed one: it is not renewed any more.

        Raises:
            LockError: if Redis no longer holds the lock for ``lease``, or cannot be
                reached.

        >>> import shortly
        >>> from shortly.contrib.redis import RedisBackend
        >>> lock = shortly.Lock("jobs", lease=5, backend=RedisBackend("redis://localhost"))
        >>> lease = lock.acquire()  # doctest: +SKIP
        >>> lease.extend(60)  # doctest: +SKIP
        """
        hold = self._own(lease)
        started = time.monotonic()
        keys = [self._key(lease._name), self._epoch_key]
        reply, _, failure = self._twice(self._extend, keys, [hold.value, milliseconds(seconds)])
        if reply is None:
            raise LockError(f"could not extend {lease!r}: Redis failed: {failure}") from failure
        with self._lock:
            if type(reply) is int:
                hold.watchdog = False
                hold.seconds = seconds
                lease._expires_at = started + seconds
                self._keeper.cancel(lease)
                return
            why = refusal(lease, reply)
        raise LockError(why)

    def holder(self, name: str) -> Lease | None:
        """The live lease on ``name`` held through this backend object, if any.

        It changes nothing and needs no round trip (the deadlock check calls it).

        >>> from shortly.contrib.redis import RedisBackend
        >>> print(RedisBackend("redis://localhost:6379/0").holder("jobs"))
        None
        """
        with self._lock:
            lease = self._held.get(name)
            if lease is not None and not lease.live():
                del self._held[name]
                return None
            return lease

    def statistics(self, name: str) -> LockStatistics:
        """Whether ``name`` is held (by anyone), the holder's token, local waiters.

        Raises:
            LockError: if Redis cannot be reached.

        >>> from shortly.contrib.redis import RedisBackend
        >>> RedisBackend("redis://localhost:6379/0").statistics("jobs")  # doctest: +SKIP
        LockStatistics(locked=False, holder_token=None, waiters=0)
        """
        try:
            value = self._wire.steady.get(self._key(name))
        except redis.RedisError as error:
            raise LockError(f"could not read lock {name!r}: Redis failed: {error}") from error
        waiting = self._waiting.waiting(name)
        if value is None:
            return LockStatistics(False, None, waiting)
        return LockStatistics(True, int(text(value).partition(":")[0]), waiting)

    def break_lock(self, name: str) -> int:
        """Free ``name`` whoever holds it, and mint a fencing token above every earlier one.

        For an operator whose lock is held by a process that hangs (a crashed one frees
        it within its lease). The holder learns on its next release, extension or
        renewal that it lost the lock. Every later acquisition gets a token larger than
        the one returned: tell fenced storage to refuse tokens below it, and the broken
        holder cannot write any more.

        Raises:
            TypeError: if ``name`` is not a str.
            ValueError: if ``name`` is empty.
            LockError: if Redis cannot be reached.

        >>> from shortly.contrib.redis import RedisBackend
        >>> RedisBackend("redis://localhost:6379/0").break_lock("jobs")  # doctest: +SKIP
        1795284303353150
        """
        check_name(name)
        keys = [self._key(name), self._fence_key, self._epoch_key]
        try:
            reply = self._break(
                keys=keys, args=[self._channel, name, self._floor], client=self._wire.steady
            )
        except redis.RedisError as error:
            raise LockError(f"could not break lock {name!r}: Redis failed: {error}") from error
        token = int(text(reply[1]))
        with self._lock:
            self._floor = max(self._floor, token)
        return token

    def close(self) -> None:
        """Stop renewing leases and close this backend's connections.

        Locks still held then run out within their lease.

        >>> from shortly.contrib.redis import RedisBackend
        >>> RedisBackend("redis://127.0.0.1:1/0").close()
        """
        self._keeper.close()
        self._wire.close()

    def __repr__(self) -> str:
        return f"<RedisBackend prefix={self._prefix!r} on {self._wire.address}>"
