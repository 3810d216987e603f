"""Awaiting shortly futures from asyncio and trio, and running code on an asyncio loop.

``await future`` finds out which library drives the awaiting code (with ``sniffio``'s
markers, and asyncio's running task) and parks the task the way that library does:

* asyncio: on a fresh asyncio future of the running loop, which the shortly future's
  done-callback completes. From another thread that takes the loop's thread-safe
  ``call_soon_threadsafe`` (a write to its self-pipe); from the loop's own thread it
  is completed directly, paying nothing for thread safety.
* trio: in ``wait_task_rescheduled``, woken by ``reschedule``, through
  ``TrioToken.run_sync_soon`` when the future is settled from another thread.
* neither (a driver such as :func:`shortly.spawn`): the shortly future itself is
  yielded to the driver, which is to resume the coroutine with ``send(None)`` once the
  future is done. A driver that sits inside an asyncio task must set
  ``sniffio.thread_local.name`` while it steps, so its coroutines are not mistaken for
  asyncio's.

An awaiter is a dependant of the future (see :mod:`shortly._core._cancel`). When the awaiting
task is cancelled, its registration is removed at once (a long-lived future does not
collect dead awaiters) and the future is cancelled if nobody else wants it: asyncio's
``wrap_future`` rule, made safe for shared futures by Bluebird's rule.

A cancelled future raises :class:`asyncio.CancelledError` (with the cancel message) in
an asyncio awaiter, as a cancelled asyncio future would. Under trio it raises
:class:`shortly.CancelledError`: trio's own ``Cancelled`` belongs to its cancel scopes
and cannot be raised by anyone else.

:func:`run_in_loop` and :func:`in_loop` go the other way: they run a function on an
asyncio loop from any thread and hand back a shortly future owned by the loop's
thread, so the classic mistake of blocking on it from the loop itself raises
:class:`~shortly.DeadlockError` instead of freezing the loop.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator
from functools import partial
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, overload

import sniffio

from ._adapt import future_of
from ._core import (
    PENDING,
    Dependant,
    EventLoopOwner,
    Future,
    Raised,
    cancel_if_unwanted,
    cancel_message,
    capture,
    defer,
    depend,
    ensure_deferred,
    fail,
    follow,
    is_settled,
    lock_of,
    succeeded,
    take_failure,
    value_of,
)
from ._errors import CancelledError

if TYPE_CHECKING:
    import asyncio

    import trio

__all__ = ["await_future", "call_in_loop", "check_loop", "in_loop", "run_in_loop"]

T = TypeVar("T")
P = ParamSpec("P")

_WOKEN = "woken"
_ABORTED = "aborted"
_sniffio_local = sniffio.thread_local
_sniffio_var = sniffio.current_async_library_cvar
_get_ident = threading.get_ident


# -- awaiting --------------------------------------------------------------------------


def await_future(future: Future[T]) -> Generator[Any, None, T]:
    """The body of ``Future.__await__``: park the awaiting task until ``future`` is done.

    Raises:
        asyncio.CancelledError: in asyncio, if ``future`` was cancelled.
        CancelledError: elsewhere, if ``future`` was cancelled.
        RuntimeError: if an async library other than asyncio or trio drives the await.
        Exception: the future's own exception, if it failed.
    """
    if not is_settled(future):
        library = _sniffio_local.name or _sniffio_var.get()
        asyncio = sys.modules.get("asyncio")
        loop = None
        if asyncio is not None and (library is None or library == "asyncio"):
            loop = asyncio._get_running_loop()
            if loop is not None and library is None and asyncio.current_task(loop) is None:
                loop = None
        if loop is not None:
            # Park on an asyncio future of the running loop. It stands for the task: a
            # cancelled task cancels it, and then the upward rule stops counting this
            # awaiter as interested in ``future``.
            waiter = loop.create_future()
            awaiter = Dependant(waiter, partial(_wake_asyncio, loop, waiter, _get_ident()))
            future.add_done_callback(awaiter)
            try:
                yield from waiter
            except BaseException as thrown:
                future.remove_done_callback(awaiter)  # a long-lived future keeps nothing
                if waiter.cancelled():
                    cancel_if_unwanted(future, thrown.args[0] if thrown.args else None)
                raise
        elif library == "trio":
            yield from _park_trio(future)
        elif library is None or library == "shortly":
            while not is_settled(future):
                yield future
        else:
            raise RuntimeError(
                f"shortly futures can be awaited under asyncio, trio or shortly.spawn(), "
                f"not under {library}"
            )
    if succeeded(future):
        return value_of(future)  # type: ignore[no-any-return]
    error = take_failure(future)
    if error is not None:
        try:
            raise error
        finally:
            del future, error  # the traceback would otherwise keep them alive
    raise _cancelled_error_here(cancel_message(future))


def _cancelled_error_here(msg: Any) -> BaseException:
    """The error a cancelled future raises in this awaiter: asyncio's in an asyncio task."""
    asyncio = sys.modules.get("asyncio")
    error: type[BaseException] = CancelledError
    if asyncio is not None and (_sniffio_local.name or _sniffio_var.get()) in (None, "asyncio"):
        loop = asyncio._get_running_loop()
        if loop is not None and asyncio.current_task(loop) is not None:
            error = asyncio.CancelledError
    return error() if msg is None else error(msg)


def _wake_asyncio(
    loop: asyncio.AbstractEventLoop, waiter: asyncio.Future[None], thread: int, _: object
) -> None:
    if _get_ident() == thread:
        # On the loop's own thread nothing can close it meanwhile; a closed loop will
        # never run the task again, and completing the waiter would only raise.
        if not loop.is_closed():
            _complete(waiter)
    elif not loop.is_closed():
        # Closed meanwhile: the awaiting task will never run again.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_complete, waiter)


def _complete(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():  # the task may have been cancelled meanwhile
        waiter.set_result(None)


class _TrioAwaiter:
    """A trio task parked on a future: woken once or aborted once, never both."""

    __slots__ = ("lock", "state", "task", "thread", "token")

    def __init__(self, future: Future[Any]) -> None:
        import trio

        self.lock = lock_of(future)
        self.task = trio.lowlevel.current_task()
        self.token = trio.lowlevel.current_trio_token()
        self.thread = _get_ident()
        self.state = PENDING  # then _WOKEN or _ABORTED, under the lock

    def lost_interest(self) -> bool:
        return self.state == _ABORTED

    def claim(self, state: str) -> bool:
        with self.lock:
            if self.state != PENDING:
                return False
            self.state = state
            return True

    def wake(self, _: object) -> None:
        import trio

        if not self.claim(_WOKEN):
            return
        if _get_ident() == self.thread:
            # While our task waits, its thread runs nothing but the trio run.
            trio.lowlevel.reschedule(self.task)
        else:
            with contextlib.suppress(trio.RunFinishedError):  # the task is gone with it
                self.token.run_sync_soon(trio.lowlevel.reschedule, self.task)


def _park_trio(future: Future[Any]) -> Generator[Any, None, None]:
    import trio

    awaiter = _TrioAwaiter(future)
    dependant = Dependant(awaiter, awaiter.wake)

    def abort(_raise_cancel: object) -> trio.lowlevel.Abort:
        if not awaiter.claim(_ABORTED):
            return trio.lowlevel.Abort.FAILED  # a reschedule is already on its way
        future.remove_done_callback(dependant)
        cancel_if_unwanted(future)
        return trio.lowlevel.Abort.SUCCEEDED

    future.add_done_callback(dependant)
    yield from trio.lowlevel.wait_task_rescheduled(abort).__await__()


# -- running on a loop ----------------------------------------------------------------------


def check_loop(loop: object) -> None:
    """Raise ``TypeError`` unless ``loop`` is an asyncio event loop."""
    import asyncio

    if not isinstance(loop, asyncio.AbstractEventLoop):
        raise TypeError(f"loop must be an asyncio event loop, not {type(loop).__name__}")


def call_in_loop(
    loop: asyncio.AbstractEventLoop,
    ctx: contextvars.Context,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Future[Any]:
    """Schedule ``fn(*args, **kwargs)`` on ``loop`` in ``ctx``; the future of its outcome.

    Raises:
        RuntimeError: if the loop is closed.
    """
    import asyncio

    here = asyncio._get_running_loop() is loop
    future: Future[Any] = Future(
        owner=EventLoopOwner(loop, threading.current_thread() if here else None)
    )
    start = _Call(loop, future, fn, args, kwargs)
    try:
        if here:
            loop.call_soon(start, context=ctx)
        else:
            loop.call_soon_threadsafe(start, context=ctx)
    except BaseException:
        start.future = None  # the caller hears of it: nothing to fail
        raise
    return future


class _Call:
    """What ``call_in_loop`` schedules: the call, and the future it must not strand.

    A loop closed before it runs the call drops it unrun (``close()`` clears the
    queue of ready callbacks, telling no one). Dropping this object is then the only
    sign, so it fails the future with a clear error, instead of leaving it pending.
    """

    __slots__ = ("args", "fn", "future", "kwargs", "loop")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        future: Future[Any],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        ensure_deferred()  # here, not in __del__, which must not start a thread
        self.loop = loop
        self.future: Future[Any] | None = future
        self.fn = fn
        self.args = args
        self.kwargs = kwargs

    def __call__(self) -> None:
        future, self.future = self.future, None
        if future is not None:
            _start(self.loop, future, self.fn, self.args, self.kwargs)

    def __del__(self) -> None:
        future = self.future
        if future is None or future.done():
            return
        error = RuntimeError(f"the event loop was closed before it ran {self.fn!r}: {self.loop!r}")
        if self.loop.is_closed():
            # Dropped by close() itself, in the closing thread's own code.
            future.try_set_exception(error)
        else:
            # Dropped some other way (a loop never closed, collected by the garbage
            # collector): that may be inside any lock, so the deferred thread settles it.
            defer(partial(future.try_set_exception, error))


def _start(
    loop: asyncio.AbstractEventLoop,
    future: Future[Any],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    import asyncio

    if future.cancelled():
        return
    value = capture(fn, *args, **kwargs)
    if type(value) is Raised:
        error = value.error
        fail(future, error)
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise error
    elif isinstance(value, Future) or asyncio.isfuture(value):
        source = future_of(value)
        future._sources = source  # whoever settles it settles ours too (see _deadlock)
        depend(source, future, partial(follow, future))
    elif isinstance(value, Awaitable):
        task = asyncio.ensure_future(value, loop=loop)
        depend(future_of(task), future, partial(follow, future))
    else:
        future.try_set_result(value)


@overload
def run_in_loop(
    loop: asyncio.AbstractEventLoop,
    fn: Callable[P, Coroutine[Any, Any, T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> Future[T]: ...
@overload
def run_in_loop(
    loop: asyncio.AbstractEventLoop, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> Future[T]: ...
def run_in_loop(
    loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> Future[Any]:
    """Run ``fn(*args, **kwargs)`` on the asyncio ``loop``; a future of its outcome.

    Safe from any thread, including the loop's own (where it is scheduled with the
    cheaper ``call_soon``). If ``fn`` returns an awaitable (a coroutine, an asyncio or
    shortly future), it is awaited on ``loop`` and the future settles with its outcome;
    cancelling the future cancels that task. ``fn`` runs in the :mod:`contextvars`
    context of the caller.

    The future is owned by the loop's thread: blocking on it there (the classic
    ``run_coroutine_threadsafe(...).result()`` freeze) raises
    :class:`~shortly.DeadlockError` at once. If the loop is closed before it gets to
    the call, ``fn`` never runs and the future fails with :class:`RuntimeError`
    instead of staying pending.

    Raises:
        TypeError: if ``loop`` is not an asyncio event loop or ``fn`` is not callable.
        RuntimeError: if the loop is closed.

    >>> import asyncio, threading, shortly
    >>> loop = asyncio.new_event_loop()
    >>> thread = threading.Thread(target=loop.run_forever); thread.start()
    >>> async def double(x):
    ...     await asyncio.sleep(0)
    ...     return 2 * x
    >>> shortly.run_in_loop(loop, double, 21).result(timeout=5)
    42
    >>> _ = loop.call_soon_threadsafe(loop.stop); thread.join(); loop.close()
    """
    check_loop(loop)
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    return call_in_loop(loop, contextvars.copy_context(), fn, args, kwargs)


def in_loop(
    loop: asyncio.AbstractEventLoop,
) -> _InLoop:
    """Decorate a function so that every call runs on ``loop`` and returns a future.

    The decorated function may be a plain function or an ``async def``; calls from any
    thread go through :func:`run_in_loop`.

    Raises:
        TypeError: if ``loop`` is not an asyncio event loop, or (when decorating) the
            decorated object is not callable.

    >>> import asyncio, threading, shortly
    >>> loop = asyncio.new_event_loop()
    >>> thread = threading.Thread(target=loop.run_forever); thread.start()
    >>> @shortly.in_loop(loop)
    ... async def where():
    ...     return threading.current_thread() is thread
    >>> where().result(timeout=5)
    True
    >>> _ = loop.call_soon_threadsafe(loop.stop); thread.join(); loop.close()
    """
    check_loop(loop)
    return _InLoop(loop)


class _InLoop:
    """The decorator :func:`in_loop` returns."""

    __slots__ = ("loop",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Future[T]]: ...
    @overload
    def __call__(self, fn: Callable[P, T]) -> Callable[P, Future[T]]: ...
    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Future[Any]]:
        if not callable(fn):
            raise TypeError(f"in_loop() decorates a callable, not {type(fn).__name__}")
        loop = self.loop

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Future[Any]:
            return call_in_loop(loop, contextvars.copy_context(), fn, args, kwargs)

        return call
