"""as_completed: futures in the order they finish, for threads and for async code.

One done-callback object serves every input: it puts the finished future on a
``queue.SimpleQueue``, which a thread iterating takes from (blocking in C, with a
timeout), and wakes the parked async iterations, if any: each parks on a shortly
future, which asyncio and trio both await without blocking their loop. So the
per-input cost is a C ``put`` and an uncontended lock, with no object per input.

That callback is a :class:`~shortly._core._cancel.Dependant` standing for the iterator: while
the iterator is open it wants its inputs (so Bluebird's upward rule does not cancel
them under it); once it is exhausted, closed, timed out or dropped, it no longer does.
It never cancels an input itself: there is no combined future to cancel.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterable
from concurrent.futures import _base
from typing import Any, Generic, TypeVar, overload

from ._adapt import future_of
from ._checks import check_timeout
from ._combiner import check_flag, items_of
from ._core import Future, Sweepable, attach, defer, ensure_deferred, help_drain, undepend
from ._errors import TimeoutError

__all__ = ["AsCompleted", "as_completed"]

T = TypeVar("T")
F = TypeVar("F")


class _Arrivals:
    """The iterator's shared state; also what its inputs' callback stands for."""

    __slots__ = (
        "cancel_pending",
        "closed",
        "deadline",
        "inputs",
        "lock",
        "queue",
        "timeout",
        "total",
        "waiters",
        "yielded",
    )

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.lock = threading.Lock()
        # Parked async iterations; a tuple, swapped whole, so waking one costs nothing
        # when there are none.
        self.waiters: tuple[Future[None], ...] = ()
        self.total = 0
        self.yielded = 0
        # The shortly futures to unregister from if closed early; dropped once done with.
        self.inputs: list[Future[Any]] | None = []
        # With cancel_pending=True: every input, to cancel those left when it stops.
        self.cancel_pending: list[Any] | None = None
        # Only ever goes from False to True, with a plain store: __del__ sets it, and a
        # finalizer must not take a lock its own thread may hold.
        self.closed = False

    def lost_interest(self) -> bool:
        return self.closed

    def close(self) -> None:
        """Stop wanting the inputs, and leave those still pending (not from a finalizer)."""
        self.closed = True
        with self.lock:
            inputs, self.inputs = self.inputs, None
            left, self.cancel_pending = self.cancel_pending, None
        for f in inputs or ():
            undepend(f, self)
        for f in left or ():
            f.cancel()  # a no-op on those done already

    def claim(self) -> bool:
        """Reserve one future to yield; False when there is nothing left to wait for."""
        with self.lock:
            if self.closed or self.yielded == self.total:
                self.closed = True
                self.inputs = None
                return False
            self.yielded += 1
            return True

    def unclaim(self) -> None:
        with self.lock:
            self.yielded -= 1

    def timed_out(self) -> TimeoutError:
        with self.lock:
            left = self.total - self.yielded + 1  # the one this call was to yield
            self.yielded -= 1
        self.close()
        return TimeoutError(
            f"{left} (of {self.total}) futures unfinished after {self.timeout} seconds"
        )


class _OnDone(Sweepable):
    """The done-callback every input shares: queue the future, wake parked tasks."""

    __slots__ = ()

    child: _Arrivals

    def __call__(self, future: Any) -> None:
        arrivals = self.child
        arrivals.queue.put(future)
        with arrivals.lock:
            waiters, arrivals.waiters = arrivals.waiters, ()
        for waiter in waiters:
            waiter.try_set_result(None)

    def __init__(self, arrivals: _Arrivals) -> None:
        self.child = arrivals


class AsCompleted(Generic[F]):
    """What :func:`as_completed` returns: an iterator and an async iterator.

    Each input is yielded once, when it finishes. After a ``TimeoutError`` the iterator
    is finished, as the stdlib's is. :meth:`close` (or dropping the iterator) stops the
    iteration early; the inputs are left to run.

    >>> import shortly
    >>> fs = [shortly.Future() for _ in range(3)]
    >>> it = shortly.as_completed(fs)
    >>> fs[2].set_result("c"); fs[0].set_result("a")
    >>> [next(it).result(), next(it).result()]
    ['c', 'a']
    >>> it.close()
    >>> list(it)
    []
    """

    __slots__ = ("_arrivals",)

    def __init__(self, arrivals: _Arrivals) -> None:
        self._arrivals = arrivals

    def __iter__(self) -> AsCompleted[F]:
        return self

    def __len__(self) -> int:
        """How many inputs are still to come (all of them before the first ``next``).

        So a progress bar needs no ``total=``: ``tqdm(shortly.as_completed(fs))``.

        >>> import shortly
        >>> it = shortly.as_completed([shortly.Future.resolved(1), shortly.Future()])
        >>> len(it), next(it).result(), len(it)
        (2, 1, 1)
        >>> it.close(); len(it)
        0
        """
        arrivals = self._arrivals
        with arrivals.lock:
            return 0 if arrivals.closed else arrivals.total - arrivals.yielded

    def __next__(self) -> F:
        arrivals = self._arrivals
        with arrivals.lock:  # claim() inlined: this runs once per input
            if arrivals.closed or arrivals.yielded == arrivals.total:
                arrivals.closed = True
                arrivals.inputs = None
                raise StopIteration
            arrivals.yielded += 1
        pending = arrivals.queue
        try:
            if pending.empty():
                # Work queued on this thread's trampoline may be what finishes an input.
                help_drain(lambda: not pending.empty())
            deadline = arrivals.deadline
            if deadline is None:
                return pending.get()  # type: ignore[no-any-return]
            remaining = deadline - time.monotonic()
            if remaining <= 0:  # get_nowait: some Pythons sleep a tick on a zero timeout
                return pending.get_nowait()  # type: ignore[no-any-return]
            return pending.get(timeout=remaining)  # type: ignore[no-any-return]
        except queue.Empty:
            raise arrivals.timed_out() from None
        except BaseException:
            arrivals.unclaim()
            raise

    def __aiter__(self) -> AsCompleted[F]:
        return self

    async def __anext__(self) -> F:
        arrivals = self._arrivals
        if not arrivals.claim():
            raise StopAsyncIteration
        pending = arrivals.queue
        try:
            while True:
                try:
                    return pending.get_nowait()  # type: ignore[no-any-return]
                except queue.Empty:
                    pass
                waiter: Future[None] = Future()
                with arrivals.lock:
                    parked = pending.empty()
                    if parked:
                        arrivals.waiters = (*arrivals.waiters, waiter)
                if not parked:
                    continue  # something arrived meanwhile
                deadline = arrivals.deadline
                if deadline is None:
                    await waiter
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise arrivals.timed_out()
                # On timeout, look once more: something may have arrived at the deadline.
                with contextlib.suppress(TimeoutError):
                    await waiter.with_timeout(remaining)
        except TimeoutError:
            raise
        except BaseException:
            arrivals.unclaim()
            raise

    def close(self) -> None:
        """Stop iterating: later calls to ``next`` end the iteration at once.

        >>> import shortly
        >>> it = shortly.as_completed([shortly.Future()])
        >>> it.close()
        >>> next(it, "done")
        'done'
        """
        self._arrivals.close()

    def __del__(self) -> None:
        # Inputs hold the shared state, not this object: when the caller drops the
        # iterator, the inputs stop counting it as someone who wants them. A finalizer
        # must not take a lock its own thread may hold, so the callbacks left on the
        # inputs are swept when something next attaches to them (see _cancel.attach).
        self._arrivals.closed = True
        if self._arrivals.cancel_pending is not None:
            defer(self._arrivals.close)  # cancel_pending: the deferred thread cancels them

    def __repr__(self) -> str:
        a = self._arrivals
        state = "closed" if a.closed else f"{a.total - a.yielded} to go"
        return f"<AsCompleted {a.yielded} of {a.total} yielded, {state}>"


@overload
def as_completed(
    fs: Iterable[Future[T]], timeout: float | None = None, *, cancel_pending: bool = False
) -> AsCompleted[Future[T]]: ...
@overload
def as_completed(
    fs: Iterable[_base.Future[T]], timeout: float | None = None, *, cancel_pending: bool = False
) -> AsCompleted[_base.Future[T]]: ...
@overload
def as_completed(
    fs: Iterable[object], timeout: float | None = None, *, cancel_pending: bool = False
) -> AsCompleted[_base.Future[Any]]: ...
def as_completed(
    fs: Iterable[object], timeout: float | None = None, *, cancel_pending: bool = False
) -> AsCompleted[Any]:
    """Yield the inputs as they finish, in a ``for`` or an ``async for`` loop.

    Inputs that are :class:`concurrent.futures.Future` instances (shortly futures
    included) are yielded themselves, so ``{future: job}`` dictionaries keep working;
    a future listed twice is yielded once, as with the stdlib. Other inputs (asyncio
    futures, coroutines, Twisted Deferreds, plain values...) are yielded as the shortly
    future :func:`shortly.future_of` made from each. Inputs finished already come
    first, in input order. ``async for`` parks the task without blocking its loop, under
    asyncio and trio alike.

    Args:
        fs: the futures (or adaptable objects, or values) to watch.
        timeout: seconds from this call after which waiting for the next one raises;
            ``None`` waits for ever.
        cancel_pending: cancel the inputs not yet finished when the iteration stops
            early: on ``close()``, on the timeout, or when the iterator is dropped (as
            after a ``break``; shortly's deferred thread cancels them then).

    Raises:
        TimeoutError: (:class:`shortly.TimeoutError`, from the iteration) when
            ``timeout`` passes first; the message says how many of how many are left.
        TypeError: if ``fs`` is not an iterable, an item cannot be adapted,
            ``timeout`` is not a number or ``cancel_pending`` not a bool.

    >>> import shortly, threading
    >>> fast, slow = shortly.Future(), shortly.Future()
    >>> threading.Timer(0.01, slow.set_result, ["slow"]).start()
    >>> fast.set_result("fast")
    >>> [f.result() for f in shortly.as_completed([slow, fast], timeout=5)]
    ['fast', 'slow']
    """
    arrivals = _Arrivals(check_timeout(timeout))
    everything: list[Any] | None = [] if check_flag(cancel_pending, "cancel_pending") else None
    callback = _OnDone(arrivals)
    seen: set[int] = set()
    try:
        for item in items_of(fs):
            if isinstance(item, _base.Future):
                key = id(item)
                if key in seen:
                    continue
                seen.add(key)
            else:
                item = future_of(item, allow_values=True)
            if isinstance(item, Future):
                attach(item, callback)
                arrivals.inputs.append(item)  # type: ignore[union-attr]
            else:
                item.add_done_callback(callback)  # a stdlib future: no way to take it back
            arrivals.total += 1
            if everything is not None:
                everything.append(item)
    except BaseException:
        arrivals.closed = True  # the inputs registered so far are not wanted by anyone here
        raise
    arrivals.cancel_pending = everything
    if everything is not None:
        ensure_deferred()  # dropped early, the iterator has the rest cancelled there
    return AsCompleted(arrivals)
