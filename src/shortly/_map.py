"""``shortly.map``: a bounded, lazy map over threads, asyncio or trio.

At most ``limit`` calls are in flight: submitted (queued on the executor or running)
and not finished. The input is read only in the consumer's thread, never by two
threads, and lazily, so an endless generator works: at most ``2 * limit`` items are
read and their results not yet taken. Those beyond the ``limit`` in flight are either
finished, waiting to be taken (in order, behind a slow call), or waiting for a slot;
a pool thread that finishes a call starts the next waiting one itself, so the pool
keeps working while the consumer is busy or asleep (see ``_map_calls``). Results come
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
a bare shortly future itself (or run by the pool thread that finished the call before
it), so no stdlib future is adapted and no callback chain is built; the scope is
carried by one context copy per call; with quick calls the consumer sleeps about
once per ``2 * limit`` results, not once per ``limit``.
"""

from __future__ import annotations

import collections
import contextvars
import inspect
import queue
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sized
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from ._core import Future, defer, ensure_deferred, failure_of, observe
from ._core import is_cancel as _is_cancel
from ._errors import CancelledError
from ._limit import check_limit
from ._map_calls import Calls
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
        else:
            error = failure_of(future)
            if error is not None and _is_cancel(error):
                observe(future)  # stopped by the dropped map's own cancel: nothing to tell


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
        self._items: Iterator[Any] | None = items
        self._limit = limit
        self._ordered = ordered
        self._flight: collections.deque[Future[Any]] = collections.deque()
        self._arrived: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._scope = Scope(None, False)
        self._scope._attach(current_scope())
        ctx = contextvars.copy_context()
        ctx.run(set_current, self._scope)
        is_async = inspect.iscoroutinefunction(fn)
        self._calls = Calls(fn, limit, executor, ctx, is_async=is_async)
        self._bell: Future[None] | None = None  # rung by each arrival (ordered=False)
        self._tally = Tally(total)  # progress: calls finished, of the input's length
        self._on_landing = _Landed(self)
        ensure_deferred()  # a dropped map is closed there

    # -- starting calls -----------------------------------------------------------------

    def _fill(self) -> None:
        """Read input until ``2 * limit`` results are pending; start what slots allow."""
        flight = self._flight
        room = 2 * self._limit - len(flight)
        added: list[tuple[Any, Future[Any]]] = []
        # Items read beyond the ``limit`` in flight wait in ``Calls``' queue, so a pool
        # thread that finishes a call finds the next one without the consumer.
        try:
            while room > 0 and self._items is not None and self._error is None:
                try:
                    item = next(self._items)
                except StopIteration:
                    self._items = None
                    break
                future: Future[Any] = Future()
                future.add_done_callback(self._on_landing)
                flight.append(future)
                added.append((item, future))
                room -= 1
        finally:  # even if the input raised: what was read must run, or a wait hangs
            for _ in added:
                self._tally.start()
            self._calls.add(added)

    def _landed(self, future: Future[Any]) -> None:
        if not self._ordered:
            self._arrived.put(future)
            bell = self._bell
            if bell is not None:
                bell.try_set_result(None)
        error = failure_of(future)  # None for a cancelled call too
        if error is None:
            return
        if _is_cancel(error):
            observe(future)  # stopped at a wait point by this map's own cancel
            return
        with self._lock:
            first = self._error is None and not self._closed
            if first:
                self._error = error
        if first:
            observe(future)  # raised by the iteration: nothing left to report
            self._calls.stop()
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
        _closer(self._scope, self._calls, list(self._flight), self._tally)()
        self._flight.clear()

    def __del__(self) -> None:
        if not self._closed:
            defer(_closer(self._scope, self._calls, list(self._flight), self._tally))

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
        state = "closed" if self._closed else f"{len(self._flight)} results to come"
        return f"<shortly.MapIterator limit={self._limit} {state}>"


def _closer(
    scope: Scope, calls: Calls, flight: list[Future[Any]], tally: Tally
) -> Callable[[], None]:
    """What ``close()`` does, without the iterator (so the deferred thread can do it)."""

    def close() -> None:
        calls.stop()
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
    they finish with ``ordered=False``. The input is read lazily, at most ``2 * limit``
    items ahead of the results taken and only in the thread taking them, so an endless
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
