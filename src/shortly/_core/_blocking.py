"""Blocking on a future: ``result()``, ``exception()`` and ``wait()`` from any thread.

A blocked thread brings a one-shot :class:`~shortly._core._waiting.Waker`, hangs it on
the future's waiter list under the stripe lock, and sleeps on it. It re-checks the
state on every wake, because a waker may be woken while the future is still pending
(a hand-driven ``_condition.notify_all()``), and sleeps again until done or out of
time. Before sleeping a thread runs its own trampoline queue (the work it queued may
be what settles the future), and a wait on a future somebody is known to settle (an
owner, or upstream sources) enters the wait-for graph, which refuses a wait that
could never end with :class:`~shortly.DeadlockError`. Inside a
:func:`shortly.scope`, cancelling the scope wakes the sleeper.
"""

from __future__ import annotations

import threading
import time

from .._checks import check_timeout
from .._errors import CancelledError, TimeoutError
from . import _cancel, _deadlock, _trampoline
from ._erased import TYPE_CHECKING, Generic, TypeVar
from ._states import CANCELLED_STATES, DONE, FINISHED
from ._wait_points import scope_var
from ._waiting import Waker

if TYPE_CHECKING:
    from typing import Any

    from ._owner_like import Owner
    from ._waiting import StdlibWaiters

__all__ = ["BlockingMethods"]

T = TypeVar("T")


class BlockingMethods(Generic[T]):
    """Mixin of :class:`~shortly.Future` holding its blocking waits."""

    __slots__ = ()

    # The future's fields these methods read (declared for the type checker only).
    if TYPE_CHECKING:
        _state: str
        _result: Any
        _exception: BaseException | None
        _lock: threading.Lock
        _wait_list: list[Waker] | StdlibWaiters | None
        _owner: Owner | None
        _upstream: Any
        _sources: Any

        def done(self) -> bool: ...
        def _observe(self) -> BaseException | None: ...
        def _cancelled_error(self) -> CancelledError: ...

    def _block(self, timeout: float | None) -> bool:
        """Sleep until done or ``timeout``; return whether done."""
        timeout = check_timeout(timeout)
        if self._state in DONE:
            return True
        _trampoline.help_drain(self.done)
        # Checked only when somebody is known to settle it: an owner, or sources.
        if self._owner is None and self._upstream is None and self._sources is None:
            _deadlock.warn_if_in_loop(self)
            return self._sleep(timeout)
        with _deadlock.waiting(self):
            return self._sleep(timeout)

    def _sleep(self, timeout: float | None) -> bool:
        # A waker may be woken while the future is still pending (a hand-driven
        # ``_condition.notify_all()``), so sleep again until done or out of time.
        deadline = None if timeout is None else time.monotonic() + timeout
        lock = self._lock
        # Inside a shortly.scope(), cancelling it wakes this sleeper (see _scope).
        scope = scope_var.get()
        while True:
            waker = Waker()
            with lock:
                if self._state in DONE:
                    return True
                waiters = self._wait_list
                if waiters is None:
                    waiters = self._wait_list = []  # type: ignore[misc]  # Future's slot
                waiters.append(waker)
            try:
                if scope is not None:
                    scope.watch(self, waker)  # type: ignore[arg-type]  # self is a Future
                waker.sleep(None if deadline is None else deadline - time.monotonic())
            finally:
                with lock:
                    # Re-read: stdlib use may have replaced the list while we slept.
                    waiters = self._wait_list
                    if waiters is not None:
                        _cancel.remove_identical(waiters, waker)
                if scope is not None:
                    scope.unwatch(waker)
            if self._state in DONE:
                return True
            if scope is not None:
                scope.check()
            if deadline is not None and time.monotonic() >= deadline:
                return False

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
        if self._state in CANCELLED_STATES:
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
        if self._state in CANCELLED_STATES:
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
