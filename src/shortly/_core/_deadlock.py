"""Owners and the wait-for graph: refusing waits that could never finish.

Every future may name an *owner*: the thread that is to resolve it, or an object (a
serial worker, an event loop bridge, a thread pool's job) that can say which threads
could resolve it right now. A future without an owner may still be *derived*: ``then``
links, ``with_timeout``, ``shield`` and the combinators settle from other futures, so
whoever could settle one of those could settle it.

A thread that blocks on a pending future registers the edge "this thread waits on that
future" for as long as it sleeps. Before sleeping it asks whether the future could
still settle if it went to sleep. A future can settle if it is done, or if nobody knows
who settles it (no owner, nothing it derives from), or if *any one* of the parties that
could settle it can still move: an owner thread that is not blocked, a pool worker that
is not blocked, a source future that can settle. A blocked thread can move again if the
future it waits on can settle. Starting from "every party is stuck" and freeing what can
move until nothing changes leaves exactly the parties that can never move again (the
greatest fixed point). If the waiting thread is among them, nobody could ever wake it:
it raises :class:`~shortly.DeadlockError` naming the cycle, instead of hanging.

Checking and registering happen under one lock, so of several threads closing a cycle
at the same moment exactly one sees it. A future with no owner, no upstream and no
sources never gets here; one whose owner thread is not waiting (or is about to wake)
is cleared in one step.
"""

from __future__ import annotations

import itertools
import sys
import threading
import warnings
from collections import deque

from .._errors import DeadlockError
from . import _report
from ._erased import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._owner_like import Owner

__all__ = [
    "EventLoopOwner",
    "PoolJob",
    "check_owner",
    "describe_owner",
    "owner_thread",
    "warn_if_in_loop",
    "waiting",
]


_graph_lock = threading.Lock()
_waits: dict[threading.Thread, Any] = {}


def check_owner(owner: object, name: str) -> None:
    """Raise TypeError (naming the argument) unless ``owner`` is a thread or owner-like.

    >>> import threading
    >>> check_owner(threading.main_thread(), "owner")
    >>> check_owner("me", "owner")
    Traceback (most recent call last):
    ...
    TypeError: owner must be a threading.Thread or have __shortly_owner_thread__(), not str
    """
    # hasattr on the type, not isinstance(OwnerLike): a runtime Protocol check is slow.
    if not (
        isinstance(owner, threading.Thread) or hasattr(type(owner), "__shortly_owner_thread__")
    ):
        raise TypeError(
            f"{name} must be a threading.Thread or have __shortly_owner_thread__(), "
            f"not {type(owner).__name__}"
        )


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
    if hasattr(type(owner), "__shortly_owner_threads__"):
        return repr(owner)  # a pool: its name and size say more than one thread
    thread = owner_thread(owner)
    return f"{type(owner).__name__} on {thread.name!r}" if thread else type(owner).__name__


class EventLoopOwner:
    """The owner of futures that an asyncio loop is to resolve: the loop's thread."""

    __slots__ = ("loop", "thread")

    def __init__(self, loop: Any, thread: threading.Thread | None) -> None:
        self.loop = loop
        self.thread = thread

    def __shortly_owner_thread__(self) -> threading.Thread | None:
        # asyncio's BaseEventLoop records the thread it runs in; other loops may not.
        ident = getattr(self.loop, "_thread_id", None)
        if ident is None:
            return self.thread
        if ident == threading.get_ident():
            return threading.current_thread()
        for thread in threading.enumerate():
            if thread.ident == ident:
                return thread
        return None


class PoolJob:
    """The owner of a future of work submitted to a thread pool through shortly.

    Once a worker runs the work, that worker resolves the future. While the work is
    still queued, any worker of the pool could take it, but only if the pool cannot
    start another worker (it is at ``max_workers``): so the queued work is stuck
    exactly when every worker is.

    >>> import concurrent.futures
    >>> with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="io") as pool:
    ...     job = PoolJob(pool)
    ...     pool.submit(job.run, sum, [1, 2]).result()
    3
    >>> job
    pool 'io' (2 workers)
    """

    __slots__ = ("pool", "thread")

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.thread: threading.Thread | None = None

    def run(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)`` on a worker, noting which worker runs it."""
        self.thread = threading.current_thread()
        return fn(*args, **kwargs)

    def __shortly_owner_thread__(self) -> threading.Thread | None:
        return self.thread

    def __shortly_owner_threads__(self) -> tuple[threading.Thread, ...] | None:
        thread = self.thread
        if thread is not None:
            return (thread,)
        # The stdlib pool's own bookkeeping; another pool class is not understood.
        try:
            threads = tuple(getattr(self.pool, "_threads", ()))
        except RuntimeError:  # a worker was being added as we read: it may be free
            return None
        size = getattr(self.pool, "_max_workers", None)
        if not threads or size is None or len(threads) < size:
            return None
        return threads

    def __repr__(self) -> str:
        pool = self.pool
        name = getattr(pool, "_thread_name_prefix", None) or type(pool).__name__
        size = getattr(pool, "_max_workers", "?")
        return f"pool {name!r} ({size} worker{'' if size == 1 else 's'})"


# -- the graph --------------------------------------------------------------------------


def _listed(sources: Any) -> list[Any]:
    return list(sources) if isinstance(sources, (list, tuple)) else [sources]


def _alternatives(future: Any) -> list[Any] | None:
    """The threads and futures any one of which could settle ``future``; None: unknown.

    Owned: the owner's threads, plus the ``_sources`` that race the owner (a
    ``with_timeout`` settles from its timer or from its source). Not owned: the
    pending stages of ``_upstream`` (a chain adopts stage after stage, and a stage
    that settled has already handed over to the next, or is settling this future)
    and ``_sources`` (combinator inputs, a shield's source).
    """
    owner = future._owner
    sources = future._sources
    alternatives: list[Any]
    if owner is not None:
        if isinstance(owner, threading.Thread):
            alternatives = [owner]
        else:
            many = getattr(owner, "__shortly_owner_threads__", None)
            if many is not None:
                threads = many()
                if not threads:
                    return None
                alternatives = list(threads)
            else:
                thread = owner.__shortly_owner_thread__()
                if thread is None:
                    return None
                alternatives = [thread]
    else:
        alternatives = []
        upstream = future._upstream
        if upstream is not None:
            alternatives = [f for f in _listed(upstream) if not f.done()]
            if not alternatives:
                return None
    if sources is not None:
        alternatives += _listed(sources)
    return alternatives or None


# A wait whose graph reaches more futures than this is let through unchecked: the
# check must stay far cheaper than the wait, and such graphs are long chains whose
# root is usually just a future some thread will settle.
_LIMIT = 10_000


class _Graph:
    """The part of the wait-for graph reachable from one wait, and who is stuck in it.

    Parties are futures (keyed by id) and threads. A future is freed by any one of its
    alternatives being free, a thread by the future it waits on; freedom spreads from
    the parties known to be free along ``needed_by``. Whatever is left once everything
    reachable has been seen can never move again.
    """

    __slots__ = ("alternatives", "complete", "free", "me", "needed_by", "todo", "waits")

    def __init__(self, me: threading.Thread, future: Any) -> None:
        self.me = me
        self.waits: dict[threading.Thread, Any] = {me: future}
        self.alternatives: dict[int, tuple[Any, list[Any] | None]] = {}
        self.free: set[Any] = set()
        self.needed_by: dict[Any, list[Any]] = {}
        self.todo: list[Any] = []
        self._link(me, id(future))
        self._visit(future)
        self.complete = self._explore()

    def _free(self, key: Any) -> None:
        stack = [key]
        while stack:
            key = stack.pop()
            if key not in self.free:
                self.free.add(key)
                stack.extend(self.needed_by.pop(key, ()))

    def _link(self, needer: Any, needed: Any) -> None:
        """``needer`` can move once ``needed`` can."""
        if needed in self.free:
            self._free(needer)
        else:
            self.needed_by.setdefault(needed, []).append(needer)

    def _visit(self, future: Any) -> None:
        key = id(future)
        if key not in self.alternatives:
            alternatives = None if future.done() else _alternatives(future)
            self.alternatives[key] = (future, alternatives)
            if alternatives is None:
                self._free(key)
            else:
                self.todo.append(future)

    def _visit_thread(self, thread: threading.Thread) -> None:
        if thread not in self.waits:
            awaited = _waits.get(thread)
            self.waits[thread] = awaited
            if awaited is None:
                self._free(thread)
            else:
                self._link(thread, id(awaited))
                self._visit(awaited)

    def _explore(self) -> bool:
        """Visit what the wait reaches; False if stopped early (it can move, or too big)."""
        me, free, todo = self.me, self.free, self.todo
        while todo and me not in free:
            if len(self.alternatives) > _LIMIT:
                return False
            future = todo.pop()
            key = id(future)
            for party in self.alternatives[key][1] or ():
                if key in free:
                    break  # one way to settle is enough: the rest need not be seen
                if isinstance(party, threading.Thread):
                    self._visit_thread(party)
                    self._link(key, party)
                else:
                    self._visit(party)
                    self._link(key, id(party))
        return me not in free

    def cycle(self) -> list[Any] | None:
        """The shortest stuck path from this thread back to itself, threads and futures."""
        if not self.complete:
            return None
        me, free = self.me, self.free
        start = self.waits[me]
        came_from: dict[Any, Any] = {id(start): None}
        queue = deque([start])
        while queue:
            node = queue.popleft()
            if isinstance(node, threading.Thread):
                following = [self.waits[node]]
            else:
                following = self.alternatives[id(node)][1] or []
            for party in following:
                key = party if isinstance(party, threading.Thread) else id(party)
                if key in free or key in came_from:
                    continue
                came_from[key] = node
                if party is me:
                    path = [party]
                    while node is not None:
                        path.append(node)
                        node = came_from[node if isinstance(node, threading.Thread) else id(node)]
                    path.append(me)
                    path.reverse()
                    return path
                queue.append(party)
        return None  # stuck behind somebody else's cycle: theirs to report


def _fast_clear(me: threading.Thread, future: Any) -> bool:
    """The common case in one step: owned by one thread that is not us and can move."""
    owner = future._owner
    if owner is None or future._sources is not None:
        return False
    if isinstance(owner, threading.Thread):
        thread: threading.Thread | None = owner
    elif hasattr(type(owner), "__shortly_owner_threads__"):
        return False
    else:
        thread = owner.__shortly_owner_thread__()
    if thread is None:
        return True
    if thread is me:
        return False
    awaited = _waits.get(thread)
    # Waiting on nothing, or on a future just settled: it is about to move on.
    return awaited is None or awaited.done()


# -- messages ------------------------------------------------------------------------------


def _owned_by(future: Any, graph: _Graph) -> str:
    """ ", owned by X", naming every worker's wait when X is a pool the work is queued on."""
    owner = future._owner
    text = f", owned by {describe_owner(owner)}"
    if hasattr(type(owner), "__shortly_owner_threads__") and owner_thread(owner) is None:
        alternatives = graph.alternatives[id(future)][1] or []
        waits = ", ".join(
            f"{t.name!r} on "
            + ("this very future" if graph.waits[t] is future else repr(graph.waits[t]))
            for t in alternatives
            if isinstance(t, threading.Thread)
        )
        text += f", where it is still queued and every worker waits ({waits})"
    return text


def _shortened(steps: list[str], keep: int = 3) -> list[str]:
    """``steps`` with long runs of "settles from" cut down to their ends (long chains)."""
    out: list[str] = []
    run: list[str] = []
    for step in [*steps, ""]:
        if step.startswith(", which settles from"):
            run.append(step)
            continue
        if len(run) > 2 * keep + 1:
            skipped = len(run) - 2 * keep
            run[keep:-keep] = [f", which settles from {skipped:,} more derived futures"]
        out += run
        run = []
        out.append(step)
    return out


def _message(path: list[Any], graph: _Graph) -> str:
    me: threading.Thread = path[0]
    owner = path[1]._owner
    if len(path) == 3 and owner is not None and owner_thread(owner) is me:
        return (
            f"thread {me.name!r} would wait for ever on {path[1]!r}, "
            "which it owns and so must resolve itself"
        )
    steps: list[str] = []
    for node, following in itertools.pairwise(path):
        if isinstance(node, threading.Thread):
            steps.append(f"; thread {node.name!r} waits on {following!r}")
        elif isinstance(following, threading.Thread):
            steps.append(_owned_by(node, graph) if node._owner is not None else "")
        else:
            steps.append(f", which settles from {following!r}")
    text = "".join(_shortened(steps))
    text = text[2:]
    if sum(isinstance(node, threading.Thread) for node in path) == 2:
        text = text.replace(
            f"thread {me.name!r} waits on", f"thread {me.name!r} would wait for ever on", 1
        )
        return f"{text}: that is this thread itself, so nothing could ever settle it"
    return f"waiting would close a cycle: {text}: that is thread {me.name!r} again"


# -- waiting ---------------------------------------------------------------------------------


def warn_if_in_loop(future: Any, stacklevel: int = 4) -> None:
    """In debug mode, warn about a blocking wait on the thread of a running asyncio loop.

    The loop runs nothing else while the thread sleeps. (A wait on a future that only
    that loop can resolve is refused outright by :class:`waiting`.)
    """
    asyncio = sys.modules.get("asyncio")  # not imported: no loop can be running
    if asyncio is None:
        return
    loop = asyncio._get_running_loop()
    if loop is not None and (_report._debug or loop.get_debug()):
        warnings.warn(
            f"a blocking wait on {future!r} inside the running event loop {loop!r} "
            "freezes the loop until the future settles; await it instead",
            RuntimeWarning,
            stacklevel=stacklevel,  # the caller of result(), wait() or exception()
        )


class waiting:
    """Context manager marking the current thread as blocked on ``future``.

    Entering raises :class:`DeadlockError` if the wait could never finish.
    """

    __slots__ = ("_future", "_thread")

    def __init__(self, future: Any) -> None:
        self._future = future
        self._thread = threading.current_thread()

    def __enter__(self) -> None:
        me, future = self._thread, self._future
        with _graph_lock:
            if not _fast_clear(me, future):
                graph = _Graph(me, future)
                path = graph.cycle()
                if path is not None:
                    raise DeadlockError(_message(path, graph))
            _waits[me] = future
        warn_if_in_loop(future, 5)

    def __exit__(self, *exc_info: object) -> None:
        with _graph_lock:
            if _waits.get(self._thread) is self._future:
                del _waits[self._thread]
