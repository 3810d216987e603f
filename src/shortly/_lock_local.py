"""LocalBackend: named locks inside one process.

One dict maps each name *in use* (held, or waited for) to its holder and its FIFO queue
of waiters; a name leaves the dict as soon as it is free, so using a million distinct
names over time costs nothing once they are released. Tokens come from one counter for
the whole backend, so they grow per name too without keeping a counter per name.

Hand-off happens under the backend's lock: a release makes the first waiter the holder
before anyone else can barge in, then resolves that waiter's future outside the lock
(that runs callbacks, which may wake an event loop). A waiter that gave up in between
finds its ``try_set_result`` refused, and the lock passes on to the next one.

Leases run out on the shared timer thread (:func:`shortly._timers.later`). The clock is
also checked on every operation, so a lease is over at ``expires_at`` exactly, however
late the timer thread is; the timer only makes sure waiters wake without polling.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING

from ._lock_backend import EXPIRED, RELEASED, Lease, LockError, LockStatistics, Waiter
from ._timers import later

if TYPE_CHECKING:
    from ._core import Future

__all__ = ["LocalBackend"]


class _Name:
    """A name in use: it has a holder (always) and maybe waiters."""

    __slots__ = ("holder", "waiters")

    def __init__(self, holder: Lease) -> None:
        self.holder = holder
        self.waiters: deque[Waiter] | None = None  # most locks never see a waiter


# What to do once the backend's lock is released: cancel a lease's timer, deliver a
# lease to the waiter it was handed to.
_After = tuple["Future[None] | None", "tuple[Waiter, Lease] | None"]


def _lapsed(lease: Lease) -> bool:
    expires_at = lease._expires_at
    return expires_at is not None and time.monotonic() >= expires_at


def _refusal(lease: Lease) -> str:
    if lease._phase == EXPIRED or _lapsed(lease):
        return (
            f"{lease!r}: its lease ran out, and the lock may have passed to another "
            "holder since; whatever it guarded was not protected after that"
        )
    return f"{lease!r} was already released"


class LocalBackend:
    """Named locks for the threads and event loops of one process (the default).

    Waiters are served first come, first served, woken by the releaser or by the
    lease timer, never by polling. Names are kept only while in use.

    >>> import shortly
    >>> backend = shortly.LocalBackend()
    >>> a = shortly.Lock("jobs", backend=backend)
    >>> b = shortly.Lock("jobs", backend=shortly.LocalBackend())
    >>> with a:
    ...     b.locked(), a.locked()
    (False, True)
    """

    __slots__ = ("_last_token", "_lock", "_names")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._names: dict[str, _Name] = {}
        self._last_token = 0

    # -- under the lock -------------------------------------------------------------

    def _grant_locked(
        self, name: str, seconds: float | None, thread: threading.Thread, task: object | None
    ) -> Lease:
        self._last_token += 1
        if seconds is None:
            return Lease(self, name, self._last_token, None, thread=thread, task=task)
        # expires_at is taken before the timer is armed, so the timer never fires
        # before the lease has run out by the clock.
        lease = Lease(
            self, name, self._last_token, time.monotonic() + seconds, thread=thread, task=task
        )
        lease._data = later(seconds, self._expire, lease)
        return lease

    def _end_locked(self, lease: Lease, how: str) -> _After:
        """End the holder's ``lease``; hand the lock to the first live waiter, if any."""
        lease._phase = how
        timer, lease._data = lease._data, None
        name = lease._name
        waiters = self._names[name].waiters
        while waiters:
            waiter = waiters.popleft()
            if waiter.future.done():
                continue  # cancelled; its withdrawal has not run yet
            holder = self._grant_locked(name, waiter.lease, waiter.thread, waiter.task)
            self._names[name].holder = holder
            return timer, (waiter, holder)
        del self._names[name]
        return timer, None

    def _current_locked(self, name: str) -> tuple[_Name | None, _After | None]:
        """The name's state once a holder past its expiry has been ended."""
        state = self._names.get(name)
        if state is None or not _lapsed(state.holder):
            return state, None
        after = self._end_locked(state.holder, EXPIRED)
        return self._names.get(name), after

    # -- outside the lock ---------------------------------------------------------------

    def _finish(self, after: _After | None) -> None:
        while after is not None:
            timer, grant = after
            if timer is not None:
                timer.cancel()
            if grant is None:
                return
            waiter, lease = grant
            if waiter.future.try_set_result(lease):
                return
            # The waiter gave up between hand-off and delivery: pass the lock on,
            # unless the lease's timer already did.
            with self._lock:
                state = self._names.get(lease._name)
                if state is None or state.holder is not lease:
                    return
                after = self._end_locked(lease, RELEASED)

    def _expire(self, lease: Lease) -> None:
        """The lease timer: end ``lease`` if it is still the holder and has run out."""
        with self._lock:
            state = self._names.get(lease._name)
            if state is None or state.holder is not lease or not _lapsed(lease):
                return  # released, or extended (a newer timer will come)
            after = self._end_locked(lease, EXPIRED)
        self._finish(after)

    def _withdraw(self, name: str, waiter: Waiter, future: Future[Lease]) -> None:
        if not future.cancelled():
            return
        with self._lock:
            state = self._names.get(name)
            if state is not None and state.waiters and waiter in state.waiters:
                state.waiters.remove(waiter)

    def _own(self, lease: Lease) -> None:
        if not isinstance(lease, Lease):
            raise TypeError(f"lease must be a Lease, not {type(lease).__name__}")
        if lease._backend is not self:
            raise LockError(f"{lease!r} belongs to another backend than {self!r}")

    # -- the LockBackend protocol ---------------------------------------------------------

    def try_acquire(
        self, name: str, lease: float | None, *, thread: threading.Thread, task: object | None
    ) -> Lease | None:
        """Take ``name`` if it is free; ``None`` if held (see :class:`~shortly.LockBackend`).

        >>> import shortly, threading
        >>> backend = shortly.LocalBackend()
        >>> lease = backend.try_acquire("a", 5, thread=threading.current_thread(), task=None)
        >>> lease.token, backend.statistics("a").locked
        (1, True)
        >>> lease.release()
        """
        with self._lock:
            if name not in self._names:  # the usual case, made short
                granted = self._grant_locked(name, lease, thread, task)
                self._names[name] = _Name(granted)
                return granted
            state, after = self._current_locked(name)
            taken = None
            if state is None:
                taken = self._grant_locked(name, lease, thread, task)
                self._names[name] = _Name(taken)
        self._finish(after)
        return taken

    def enqueue(
        self,
        name: str,
        lease: float | None,
        waiter: Future[Lease],
        *,
        thread: threading.Thread,
        task: object | None,
    ) -> None:
        """Queue ``waiter`` for ``name`` (see :class:`~shortly.LockBackend`).

        >>> import shortly, threading
        >>> backend, me = shortly.LocalBackend(), threading.current_thread()
        >>> waiter = shortly.Future()
        >>> backend.enqueue("free", None, waiter, thread=me, task=None)
        >>> waiter.done()  # a free lock is granted at once
        True
        >>> waiter.result().release()
        """
        record = Waiter(waiter, lease, thread, task)
        granted = None
        with self._lock:
            if waiter.done():
                return
            state, after = self._current_locked(name)
            if state is None:
                granted = self._grant_locked(name, lease, thread, task)
                self._names[name] = _Name(granted)
            else:
                if state.waiters is None:
                    state.waiters = deque()
                state.waiters.append(record)
        self._finish(after)
        if granted is not None:
            self._finish((None, (record, granted)))
        else:
            # Added after queueing: a waiter cancelled in between is withdrawn at once.
            waiter.add_done_callback(partial(self._withdraw, name, record))

    def release(self, lease: Lease) -> None:
        """Release ``lease``; the first waiter gets the lock at once.

        Raises:
            LockError: if ``lease`` is not the holder (released, or run out); nothing
                changes then.

        >>> import shortly
        >>> lease = shortly.Lock("doc-local-release").acquire()
        >>> lease.release()
        >>> try:
        ...     lease.release()
        ... except shortly.LockError as e:
        ...     print("twice:", e)
        twice: <Lease 'doc-local-release' token=... released> was already released
        """
        self._own(lease)
        with self._lock:
            state = self._names.get(lease._name)
            if state is None or state.holder is not lease:
                after, refusal = None, _refusal(lease)
            elif _lapsed(lease):
                after, refusal = self._end_locked(lease, EXPIRED), _refusal(lease)
            elif state.waiters is None and lease._data is None:
                # The usual case, made short: nobody waits and no timer to cancel.
                lease._phase = RELEASED
                del self._names[lease._name]
                return
            else:
                after, refusal = self._end_locked(lease, RELEASED), None
        self._finish(after)
        if refusal is not None:
            raise LockError(refusal)

    def extend(self, lease: Lease, seconds: float) -> None:
        """Make ``lease`` run out ``seconds`` from now (re-arming its timer).

        Raises:
            LockError: if ``lease`` is not the holder (released, or run out).

        >>> import shortly, time
        >>> lease = shortly.Lock("doc-local-extend", lease=1).acquire()
        >>> lease.backend.extend(lease, 60)
        >>> lease.expires_at > time.monotonic() + 30
        True
        >>> lease.release()
        """
        self._own(lease)
        old = None
        with self._lock:
            state = self._names.get(lease._name)
            if state is None or state.holder is not lease:
                after, refusal = None, _refusal(lease)
            elif _lapsed(lease):
                after, refusal = self._end_locked(lease, EXPIRED), _refusal(lease)
            else:
                after, refusal = None, None
                old = lease._data
                lease._expires_at = time.monotonic() + seconds
                lease._data = later(seconds, self._expire, lease)
        if old is not None:
            old.cancel()
        self._finish(after)
        if refusal is not None:
            raise LockError(refusal)

    def holder(self, name: str) -> Lease | None:
        """The live lease holding ``name`` now, if any.

        It changes nothing (a lease past its expiry is left to its timer): the deadlock
        check calls it with the wait-for graph locked, where no future may be resolved.

        >>> import shortly
        >>> backend = shortly.LocalBackend()
        >>> with shortly.Lock("a", backend=backend) as lease:
        ...     backend.holder("a") is lease
        True
        >>> print(backend.holder("a"))
        None
        """
        with self._lock:
            state = self._names.get(name)
            if state is None or _lapsed(state.holder):
                return None
            return state.holder

    def statistics(self, name: str) -> LockStatistics:
        """Whether ``name`` is held, the holder's token, and how many wait for it.

        >>> import shortly
        >>> shortly.LocalBackend().statistics("free")
        LockStatistics(locked=False, holder_token=None, waiters=0)
        """
        with self._lock:
            state = self._names.get(name)
            if state is None:
                return LockStatistics(False, None, 0)
            waiting = sum(1 for w in state.waiters or () if not w.future.done())
            if _lapsed(state.holder):
                return LockStatistics(False, None, waiting)
            return LockStatistics(True, state.holder._token, waiting)

    def __repr__(self) -> str:
        with self._lock:
            in_use = len(self._names)
        return f"<LocalBackend at {id(self):#x} with {in_use} name(s) in use>"
