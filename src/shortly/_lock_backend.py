"""The contract between a Lock and its backends: leases, errors, statistics, the protocol.

A backend (in-process, Redis, your own) hands out :class:`Lease` objects, one per
acquisition, each with a fencing token that only grows; :class:`~shortly.Lock` adds the
API around them (blocking, ``with``, ``async with``, deadlock checks). Everything a
backend needs to implement or raise lives here, so backends do not depend on ``Lock``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ._checks import FOREVER, check_seconds
from ._core import check_owner
from ._errors import Error, TimeoutError

if TYPE_CHECKING:
    from ._core import Future, Owner

__all__ = ["Lease", "LockBackend", "LockError", "LockStatistics", "LockTimeout", "Waiter"]

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
        "_phase",
        "_releaser",
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
        # Who is expected to release it, for the deadlock checks (see hand_off).
        self._releaser: Owner | None = thread
        # What the backend needs to recognise this lease (a timer, a Redis value).
        self._data = data
        self._phase = HELD

    @property
    def backend(self) -> LockBackend:
        """The backend that granted the lease.

        >>> import shortly
        >>> with shortly.Lock("doc-lease-backend") as lease:
        ...     type(lease.backend).__name__
        'LocalBackend'
        """
        return self._backend

    @property
    def name(self) -> str:
        """The name of the lock this lease holds.

        >>> import shortly
        >>> with shortly.Lock("doc-lease-name") as lease:
        ...     lease.name
        'doc-lease-name'
        """
        return self._name

    @property
    def token(self) -> int:
        """The fencing token: larger than that of every earlier acquisition of the name.

        >>> import shortly
        >>> with shortly.Lock("doc-lease-token") as lease:
        ...     lease.token > 0
        True
        """
        return self._token

    @property
    def thread(self) -> threading.Thread:
        """The thread that acquired the lease (releasing may happen in any thread).

        >>> import shortly, threading
        >>> with shortly.Lock("doc-lease-thread") as lease:
        ...     lease.thread is threading.current_thread()
        True
        """
        return self._thread

    @property
    def expires_at(self) -> float | None:
        """When the lease runs out, on the :func:`time.monotonic` clock; ``None``: never.

        For a remote backend this is the local, conservative estimate: the server's
        countdown started no earlier than the request was sent.

        >>> import shortly, time
        >>> with shortly.Lock("doc-expires-at", lease=10) as lease:
        ...     0 < lease.expires_at - time.monotonic() <= 10
        True
        """
        return self._expires_at

    def hand_off(self, to: Owner | None = None) -> Lease:
        """Make releasing this lease somebody else's job; return the lease.

        Until a lease is handed off, the thread that acquired it is taken to be the only
        one that will release it: if that thread blocks to acquire the lock again
        without a timeout, or closes a cycle of threads waiting for each other's locks,
        it gets :class:`~shortly.DeadlockError` instead of hanging. Call this when you
        give the lease to a worker that releases it later; the acquiring thread may
        then wait for the lock like anyone else. ``to`` names the new releaser (a
        thread, or an owner such as a :class:`~shortly.SerialExecutor`), so that the
        cycle check follows it; ``None`` means nobody in particular, and waits for
        this lease are then never refused.

        Raises:
            TypeError: if ``to`` is not a thread, an owner (an object with
                ``__shortly_owner_thread__``) or None.

        >>> import shortly, threading
        >>> lock = shortly.Lock("doc-hand-off")
        >>> lease = lock.acquire()
        >>> worker = threading.Thread(target=lease.hand_off().release)
        >>> worker.start()
        >>> lock.acquire(timeout=5).token > lease.token  # waits for the worker, no error
        True
        >>> worker.join(); lock.release()
        """
        if to is not None:
            check_owner(to, "to")
        self._releaser = to
        self._task = None  # no task is the releaser either: see Lock.acquire_async
        return self

    def live(self) -> bool:
        """Tell whether the lease is neither released nor past its expiry (local view).

        >>> import shortly
        >>> lease = shortly.Lock("doc-live").acquire()
        >>> lease.live(), (lease.release(), lease.live())[1]
        (True, False)
        """
        if self._phase != HELD:
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
            ValueError: if ``seconds`` is not positive, or is NaN (infinity and huge
                numbers are clamped to ``threading.TIMEOUT_MAX``).
            LockError: if the lease was released, has expired, or the backend lost it.

        >>> import shortly, time
        >>> lease = shortly.Lock("doc-extend", lease=0.5).acquire()
        >>> lease.extend(60)
        >>> lease.expires_at > time.monotonic() + 30
        True
        >>> lease.release()
        """
        duration = check_seconds(seconds, "seconds", allow_none=False)
        # None is check_seconds' "never": the longest lease the platform can time.
        self._backend.extend(self, FOREVER if duration is None else duration)

    def __repr__(self) -> str:
        state = self._phase
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
        """Take the lock now if it is free and nobody waits for it; else ``None``.

        ``lease`` is the lease length in seconds (``None``: no expiry); ``thread`` and
        ``task`` are the acquirer, recorded in the lease for the deadlock checks.

        >>> import shortly, threading
        >>> backend = shortly.LocalBackend()
        >>> me = threading.current_thread()
        >>> lease = backend.try_acquire("jobs", None, thread=me, task=None)
        >>> backend.try_acquire("jobs", None, thread=me, task=None) is None
        True
        >>> backend.release(lease)
        """
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
        lease was on the way (``try_set_result`` returns False) has that lease released,
        so the lock passes on.

        >>> import shortly, threading
        >>> backend, me = shortly.LocalBackend(), threading.current_thread()
        >>> first = backend.try_acquire("jobs", None, thread=me, task=None)
        >>> waiter = shortly.Future()
        >>> backend.enqueue("jobs", None, waiter, thread=me, task=None)
        >>> backend.release(first)
        >>> waiter.result().token > first.token
        True
        >>> backend.release(waiter.result())
        """
        ...

    def release(self, lease: Lease) -> None:
        """Release ``lease`` and hand the lock to the next waiter.

        Raises:
            LockError: if ``lease`` does not hold the lock (released, run out, lost);
                nothing changes then.

        >>> import shortly
        >>> lease = shortly.Lock("doc-protocol-release").acquire()
        >>> lease.backend.release(lease)
        """
        ...

    def extend(self, lease: Lease, seconds: float) -> None:
        """Make ``lease`` run out ``seconds`` from now.

        Raises:
            LockError: if ``lease`` does not hold the lock.

        >>> import shortly
        >>> lease = shortly.Lock("doc-protocol-extend", lease=1).acquire()
        >>> lease.backend.extend(lease, 60); lease.release()
        """
        ...

    def holder(self, name: str) -> Lease | None:
        """The live lease on ``name`` held in this process, if this backend knows it.

        It must change nothing and resolve no future: the deadlock check calls it
        while the wait-for graph is locked.

        >>> import shortly
        >>> lock = shortly.Lock("doc-protocol-holder")
        >>> with lock as lease:
        ...     lock.backend.holder("doc-protocol-holder") is lease
        True
        """
        ...

    def statistics(self, name: str) -> LockStatistics:
        """Whether ``name`` is held, by which token, and how many wait here.

        >>> import shortly
        >>> shortly.LocalBackend().statistics("idle")
        LockStatistics(locked=False, holder_token=None, waiters=0)
        """
        ...


class Waiter:
    """A thread (or task) waiting in a backend's queue for a lock, and its lease to be."""

    __slots__ = ("future", "lease", "task", "thread")

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
