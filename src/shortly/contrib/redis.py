"""Named locks shared by processes and machines through one Redis server (extra ``[redis]``).

:class:`RedisBackend` keeps each held lock as one Redis key whose value is the holder's
fencing token and a random nonce, set with ``SET NX``-like semantics and ``PX`` for the
lease. Release and extend are compare-and-act Lua scripts, so a holder whose lease ran
out can never delete or prolong a later holder's key.

**Waiting without sleeping.** A release publishes the lock's name on a channel. Each
backend with waiters runs one listener thread, subscribed to that channel, which tries
again for the first local waiter of a name as soon as its release is announced, or when
the holder's lease is due to run out (the failed attempt reports the remaining time), or
at the latest after ``poll`` seconds, the fallback for a lost message. Hand-off between
processes takes a few round trips, not redis-py's 100 ms sleep loop. Waiters of one
process are served FIFO; between processes Redis decides (no global queue).

**Fencing tokens survive a restart.** Tokens come from ``INCR`` on one counter per
prefix. A server without persistence forgets that counter when it restarts, so the
counter is not started at zero: the first acquisition after it is lost seeds it with the
server's clock in microseconds (or the largest token this backend has seen, plus one,
if that is larger). Tokens then keep growing across restarts as long as the server's
clock does not step back and fewer than a million acquisitions happen per second on
average, far beyond what one Redis serves. The seed also marks an *epoch*: a holder whose
release or extension finds another epoch is told that Redis lost its lock, and a
:class:`~shortly.LockError` says so.

A single Redis server (or a primary with replicas) is assumed, not Redlock over several:
a failover to a replica that missed the last writes can lose a lock, which the epoch
check then reports and fencing tokens make harmless to storage that checks them.

Creating a backend does not connect; the first lock operation does (the lines that
need a running server are skipped when the documentation is tested):

>>> import shortly
>>> from shortly.contrib.redis import RedisBackend
>>> backend = RedisBackend("redis://localhost:6379/0")
>>> invoices = shortly.Lock("invoices", lease=30, backend=backend)
>>> with invoices as lease:  # doctest: +SKIP
...     storage.write(invoice, fencing_token=lease.token)
"""

from __future__ import annotations

import contextlib
import math
import secrets
import threading
import time
import uuid
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

import redis

from .._checks import check_seconds
from .._lock_backend import (
    EXPIRED,
    HELD,
    RELEASED,
    Lease,
    LockError,
    LockStatistics,
)

if TYPE_CHECKING:
    from .._future import Future

__all__ = ["RedisBackend"]

# KEYS: lock, fence counter, epoch. ARGV: nonce, lease in ms (0: none), token floor.
# Returns {1, token, epoch} when acquired, {0, ms left on the holder's lease (-1: none)}.
# string.format("%d") because tostring() would print a 16-digit token as 1.7e+15.
_ACQUIRE = """
local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then
  return {0, left}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local now = redis.call('TIME')
  local seed = tonumber(now[1]) * 1000000 + tonumber(now[2])
  seed = string.format('%d', math.max(seed, tonumber(ARGV[3])))
  redis.call('SET', KEYS[2], seed)
  redis.call('SET', KEYS[3], seed)
end
local token = redis.call('INCR', KEYS[2])
local value = string.format('%d', token) .. ':' .. ARGV[1]
if ARGV[2] == '0' then
  redis.call('SET', KEYS[1], value)
else
  redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
end
return {1, token, redis.call('GET', KEYS[3]) or ''}
"""

# KEYS: lock, epoch. ARGV: value, channel, name. Returns {1} or {0, epoch}.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return {1}
end
return {0, redis.call('GET', KEYS[2]) or ''}
"""

# KEYS: lock, epoch. ARGV: value, lease in ms. Returns {1} or {0, epoch}.
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
return {0, redis.call('GET', KEYS[2]) or ''}
"""

# How long the listener waits for Redis to confirm its subscriptions.
_SUBSCRIBE_TIMEOUT = 10.0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class _Waiter:
    __slots__ = ("future", "lease", "nonce", "task", "thread")

    def __init__(
        self,
        future: Future[Lease],
        lease: float | None,
        thread: threading.Thread,
        task: object | None,
    ) -> None:
        self.future = future
        self.lease = lease
        self.thread = thread
        self.task = task
        self.nonce = secrets.token_hex(16)


class _Queue:
    """The local waiters of one name, and when to try for the first of them next."""

    __slots__ = ("due", "waiters")

    def __init__(self) -> None:
        self.waiters: deque[_Waiter] = deque()
        self.due = 0.0


class RedisBackend:
    """Locks in a Redis server, for many processes on many machines.

    Args:
        client_or_url: a :class:`redis.Redis` client, or a URL such as
            ``"redis://host:6379/0"`` (the backend then owns its client; see
            :meth:`close`). Works with ``decode_responses`` either way.
        prefix: the prefix of every key and channel this backend uses.
        poll: the longest a waiter waits between attempts if a release notification
            is lost (seconds).

    Raises:
        TypeError: if ``client_or_url`` is neither, ``prefix`` not a str or ``poll``
            not a number.
        ValueError: if ``prefix`` is empty or ``poll`` not positive.

    Every operation is a round trip to Redis and raises :class:`~shortly.LockError`
    (chained to redis-py's error) when Redis cannot be reached. From asyncio or trio
    those short round trips run on the loop's thread; waiting never does.

    >>> import shortly
    >>> from shortly.contrib.redis import RedisBackend
    >>> backend = RedisBackend("redis://localhost:6379/0", prefix="billing:")
    >>> backend
    <RedisBackend prefix='billing:' ...>
    >>> lease = shortly.Lock("jobs", lease=30, backend=backend).acquire()  # doctest: +SKIP
    >>> lease.token  # doctest: +SKIP
    1795284303353146
    """

    def __init__(
        self, client_or_url: redis.Redis | str, *, prefix: str = "shortly:lock:", poll: float = 0.25
    ) -> None:
        if isinstance(client_or_url, str):
            self._client: redis.Redis = redis.Redis.from_url(client_or_url)
            self._owns_client = True
        elif isinstance(client_or_url, redis.Redis):
            self._client = client_or_url
            self._owns_client = False
        else:
            raise TypeError(
                "client_or_url must be a redis.Redis client or a redis:// URL, "
                f"not {type(client_or_url).__name__}"
            )
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a non-empty str, not {type(prefix).__name__}")
        if not prefix:
            raise ValueError("prefix must be a non-empty str, not ''")
        interval = check_seconds(poll, "poll", allow_none=False)
        assert interval is not None
        self._prefix = prefix
        self._poll = min(interval, 3600.0)
        self._fence_key = f"{prefix}fence"
        self._epoch_key = f"{prefix}epoch"
        self._channel = f"{prefix}released"
        self._wake_channel = f"{prefix}wake:{uuid.uuid4().hex}"
        self._acquire = self._client.register_script(_ACQUIRE)
        self._release = self._client.register_script(_RELEASE)
        self._extend = self._client.register_script(_EXTEND)
        self._lock = threading.Lock()
        self._queues: dict[str, _Queue] = {}
        self._held: dict[str, Lease] = {}
        self._floor = 0  # the largest token seen: a floor for re-seeding the counter
        self._listener: threading.Thread | None = None

    def _key(self, name: str) -> str:
        return f"{self._prefix}held:{name}"

    # -- one attempt, from any thread -------------------------------------------------------

    def _try(
        self,
        name: str,
        seconds: float | None,
        nonce: str,
        thread: threading.Thread,
        task: object | None,
    ) -> tuple[Lease | None, float]:
        """One round trip: the lease, or None and how long the holder's lease has left."""
        started = time.monotonic()
        px = 0 if seconds is None else _milliseconds(seconds)
        reply = self._acquire(
            keys=[self._key(name), self._fence_key, self._epoch_key],
            args=[nonce, px, self._floor],
        )
        if reply[0] == 0:
            left = int(reply[1])
            return None, self._poll if left < 0 else left / 1000
        token = int(reply[1])
        value = f"{token}:{nonce}"
        expires_at = None if seconds is None else started + seconds
        lease = Lease(
            self, name, token, expires_at, thread=thread, task=task, data=(value, _text(reply[2]))
        )
        with self._lock:
            self._held[name] = lease
            self._floor = max(self._floor, token)
        return lease, 0.0

    def _refusal(self, lease: Lease, epoch: str) -> str:
        _, held_epoch = lease._data
        if epoch != held_epoch:
            return (
                f"Redis lost {lease!r} while it was held: the server restarted without "
                "persistence, failed over or was flushed. The lock may have a new holder, "
                "with a larger fencing token"
            )
        if lease._state == RELEASED:
            return f"{lease!r} was already released"
        return (
            f"{lease!r}: its lease ran out in Redis, and the lock may have passed to "
            "another holder since; whatever it guarded was not protected after that"
        )

    def _own(self, lease: Lease) -> tuple[str, str]:
        if not isinstance(lease, Lease):
            raise TypeError(f"lease must be a Lease, not {type(lease).__name__}")
        if lease._backend is not self:
            raise LockError(f"{lease!r} belongs to another backend than {self!r}")
        value, epoch = lease._data
        return value, epoch

    # -- the LockBackend protocol ---------------------------------------------------------

    def try_acquire(
        self, name: str, lease: float | None, *, thread: threading.Thread, task: object | None
    ) -> Lease | None:
        """Take ``name`` if it is free and no local waiter is ahead; else ``None``.

        Raises:
            LockError: if Redis cannot be reached.

        >>> import threading
        >>> from shortly.contrib.redis import RedisBackend
        >>> backend = RedisBackend("redis://localhost:6379/0")
        >>> me = threading.current_thread()
        >>> backend.try_acquire("jobs", 30, thread=me, task=None)  # doctest: +SKIP
        <Lease 'jobs' token=1795284303353146 held>
        """
        with self._lock:
            if name in self._queues:
                return None  # no barging past this process's own waiters
        try:
            granted, _ = self._try(name, lease, secrets.token_hex(16), thread, task)
        except redis.RedisError as error:
            raise LockError(f"could not acquire lock {name!r}: Redis failed: {error}") from error
        return granted

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
        record = _Waiter(waiter, lease, thread, task)
        with self._lock:
            if waiter.done():
                return
            queue = self._queues.get(name)
            fresh = queue is None
            if queue is None:
                queue = self._queues[name] = _Queue()
            queue.waiters.append(record)
            listening = self._listener is not None
            if not listening:
                listener = threading.Thread(
                    target=self._listen, name=f"shortly-redis-locks {self._prefix}", daemon=True
                )
                try:
                    listener.start()
                except BaseException:
                    queue.waiters.pop()
                    if not queue.waiters:
                        del self._queues[name]
                    raise
                self._listener = listener
        waiter.add_done_callback(partial(self._withdraw, name, record))
        if fresh and listening:
            # A running listener sleeps until a message or a deadline: wake it for
            # the new name. If this is lost, the poll still finds the waiter.
            with contextlib.suppress(redis.RedisError):
                self._client.publish(self._wake_channel, name)

    def release(self, lease: Lease) -> None:
        """Release ``lease`` (compare-and-delete) and announce it to waiters.

        Raises:
            LockError: if Redis no longer holds the lock for ``lease`` (released, run
                out, or lost by the server), or cannot be reached.

        >>> import shortly
        >>> from shortly.contrib.redis import RedisBackend
        >>> lock = shortly.Lock("jobs", backend=RedisBackend("redis://localhost:6379/0"))
        >>> lease = lock.acquire()  # doctest: +SKIP
        >>> lock.backend.release(lease)  # doctest: +SKIP
        """
        value, _ = self._own(lease)
        name = lease._name
        try:
            reply = self._release(
                keys=[self._key(name), self._epoch_key], args=[value, self._channel, name]
            )
        except redis.RedisError as error:
            raise LockError(f"could not release {lease!r}: Redis failed: {error}") from error
        with self._lock:
            if self._held.get(name) is lease:
                del self._held[name]
            if reply[0] == 1:
                lease._state = RELEASED
                return
            refusal = self._refusal(lease, _text(reply[1]))
            if lease._state == HELD:
                lease._state = EXPIRED
        raise LockError(refusal)

    def extend(self, lease: Lease, seconds: float) -> None:
        """Make ``lease`` run out ``seconds`` from now (compare-and-expire).

        Raises:
            LockError: if Redis no longer holds the lock for ``lease``, or cannot be
                reached.

        >>> import shortly
        >>> from shortly.contrib.redis import RedisBackend
        >>> lock = shortly.Lock("jobs", lease=5, backend=RedisBackend("redis://localhost"))
        >>> lease = lock.acquire()  # doctest: +SKIP
        >>> lease.extend(60)  # doctest: +SKIP
        """
        value, _ = self._own(lease)
        started = time.monotonic()
        try:
            reply = self._extend(
                keys=[self._key(lease._name), self._epoch_key], args=[value, _milliseconds(seconds)]
            )
        except redis.RedisError as error:
            raise LockError(f"could not extend {lease!r}: Redis failed: {error}") from error
        with self._lock:
            if reply[0] == 1:
                lease._expires_at = started + seconds
                return
            refusal = self._refusal(lease, _text(reply[1]))
        raise LockError(refusal)

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
            value = self._client.get(self._key(name))
        except redis.RedisError as error:
            raise LockError(f"could not read lock {name!r}: Redis failed: {error}") from error
        with self._lock:
            queue = self._queues.get(name)
            waiting = 0 if queue is None else sum(1 for w in queue.waiters if not w.future.done())
        if value is None:
            return LockStatistics(False, None, waiting)
        return LockStatistics(True, int(_text(value).partition(":")[0]), waiting)

    def close(self) -> None:
        """Close the client if this backend created it from a URL.

        >>> from shortly.contrib.redis import RedisBackend
        >>> RedisBackend("redis://127.0.0.1:1/0").close()
        """
        if self._owns_client:
            self._client.close()

    # -- the listener thread ------------------------------------------------------------

    def _withdraw(self, name: str, waiter: _Waiter, future: Future[Lease]) -> None:
        if not future.cancelled():
            return
        with self._lock:
            queue = self._queues.get(name)
            if queue is not None and waiter in queue.waiters:
                queue.waiters.remove(waiter)
                if not queue.waiters:
                    del self._queues[name]

    def _listen(self) -> None:
        pubsub = self._client.pubsub()
        try:
            self._subscribe(pubsub)
            while True:
                with self._lock:
                    if not self._queues:
                        self._listener = None
                        return
                    now = time.monotonic()
                    due = [name for name, queue in self._queues.items() if queue.due <= now]
                for name in due:
                    self._attempt(name)
                with self._lock:
                    wake_at = min((q.due for q in self._queues.values()), default=0.0)
                message = pubsub.get_message(timeout=max(0.0, wake_at - time.monotonic()))
                while message is not None:
                    self._wake(message)
                    message = pubsub.get_message(timeout=0.0)
        except BaseException as error:
            self._fail_waiters(error)
            if not isinstance(error, Exception):
                raise
        finally:
            pubsub.close()

    def _subscribe(self, pubsub: Any) -> None:
        """Subscribe, and return only once Redis confirmed it: no release can slip by."""
        pubsub.subscribe(self._channel, self._wake_channel)
        deadline = time.monotonic() + _SUBSCRIBE_TIMEOUT
        confirmed = 0
        while confirmed < 2:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockError("Redis did not confirm the subscription to lock releases")
            message = pubsub.get_message(timeout=left)
            if message is not None and message["type"] == "subscribe":
                confirmed += 1
        with self._lock:
            for queue in self._queues.values():
                queue.due = 0.0

    def _wake(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        with self._lock:
            queue = self._queues.get(_text(message["data"]))
            if queue is not None:
                queue.due = 0.0

    def _attempt(self, name: str) -> None:
        """Try once for the first waiter of ``name``; hand it the lease if acquired."""
        with self._lock:
            queue = self._queues.get(name)
            if queue is None:
                return
            waiters = queue.waiters
            while waiters and waiters[0].future.done():
                waiters.popleft()
            if not waiters:
                del self._queues[name]
                return
            waiter = waiters[0]
            queue.due = math.inf  # enqueue() of a new name may lower it meanwhile
        lease, left = self._try(name, waiter.lease, waiter.nonce, waiter.thread, waiter.task)
        with self._lock:
            if lease is None:
                queue.due = min(queue.due, time.monotonic() + min(left, self._poll))
                return
            if waiters and waiters[0] is waiter:
                waiters.popleft()
            if waiters:
                queue.due = time.monotonic() + self._poll
            elif self._queues.get(name) is queue:
                del self._queues[name]
        if not waiter.future.try_set_result(lease):
            # The waiter gave up while its lease was on the way: pass the lock on.
            with contextlib.suppress(LockError):
                self.release(lease)

    def _fail_waiters(self, error: BaseException) -> None:
        with self._lock:
            queues, self._queues = self._queues, {}
            self._listener = None
        for name, queue in queues.items():
            for waiter in queue.waiters:
                failure = LockError(f"stopped waiting for lock {name!r}: Redis failed: {error}")
                failure.__cause__ = error
                waiter.future.try_set_exception(failure)

    def __repr__(self) -> str:
        return f"<RedisBackend prefix={self._prefix!r} on {self._client!r}>"
