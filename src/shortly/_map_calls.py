"""The calls of one ``shortly.map``: at most ``limit`` in flight, the rest wait their turn.

The map's consumer reads the input (only it does) and hands each item here with the
future that will hold its result. The call starts at once if fewer than ``limit`` are
in flight, else the item waits in a queue. "In flight" means submitted to the executor
(queued there or running) and not finished.

Why a queue of items read ahead. Under the GIL the pool runs mostly while the
consumer sleeps waiting for a result, and it can then finish only what it was given.
So on a thread pool the thread that finishes a call takes the next queued one before
it returns: a sleeping consumer wakes to up to ``2 * limit`` results, not ``limit``,
which halves the sleeps and wake-ups (each a thread hand-off costing far more than a
no-op call). The slot passes from the finished call to the next, so the count in
flight never rises.

On a plain ``ThreadPoolExecutor`` the thread runs that next call itself, saving a
stdlib future and a queue round trip, unless the pool's queue holds others' work:
then the call is submitted to the back of the line, so a map never keeps a pool thread
from others. (A subclass's ``submit`` is called for every call: it may do more than
queue.) Other executors and coroutine functions start queued calls only from the
consumer, when it takes a result: a process pool's result thread must not submit, and
a task is made in its own loop.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextvars
import threading
from collections.abc import Callable
from typing import Any

from ._core import Future, attempt, fail, fail_running, follow

__all__ = ["Calls"]

_POOL, _ELSEWHERE, _ASYNC = "pool", "elsewhere", "async"


class Calls:
    """Start calls of ``fn`` with at most ``limit`` in flight; queue the others.

    ``executor`` is as for :func:`shortly.map`; ``ctx`` is the context each call runs a
    copy of (it carries the map's scope). Nothing here refers to the map iterator, so
    pool threads never keep it alive.

    >>> import contextvars, shortly
    >>> calls = Calls(abs, 2, None, contextvars.copy_context(), is_async=False)
    >>> futures = [shortly.Future() for _ in range(3)]
    >>> calls.add(list(zip([-1, -2, -3], futures)))
    >>> [f.result(timeout=5) for f in futures]
    [1, 2, 3]
    """

    __slots__ = ("_backlog", "_ctx", "_executor", "_fn", "_how", "_limit", "_lock", "_queued",
                 "_running", "_stopped", "_submit", "_waiting")  # fmt: skip

    def __init__(
        self,
        fn: Callable[[Any], Any],
        limit: int,
        executor: Any,
        ctx: contextvars.Context,
        *,
        is_async: bool,
    ) -> None:
        self._fn = fn
        self._limit = limit
        self._executor = executor
        self._ctx = ctx
        self._how: str | None = _ASYNC if is_async else None  # chosen at the first call
        self._submit: Callable[..., Any] | None = None
        self._lock = threading.Lock()
        self._waiting: collections.deque[tuple[Any, Future[Any]]] = collections.deque()
        self._running = 0  # calls in flight (under _lock)
        self._stopped = False
        # On a plain thread pool, how many tasks its queue holds (None elsewhere), and
        # how many of them are this map's (under _lock): the rest are others' work.
        self._backlog: Callable[[], int] | None = None
        self._queued = 0

    def add(self, calls: list[tuple[Any, Future[Any]]]) -> None:
        """Queue ``(item, future)`` pairs; start queued calls while slots are free.

        Called by the consumer only; an empty list just starts what slots allow.
        """
        with self._lock:
            if self._stopped:
                return
            self._waiting.extend(calls)
            turns = []
            while self._waiting and self._running < self._limit:
                turns.append(self._waiting.popleft())
                self._running += 1
            self._queued += len(turns)
        for item, future in turns:
            self._start(item, future)

    def stop(self) -> None:
        """Start nothing more; the queued calls are dropped (their futures are the
        caller's to cancel)."""
        with self._lock:
            self._stopped = True
            self._waiting.clear()

    def _ended(self) -> None:
        """A call off a thread pool left flight: free its slot."""
        with self._lock:
            self._running -= 1

    def _picked(self) -> None:
        """A pool thread took one of this map's calls off the pool's queue."""
        with self._lock:
            self._queued -= 1

    def _relay(self) -> tuple[Any, Future[Any]] | None:
        """A pool thread's call ended: pass its slot to the next queued call.

        Returns the call for this thread to run itself, or None (nothing queued, or
        the next call was submitted to the back of the pool's queue, behind others').
        """
        backlog = self._backlog
        with self._lock:
            if not self._waiting:  # (stop() empties it)
                self._running -= 1
                return None
            turn = self._waiting.popleft()
            if backlog is not None and backlog() <= self._queued:
                return turn
            self._queued += 1
        self._start(*turn)
        return None

    # -- the ways a call starts ---------------------------------------------------------

    def _start(self, item: Any, future: Future[Any]) -> None:
        how = self._how or self._choose()
        if how == _POOL:
            assert self._submit is not None
            try:
                # A plain function that settles a bare shortly future itself: no stdlib
                # future is adapted and no callback chain is built.
                self._submit(_run, self, self._ctx.copy(), item, future)
            except BaseException as error:  # a pool shut down: the future must still end
                self._picked()
                self._ended()
                fail(future, error)
        elif how == _ASYNC:
            self._start_async(item, future)
        else:
            from ._submit import submit

            # Processes and clusters cannot carry a context: no scope reaches them.
            self._link(future, submit(self._fn, item, executor=self._executor))

    def _choose(self) -> str:
        """How calls start, chosen at the first (the shared pool is made only if used)."""
        from ._submit import shared_pool

        executor = self._executor if self._executor is not None else shared_pool()
        how = _ELSEWHERE
        if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
            self._submit = executor.submit
            self._backlog = _backlog(executor)
            how = _POOL
        self._how = how
        return how

    def _start_async(self, item: Any, future: Future[Any]) -> None:
        import sniffio

        library = sniffio.current_async_library()
        if library == "asyncio":
            import asyncio

            from ._adapt import future_of

            task = self._ctx.copy().run(asyncio.ensure_future, self._fn(item))
            self._link(future, future_of(task))
        elif library == "trio":
            from ._limit import trio_task

            self._link(future, trio_task(self._ctx.copy(), self._fn(item)))
        else:
            self._ended()
            future.cancel()
            raise RuntimeError(
                f"map of a coroutine function runs under asyncio or trio, not {library}"
            )

    def _link(self, future: Future[Any], inner: Future[Any]) -> None:
        """``future`` settles as ``inner`` does; cancelling it cancels ``inner``."""

        def landed(done: Future[Any]) -> None:
            self._ended()
            follow(future, done)

        inner.add_done_callback(landed)
        future.add_done_callback(lambda done: done.cancelled() and inner.cancel())


def _backlog(pool: concurrent.futures.ThreadPoolExecutor) -> Callable[[], int] | None:
    """For a plain pool, how many tasks wait in its queue ("very many" once shut down)."""
    if type(pool).submit is not concurrent.futures.ThreadPoolExecutor.submit:
        return None  # a subclass's submit may do more than queue: call it every time
    # The stdlib pool's own fields (3.10 to 3.13 have both). Without them every call is
    # submitted: the fair path, only slower.
    work = getattr(pool, "_work_queue", None)
    if work is None or not callable(getattr(work, "qsize", None)) or not hasattr(pool, "_shutdown"):
        return None
    return lambda: work.qsize() + (1 << 30) * pool._shutdown


def _run(calls: Calls, ctx: contextvars.Context, item: Any, future: Future[Any]) -> None:
    """A pool thread's part: run calls, from this one on, while ``Calls._relay`` hands
    them over; each settles its future, unless cancelled before it started."""
    calls._picked()
    while True:
        try:
            if future.set_running_or_notify_cancel():
                ok, value = ctx.run(attempt, calls._fn, item)
                if ok:
                    future.try_set_result(value)
                else:
                    fail_running(future, value)
        finally:
            turn = calls._relay()
        if turn is None:
            return
        item, future = turn
        ctx = calls._ctx.copy()
