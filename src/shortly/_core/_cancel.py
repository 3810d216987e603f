"""Who depends on whom, and when cancellation travels upward.

Downward is simple: a dependant is settled by its parent, so a cancelled parent fails
its dependants with ``CancelledError``. Upward follows Bluebird's rule. Picture one
download feeding two consumers. If one consumer loses interest, the download must go
on for the other; only when *every* dependant has been cancelled, and no thread blocks
on it and no plain callback awaits it, is the download itself cancelled.

A dependant registers a :class:`Dependant` done-callback on its parent and records
the parent as its *upstream* (see :func:`depend`); cancelling the dependant walks
upstream. Anything else in the parent's callback list, and any blocked waiter, counts
as "somebody else wants this". A dependant that is a future and already settled (a
timeout that expired, a link settled by hand) wants nothing either.

A consumer that is done leaves nothing behind on a long-lived parent: it unregisters
(:func:`undepend`, :func:`detach`), the upward walk drops the dependants that lost
interest from every parent it visits, and :func:`attach` compacts a parent's callback
list as it grows, for consumers that could not unregister themselves (an iterator
dropped unclosed: a finalizer must not take locks). Removal compares by identity, so
no user ``__eq__`` ever runs under a future's lock.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from concurrent.futures import _base

from .._errors import CancelledError
from ._erased import TYPE_CHECKING
from ._states import CANCELLED_STATES, DONE, FINISHED, PENDING, RUNNING

if TYPE_CHECKING:
    from typing import Any, ClassVar, Protocol

    from ._future import Future

__all__ = [
    "NOBODY",
    "Dependant",
    "Sweepable",
    "attach",
    "cancel_if_unwanted",
    "cancel_upstream",
    "upstream_of",
    "depend",
    "detach",
    "fail",
    "fail_running",
    "follow",
    "remove_identical",
    "undepend",
    "wanted",
    "watch",
    "when_cancelled",
]

# attach() compacts a callback list when its length reaches a power of two at least
# this large: amortised O(1) per registration, and dead entries never outnumber the
# live ones (plus this many).
_COMPACT_MIN = 8


if TYPE_CHECKING:  # a protocol for the type checker: nothing checks it at run time

    class Interested(Protocol):
        """A dependant that is not a future: a combinator, an awaiting task, listeners.

        A future child's interest is its state (cancelled or settled: it wants nothing
        more); anything else says so itself.
        """

        def lost_interest(self) -> bool: ...


class Dependant:
    """A parent's done-callback that stands for one dependant (``child``).

    Calling it runs ``fn(parent)``, which is expected to settle the child. The child
    is a future (shortly's, the stdlib's or asyncio's) or an :class:`Interested`.
    """

    __slots__ = ("child", "fn")

    #: Whether this dependant may be dropped from its parent once its child lost
    #: interest, because it has nothing left to do then. False for kinds whose callback
    #: still has a duty (or is unknown here); their owners unregister them.
    sweepable: ClassVar[bool] = False

    def __init__(self, child: object, fn: Callable[[Future[Any]], object]) -> None:
        self.child = child
        self.fn = fn

    def __call__(self, parent: Future[Any]) -> None:
        self.fn(parent)

    def __repr__(self) -> str:
        return f"<Dependant {self.child!r} via {self.fn!r}>"


class Sweepable(Dependant):
    """A :class:`Dependant` with nothing left to do once its child lost interest."""

    __slots__ = ()

    sweepable = True


def _lost(callback: object) -> bool:
    """Tell whether ``callback`` is a dependant that no longer wants its parent."""
    if not isinstance(callback, Dependant):
        return False
    child = callback.child
    if isinstance(child, _base.Future):
        # The common case, first (a getattr that misses costs an exception): a settled
        # child needs nothing more from its parent (reading _state without the child's
        # lock is enough: a state only ever moves on to done).
        return child._state in DONE
    lost_interest = getattr(child, "lost_interest", None)
    if lost_interest is not None:
        return lost_interest()  # type: ignore[no-any-return]
    return child.cancelled()  # type: ignore[attr-defined, no-any-return]  # a foreign future: asyncio's, dask's


def _dead(callback: object) -> bool:
    return isinstance(callback, Dependant) and callback.sweepable and _lost(callback)


def _sweep(future: Future[Any]) -> None:
    """Drop the sweepable dependants that lost interest from ``future``'s callbacks."""
    with future._lock:
        callbacks = future._callbacks
        if type(callbacks) is list:
            kept = [cb for cb in callbacks if not _dead(cb)]
            if len(kept) != len(callbacks):
                callbacks[:] = kept  # in place: the list is only ever touched under the lock
        elif callbacks is not None and _dead(callbacks):
            future._callbacks = None


def wanted(future: Future[Any]) -> bool:
    """Tell whether anyone but dependants that lost interest wants ``future``'s outcome.

    Called with ``future``'s lock held.
    """
    if future._wait_list:
        return True
    callbacks = future._callbacks
    for callback in callbacks if type(callbacks) is list else (callbacks,) if callbacks else ():
        if not _lost(callback):
            return True
    return False


def _unwanted(future: Future[Any]) -> bool:
    return not wanted(future)


def cancel_if_unwanted(future: Future[Any], msg: Any = None) -> bool:
    """Cancel ``future`` if nobody but cancelled dependants wants it (atomically)."""
    return future._cancel(msg, only_if=_unwanted)


def upstream_of(future: Future[Any]) -> list[Future[Any]]:
    """What ``future`` depends on (its parents), as a new list; empty if nothing.

    >>> import shortly
    >>> from shortly._core import upstream_of
    >>> parent = shortly.Future()
    >>> child = parent.then(str)
    >>> upstream_of(child) == [parent], upstream_of(parent)
    (True, [])
    """
    upstream = getattr(future, "_upstream", None)
    if upstream is None:
        return []
    return list(upstream) if type(upstream) is list else [upstream]


def cancel_upstream(upstream: Future[Any] | list[Future[Any]], msg: Any) -> None:
    """Apply the upward rule from a just-cancelled future to what it depends on.

    A loop rather than recursion: cancelling the end of a 100,000-link chain walks
    all the way up with a flat stack.
    """
    pending = list(upstream) if isinstance(upstream, list) else [upstream]
    while pending:
        future = pending.pop()
        cancelled, further = future._cancel_one(msg, _unwanted)
        if further is not None:
            pending.extend(further if isinstance(further, list) else [further])
        if not cancelled:
            _sweep(future)  # somebody else wants it: the cancelled dependant leaves it


class _Nobody:
    """The dependant behind :func:`watch`: always "cancelled", so it wants nothing."""

    __slots__ = ()

    def lost_interest(self) -> bool:
        return True

    def __repr__(self) -> str:
        return "<nobody>"


NOBODY: Interested = _Nobody()


def watch(future: Future[Any], fn: Callable[[Future[Any]], object]) -> None:
    """Call ``fn(future)`` when ``future`` is done, without wanting its outcome.

    A plain done-callback counts as interest and would keep ``future`` alive under the
    upward rule; a hook that only cleans up (a timer to cancel, a registration to
    drop) must not.

    >>> import shortly
    >>> from shortly._core._cancel import depend, watch
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
    ``child`` (a link class of its own), which saves wrapping it; otherwise it is
    wrapped in a :class:`Sweepable`: once ``child`` is done or cancelled while
    ``parent`` carries on, the registration may be dropped and ``fn`` never runs.

    >>> import shortly
    >>> from shortly._core._cancel import depend
    >>> parent, child = shortly.Future(), shortly.Future()
    >>> depend(parent, child, lambda p: print("parent done, cancelled:", p.cancelled()))
    >>> _ = child.cancel()
    parent done, cancelled: True
    >>> parent.cancelled()
    True
    """
    attach(parent, fn if isinstance(fn, Dependant) else Sweepable(child, fn))
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
    if state in CANCELLED_STATES:
        cancel_if_unwanted(parent, getattr(child, "_cancel_message", None))


def attach(parent: Future[Any], dependant: Dependant) -> None:
    """``parent.add_done_callback(dependant)``, compacting ``parent``'s callbacks as they grow.

    Consumers that cannot unregister themselves (an iterator dropped unclosed) are
    swept out here, the next time anything attaches to the same future.

    >>> import shortly
    >>> from shortly._core._cancel import Sweepable, attach
    >>> parent = shortly.Future()
    >>> for _ in range(100):
    ...     gone = shortly.Future(); _ = gone.cancel()
    ...     attach(parent, Sweepable(gone, print))
    >>> len(parent._callbacks) <= 8
    True
    """
    parent.add_done_callback(dependant)
    callbacks = parent._callbacks
    if type(callbacks) is list:
        size = len(callbacks)
        if size >= _COMPACT_MIN and not size & (size - 1):
            _sweep(parent)


def detach(future: Future[Any], callback: object) -> bool:
    """Remove ``callback`` from ``future``'s callbacks, compared by identity; tell if found.

    >>> import shortly
    >>> from shortly._core._cancel import detach
    >>> f = shortly.Future(); f.add_done_callback(print)
    >>> detach(f, print), detach(f, print)
    (True, False)
    """
    with future._lock:
        callbacks = future._callbacks
        if callbacks is callback:
            future._callbacks = None
            return True
        if type(callbacks) is list:
            return remove_identical(callbacks, callback)
    return False


def remove_identical(items: list[Any], item: object) -> bool:
    """Remove ``item`` from ``items`` by identity; tell if it was there.

    ``list.remove`` compares with ``==``, which would run a user's ``__eq__`` under a
    future's lock.

    >>> from shortly._core._cancel import remove_identical
    >>> items = [1.0, 1]
    >>> remove_identical(items, items[1]), items
    (True, [1.0])
    """
    for index, candidate in enumerate(items):
        if candidate is item:
            del items[index]
            return True
    return False


def undepend(parent: Future[Any], child: object, replacement: Dependant | None = None) -> None:
    """Unregister every dependant standing for ``child`` from ``parent`` (by identity).

    What a consumer calls once it is done with ``parent`` early (a combinator that has
    decided, a timeout that expired), so a long-lived ``parent`` keeps nothing of it.
    ``replacement``, if given, takes their place unless it is registered already (one
    shared hook for a duty that outlives the consumer's interest).

    >>> import shortly
    >>> from shortly._core._cancel import depend, undepend
    >>> parent, child = shortly.Future(), shortly.Future()
    >>> depend(parent, child, print)
    >>> undepend(parent, child)
    >>> parent._callbacks is None
    True
    """
    with parent._lock:
        if parent._state in DONE:
            return  # its callbacks are being run: each one sees that its consumer is done
        registered = parent._callbacks
        callbacks: list[Any] = (
            registered if type(registered) is list else [] if registered is None else [registered]
        )
        kept = [cb for cb in callbacks if not (isinstance(cb, Dependant) and cb.child is child)]
        changed = len(kept) != len(callbacks)
        if replacement is not None and all(cb is not replacement for cb in kept):
            kept.append(replacement)
            changed = True
        if changed:
            parent._callbacks = kept[0] if len(kept) == 1 else (kept or None)


# -- settling by the cancellation rules ------------------------------------------------


def fail(target: Future[Any], error: BaseException) -> bool:
    """Settle ``target`` with ``error`` the way a chain link does; tell if it took it.

    A ``CancelledError`` (the stdlib's or asyncio's) cancels ``target`` with the same
    message instead of failing it, as an asyncio task whose code raises one is
    cancelled. A ``StopIteration``, which cannot travel through ``await``, arrives
    wrapped in a ``RuntimeError`` (the PEP 479 rule).
    """
    if isinstance(error, CancelledError) or _is_asyncio_cancel(error):
        return target.cancel(error.args[0] if error.args else None)
    if isinstance(error, StopIteration):
        wrapped = RuntimeError(f"{type(error).__name__} cannot travel through a future")
        wrapped.__cause__ = error
        error = wrapped
    return target.try_set_exception(error)


def fail_running(future: Future[Any], error: BaseException) -> None:
    """Fail ``future``, which its work marked running, with what the work raised.

    :func:`fail` turns a ``CancelledError`` into cancelling, but a
    running future cannot be cancelled (the stdlib rule): it fails with the error.
    """
    if not fail(future, error) and future.running():
        future.try_set_exception(error)


def _is_asyncio_cancel(error: BaseException) -> bool:
    asyncio = sys.modules.get("asyncio")  # if it was never imported, no error is its
    return asyncio is not None and isinstance(error, asyncio.CancelledError)


def when_cancelled(future: Future[Any], fn: Callable[[Any], object]) -> None:
    """Call ``fn(message)`` if ``future`` ends up cancelled.

    Registered as a dependant that wants nothing, so unlike a plain done-callback it
    does not keep ``future`` "wanted" under Bluebird's upward rule.
    """

    def hook(done: Future[Any]) -> None:
        if done.cancelled():
            fn(getattr(done, "_cancel_message", None))  # the slot, set only by cancel()

    watch(future, hook)


def follow(target: Future[Any], source: Future[Any]) -> None:
    """Settle ``target`` exactly as ``source`` (already done) settled.

    A failure moves over to ``target``: ``source`` no longer reports it.
    """
    if source._state != FINISHED:
        target.cancel(getattr(source, "_cancel_message", None))
        return
    error = source._exception
    if error is None:
        target.try_set_result(source._result)
    elif fail(target, error):
        source._observe()
