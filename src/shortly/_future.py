"""Future: states, resolution, callbacks and blocking waits.

The state machine is the stdlib's, kept in the same attributes so that
``concurrent.futures.wait``, ``as_completed``, ``asyncio.wrap_future`` and
``loop.run_in_executor`` accept a shortly future as one of their own::

    PENDING --> RUNNING --> FINISHED (a result, or an exception)
       \\           (set_running_or_notify_cancel)
        +---------------> CANCELLED_AND_NOTIFIED   (cancel)

Locking. Every check-then-act runs under a lock, never relying on the GIL. The lock is
one of a fixed set of *stripes* chosen by the future's address, so a future costs no
lock object of its own. A thread that blocks allocates a one-shot lock for that wait
only; the stdlib's ``_condition`` is created on first use and shares one re-entrant
lock, which keeps ``concurrent.futures.wait`` free of lock-ordering deadlocks.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Generator
from concurrent.futures import _base
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from . import _deadlock, _report, _trampoline
from ._errors import CancelledError, InvalidStateError, TimeoutError

if TYPE_CHECKING:
    from collections.abc import Awaitable
    from concurrent.futures import Executor

__all__ = ["Future", "lock_of"]

T = TypeVar("T")
U = TypeVar("U")

PENDING = _base.PENDING
RUNNING = _base.RUNNING
CANCELLED = _base.CANCELLED
CANCELLED_AND_NOTIFIED = _base.CANCELLED_AND_NOTIFIED
FINISHED = _base.FINISHED
_DONE = (FINISHED, CANCELLED_AND_NOTIFIED, CANCELLED)
_CANCELLED = (CANCELLED_AND_NOTIFIED, CANCELLED)

_STRIPES = tuple(threading.Lock() for _ in range(128))
# Only stdlib module functions take this one, and they take it re-entrantly.
_STDLIB_LOCK = threading.RLock()


def lock_of(future: Future[Any]) -> threading.Lock:
    """The stripe lock guarding ``future``'s state (for sibling modules)."""
    return _STRIPES[(id(future) >> 4) & 127]


def check_timeout(timeout: float | None, name: str = "timeout") -> float | None:
    """Return ``timeout`` if it is ``None`` or a real number; raise naming ``name``."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(timeout).__name__}")
    if math.isnan(timeout):
        raise ValueError(f"{name} must not be NaN")
    return timeout


class _Waker:
    """A blocked thread's one-shot wake-up, shaped like a stdlib ``_Waiter``."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wake(self, future: Future[Any]) -> None:
        self._lock.release()

    add_result = add_exception = add_cancelled = wake

    def sleep(self, timeout: float | None) -> None:
        if timeout is None:
            self._lock.acquire()
        else:
            self._lock.acquire(True, min(max(timeout, 0.0), threading.TIMEOUT_MAX))


class _FailureGuard:
    """Reports its failure when dropped, unless the future's failure was observed.

    Only failed futures carry one, so success pays nothing for the check.
    """

    __slots__ = ("error", "site", "source")

    def __init__(self, error: BaseException, source: str, site: str | None) -> None:
        self.error: BaseException | None = error
        self.source = source
        self.site = site

    def __del__(self) -> None:
        error = self.error
        if error is not None:
            self.error = None
            _report.report(
                error, "a future failed and was dropped unobserved", self.source, self.site
            )


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """Bind a sibling's function on first call (those siblings build on Future)."""
    target: Callable[..., Any] | None = None

    def call(*args: Any, **kwargs: Any) -> Any:
        nonlocal target
        if target is None:
            import importlib

            target = getattr(importlib.import_module(module, __package__), name)
        return target(*args, **kwargs)

    return call


_then = _lazy("._chain", "then")
_catch = _lazy("._chain", "catch")
_finally = _lazy("._chain", "finally_")
_await = _lazy("._aio", "await_future")
_with_timeout = _lazy("._timers", "with_timeout")


class Future(_base.Future[T], Generic[T]):
    """A result that arrives later: block on it, await it, chain it, or call back.

    A drop-in :class:`concurrent.futures.Future`: any thread may resolve it, any thread
    may block on it, asyncio and trio code may ``await`` it, and ``then`` chains it.

    Args:
        owner: the thread (or serial worker, or loop) that is to resolve this future.
            A blocking wait from the owner itself, or one closing a cycle of waits,
            raises :class:`~shortly.DeadlockError` instead of hanging.

    >>> import shortly, threading
    >>> f = shortly.Future()
    >>> threading.Thread(target=f.set_result, args=(42,)).start()
    >>> f.result(timeout=5)
    42
    """

    __slots__ = (
        "_callbacks",
        "_cond",
        "_exception",
        "_guard",
        "_owner",
        "_result",
        "_state",
        "_wait_list",
    )

    _state: str
    _result: Any
    _exception: BaseException | None

    def __init__(self, *, owner: _deadlock.Owner | None = None) -> None:
        if owner is not None and not isinstance(owner, (threading.Thread, _deadlock.OwnerLike)):
            raise TypeError(
                "owner must be a threading.Thread or have __shortly_owner_thread__(), "
                f"not {type(owner).__name__}"
            )
        self._state = PENDING
        self._result = None
        self._exception = None
        self._callbacks: list[Callable[[Future[T]], object]] | None = None
        self._wait_list: list[Any] | None = None
        self._cond: threading.Condition | None = None
        self._owner = owner
        self._guard: _FailureGuard | None = None
        if _report._debug:
            self._site = _report.creation_site()

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

    @property  # type: ignore[override]
    def _condition(self) -> threading.Condition:
        cond = self._cond
        if cond is None:
            with lock_of(self):
                cond = self._cond
                if cond is None:
                    cond = self._cond = threading.Condition(_STDLIB_LOCK)
        return cond

    @property  # type: ignore[override]
    def _waiters(self) -> list[Any]:
        waiters = self._wait_list
        if waiters is None:
            with lock_of(self):
                waiters = self._wait_list
                if waiters is None:
                    waiters = self._wait_list = []
        return waiters

    # -- state ----------------------------------------------------------------------

    @property
    def owner(self) -> _deadlock.Owner | None:
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
        return self._state in _DONE

    def cancelled(self) -> bool:
        """Tell whether the future was cancelled.

        >>> import shortly
        >>> f = shortly.Future(); _ = f.cancel(); f.cancelled()
        True
        """
        return self._state in _CANCELLED

    def running(self) -> bool:
        """Tell whether ``set_running_or_notify_cancel`` marked the future as running.

        >>> import shortly
        >>> f = shortly.Future(); f.set_running_or_notify_cancel(); f.running()
        True
        True
        """
        return self._state == RUNNING

    # -- resolution -------------------------------------------------------------------

    def _settle(self, result: Any, error: BaseException | None) -> bool:
        """Finish with ``result`` or fail with ``error``; False if already done."""
        with lock_of(self):
            if self._state in _DONE:
                return False
            self._result = result
            self._exception = error
            self._state = FINISHED
            if error is not None:
                self._guard = _FailureGuard(error, self._describe(), getattr(self, "_site", None))
            callbacks, waiters = self._detach()
        self._notify(callbacks, waiters)
        return True

    def _detach(self) -> tuple[list[Callable[[Future[T]], object]] | None, list[Any] | None]:
        """Under the lock, right after the final state is set: what is to be woken.

        ``None`` waiters with a ``_condition`` in place means "ask the stdlib lock".
        """
        callbacks, self._callbacks = self._callbacks, None
        if self._cond is not None:
            return callbacks, None
        waiters = self._wait_list
        return callbacks, waiters[:] if waiters else []

    def _notify(
        self, callbacks: list[Callable[[Future[T]], object]] | None, waiters: list[Any] | None
    ) -> None:
        if waiters is None:
            # Stdlib waiters are added under the shared lock, after reading _state
            # there: taking it here means none of them can be missed.
            with _STDLIB_LOCK:
                self._wake(self._wait_list[:] if self._wait_list else [])
        elif waiters:
            self._wake(waiters)
        if callbacks:
            _trampoline.dispatch(self, callbacks)

    def _wake(self, waiters: list[Any]) -> None:
        if self._state in _CANCELLED:
            for waiter in waiters:
                waiter.add_cancelled(self)
        elif self._exception is None:
            for waiter in waiters:
                waiter.add_result(self)
        else:
            for waiter in waiters:
                waiter.add_exception(self)

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
            raise InvalidStateError(f"{self!r} is already settled")

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
            raise InvalidStateError(f"{self!r} is already settled")

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
        """Cancel; with ``only_if``, only if ``only_if(self)`` holds under the lock."""
        with lock_of(self):
            state = self._state
            if state in _CANCELLED:
                return True
            if state != PENDING or (only_if is not None and not only_if(self)):
                return False
            # The message lives in _result, unused by a cancelled future.
            self._result = msg
            self._state = CANCELLED_AND_NOTIFIED
            callbacks, waiters = self._detach()
        self._notify(callbacks, waiters)
        return True

    def set_running_or_notify_cancel(self) -> bool:
        """Mark the future running, or return False if it was cancelled (for executors).

        Raises:
            RuntimeError: if the future is already running or finished.

        >>> import shortly
        >>> shortly.Future().set_running_or_notify_cancel()
        True
        """
        with lock_of(self):
            state = self._state
            if state in _CANCELLED:
                return False
            if state != PENDING:
                raise RuntimeError(f"{self!r} is in state {state} and cannot start running")
            self._state = RUNNING
            return True

    # -- callbacks --------------------------------------------------------------------

    def add_done_callback(self, fn: Callable[[Future[T]], object]) -> None:  # type: ignore[override]
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
        with lock_of(self):
            if self._state not in _DONE:
                callbacks = self._callbacks
                if callbacks is None:
                    self._callbacks = [fn]
                else:
                    callbacks.append(fn)
                return
        _trampoline.run_callback(fn, self)

    def remove_done_callback(self, fn: Callable[[Future[T]], object]) -> int:
        """Remove every registration of ``fn``; return how many were removed.

        >>> import shortly
        >>> f = shortly.Future(); f.add_done_callback(print)
        >>> f.remove_done_callback(print)
        1
        """
        with lock_of(self):
            callbacks = self._callbacks
            if not callbacks:
                return 0
            kept = [cb for cb in callbacks if cb != fn]
            self._callbacks = kept or None
            return len(callbacks) - len(kept)

    # -- blocking -----------------------------------------------------------------------

    def _block(self, timeout: float | None) -> bool:
        """Sleep until done or ``timeout``; return whether done."""
        timeout = check_timeout(timeout)
        if self._state in _DONE:
            return True
        _trampoline.help_drain(self.done)
        waker = _Waker()
        lock = lock_of(self)
        with lock:
            if self._state in _DONE:
                return True
            waiters = self._wait_list
            if waiters is None:
                waiters = self._wait_list = []
            waiters.append(waker)
        try:
            if self._owner is None:
                waker.sleep(timeout)
            else:
                with _deadlock.waiting(self):
                    waker.sleep(timeout)
        finally:
            with lock:
                if waker in waiters:
                    waiters.remove(waker)
        return self._state in _DONE

    def _observe(self) -> None:
        """Mark the failure as seen by someone: nothing to report when dropped."""
        if self._guard is not None:
            with lock_of(self):
                guard, self._guard = self._guard, None
            if guard is not None:
                guard.error = None

    def _cancelled_error(self) -> CancelledError:
        msg = self._result
        return CancelledError() if msg is None else CancelledError(msg)

    def result(self, timeout: float | None = None) -> T:
        """Return the result, waiting up to ``timeout`` seconds (``None``: for ever).

        Raises:
            CancelledError: if the future was cancelled.
            TimeoutError: if it did not finish in time.
            DeadlockError: if the wait could never finish.
            Exception: the future's own exception, if it failed.

        >>> import shortly
        >>> shortly.Future.resolved([1, 2]).result()
        [1, 2]
        """
        if self._state != FINISHED and not self._block(timeout):
            raise TimeoutError(f"{self!r} did not finish within {timeout} seconds")
        if self._state in _CANCELLED:
            raise self._cancelled_error()
        error = self._exception
        if error is None:
            return self._result  # type: ignore[no-any-return]
        self._observe()
        try:
            raise error
        finally:
            del self, error  # the traceback would otherwise keep this future alive

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Return the exception the future failed with, or ``None`` if it succeeded.

        Raises:
            CancelledError: if the future was cancelled.
            TimeoutError: if it did not finish in time.
            DeadlockError: if the wait could never finish.

        >>> import shortly
        >>> print(shortly.Future.resolved(1).exception())
        None
        """
        if self._state != FINISHED and not self._block(timeout):
            raise TimeoutError(f"{self!r} did not finish within {timeout} seconds")
        if self._state in _CANCELLED:
            raise self._cancelled_error()
        self._observe()
        return self._exception

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the future is done or ``timeout`` passes; return ``done()``.

        Raises:
            DeadlockError: if the wait could never finish.

        >>> import shortly
        >>> shortly.Future().wait(timeout=0.01)
        False
        """
        return self._block(timeout)

    # -- chains, awaiting, timeouts (owned by their own modules) ---------------------------

    @overload
    def then(
        self,
        on_result: Callable[[T], Awaitable[U] | _base.Future[U]],
        on_error: Callable[[BaseException], U | Awaitable[U]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[U]: ...
    @overload
    def then(
        self,
        on_result: Callable[[T], U],
        on_error: Callable[[BaseException], U | Awaitable[U]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[U]: ...
    @overload
    def then(
        self,
        on_result: None = None,
        on_error: Callable[[BaseException], T | Awaitable[T]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[T]: ...
    def then(
        self,
        on_result: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[Any]:
        """Chain handlers: a new future settled by ``on_result`` or ``on_error``.

        A handler's return value resolves the new future, its exception fails it, and a
        returned future or awaitable is adopted. A missing handler passes the outcome
        through. See :mod:`shortly` "Chains" for ordering and cancellation rules.

        >>> import shortly
        >>> shortly.Future.resolved(2).then(lambda x: x * 10).result()
        20
        """
        return _then(self, on_result, on_error, executor=executor, loop=loop)  # type: ignore[no-any-return]

    def catch(
        self, on_error: Callable[[BaseException], Any], *exception_types: type[BaseException]
    ) -> Future[Any]:
        """Handle a failure of the given types (all exceptions if none are given).

        >>> import shortly
        >>> shortly.Future.failed(KeyError("k")).catch(lambda e: "default", KeyError).result()
        'default'
        """
        return _catch(self, on_error, *exception_types)  # type: ignore[no-any-return]

    def finally_(self, fn: Callable[[], object]) -> Future[T]:
        """Run ``fn()`` when done and pass the outcome through (its own failure wins).

        >>> import shortly
        >>> shortly.Future.resolved(1).finally_(lambda: print("cleanup")).result()
        cleanup
        1
        """
        return _finally(self, fn)  # type: ignore[no-any-return]

    def with_timeout(self, seconds: float, *, cancel: bool = False) -> Future[T]:
        """A future that settles like this one, or fails with TimeoutError after ``seconds``.

        >>> import shortly
        >>> shortly.Future().with_timeout(0.01).exception(timeout=5)
        TimeoutError(...)
        """
        return _with_timeout(self, seconds, cancel=cancel)  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        return (yield from _await(self))  # type: ignore[no-any-return]

    # -- presentation ---------------------------------------------------------------------

    def _describe(self) -> str:
        state = self._state
        if state == FINISHED:
            error = self._exception
            what = (
                f"failed with {type(error).__name__}"
                if error is not None
                else f"finished returning {type(self._result).__name__}"
            )
        elif state in _CANCELLED:
            what = "cancelled"
        else:
            what = state.lower()
        text = f"<{type(self).__name__} at {id(self):#x} state={what}"
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
        raise TypeError(
            f"exception must be an exception instance, not {type(exception).__name__}"
        )
    if isinstance(exception, StopIteration):
        raise TypeError("StopIteration cannot be set as a future's exception: it cannot travel through await")
