"""Wait points: how a cancelled :func:`shortly.scope` reaches code that blocks or computes.

The current scope lives in a :mod:`contextvars` variable (:data:`scope_var`).
``Future._block`` reads it once, when about to sleep, and hands its one-shot waker to
the scope; cancelling the scope takes the waker out of the future's waiter list under
the future's lock (where the future settles too, so exactly one of them wakes it) and
wakes it: see :func:`interrupt`. A CPU loop asks with :func:`cancelled` or
:func:`checkpoint`.

The error a wait point raises is a plain :class:`~shortly.CancelledError` whose message
remembers the scope that was cancelled (:func:`cancelled_by`), so that the scope's
block, and only that one, swallows it (:func:`swallowed_by`). The message survives
being the cancel message of a future too, which is how an abandoned future's own
``CancelledError`` still names the scope.

This module imports nothing of shortly's but errors: :mod:`shortly._core._future` uses it.
"""

from __future__ import annotations

import contextvars
import sys
import threading

from .._errors import CancelledError
from ._erased import TYPE_CHECKING, Any
from ._states import DONE

if TYPE_CHECKING:
    from .._scope import Scope
    from ._future import Future

__all__ = [
    "TREE",
    "cancelled",
    "cancelled_by",
    "checkpoint",
    "interrupt",
    "is_cancel",
    "scope_var",
    "swallowed_by",
]

scope_var: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "shortly.scope", default=None
)

#: Guards every scope's tree links, flags and sleepers: scopes are not a hot path.
TREE = threading.Lock()


class _Because(str):
    """A cancellation message that also names the scope that was cancelled."""

    scope: Scope


def cancelled_by(origin: Scope) -> CancelledError:
    """The error a wait point raises because ``origin`` was cancelled."""
    return CancelledError(because(origin))


def because(origin: Scope) -> str:
    """The message of :func:`cancelled_by`, usable as a future's cancel message."""
    message = _Because(f"{origin!r} was cancelled")
    message.scope = origin
    return message


def swallowed_by(error: BaseException, scope: Scope) -> bool:
    """Whether ``error`` reports ``scope``'s own cancellation (its block ends quietly)."""
    args = error.args
    return bool(args) and getattr(args[0], "scope", None) is scope and is_cancel(error)


def is_cancel(error: BaseException) -> bool:
    """Whether ``error`` is a cancellation: the stdlib's (shortly's) or asyncio's."""
    if isinstance(error, CancelledError):
        return True
    asyncio = sys.modules.get("asyncio")
    return asyncio is not None and isinstance(error, asyncio.CancelledError)


def interrupt(waker: Any, future: Future[Any]) -> None:
    """Wake ``waker`` unless ``future`` settled first (and so wakes it itself)."""
    with future._lock:
        waiters = future._wait_list
        if future._state in DONE or waiters is None:
            return
        for index, waiter in enumerate(waiters):
            if waiter is waker:  # identity: no user __eq__ runs under our lock
                del waiters[index]
                break
        else:
            return
    waker.wake(future)


def cancelled() -> bool:
    """Whether the current scope is cancelled: a CPU loop's question.

    >>> import shortly
    >>> shortly.cancelled()
    False
    """
    current = scope_var.get()
    with TREE:
        return current is not None and current._origin() is not None


def checkpoint() -> None:
    """Raise :class:`~shortly.CancelledError` if the current scope is cancelled.

    Raises:
        CancelledError: if the current scope (or one around it) was cancelled.

    >>> import shortly
    >>> with shortly.scope() as s:
    ...     s.cancel()
    ...     shortly.checkpoint()
    ...     print("not reached")
    """
    current = scope_var.get()
    if current is not None:
        current.check()
