"""Who depends on whom, and when cancellation travels upward.

Downward is simple: a dependant is settled by its parent, so a cancelled parent fails
its dependants with ``CancelledError``. Upward follows Bluebird's rule. Picture one
download feeding two consumers. If one consumer loses interest, the download must go
on for the other; only when *every* dependant has been cancelled, and no thread blocks
on it and no plain callback awaits it, is the download itself cancelled.

A dependant registers a :class:`Dependant` done-callback on its parent (see
:func:`depend`). Anything else in the parent's callback list, and any blocked waiter,
counts as "somebody else wants this".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ._future import Future

__all__ = ["Dependant", "HasCancelled", "cancel_if_unwanted", "depend", "wanted"]


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


class _Upward:
    """A child's done-callback: when the child is cancelled, maybe cancel the parent.

    It expresses no interest in the child's outcome, so it never keeps a child "wanted".
    """

    __slots__ = ("parent",)

    def __init__(self, parent: Future[Any]) -> None:
        self.parent = parent

    def __call__(self, child: Future[Any]) -> None:
        if child.cancelled():
            cancel_if_unwanted(self.parent, child._result)


def wanted(future: Future[Any]) -> bool:
    """Tell whether anyone but cancelled dependants wants ``future``'s outcome.

    Called with ``future``'s lock held.
    """
    if future._wait_list:
        return True
    for callback in future._callbacks or ():
        if isinstance(callback, _Upward):
            continue
        if isinstance(callback, Dependant) and callback.child.cancelled():
            continue
        return True
    return False


def cancel_if_unwanted(future: Future[Any], msg: Any = None) -> bool:
    """Cancel ``future`` if nobody but cancelled dependants wants it (atomically)."""
    return future._cancel(msg, only_if=lambda f: not wanted(f))


def depend(parent: Future[Any], child: Future[Any], fn: Callable[[Future[Any]], object]) -> None:
    """Make ``child`` a dependant of ``parent``: ``fn(parent)`` runs when it is done.

    Cancelling ``child`` then cancels ``parent`` by the upward rule. If ``parent`` is
    already done, ``fn`` runs at once.

    >>> import shortly
    >>> from shortly._cancel import depend
    >>> parent, child = shortly.Future(), shortly.Future()
    >>> depend(parent, child, lambda p: child.try_set_result(p.result()))
    >>> _ = child.cancel()
    >>> parent.cancelled()
    True
    """
    parent.add_done_callback(Dependant(child, fn))
    child.add_done_callback(_Upward(parent))
