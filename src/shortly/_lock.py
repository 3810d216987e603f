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

import contextlib
import threading
from contextvars import ContextVar
from typing import TYPE_CHECKING

import sniffio

from ._checks import FOREVER, check_delay
from ._checks import check_blocking as check_blocking
from ._checks import check_name as check_name
from ._checks import check_seconds as check_seconds
from ._core import Future, owner_thread, report
from ._errors import DeadlockError, TimeoutError

# Lock's vocabulary comes from the backend contract; re-exported for sibling modules.
from ._lock_backend import (
    RELEASED,
    Lease,
    LockBackend,
    LockError,
    LockStatistics,
    LockTimeout,
)
from ._lock_local import LocalBackend

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["Lease", "Lock", "LockBackend", "LockError", "LockStatistics", "LockTimeout"]

# The leases each thread or task acquired through which handle, newest last, so that
# release() and __exit__ find their own acquisition even when others share the handle.
# Each entry is (lock, lease, entered by `with`). A tuple in a ContextVar: threads and
# tasks each see their own, and a task started inside `with` cannot disturb its parent.
_Entry = tuple["Lock", Lease, bool]
_acquired: ContextVar[tuple[_Entry, ...]] = ContextVar("shortly_lock_acquired", default=())


def _remember(lock: Lock, lease: Lease, entered: bool) -> None:
    entries = _acquired.get()
    if entries:
        # Plain acquisitions released elsewhere would pile up: drop the dead ones.
        # `with` entries stay until their exit, which must say what became of them.
        entries = tuple([e for e in entries if e[2] or e[1].live()])
    _acquired.set((*entries, (lock, lease, entered)))


def _matches(entry: _Entry, lock: Lock, lease: Lease | None, entered: bool) -> bool:
    held_by, held, via_with = entry
    if lease is not None:
        return held is lease
    if held_by is not lock:
        return False
    # Skip plain acquisitions already released elsewhere (with Lease.release); one
    # that ran out is found, so that its release can say so.
    return via_with or (not entered and held._phase != RELEASED)


def _recall(lock: Lock, lease: Lease | None = None, *, entered: bool = False) -> Lease | None:
    """Remove and return this context's newest entry for ``lease``, or for ``lock``."""
    entries = _acquired.get()
    for i in range(len(entries) - 1, -1, -1):
        if _matches(entries[i], lock, lease, entered):
            _acquired.set(entries[:i] + entries[i + 1 :])
            return entries[i][1]
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
        return owner_thread(lease._releaser)  # handed off: whoever it went to


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
        report(error, "releasing a lock nobody was waiting for any more", repr(lease))


# What Lock(name) uses without a backend: one per process, so names meet there.
_default_backend = LocalBackend()


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
    cycle of threads each waiting for a lock the next one holds. For these checks the
    thread that acquired a lease without expiry is the one expected to release it,
    until it gives the lease away with :meth:`Lease.hand_off`.

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
            backend = _default_backend
        elif not isinstance(backend, LockBackend):
            raise TypeError(f"backend must be a LockBackend, not {type(backend).__name__}")
        self._backend: LockBackend = backend

    @property
    def name(self) -> str:
        """The lock's name.

        >>> import shortly
        >>> shortly.Lock("doc-name").name
        'doc-name'
        """
        return self._name

    @property
    def backend(self) -> LockBackend:
        """Where the lock lives.

        >>> import shortly
        >>> type(shortly.Lock("doc-backend").backend).__name__
        'LocalBackend'
        """
        return self._backend

    def _wait_time(self, blocking: bool | float | None, timeout: float) -> float | None:
        if isinstance(timeout, (int, float)) and timeout == -1:  # the stdlib's "not given"
            return self._blocking if blocking is None else check_blocking(blocking)
        if blocking is False:
            raise ValueError("can't specify a timeout for a non-blocking call")
        if blocking is not None and blocking is not True:
            raise ValueError("pass blocking=<seconds> or timeout=<seconds>, not both")
        seconds = check_delay(timeout, "timeout")
        return None if seconds >= FOREVER else float(seconds)

    # -- threads ----------------------------------------------------------------------

    def acquire(self, blocking: bool | float | None = None, timeout: float = -1) -> Lease | None:
        """Acquire the lock; return its :class:`Lease`, or ``None`` if not had in time.

        Args:
            blocking: ``True`` waits for ever, ``False`` tries once, a number waits
                that many seconds; ``None`` uses the lock's own ``blocking``.
            timeout: as for :meth:`threading.Lock.acquire`: wait at most that many
                seconds; ``-1`` (the default) leaves it to ``blocking``.

        Raises:
            DeadlockError: if waiting for ever could never end: this thread already
                holds the lock, or a cycle of threads waits on each other's locks.
            LockError: if the backend failed (a Redis backend that lost its server).
            ValueError: if ``timeout`` is negative (other than ``-1``) or NaN, or
                comes with ``blocking=False`` or a number of seconds for ``blocking``.

        >>> import shortly
        >>> lock = shortly.Lock("doc-acquire")
        >>> lease = lock.acquire()
        >>> lock.acquire(blocking=0.01) is None, lock.acquire(timeout=0.01) is None
        (True, True)
        >>> lock.release()
        """
        lease = self._acquire(self._wait_time(blocking, timeout))
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
            if holder is not None and holder._releaser is thread:
                raise DeadlockError(
                    f"thread {thread.name!r} already holds {self!r} (lease token "
                    f"{holder.token}) and would wait for ever to acquire it again; "
                    "if another thread is to release it, give it the lease with "
                    "lease.hand_off()"
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

    async def acquire_async(
        self, blocking: bool | float | None = None, timeout: float = -1
    ) -> Lease | None:
        """Acquire the lock from asyncio or trio; like :meth:`acquire`, without blocking.

        Raises:
            DeadlockError: if this task already holds the lock and would wait for ever.
            LockError: if the backend failed.
            ValueError: if ``timeout`` is negative (other than ``-1``) or NaN, or
                comes with ``blocking=False`` or a number of seconds for ``blocking``.

        >>> import asyncio, shortly
        >>> async def main():
        ...     lease = await shortly.Lock("doc-acquire-async").acquire_async()
        ...     lease.release()
        ...     return lease.token > 0
        >>> asyncio.run(main())
        True
        """
        lease = await self._acquire_async(self._wait_time(blocking, timeout))
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
                # On time-out the waiter itself says below whether it was granted meanwhile.
                with contextlib.suppress(TimeoutError):
                    await waiter.with_timeout(wait)
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
