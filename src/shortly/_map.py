"""``shortly.map``: a bounded, lazy map over threads, asyncio or trio.

At most ``limit`` calls are in flight. The input is read in the consumer's thread, one
item per result taken (so an endless generator works, and the generator is never
touched by two threads), and a call starts only once a slot is free. Results come
back in input order, or as they finish with ``ordered=False``.

Stopping. The first failure cancels every call in flight at once (calls not started
never start; running thread calls get :class:`~shortly.CancelledError` at their next
shortly wait point, because they run inside a private :class:`~shortly.Scope`), and
the next step of the iteration raises it. Closing the iterator (``close()``, leaving
its ``with`` block, or dropping it, as a ``for`` loop left by ``break`` does) cancels
the same way. The calls' callbacks hold the iterator only weakly, so dropping it is
seen at once; a finalizer must not take locks its own thread may hold, so it hands
the closing to shortly's deferred thread (``defer``: a ``SimpleQueue.put``, safe there).

Why it is cheap. On a thread pool the call is queued as a plain function that settles
a bare shortly future itself, so no stdlib future is adapted and no callback chain is
built; the scope is carried by one context copy per call.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextvars
import inspect
import queue
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sized
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from ._core import Future, attempt, defer, ensure_deferred, fail_running
from ._core import is_cancel as _is_cancel
from ._errors import CancelledError
from ._limit import check_limit, trio_task
from ._progress import Progress, Tally
from ._scope import Scope, current_scope, set_current

__all__ = ["MapIterator", "map"]

T = TypeVar("T")
R = TypeVar("R")

_builtin_map = map


class _Landed:
    """The calls' done-callback: it holds the iterator weakly, so dropping it is seen."""

    __slots__ = ("ref",)

    def __init__(self, iterator: MapIterator[Any]) -> None:
        self.ref = weakref.ref(iterator)

    def __call__(self, future: Future[Any]) -> None:
        iterator = self.ref()
        if iterator is not None:
            iterator._landed(future)
        elif future._exception is not None and _is_cancel(future._exception):
            future._observe()  # stopped by the dropped map's own cancel: nothing to tell


def _run(
    ctx: contextvars.Context, fn: Callable[[Any], Any], item: Any, future: Future[Any]
) -> None:
    """A pool thread's part: run ``fn(item)`` unless cancelled first, settle ``future``."""
    if not future.set_running_or_notify_cancel():
        return
    ok, value = ctx.run(attempt, fn, item)
    if ok:
        future.try_set_result(value)
    else:
        fail_running(future, value)


class MapIterator(Generic[R]):
    """What :func:`shortly.map` returns: an iterator and an async iterator of results.

    >>> import shortly
    >>> with shortly.map(str.upper, ["a", "b"]) as results:
    ...     list(results)
    ['A', 'B']
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        items: Iterator[Any],
        limit: int,
        executor: Any,
        ordered: bool,
        total: int | None = None,
    ) -> None:
        self._fn = fn
        self._items: Iterator[Any] | None = items
        self._limit = limit
        self._executor = executor
        self._ordered = ordered
        self._is_async = inspect.iscoroutinefunction(fn)
        self._flight: collections.deque[Future[Any]] = collections.deque()
        self._arrived: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._scope = Scope(None, False)
        self._scope._attach(current_scope())
        self._ctx = contextvars.copy_context()
        self._ctx.run(set_current, self._scope)
        self._submit: Callable[..., Any] | None = None
        self._landings = 0  # finished calls still in _flight (under _lock)
        self._bell: Future[None] | None = None  # rung by each arrival (ordered=False)
        self._tally = Tally(total)  # progress: calls finished, of the input's length
        self._on_landing = _Landed(self)
        ensure_deferred()  # a dropped map is closed there

    # -- starting calls -----------------------------------------------------------------

    def _fill(self) -> None:
        """Start calls until ``limit`` are in flight or the input is exhausted."""
        flight = self._flight
        limit = self._limit
        # Finished results waiting to be read do not count against ``limit``, but at
        # most ``limit`` of them are kept (in order, behind a slow call).
        while (
            len(flight) - self._landings < limit
            and len(flight) < 2 * limit
            and self._items is not None
            and self._error is None
        ):
            try:
                item = next(self._items)
            except StopIteration:
                self._items = None
                return
            flight.append(self._start(item))

    def _start(self, item: Any) -> Future[Any]:
        if self._is_async:
            future = self._start_async(item)
        else:
            submit = self._submit
            if submit is None:
                submit = self._submit = self._submitter()
            future = Future()
            submit(_run, self._ctx.copy(), self._fn, item, future)
        future.add_done_callback(self._on_landing)
        self._tally.start()
        return future

    def _submitter(self) -> Callable[..., Any]:
        from ._submit import shared_pool, submit

        executor = self._executor
        if executor is None:
            executor = shared_pool()
        if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
            return executor.submit
        from ._core import follow

        def elsewhere(
            _run: object, ctx: contextvars.Context, fn: Any, item: Any, future: Future[Any]
        ) -> None:
            # Processes and clusters cannot carry a context: no scope reaches them.
            inner = submit(fn, item, executor=executor)
            inner.add_done_callback(lambda done: follow(future, done))
            future.add_done_callback(lambda done: done.cancelled() and inner.cancel())

        return elsewhere

    def _start_async(self, item: Any) -> Future[Any]:
        import sniffio

        from ._adapt import future_of

        library = sniffio.current_async_library()
        if library == "asyncio":
            import asyncio

            return future_of(self._ctx.copy().run(asyncio.ensure_future, self._fn(item)))
        if library == "trio":
            return trio_task(self._ctx.copy(), self._fn(item))
        raise RuntimeError(f"map of a coroutine function runs under asyncio or trio, not {library}")

    def _landed(self, future: Future[Any]) -> None:
        with self._lock:
            self._landings += 1
        if not self._ordered:
            self._arrived.put(future)
            bell = self._bell
            if bell is not None:
                bell.try_set_result(None)
        if future.cancelled() or future._exception is None:
            return
        if _is_cancel(future._exception):
            future._observe()  # stopped at a wait point by this map's own cancel
            return
        with self._lock:
            first = self._error is None and not self._closed
            if first:
                self._error = future._exception
        if first:
            future._observe()  # raised by the iteration: nothing left to report
            self._scope.cancel()
            for other in list(self._flight):
                other.cancel()

    # -- taking results --------------------------------------------------------------------

    def _take(self) -> Future[Any] | None:
        """The next future to read (not necessarily done), or None when finished."""
        if self._error is not None:
            self._raise()
        if self._closed:
            return None
        if not self._flight:
            self._fill()
            if not self._flight:
                self._finish()
                return None
        if self._ordered:
            return self._flight.popleft()
        return None

    def _raise(self) -> None:
        error = self._error
        self.close()
        assert error is not None
        raise error

    def _after(self, future: Future[Any]) -> Any:
        """The result of a done future; start the next call first."""
        with self._lock:
            self._landings -= 1  # it left _flight (its _landed may still be to come)
        self._tally.finish()  # counted as taken, in the consumer's own order
        if self._error is not None:
            self._raise()
        if future.cancelled():
            self.close()
            raise CancelledError("a call of shortly.map was cancelled")
        self._fill()
        return future.result()

    def __iter__(self) -> MapIterator[R]:
        return self

    def __next__(self) -> R:
        future = self._take()
        if (future is None and self._ordered) or self._closed:
            raise StopIteration
        if future is None:
            future = self._arrived.get()
            self._flight.remove(future)
        else:
            future.wait()
        return self._after(future)  # type: ignore[no-any-return]

    def __aiter__(self) -> MapIterator[R]:
        return self

    async def __anext__(self) -> R:
        future = self._take()
        if (future is None and self._ordered) or self._closed:
            raise StopAsyncIteration
        if future is None:
            future = await self._next_arrival()
            self._flight.remove(future)
        else:
            await _settled(future)
        return self._after(future)  # type: ignore[no-any-return]

    async def _next_arrival(self) -> Future[Any]:
        while True:
            bell: Future[None] = Future()
            self._bell = bell
            try:  # after setting the bell: an arrival from now on rings it
                return self._arrived.get_nowait()
            except queue.Empty:
                pass
            await _settled(bell)

    # -- stopping --------------------------------------------------------------------------

    def _finish(self) -> None:
        self._closed = True
        self._scope._detach()
        self._tally.close()

    def on_progress(self, callback: Callable[[Progress], object]) -> None:
        """Call ``callback(progress)`` as results are taken: how many, of the input's length.

        The total is ``len(iterable)`` when the input has one, else the calls started so
        far. Reports are throttled as a future's are (see :meth:`shortly.Future.on_progress`).

        Raises:
            TypeError: if ``callback`` is not callable.

        >>> import shortly
        >>> results, seen = shortly.map(abs, [-1, -2]), []
        >>> results.on_progress(seen.append)
        >>> list(results), seen[-1]
        ([1, 2], Progress(done=2, total=2, note=None))
        """
        self._tally.listen(callback)

    def close(self) -> None:
        """Stop: cancel the calls in flight and read no more input.

        >>> import shortly, itertools
        >>> squares = shortly.map(lambda n: n * n, itertools.count())
        >>> next(squares), next(squares)
        (0, 1)
        >>> squares.close()
        >>> next(squares, "done")
        'done'
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._items = None
        _closer(self._scope, list(self._flight), self._tally)()
        self._flight.clear()

    def __del__(self) -> None:
        if not self._closed:
            defer(_closer(self._scope, list(self._flight), self._tally))

    def __enter__(self) -> MapIterator[R]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> MapIterator[R]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._flight)} in flight"
        return f"<shortly.MapIterator limit={self._limit} {state}>"


def _closer(scope: Scope, flight: list[Future[Any]], tally: Tally) -> Callable[[], None]:
    """What ``close()`` does, without the iterator (so the deferred thread can do it)."""

    def close() -> None:
        scope.cancel()
        for future in flight:
            future.cancel()
        scope._detach()
        tally.close()

    return close


async def _settled(future: Future[Any]) -> None:
    """Await ``future`` being done, whatever its outcome, without observing it."""
    from ._chain import shield

    if not future.done():
        try:
            await shield(future)
        except BaseException:
            if not future.done():
                raise


@overload
def map(
    fn: Callable[[T], Awaitable[R]],
    iterable: Iterable[T],
    *,
    limit: int = ...,
    executor: Any = ...,
    ordered: bool = ...,
) -> MapIterator[R]: ...
@overload
def map(
    fn: Callable[[T], R],
    iterable: Iterable[T],
    *,
    limit: int = ...,
    executor: Any = ...,
    ordered: bool = ...,
) -> MapIterator[R]: ...
def map(
    fn: Callable[[Any], Any],
    iterable: Iterable[Any],
    *,
    limit: int = 8,
    executor: Any = None,
    ordered: bool = True,
) -> MapIterator[Any]:
    """Call ``fn`` on each item with at most ``limit`` calls in flight; yield results.

    A ``for`` loop or an ``async for`` loop takes the results: in input order, or as
    they finish with ``ordered=False``. The input is read lazily, so an endless
    generator works. ``fn`` runs on ``executor`` (any :class:`concurrent.futures.Executor`;
    ``None`` is the shared pool of :func:`shortly.submit`); a coroutine function runs
    as tasks of the running asyncio loop or trio run instead. The first failure cancels
    the calls in flight and is raised by the next step; closing the iterator, leaving
    its ``with`` block or dropping it (``break``) cancels them too. A running thread
    call is reached at its next shortly wait point, as in a :func:`shortly.scope`.

    Raises:
        TypeError: if ``fn`` is not callable, ``iterable`` is not iterable, ``limit``
            is not an int or ``ordered`` not a bool.
        ValueError: if ``limit`` is less than 1.

    >>> import shortly
    >>> list(shortly.map(len, ["a", "bb", "ccc"], limit=2))
    [1, 2, 3]
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    check_limit(limit)
    if not isinstance(ordered, bool):
        raise TypeError(f"ordered must be a bool, not {type(ordered).__name__}")
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"executor must be an Executor (an object with submit()) or None, "
            f"not {type(executor).__name__}"
        )
    try:
        items = iter(iterable)
    except TypeError:
        raise TypeError(f"iterable must be iterable, not {type(iterable).__name__}") from None
    total = len(iterable) if isinstance(iterable, Sized) else None
    return MapIterator(fn, items, limit, executor, ordered, total)
