"""Named locks with leases and fencing tokens, on pluggable backends.

A lock is a *name* on a *backend*: every ``Lock("orders")`` on one backend is the same
lock, whether the backend lives in this process (:class:`~shortly.LocalBackend`) or in a
Redis server shared by many machines (``shortly.contrib.redis.RedisBackend``). Three
ideas from distributed locking shape the API:

* **Ownership is per acquisition.** ``acquire()`` returns a :class:`Lease`, and whoever
  has the lease may release it, from any thread or task. A :class:`Lock` object is only a
  handle; ``release()`` without a lease means "the lease this thread or task acquired
  through this handle", which is what ``with lock:`` needs.
* **Leases.** A holder can crash or stall. With ``lease=seconds`` the lock frees itself
  after that long unless the holder extends it; the holder's late release then raises
  :class:`LockError` instead of silently releasing somebody else's hold.
* **Fencing tokens.** A stalled holder may not notice its lease ran out and write anyway.
  Every acquisition of a name gets a larger token than the ones before, so a storage
  system that remembers the largest token it has seen can refuse the late writer.

Waiting is a :class:`~shortly.Future` per waiter in a FIFO queue kept by the backend,
resolved with a lease at hand-off: a blocking ``acquire`` sleeps on it and ``async with``
awaits it, so one backend serves threads, asyncio and trio alike.
"""

from __future__ import annotations

import math
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import sniffio

from . import _report
from ._errors import DeadlockError, Error, TimeoutError
from ._future import Future

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Lease", "Lock", "LockBackend", "LockError", "LockStatistics", "LockTimeout"]

# Lease states; backends set them under their own lock.
HELD = "held"
RELEASED = "released"
EXPIRED = "expired"


class LockError(Error, RuntimeError):
    """A lock operation is not allowed: not the holder, lease expired, lock lost.

    Also a :class:`RuntimeError`, as the stdlib's ``release unlocked lock`` error is.

    >>> import shortly
    >>> try:
    ...     shortly.Lock("doc-lockerror").release()
    ... except shortly.LockError as e:
    ...     print("refused")
    refused
    """


class LockTimeout(LockError, TimeoutError):
    """``with lock:`` or ``async with lock:`` could not acquire the lock in time.

    A :class:`LockError` and a :class:`shortly.TimeoutError` (so also the builtin
    :class:`TimeoutError`).

    >>> import shortly
    >>> lock = shortly.Lock("doc-locktimeout", blocking=False)
    >>> lease = lock.acquire()
    >>> try:
    ...     with lock:
    ...         pass
    ... except TimeoutError as e:
    ...     print(type(e).__name__)
    LockTimeout
    >>> lease.release()
    """


@dataclass(frozen=True)
class LockStatistics:
    """What a lock is doing right now (trio's ``Lock.statistics()``, for monitoring).

    Attributes:
        locked: whether anyone holds the lock.
        holder_token: the fencing token of the holder's lease, or ``None``.
        waiters: acquisitions waiting for it (in this process, for Redis).

    >>> import shortly
    >>> lock = shortly.Lock("doc-statistics")
    >>> with lock:
    ...     print(lock.statistics().locked, lock.statistics().waiters)
    True 0
    """

    locked: bool
    holder_token: int | None
    waiters: int


class Lease:
    """One acquisition of a named lock: its fencing token, its expiry, its release.

    Backends create leases; users get them from :meth:`Lock.acquire`. Whoever has the
    lease may release or extend it, from any thread or task.

    Attributes:
        name: the lock's name.
        token: the fencing token, larger than that of every earlier acquisition of
            the name on this backend. Hand it to the storage you write to, so it can
            refuse writes from a holder whose lease already ran out.
        thread: the thread that acquired the lease.

    >>> import shortly
    >>> lock = shortly.Lock("doc-lease", lease=30)
    >>> first = lock.acquire(); first.release()
    >>> second = lock.acquire()
    >>> second.token > first.token, second.expires_at is not None
    (True, True)
    >>> second.release()
    """

    __slots__ = (
        "_backend",
        "_data",
        "_expires_at",
        "_name",
        "_state",
        "_task",
        "_thread",
        "_token",
    )

    def __init__(
        self,
        backend: LockBackend,
        name: str,
        token: int,
        expires_at: float | None,
        *,
        thread: threading.Thread,
        task: object | None = None,
        data: Any = None,
    ) -> None:
        self._backend = backend
        self._name = name
        self._token = token
        self._expires_at = expires_at
        self._thread = thread
        self._task = task
        # What the backend needs to recognise this lease (a timer, a Redis value).
        self._data = data
        self._state = HELD

    @property
    def name(self) -> str:
        return self._name

    @property
    def token(self) -> int:
        return self._token

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def expires_at(self) -> float | None:
        """When the lease runs out, on the :func:`time.monotonic` clock; ``None``: never.

        For a remote backend this is the local, conservative estimate: the server's
        countdown started no earlier than the request was sent.
        """
        return self._expires_at

    def live(self) -> bool:
        """Tell whether the lease is neither released nor past its expiry (local view).

        >>> import shortly
        >>> lease = shortly.Lock("doc-live").acquire()
        >>> lease.live(), (lease.release(), lease.live())[1]
        (True, False)
        """
        if self._state != HELD:
            return False
        expires_at = self._expires_at
        return expires_at is None or time.monotonic() < expires_at

    def release(self) -> None:
        """Release the lock held by this lease.

        Raises:
            LockError: if the lease was already released, has expired, or the backend
                lost it; nothing changes then.

        >>> import shortly
        >>> lock = shortly.Lock("doc-lease-release")
        >>> lease = lock.acquire(); lease.release(); lock.locked()
        False
        """
        self._backend.release(self)

    def extend(self, seconds: float) -> None:
        """Keep the lock for ``seconds`` from now (shorter or longer than before).

        A holder that works longer than its lease renews it with this, well before
        :attr:`expires_at`.

        Raises:
            TypeError: if ``seconds`` is not a number.
            ValueError: if ``seconds`` is not positive.
            LockError: if the lease was released, has expired, or the backend lost it.

        >>> import shortly, time
        >>> lease = shortly.Lock("doc-extend", lease=0.5).acquire()
        >>> lease.extend(60)
        >>> lease.expires_at > time.monotonic() + 30
        True
        >>> lease.release()
        """
        duration = check_seconds(seconds, "seconds", allow_none=False)
        assert duration is not None
        self._backend.extend(self, duration)

    def __repr__(self) -> str:
        state = self._state
        if state == HELD and not self.live():
            state = "past its expiry"
        return f"<Lease {self._name!r} token={self._token} {state}>"


@runtime_checkable
class LockBackend(Protocol):
    """Where named locks live: the contract :class:`Lock` relies on.

    Every method is thread-safe. Tokens come from one source per backend that only
    grows, so they grow per name too. A backend never calls user code while holding its
    own lock, and resolves waiter futures outside it.

    >>> import shortly
    >>> isinstance(shortly.LocalBackend(), shortly.LockBackend)
    True
    """

    def try_acquire(
        self, name: str, lease: float | None, *, thread: threading.Thread, task: object | None
    ) -> Lease | None:
        """Take the lock now if it is free and nobody waits for it; else ``None``."""
        ...

    def enqueue(
        self,
        name: str,
        lease: float | None,
        waiter: Future[Lease],
        *,
        thread: threading.Thread,
        task: object | None,
    ) -> None:
        """Queue ``waiter``: resolve it with a lease in FIFO turn, or fail it.

        A waiter cancelled before its turn leaves the queue; one cancelled while its
        lease was being handed over gets that lease released (``try_set_result`` says).
        """
        ...

    def release(self, lease: Lease) -> None:
        """Release ``lease`` and hand the lock to the next waiter; ``LockError`` if not held."""
        ...

    def extend(self, lease: Lease, seconds: float) -> None:
        """Make ``lease`` run out ``seconds`` from now; ``LockError`` if not held."""
        ...

    def holder(self, name: str) -> Lease | None:
        """The live lease on ``name`` held in this process, if this backend knows it."""
        ...

    def statistics(self, name: str) -> LockStatistics:
        """Whether ``name`` is held, by which token, and how many wait here."""
        ...


def check_name(name: object) -> str:
    """Return ``name`` if it is a non-empty str; raise naming the argument."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a non-empty str, not {type(name).__name__}")
    if not name:
        raise ValueError("name must be a non-empty str, not ''")
    return name


def check_seconds(value: object, name: str, *, allow_none: bool = True) -> float | None:
    """A positive duration; infinity and (if allowed) ``None`` mean "never"."""
    what = "a positive number of seconds" + (" or None" if allow_none else "")
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")
    if math.isnan(value) or value <= 0:
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return None if math.isinf(value) else float(value)


def check_blocking(value: object) -> float | None:
    """How long to wait: ``None`` for ever, ``0.0`` not at all, else seconds."""
    if value is True:
        return None
    if value is False:
        return 0.0
    what = "True, False or a number of seconds >= 0"
    if not isinstance(value, (int, float)):
        raise TypeError(f"blocking must be {what}, not {type(value).__name__}")
    if math.isnan(value) or value < 0:
        raise ValueError(f"blocking must be {what}, not {value!r}")
    return None if math.isinf(value) else float(value)


# The leases each thread or task acquired through which handle, newest last, so that
# release() and __exit__ find their own acquisition even when others share the handle.
# Each entry is (lock, lease, entered by `with`). A tuple in a ContextVar: threads and
# tasks each see their own, and a task started inside `with` cannot disturb its parent.
_Entry = tuple["Lock", Lease, bool]
_acquired: ContextVar[tuple[_Entry, ...]] = ContextVar("shortly_lock_acquired", default=())


def _remember(lock: Lock, lease: Lease, entered: bool) -> None:
    # Plain acquisitions released elsewhere would pile up: drop the dead ones. `with`
    # entries stay until their exit, which must say what became of its lease.
    kept = tuple(e for e in _acquired.get() if e[2] or e[1].live())
    _acquired.set((*kept, (lock, lease, entered)))


def _recall(lock: Lock, lease: Lease | None = None, *, entered: bool = False) -> Lease | None:
    """Remove and return this context's newest entry for ``lock`` (or ``lease``)."""
    entries = _acquired.get()
    for i in range(len(entries) - 1, -1, -1):
        held_by, held, via_with = entries[i]
        if lease is held or (lease is None and held_by is lock and (via_with or not entered)):
            _acquired.set(entries[:i] + entries[i + 1 :])
            return held
    return None


def _current_task() -> object | None:
    try:
        library = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return None
    if library == "asyncio":
        import asyncio

        return asyncio.current_task()
    if library == "trio":
        import trio

        return trio.lowlevel.current_task()
    return None


class _LockHolder:
    """The owner of a lock waiter's future: whichever thread holds the lock now.

    It lets the deadlock graph see "thread A waits for lock L held by thread B", so a
    cycle of threads each waiting for a lock the next one holds raises DeadlockError.
    A lease with an expiry ends by itself, so its holder is not an owner.
    """

    __slots__ = ("_backend", "_name")

    def __init__(self, backend: LockBackend, name: str) -> None:
        self._backend = backend
        self._name = name

    def __shortly_owner_thread__(self) -> threading.Thread | None:
        lease = self._backend.holder(self._name)
        if lease is None or lease.expires_at is not None:
            return None
        return lease.thread


def _abandon(waiter: Future[Lease]) -> None:
    """Withdraw ``waiter``; release the lease if it was granted in the meantime."""
    if waiter.cancel():
        return
    try:
        lease = waiter.result()
    except BaseException:
        return  # the backend failed the wait: the caller's own exception wins
    try:
        lease.release()
    except LockError:
        pass  # already lapsed: nothing is held, nothing to report
    except Exception as error:
        _report.report(error, "releasing a lock nobody was waiting for any more", repr(lease))


_default_backend: LockBackend | None = None
_default_lock = threading.Lock()


def default_backend() -> LockBackend:
    """The process-wide :class:`~shortly.LocalBackend` that ``Lock(name)`` uses."""
    global _default_backend
    with _default_lock:
        if _default_backend is None:
            from ._lock_local import LocalBackend

            _default_backend = LocalBackend()
        return _default_backend


class Lock:
    """A named lock: every ``Lock(name)`` on one backend is the same lock.

    Args:
        name: the lock's name (a non-empty str).
        lease: seconds after which a held lock is released automatically, or ``None``
            to hold it until released. Each acquisition gets a :class:`Lease`.
        blocking: the default for :meth:`acquire`: ``True`` waits for ever, ``False``
            tries once, a number waits that many seconds.
        backend: where the lock lives; default, a process-wide
            :class:`~shortly.LocalBackend`. Use ``shortly.contrib.redis.RedisBackend``
            to share locks between processes and machines.

    Raises:
        TypeError: if ``name`` is not a str, ``lease`` or ``blocking`` not a number,
            or ``backend`` not a :class:`LockBackend`.
        ValueError: if ``name`` is empty, ``lease`` not positive, ``blocking`` negative.

    Waiters get the lock in the order they asked for it (FIFO). The lock is not
    re-entrant: a thread that holds it and asks again, ready to wait for ever, gets
    :class:`~shortly.DeadlockError` at once, and so does a thread that would close a
    cycle of threads each waiting for a lock the next one holds.

    >>> import shortly
    >>> lock = shortly.Lock("doc-orders")
    >>> with lock:
    ...     lock.locked()
    True
    >>> lease = lock.acquire()
    >>> shortly.Lock("doc-orders").acquire(blocking=False) is None
    True
    >>> lock.release(lease)
    """

    __slots__ = ("_backend", "_blocking", "_lease", "_name")

    def __init__(
        self,
        name: str,
        *,
        lease: float | None = None,
        blocking: bool | float = True,
        backend: LockBackend | None = None,
    ) -> None:
        self._name = check_name(name)
        self._lease = check_seconds(lease, "lease")
        self._blocking = check_blocking(blocking)
        if backend is None:
            backend = default_backend()
        elif not isinstance(backend, LockBackend):
            raise TypeError(f"backend must be a LockBackend, not {type(backend).__name__}")
        self._backend: LockBackend = backend

    @property
    def name(self) -> str:
        return self._name

    @property
    def backend(self) -> LockBackend:
        return self._backend

    def _wait_time(self, blocking: bool | float | None) -> float | None:
        return self._blocking if blocking is None else check_blocking(blocking)

    # -- threads ----------------------------------------------------------------------

    def acquire(self, blocking: bool | float | None = None) -> Lease | None:
        """Acquire the lock; return its :class:`Lease`, or ``None`` if not had in time.

        Args:
            blocking: ``True`` waits for ever, ``False`` tries once, a number waits
                that many seconds; ``None`` uses the lock's own ``blocking``.

        Raises:
            DeadlockError: if waiting for ever could never end: this thread already
                holds the lock, or a cycle of threads waits on each other's locks.
            LockError: if the backend failed (a Redis backend that lost its server).

        >>> import shortly
        >>> lock = shortly.Lock("doc-acquire")
        >>> lease = lock.acquire()
        >>> lock.acquire(blocking=0.01) is None
        True
        >>> lock.release()
        """
        lease = self._acquire(self._wait_time(blocking))
        if lease is not None:
            _remember(self, lease, False)
        return lease

    def _acquire(self, wait: float | None) -> Lease | None:
        thread = threading.current_thread()
        lease = self._backend.try_acquire(self._name, self._lease, thread=thread, task=None)
        if lease is None and wait != 0:
            lease = self._wait(wait, thread)
        return lease

    def _wait(self, wait: float | None, thread: threading.Thread) -> Lease | None:
        owner = None
        if wait is None:
            holder = self._backend.holder(self._name)
            if holder is not None and holder.thread is thread:
                raise DeadlockError(
                    f"thread {thread.name!r} already holds {self!r} (lease token "
                    f"{holder.token}) and would wait for ever to acquire it again"
                )
            owner = _LockHolder(self._backend, self._name)
        waiter: Future[Lease] = Future(owner=owner)
        self._backend.enqueue(self._name, self._lease, waiter, thread=thread, task=None)
        try:
            waiter.wait(wait)
        except BaseException:
            _abandon(waiter)
            raise
        return None if waiter.cancel() else waiter.result()

    def release(self, lease: Lease | None = None) -> None:
        """Release ``lease``, or the one this thread or task acquired through this handle.

        From another thread or task, pass the lease (or call :meth:`Lease.release`).

        Raises:
            TypeError: if ``lease`` is not a :class:`Lease` or ``None``.
            LockError: if there is no such lease, it belongs to another lock, was
                released already, or expired; nothing changes then.

        >>> import shortly
        >>> lock = shortly.Lock("doc-release")
        >>> _ = lock.acquire()
        >>> lock.release()
        >>> lock.locked()
        False
        """
        if lease is None:
            lease = _recall(self)
            if lease is None:
                raise LockError(self._not_held())
        elif not isinstance(lease, Lease):
            raise TypeError(f"lease must be a Lease or None, not {type(lease).__name__}")
        elif lease.name != self._name or lease._backend is not self._backend:
            raise LockError(f"{lease!r} is a lease of another lock, not of {self!r}")
        else:
            _recall(self, lease)
        self._backend.release(lease)

    def _not_held(self) -> str:
        if not self.locked():
            return f"release of {self!r}, which is not locked"
        return (
            f"{self!r} is held, but not through this handle by this thread or task; "
            "pass the Lease to release it from elsewhere"
        )

    def locked(self) -> bool:
        """Tell whether anyone holds the lock.

        >>> import shortly
        >>> shortly.Lock("doc-locked").locked()
        False
        """
        return self._backend.statistics(self._name).locked

    def statistics(self) -> LockStatistics:
        """Whether the lock is held, the holder's fencing token, how many wait.

        >>> import shortly
        >>> shortly.Lock("doc-lock-statistics").statistics()
        LockStatistics(locked=False, holder_token=None, waiters=0)
        """
        return self._backend.statistics(self._name)

    def __enter__(self) -> Lease:
        lease = self._acquire(self._blocking)
        if lease is None:
            raise self._timed_out()
        _remember(self, lease, True)
        return lease

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        lease = _recall(self, entered=True)
        if lease is None:
            raise LockError(f"{self!r} was released inside its with block")
        self._backend.release(lease)

    # -- asyncio and trio -------------------------------------------------------------

    async def acquire_async(self, blocking: bool | float | None = None) -> Lease | None:
        """Acquire the lock from asyncio or trio; like :meth:`acquire`, without blocking.

        Raises:
            DeadlockError: if this task already holds the lock and would wait for ever.
            LockError: if the backend failed.

        >>> import asyncio, shortly
        >>> async def main():
        ...     lease = await shortly.Lock("doc-acquire-async").acquire_async()
        ...     lease.release()
        ...     return lease.token > 0
        >>> asyncio.run(main())
        True
        """
        lease = await self._acquire_async(self._wait_time(blocking))
        if lease is not None:
            _remember(self, lease, False)
        return lease

    async def _acquire_async(self, wait: float | None) -> Lease | None:
        thread = threading.current_thread()
        task = _current_task()
        lease = self._backend.try_acquire(self._name, self._lease, thread=thread, task=task)
        if lease is not None or wait == 0:
            return lease
        if wait is None and task is not None:
            holder = self._backend.holder(self._name)
            if holder is not None and holder._task is task:
                raise DeadlockError(
                    f"task {task!r} already holds {self!r} (lease token {holder.token}) "
                    "and would wait for ever to acquire it again"
                )
        waiter: Future[Lease] = Future()
        self._backend.enqueue(self._name, self._lease, waiter, thread=thread, task=task)
        try:
            if wait is None:
                await waiter
            else:
                try:
                    await waiter.with_timeout(wait)
                except TimeoutError:
                    pass  # the waiter itself says below whether it was granted meanwhile
        except BaseException:
            _abandon(waiter)
            raise
        return None if waiter.cancel() else waiter.result()

    async def __aenter__(self) -> Lease:
        lease = await self._acquire_async(self._blocking)
        if lease is None:
            raise self._timed_out()
        _remember(self, lease, True)
        return lease

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    def _timed_out(self) -> LockTimeout:
        if not self._blocking:
            return LockTimeout(f"{self!r} is held by another acquisition (blocking=False)")
        return LockTimeout(f"could not acquire {self!r} within {self._blocking} seconds")

    def __repr__(self) -> str:
        return f"<Lock {self._name!r} on {type(self._backend).__name__}>"
