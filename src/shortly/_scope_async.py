"""The async side of :func:`shortly.scope`: ``async with`` under asyncio and trio.

An async block adds two things to a scope: cancelling the scope cancels the block's own
task (asyncio: ``task.cancel()``, taken back with ``uncancel()`` when the block ends;
trio: the cancel scope of a nursery the block opened), and ``s.spawn`` starts a task
on the running loop (asyncio: ``create_task``; trio: ``start_soon`` on that nursery).
Leaving the block waits for every child without being cancellable itself: the
children were cancelled already, and walking out on them would break the promise
that nothing outlives the block.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ._core import Future
    from ._scope import Scope

__all__ = ["AsyncBody", "enter", "leave"]

T = TypeVar("T")


async def enter(scope: Scope) -> Scope:
    """``async with scope``: the body first (a trio nursery opens), then the scope."""
    scope._async = body = _body_for(scope)
    await body.enter()
    scope._open()
    return scope


async def leave(scope: Scope, error: BaseException | None) -> bool:
    """The end of ``async with scope``: True to swallow ``error``; raises what replaces it."""
    assert scope._async is not None
    raised = await scope._async.exit(error)
    if raised is not None and raised is not error:
        raise raised
    return raised is None


def _body_for(scope: Scope) -> AsyncBody:
    """The async body for the library running this task."""
    import sniffio

    library = sniffio.current_async_library()
    if library == "asyncio":
        return _AsyncioBody(scope)
    if library == "trio":
        return _TrioBody(scope)
    raise RuntimeError(f"async with shortly.scope() runs under asyncio or trio, not {library}")


class AsyncBody:
    """What an ``async with`` scope adds: cancelling its task, spawning on its loop."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.thread = threading.get_ident()
        self.closing = False  # the body has ended: cancelling the scope spares the task

    async def enter(self) -> None:
        pass

    def cancel_body(self) -> None:
        raise NotImplementedError

    def spawn(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        raise NotImplementedError

    async def exit(self, error: BaseException | None) -> BaseException | None:
        raise NotImplementedError


class _AsyncioBody(AsyncBody):
    def __init__(self, scope: Scope) -> None:
        import asyncio

        super().__init__(scope)
        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.requested = False

    def cancel_body(self) -> None:
        if threading.get_ident() == self.thread:
            self._cancel_task()
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._cancel_task)

    def _cancel_task(self) -> None:
        if not self.closing and not self.requested and self.task is not None:
            self.requested = True
            self.task.cancel()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        from ._adapt import future_of

        return future_of(self.loop.create_task(coro))

    async def exit(self, error: BaseException | None) -> BaseException | None:
        import asyncio

        self.closing = True
        scope = self.scope
        if error is not None:
            scope._cancel(timed_out=False)
        outer: BaseException | None = None
        while True:
            try:
                await _shielded(scope._when_idle())
                break
            except asyncio.CancelledError as cancelled:
                outer = cancelled  # cancelled from outside while draining: pass it on
                scope._cancel(timed_out=False)
        if self.requested and isinstance(error, asyncio.CancelledError):
            uncancel = getattr(self.task, "uncancel", None)
            if uncancel is None or uncancel() == 0:
                error = None  # ours: the scope's cancellation ends here
        raised = scope._finish(error)
        return outer if outer is not None and raised is None else raised


class _TrioBody(AsyncBody):
    async def enter(self) -> None:
        import trio

        self.token = trio.lowlevel.current_trio_token()
        self.manager = trio.open_nursery()
        self.nursery = await self.manager.__aenter__()

    def cancel_body(self) -> None:
        import trio

        if threading.get_ident() == self.thread:
            self.nursery.cancel_scope.cancel()
        else:
            with contextlib.suppress(trio.RunFinishedError):
                self.token.run_sync_soon(self.nursery.cancel_scope.cancel)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        from ._core import Future

        future: Future[T] = Future()
        self.nursery.start_soon(self._child, coro, future)
        return future

    async def _child(self, coro: Coroutine[Any, Any, T], future: Future[T]) -> None:
        from ._limit import settle_from_trio

        await settle_from_trio(coro, future, self._call)

    def _call(self, fn: Callable[[], object]) -> None:
        import trio

        if threading.get_ident() == self.thread:
            fn()
        else:
            with contextlib.suppress(trio.RunFinishedError):
                self.token.run_sync_soon(fn)

    async def exit(self, error: BaseException | None) -> BaseException | None:
        import trio

        scope = self.scope
        if error is not None:  # a failure, or a cancellation from here or outside
            scope._cancel(timed_out=False)
        with trio.CancelScope(shield=True):
            await scope._when_idle()
        self.closing = True
        ours = isinstance(error, trio.Cancelled)
        try:
            if ours:
                assert error is not None
                if await self.manager.__aexit__(type(error), error, None):
                    error = None  # the nursery's own cancellation ends here
            else:
                await self.manager.__aexit__(None, None, None)
        except trio.Cancelled as outer:
            return outer
        return scope._finish(error)


async def _shielded(future: Future[None]) -> None:
    """Await ``future`` without cancelling it when the awaiting task is cancelled."""
    from ._chain import shield

    await shield(future)
