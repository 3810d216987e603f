"""Owners and the wait-for graph: refusing waits that could never finish.

Every future may name an *owner*: the thread that is to resolve it, or an object
(a serial worker, an event loop bridge) that can say which thread that is right now.
A thread that blocks on a pending future registers an edge "this thread waits on that
future" for as long as it sleeps. Before sleeping it follows the edges: the future's
owner thread, the future *that* thread waits on, its owner, and so on. Reaching the
waiting thread itself means nobody can ever wake it, so it raises
:class:`~shortly.DeadlockError` instead of hanging.

Checking and registering happen under one lock, so of two threads closing a cycle at
the same moment exactly one sees it. Futures without an owner never get here.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from ._errors import DeadlockError

__all__ = ["Owner", "OwnerLike", "owner_thread", "waiting", "describe_owner"]


@runtime_checkable
class OwnerLike(Protocol):
    """An owner that is not a thread: it says which thread resolves its futures now.

    >>> import threading
    >>> class Worker:
    ...     def __shortly_owner_thread__(self):
    ...         return threading.main_thread()
    >>> isinstance(Worker(), OwnerLike)
    True
    """

    def __shortly_owner_thread__(self) -> threading.Thread | None: ...


Owner = threading.Thread | OwnerLike

_graph_lock = threading.Lock()
_waits: dict[threading.Thread, Any] = {}


def owner_thread(owner: Owner | None) -> threading.Thread | None:
    """The thread that resolves futures of ``owner`` now, or ``None`` if none does."""
    if owner is None or isinstance(owner, threading.Thread):
        return owner
    return owner.__shortly_owner_thread__()


def describe_owner(owner: Owner | None) -> str:
    """A short human name for an owner, for reprs and messages."""
    if owner is None:
        return "none"
    if isinstance(owner, threading.Thread):
        return repr(owner.name)
    thread = owner_thread(owner)
    return f"{type(owner).__name__} on {thread.name!r}" if thread else type(owner).__name__


def _cycle(me: threading.Thread, future: Any) -> list[tuple[threading.Thread, Any]] | None:
    """The wait path from ``me`` back to ``me`` through ``future``, if there is one."""
    path: list[tuple[threading.Thread, Any]] = [(me, future)]
    seen = {me}
    while True:
        thread = owner_thread(future._owner)
        if thread is None:
            return None
        if thread is me:
            return path
        if thread in seen:
            return None  # a cycle among others: theirs to report
        future = _waits.get(thread)
        if future is None or future.done():
            return None
        seen.add(thread)
        path.append((thread, future))


def _message(path: list[tuple[threading.Thread, Any]]) -> str:
    if len(path) == 1:
        thread, future = path[0]
        return (
            f"thread {thread.name!r} would wait for ever on {future!r}, "
            "which it owns and so must resolve itself"
        )
    steps = "; ".join(f"thread {t.name!r} waits on {f!r}" for t, f in path)
    return f"waiting would close a cycle: {steps}; each future is owned by the next thread"


class waiting:
    """Context manager marking the current thread as blocked on ``future``.

    Entering raises :class:`DeadlockError` if the wait could never finish.
    """

    __slots__ = ("_future", "_thread")

    def __init__(self, future: Any) -> None:
        self._future = future
        self._thread = threading.current_thread()

    def __enter__(self) -> None:
        with _graph_lock:
            path = _cycle(self._thread, self._future)
            if path is not None and not any(f.done() for _, f in path):
                raise DeadlockError(_message(path))
            _waits[self._thread] = self._future

    def __exit__(self, *exc_info: object) -> None:
        with _graph_lock:
            if _waits.get(self._thread) is self._future:
                del _waits[self._thread]
