"""Future: states, resolution and callbacks (blocking waits in ``_blocking``,
the promise and progress methods in ``_promise`` and ``_progress_methods``).

The state machine is the stdlib's, kept in the same attributes so that
``concurrent.futures.wait``, ``as_completed``, ``asyncio.wrap_future`` and
``loop.run_in_executor`` accept a shortly future as one of their own::

    PENDING ----------------------------> FINISHED   set_result / set_exception
       +------> RUNNING ----------------^              set_running_or_notify_cancel
       +------> CANCELLED_AND_NOTIFIED                  cancel (not once RUNNING)

Locking. Every check-then-act runs under a lock, never relying on the GIL. The lock is
one of a fixed set of *stripes*, handed out in turn at creation, so a future costs no
lock object of its own. A thread that blocks allocates a one-shot lock for that wait
only; the stdlib's ``_condition`` is created on first use and shares one re-entrant
lock, which keeps ``concurrent.futures.wait`` free of lock-ordering deadlocks.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import _base

from .._errors import CancelledError, InvalidStateError
from . import _cancel, _deadlock, _report, _trampoline
from ._blocking import BlockingMethods
from ._erased import TYPE_CHECKING, Any, TypeVar
from ._progress_methods import ProgressMethods
from ._promise import PromiseMethods
from ._states import (
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    CANCELLED_STATES,
    DONE,
    FINISHED,
    PENDING,
    RUNNING,
)
from ._waiting import STDLIB_LOCK, StdlibWaiters

__all__ = ["Callbacks", "Future", "cancel_message", "listed", "lock_of"]

T = TypeVar("T")
U = TypeVar("U")

# The stdlib's _STATE_TO_DESCRIPTION_MAP, which repr uses.
_STATE_WORDS = {
    PENDING: "pending",
    RUNNING: "running",
    CANCELLED: "cancelled",
    CANCELLED_AND_NOTIFIED: "cancelled",
    FINISHED: "finished",
}

if TYPE_CHECKING:
    from ._owner_like import Owner

    pass

_new_object = object.__new__

_STRIPES = tuple(threading.Lock() for _ in range(128))
# Any stripe will do, as long as a future keeps the one it got; cycling is cheapest.
_next_stripe = itertools.cycle(_STRIPES).__next__


def _hold_all_locks() -> None:
    # Before fork: no other thread may be inside a state change when the child is
    # made, or the child inherits a stripe held by a thread that does not exist there.
    STDLIB_LOCK.acquire()  # first, as everywhere (see _waiting)
    for stripe in _STRIPES:
        stripe.acquire()


def _release_all_locks() -> None:
    for stripe in _STRIPES:
        stripe.release()
    STDLIB_LOCK.release()


os.register_at_fork(
    before=_hold_all_locks,
    after_in_parent=_release_all_locks,
    after_in_child=_release_all_locks,
)


Callbacks = Callable[[Any], object] | list[Callable[[Any], object]]


def listed(callbacks: Callbacks | None) -> list[Callable[[Any], object]]:
    """A future's ``_callbacks`` slot as a list (it holds None, one, or a list)."""
    if callbacks is None:
        return []
    return callbacks if type(callbacks) is list else [callbacks]  # type: ignore[list-item]


def cancel_message(future: Future[Any]) -> Any:
    """The message a cancelled future was cancelled with (``None`` if none, or not cancelled)."""
    # Set only when cancelled through cancel(): creating futures stays one store cheaper.
    return getattr(future, "_cancel_message", None)


def lock_of(future: Future[Any]) -> threading.Lock:
    """The stripe lock guarding ``future``'s state (for sibling modules)."""
    return future._lock


class Future(PromiseMethods[T], BlockingMethods[T], ProgressMethods, _base.Future[T]):
    """A result that arrives later: block on it, await it, chain it, or call back.

    A drop-in :class:`concurrent.futures.Future`: any thread may resolve it, any thread
    may block on it, asyncio and trio code may ``await`` it, and ``then`` chains it.

    Args:
        owner: the thread (or serial worker, or loop) that is to resolve this future.
            A blocking wait from the owner itself, or one closing a cycle of waits,
            raises :class:`~shortly.DeadlockError` instead of hanging.
        name: a label for people: it shows in ``repr``, in timeout and deadlock
            messages and in unhandled-failure reports (``"GET /users/7"``), so a
            fan-out over a thousand futures says which one went wrong.

    Raises:
        TypeError: if ``owner`` is not a thread or owner-like object, or ``name`` is
            not a str.

    >>> import shortly, threading
    >>> f = shortly.Future()
    >>> threading.Thread(target=f.set_result, args=(42,)).start()
    >>> f.result(timeout=5)
    42
    """

    __slots__ = (
        "_callbacks",
        "_cancel_message",
        "_exception",
        "_guard",
        "_lock",
        "_name",
        "_owner",
        "_result",
        "_state",
        "_upstream",
        "_wait_list",
    )

    _state: str
    _result: Any
    _exception: BaseException | None
    _guard: _report.FailureGuard | None
    _cancel_message: Any
    # What a derived future settles from besides its upstream, for the deadlock check
    # (combinator inputs, a shield's source, a timeout's source). A class default, not
    # a slot: the few futures that set it pay for an instance dict, the rest nothing.
    _sources: Any = None

    def __init__(self, *, owner: Owner | None = None, name: str | None = None) -> None:
        if owner is not None:
            _deadlock.check_owner(owner, "owner")
        if name is not None and type(name) is not str:
            raise TypeError(f"name must be a str or None, not {type(name).__name__}")
        self._name = name
        self._lock = _next_stripe()
        self._state = PENDING
        self._result = None
        self._exception = None
        # None, one callback, or a list of them: most futures get exactly one, and
        # keeping it bare saves a list per future.
        self._callbacks: Callbacks | None = None
        self._wait_list: list[Any] | None = None
        self._owner = owner
        # _guard and _cancel_message are set only by a failure and a cancel: creation
        # skips them (read with getattr), which the hot path notices.
        # What this future depends on (a future or a list), for the upward cancel rule.
        self._upstream: Any = None
        if _report._debug:
            self._site = _report.creation_site()

    @staticmethod
    def _plain() -> Future[Any]:
        """``Future()`` without the argument checks: no owner, no name (for the hot paths).

        Sets the same fields as ``__init__``: keep the two in step.
        """
        self: Future[Any] = _new_object(Future)
        self._name = None
        self._lock = _next_stripe()
        self._state = PENDING
        self._result = None
        self._exception = None
        self._callbacks = None
        self._wait_list = None
        self._owner = None
        self._upstream = None
        if _report._debug:
            self._site = _report.creation_site()
        return self

    # -- constructors -------------------------------------------------------------

    @classmethod
    def resolved(cls, value: U) -> Future[U]:
        """A future already finished with ``value``.

        >>> import shortly
        >>> shortly.Future.resolved(3).result()
        3
        """
        future: Future[U] = cls()  # type: ignore[assignment]
        future.set_result(value)
        return future

    @classmethod
    def failed(cls, error: BaseException) -> Future[Any]:
        """A future already failed with ``error``.

        Raises:
            TypeError: if ``error`` is not an exception instance.

        >>> import shortly
        >>> shortly.Future.failed(KeyError("k")).exception()
        KeyError('k')
        """
        future: Future[Any] = cls()
        future.set_exception(error)
        return future

    # -- the stdlib's internal protocol ---------------------------------------------

    @property
    def _condition(self) -> threading.Condition:  # type: ignore[override]
        # Marks the future as used by stdlib functions: from now on its waiters are
        # read under the shared stdlib lock (see ``_wake``).
        waiters = self._wait_list
        if type(waiters) is not StdlibWaiters:
            with self._lock:
                waiters = self._wait_list
                if type(waiters) is not StdlibWaiters:
                    waiters = self._wait_list = StdlibWaiters(waiters or ())
        return waiters.condition

    @property
    def _waiters(self) -> list[Any]:  # type: ignore[override]
        waiters = self._wait_list
        if waiters is None:
            with self._lock:
                waiters = self._wait_list
                if waiters is None:
                    waiters = self._wait_list = []
        return waiters

    # -- state ----------------------------------------------------------------------

    @property
    def name(self) -> str | None:
        """The label given at creation (``Future(name=...)``), or ``None``.

        >>> import shortly
        >>> shortly.Future(name="GET /users/7").name
        'GET /users/7'
        """
        return self._name

    @property
    def owner(self) -> Owner | None:
        """The thread or object that is to resolve this future, or ``None``.

        >>> import shortly, threading
        >>> shortly.Future(owner=threading.main_thread()).owner is threading.main_thread()
        True
        """
        return self._owner

    def done(self) -> bool:
        """Tell whether the future finished, failed or was cancelled.

        >>> import shortly
        >>> shortly.Future().done(), shortly.Future.resolved(1).done()
        (False, True)
        """
        return self._state in DONE

    def cancelled(self) -> bool:
        """Tell whether the future was cancelled.

        >>> import shortly
        >>> f = shortly.Future(); _ = f.cancel(); f.cancelled()
        True
        """
        return self._state in CANCELLED_STATES

    def running(self) -> bool:
        """Tell whether ``set_running_or_notify_cancel`` marked the future as running.

        >>> import shortly
        >>> f = shortly.Future(); f.set_running_or_notify_cancel(); f.running()
        True
        True
        """
        return self._state == RUNNING

    # -- resolution -------------------------------------------------------------------

    def _lock_state(self) -> bool:
        """Take the locks a state change needs; tell whether STDLIB_LOCK is among them.

        Once stdlib functions use this future, its state changes under the shared stdlib
        lock too (taken first: see ``_waiting``), so that a stdlib waiter sees either
        "pending, notified later" or "done, never notified", never both.
        """
        # The list turns stdlib under the stripe lock, so reading it there is authoritative.
        lock = self._lock
        lock.acquire()
        if type(self._wait_list) is not StdlibWaiters:
            return False
        lock.release()  # the shared lock must come first
        STDLIB_LOCK.acquire()
        lock.acquire()
        return True

    def _unlock_state(self, stdlib: bool) -> None:
        self._lock.release()
        if stdlib:
            STDLIB_LOCK.release()

    def _settle(self, result: Any, error: BaseException | None) -> bool:
        """Finish with ``result`` or fail with ``error``; False if already done."""
        # _lock_state inlined: this is the hot path, where a method call or a ``with``
        # costs measurably.
        lock = self._lock
        lock.acquire()
        # Most futures have no waiter list at all: one test, not a type() call, for them.
        stdlib = self._wait_list is not None and type(self._wait_list) is StdlibWaiters
        if stdlib:
            lock.release()  # the shared lock must come first
            STDLIB_LOCK.acquire()
            lock.acquire()
        try:
            if self._state in DONE:
                return False
            if error is not None:
                # Before the state: a reader that sees FINISHED without the lock must
                # find the guard there to disarm it (see _observe).
                self._guard = _report.FailureGuard(
                    error, self._describe(error), getattr(self, "_site", None)
                )
            self._result = result
            self._exception = error
            self._state = FINISHED
            self._upstream = None
            callbacks = self._callbacks
            self._callbacks = None
            waiters = self._wait_list
            if waiters:
                waiters = waiters[:]  # copied in the same step as the state change
        finally:
            lock.release()
            if stdlib:
                STDLIB_LOCK.release()
        if error is not None:
            _report.ensure_deferred()  # here, outside every lock, never inside __del__
            if _report._debug:
                _report.note_site(error, self)  # before the links below add theirs
        if waiters:
            if error is None:
                for waiter in waiters:
                    waiter.add_result(self)
            else:
                for waiter in waiters:
                    waiter.add_exception(self)
        if callbacks:
            _trampoline.dispatch(self, callbacks)
        return True

    def set_result(self, result: T) -> None:
        """Finish the future with ``result``; wakes waiters and runs callbacks.

        Setting a result on a cancelled future is a quiet no-op: the producer must not
        crash because a consumer lost interest.

        Raises:
            InvalidStateError: if the future already finished or failed.

        >>> import shortly
        >>> f = shortly.Future(); f.set_result("ok"); f.result()
        'ok'
        """
        if not self._settle(result, None) and self._state == FINISHED:
            raise InvalidStateError(f"{self._state}: {self!r}")

    def set_exception(self, exception: BaseException | None) -> None:
        """Fail the future with ``exception``; a no-op if it was cancelled.

        Raises:
            TypeError: if ``exception`` is not an exception instance (or is a
                ``StopIteration``, which cannot travel through ``await``).
            InvalidStateError: if the future already finished or failed.

        >>> import shortly
        >>> f = shortly.Future(); f.set_exception(ValueError("bad")); f.exception()
        ValueError('bad')
        """
        _check_exception(exception)
        if not self._settle(None, exception) and self._state == FINISHED:
            raise InvalidStateError(f"{self._state}: {self!r}")

    def try_set_result(self, result: T) -> bool:
        """Finish with ``result`` unless already done; tell whether this call did it.

        >>> import shortly
        >>> f = shortly.Future()
        >>> f.try_set_result(1), f.try_set_result(2), f.result()
        (True, False, 1)
        """
        return self._settle(result, None)

    def try_set_exception(self, exception: BaseException) -> bool:
        """Fail with ``exception`` unless already done; tell whether this call did it.

        Raises:
            TypeError: if ``exception`` is not an exception instance.

        >>> import shortly
        >>> f = shortly.Future.resolved(1)
        >>> f.try_set_exception(ValueError())
        False
        """
        _check_exception(exception)
        return self._settle(None, exception)

    def cancel(self, msg: Any = None) -> bool:
        """Cancel the future unless it is running or done; keep ``msg`` for the error.

        Returns True if the future is cancelled when the call returns. Waiters wake
        with :class:`~shortly.CancelledError` (carrying ``msg``) and callbacks run.

        >>> import shortly
        >>> f = shortly.Future()
        >>> f.cancel("shutting down"), f.cancelled()
        (True, True)
        >>> shortly.Future.resolved(1).cancel()
        False
        """
        return self._cancel(msg)

    def _cancel(self, msg: Any = None, only_if: Callable[[Future[T]], bool] | None = None) -> bool:
        """Cancel; with ``only_if``, only if ``only_if(self)`` holds under the lock.

        Then apply the upward rule to the futures this one depends on.
        """
        cancelled, upstream = self._cancel_one(msg, only_if)
        if upstream is not None:
            _cancel.cancel_upstream(upstream, msg)
        return cancelled

    def _cancel_one(
        self, msg: Any, only_if: Callable[[Future[T]], bool] | None
    ) -> tuple[bool, Any]:
        """Cancel this future only; return (cancelled, its upstream if this call did it)."""
        stdlib = self._lock_state()
        try:
            state = self._state
            if state in CANCELLED_STATES:
                return True, None
            if state != PENDING or (only_if is not None and not only_if(self)):
                return False, None
            self._cancel_message = msg
            self._state = CANCELLED_AND_NOTIFIED
            upstream = self._upstream
            self._upstream = None
            callbacks = self._callbacks
            self._callbacks = None
            waiters = self._wait_list
            if waiters:
                waiters = waiters[:]  # copied in the same step as the state change
        finally:
            self._unlock_state(stdlib)
        if waiters:
            for waiter in waiters:
                waiter.add_cancelled(self)
        if callbacks:
            _trampoline.dispatch(self, callbacks)
        return True, upstream

    def set_running_or_notify_cancel(self) -> bool:
        """Mark the future running, or return False if it was cancelled (for executors).

        Raises:
            RuntimeError: if the future is already running or finished.

        >>> import shortly
        >>> shortly.Future().set_running_or_notify_cancel()
        True
        """
        with self._lock:
            state = self._state
            if state in CANCELLED_STATES:
                return False
            if state != PENDING:
                raise RuntimeError(f"{self!r} is in state {state} and cannot start running")
            self._state = RUNNING
            return True

    # -- callbacks --------------------------------------------------------------------

    def add_done_callback(self, fn: Callable[[Future[T]], object]) -> None:
        """Call ``fn(future)`` when the future is done; at once if it already is.

        The callback runs in the thread that resolves the future (or in this thread, if
        already done). One that raises is reported as an unhandled failure and the other
        callbacks still run.

        Raises:
            TypeError: if ``fn`` is not callable.

        >>> import shortly
        >>> f = shortly.Future()
        >>> f.add_done_callback(lambda fut: print("got", fut.result()))
        >>> f.set_result(7)
        got 7
        """
        if not callable(fn):
            raise TypeError(f"fn must be callable, not {type(fn).__name__}")
        lock = self._lock
        lock.acquire()
        try:
            if self._state not in DONE:
                callbacks = self._callbacks
                if callbacks is None:
                    self._callbacks = fn
                elif type(callbacks) is list:
                    callbacks.append(fn)
                else:
                    self._callbacks = [callbacks, fn]  # type: ignore[list-item]
                return
        finally:
            lock.release()
        _trampoline.run_callback(fn, self)

    def remove_done_callback(self, fn: Callable[[Future[T]], object]) -> int:
        """Remove every registration of ``fn``; return how many were removed.

        >>> import shortly
        >>> f = shortly.Future(); f.add_done_callback(print)
        >>> f.remove_done_callback(print)
        1
        """
        with self._lock:
            callbacks = listed(self._callbacks)
            # Identity, not ==: a user's __eq__ must never run inside our lock.
            kept = [cb for cb in callbacks if cb is not fn]
            if len(kept) != len(callbacks):
                self._callbacks = kept[0] if len(kept) == 1 else (kept or None)
            return len(callbacks) - len(kept)

    # -- failures ---------------------------------------------------------------------

    def _observe(self) -> BaseException | None:
        """Mark the failure as seen by someone: nothing to report when dropped.

        Returns the failure if nobody had seen it yet (for a wrapper that reports it in
        its own words, see ``_reading.take_unobserved``), else None.
        """
        # Under the lock whenever there is a failure: the guard is set in the same
        # locked step as the failure, so the lock makes it visible here.
        if self._exception is not None:
            with self._lock:
                guard = getattr(self, "_guard", None)
                self._guard = None
            if guard is not None:
                error: BaseException | None = guard.error
                guard.error = None
                return error
        return None

    def _cancelled_error(self) -> CancelledError:
        msg = getattr(self, "_cancel_message", None)
        return CancelledError() if msg is None else CancelledError(msg)

    # -- presentation ---------------------------------------------------------------------

    def _describe(self, failing_with: BaseException | None = None) -> str:
        # The stdlib's words first, so log filters and tests written for
        # concurrent.futures match; shortly's extras follow. ``failing_with`` describes
        # the future as it is about to be, for the report made before the state changes.
        state = FINISHED if failing_with is not None else self._state
        text = f"<{type(self).__name__} at {id(self):#x} state={_STATE_WORDS.get(state, state)}"
        if state == FINISHED:
            error = failing_with or self._exception
            if error is not None:
                text += f" raised {type(error).__name__}"
            else:
                text += f" returned {type(self._result).__name__}"
        if self._name is not None:
            text += f" name={self._name!r}"
        if self._owner is not None:
            text += f" owner={_deadlock.describe_owner(self._owner)}"
        site = _report.site_line(getattr(self, "_site", None))
        if site:
            text += f" created at {site}"
        return text + ">"

    def __repr__(self) -> str:
        return self._describe()


def _check_exception(exception: object) -> None:
    if not isinstance(exception, BaseException):
        raise TypeError(f"exception must be an exception instance, not {type(exception).__name__}")
    if isinstance(exception, StopIteration):
        raise TypeError(
            "StopIteration cannot be set as a future's exception: it cannot travel through await"
        )
