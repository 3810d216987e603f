"""Who depends on whom, and when cancellation travels upward.

Downward is simple: a dependant is settled by its parent, so a cancelled parent fails
its dependants with ``CancelledError``. Upward follows Bluebird's rule. Picture one
download feeding two consumers. If one consumer loses interest, the download must go
on for the other; only when *every* dependant has been cancelled, and no thread blocks
on it and no plain callback awaits it, is the download itself cancelled.

A dependant registers a :class:`Dependant` done-callback on its parent and records
the parent as its *upstream* (see :func:`depend`); cancelling the dependant walks
upstream. Anything else in the parent's callback list, and any blocked waiter, counts
as "somebody else wants this".
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures._base import CANCELLED, CANCELLED_AND_NOTIFIED, PENDING, RUNNING
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ._future import Future

__all__ = [
    "Dependant",
    "HasCancelled",
    "cancel_if_unwanted",
    "cancel_upstream",
    "NOBODY",
    "depend",
    "wanted",
    "watch",
]

_CANCELLED = (CANCELLED, CANCELLED_AND_NOTIFIED)


class HasCancelled(Protocol):
    """Anything that can say whether it lost interest: a future, an awaiting task."""

    def cancelled(self) -> bool: ...


class Dependant:
    """A parent's done-callback that stands for one dependant (``child``).

    Calling it runs ``fn(parent)``, which is expected to settle the child.
    """

    __slots__ = ("child", "fn")

    def __init__(self, child: HasCancelled, fn: Callable[[Future[Any]], object]) -> None:
        self.child = child
        self.fn = fn

    def __call__(self, parent: Future[Any]) -> None:
        self.fn(parent)

    def __repr__(self) -> str:
        return f"<Dependant {self.child!r} via {self.fn!r}>"


def wanted(future: Future[Any]) -> bool:
    """Tell whether anyone but cancelled dependants wants ``future``'s outcome.

    Called with ``future``'s lock held.
    """
    if future._wait_list:
        return True
    callbacks = future._callbacks
    for callback in callbacks if type(callbacks) is list else (callbacks,) if callbacks else ():
        if isinstance(callback, Dependant) and callback.child.cancelled():
            continue
        return True
    return False


def _unwanted(future: Future[Any]) -> bool:
    return not wanted(future)


def cancel_if_unwanted(future: Future[Any], msg: Any = None) -> bool:
    """Cancel ``future`` if nobody but cancelled dependants wants it (atomically)."""
    return future._cancel(msg, only_if=_unwanted)


def cancel_upstream(upstream: Future[Any] | list[Future[Any]], msg: Any) -> None:
    """Apply the upward rule from a just-cancelled future to what it depends on.

    A loop rather than recursion: cancelling the end of a 100,000-link chain walks
    all the way up with a flat stack.
    """
    pending = list(upstream) if isinstance(upstream, list) else [upstream]
    while pending:
        _, further = pending.pop()._cancel_one(msg, _unwanted)
        if further is not None:
            pending.extend(further if isinstance(further, list) else [further])


class _Nobody:
    """The dependant behind :func:`watch`: always "cancelled", so it wants nothing."""

    __slots__ = ()

    def cancelled(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "<nobody>"


NOBODY: HasCancelled = _Nobody()


def watch(future: Future[Any], fn: Callable[[Future[Any]], object]) -> None:
    """Call ``fn(future)`` when ``future`` is done, without wanting its outcome.

    A plain done-callback counts as interest and would keep ``future`` alive under the
    upward rule; a hook that only cleans up (a timer to cancel, a registration to
    drop) must not.

    >>> import shortly
    >>> from shortly._cancel import depend, watch
    >>> parent, child = shortly.Future(), shortly.Future()
    >>> depend(parent, child, lambda p: None)
    >>> watch(parent, lambda p: print("cleaned up"))
    >>> _ = child.cancel()
    cleaned up
    >>> parent.cancelled()
    True
    """
    future.add_done_callback(Dependant(NOBODY, fn))


def depend(parent: Future[Any], child: Future[Any], fn: Callable[[Future[Any]], object]) -> None:
    """Make ``child`` a dependant of ``parent``: ``fn(parent)`` runs when it is done.

    Cancelling ``child`` then cancels ``parent`` by the upward rule. If ``parent`` is
    already done, ``fn`` runs at once. ``fn`` may itself be a :class:`Dependant` for
    ``child`` (a link class of its own), which saves wrapping it.

    >>> import shortly
    >>> from shortly._cancel import depend
    >>> parent, child = shortly.Future(), shortly.Future()
    >>> depend(parent, child, lambda p: child.try_set_result(p.result()))
    >>> _ = child.cancel()
    >>> parent.cancelled()
    True
    """
    parent.add_done_callback(fn if isinstance(fn, Dependant) else Dependant(child, fn))
    lock = child._lock
    lock.acquire()  # not ``with``: this runs once per link of every chain
    try:
        state = child._state
        if state in (PENDING, RUNNING):
            upstream = child._upstream
            if upstream is None:
                child._upstream = parent
            elif isinstance(upstream, list):
                upstream.append(parent)
            else:
                child._upstream = [upstream, parent]
    finally:
        lock.release()
    if state in _CANCELLED:
        cancel_if_unwanted(parent, child._result)
