"""pulsar's ``LockBase`` and ``Lock``, on :class:`shortly.Lock`.

A pulsar ``Lock`` is a handle: each ``acquire`` takes a fresh :class:`shortly.Lock`
of the same name and keeps the :class:`shortly.Lease` it gets, so ``locked`` and
``release`` concern what this handle acquired, and an expired lease is told apart
from a lock that was never held.
"""

from __future__ import annotations

import abc
import asyncio
import threading
from collections.abc import Awaitable

from ..._core import Future as _CoreFuture
from ..._lock import Lease, LockError, check_blocking, check_name, check_seconds
from ..._lock import Lock as _CoreLock
from ._async import _check_loop
from ._object import AsyncObject

__all__ = ["Lock", "LockBase"]


class LockBase(AsyncObject, abc.ABC):
    """An asynchronous locking primitive associated to a given name; an :class:`AsyncObject`.

    A lock is 'locked' or 'unlocked', created unlocked. :meth:`acquire` locks it,
    waiting as ``blocking`` says while another holder has it; :meth:`release` unlocks
    it. ``async with lock:`` acquires (raising :exc:`~shortly.LockError` if it cannot) and
    releases.

    Its ``_loop`` is the loop it was created for: ``loop``, else the loop running where
    it is created, else None (created outside any loop, it uses whichever loop awaits
    it). ``logger`` and ``debug`` follow that loop, as for every :class:`AsyncObject`.

    Attributes:
        name: the lock's name.
        blocking: the time to wait for the lock when acquiring it: False does not
            wait, True waits for ever, a positive number waits that many seconds.
        timeout: free the lock after this many seconds; None (default) holds it
            until ``release`` is called.

    >>> import asyncio
    >>> from shortly.compat.pulsar import AsyncObject, Lock, LockBase
    >>> lock = Lock("doc-pulsar-lockbase", timeout=10, blocking=0.5)
    >>> isinstance(lock, LockBase), lock.name, lock.timeout, lock.blocking
    (True, 'doc-pulsar-lockbase', 10, 0.5)
    >>> async def main():
    ...     return Lock("doc-pulsar-lockbase")._loop is asyncio.get_running_loop()
    >>> isinstance(lock, AsyncObject), lock._loop, asyncio.run(main())
    (True, None, True)
    """

    def __init__(
        self,
        name: str,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout: float | None = None,
        blocking: bool | float = True,
    ) -> None:
        self.name = check_name(name)
        check_seconds(timeout, "timeout")
        check_blocking(blocking)
        self.timeout = timeout
        self.blocking = blocking
        self._loop = _check_loop(loop) or asyncio._get_running_loop()

    @abc.abstractmethod
    def locked(self) -> bool:
        """Return True if the lock is acquired (by this handle)."""

    @abc.abstractmethod
    async def acquire(self) -> bool:
        """Try to acquire the lock; return True if acquired."""

    @abc.abstractmethod
    def release(self) -> Awaitable[None]:
        """Release the lock."""

    async def __aenter__(self) -> LockBase:
        if not await self.acquire():
            raise LockError(f"could not acquire lock {self.name!r} (blocking={self.blocking})")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.locked():
            await self.release()


class Lock(LockBase):
    """An asynchronous lock, on :class:`shortly.Lock` (one process; leases for ``timeout``).

    Raises:
        TypeError: if ``name`` is not a str, or ``timeout``/``blocking`` not numbers.
        ValueError: if ``name`` is empty, ``timeout`` not positive, ``blocking`` negative.

    >>> import asyncio
    >>> from shortly.compat.pulsar import Lock
    >>> orders = Lock("doc-pulsar-orders")           # no loop needed to create it
    >>> async def main():
    ...     async with orders:
    ...         busy = await Lock("doc-pulsar-orders", blocking=False).acquire()
    ...     return busy, orders.locked()
    >>> asyncio.run(main())
    (False, False)
    """

    def __init__(
        self,
        name: str,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout: float | None = None,
        blocking: bool | float = True,
    ) -> None:
        super().__init__(name, loop=loop, timeout=timeout, blocking=blocking)
        self._mutex = threading.Lock()
        self._held: tuple[_CoreLock, Lease] | None = None

    def locked(self) -> bool:
        """Return True if this handle holds the lock (and ``timeout`` has not freed it).

        >>> from shortly.compat.pulsar import Lock
        >>> Lock("doc-pulsar-locked").locked()
        False
        """
        with self._mutex:
            held = self._held
        return held is not None and held[1].live()

    async def acquire(self) -> bool:
        """Try to acquire the lock, waiting as ``blocking`` says; True if acquired.

        >>> import asyncio
        >>> from shortly.compat.pulsar import Lock
        >>> async def main():
        ...     lock = Lock("doc-pulsar-acquire", timeout=10)
        ...     got = await lock.acquire()
        ...     await lock.release()
        ...     return got
        >>> asyncio.run(main())
        True
        """
        handle = _CoreLock(self.name, lease=self.timeout)
        lease = await handle.acquire_async(self.blocking)
        if lease is None:
            return False
        with self._mutex:
            self._held = handle, lease
        return True

    def release(self) -> _CoreFuture[None]:
        """Release the lock now; returns an awaitable, so ``await lock.release()`` works.

        If ``timeout`` freed the lock already, this does nothing: the lock may belong to
        someone else by now.

        Raises:
            LockError: if this handle never acquired the lock, or released it already.

        >>> import asyncio
        >>> from shortly.compat.pulsar import Lock
        >>> async def main():
        ...     lock = Lock("doc-pulsar-release")
        ...     await lock.acquire()
        ...     await lock.release()
        ...     return lock.locked()
        >>> asyncio.run(main())
        False
        """
        with self._mutex:
            held, self._held = self._held, None
        if held is None:
            raise LockError(f"release of lock {self.name!r}, which this handle does not hold")
        handle, lease = held
        if lease.live():
            try:
                handle.release(lease)
            except LockError:
                if lease.live():
                    raise  # not the expiry: the backend refused for another reason
        return _CoreFuture.resolved(None)
