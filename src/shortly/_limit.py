"""Starting coroutines at most ``limit`` at a time: ``gather(..., limit=)``.

Futures stand for work already running, so only coroutine leaves can be held back: each
gets a stand-in future at once, and starts (as a task of the running asyncio loop or
trio run, or driven by :func:`shortly.spawn` without a loop) when an earlier one ends.
A stand-in cancelled before its coroutine started means the coroutine never starts;
afterwards, cancelling it cancels the task by the upward rule.
"""

from __future__ import annotations

import collections
import contextvars
import inspect
import threading
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from ._core import Future

T = TypeVar("T")

__all__ = ["check_limit", "limited", "settle_from_trio", "trio_task"]


def trio_task(ctx: contextvars.Context, coro: Awaitable[Any]) -> Future[Any]:
    """Run ``coro`` as a trio system task; cancelling the future cancels the task."""
    import trio

    future: Future[Any] = Future()
    token = trio.lowlevel.current_trio_token()
    trio.lowlevel.spawn_system_task(
        settle_from_trio, coro, future, token.run_sync_soon, context=ctx
    )
    return future


async def settle_from_trio(
    coro: Awaitable[T], future: Future[T], call_soon: Callable[[Callable[[], object]], object]
) -> None:
    """Await ``coro`` in trio and settle ``future`` with its outcome.

    Cancelling ``future`` cancels the await: ``call_soon`` (a trio token's
    ``run_sync_soon``, or a nursery's equivalent) carries the cancel to trio's thread.
    """
    import trio

    from ._core import fail, when_cancelled

    with trio.CancelScope() as own:
        when_cancelled(future, lambda _msg: call_soon(own.cancel))
        try:
            value = await coro
        except trio.Cancelled:
            future.cancel()
            raise
        except BaseException as error:
            fail(future, error)
            return
        future.try_set_result(value)
        return
    future.cancel()


def check_limit(limit: object) -> int:
    """``limit`` if it is an int of at least 1; else a TypeError or ValueError naming it."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"limit must be an int, not {type(limit).__name__}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    return limit


def limited(leaves: list[Any], limit: int) -> list[Any]:
    """``leaves`` with each coroutine replaced by a future; at most ``limit`` run at once.

    Futures and values pass through: they stand for work already running. Coroutines
    start in order as slots free up: as tasks of the running asyncio loop or trio run,
    else driven by :func:`shortly.spawn`. Cancelling a stand-in before its coroutine
    starts means it never starts; afterwards it cancels the task.
    """
    import sniffio

    from ._core import depend, follow, watch

    waiting: collections.deque[tuple[Any, Future[Any]]] = collections.deque()
    out = list(leaves)
    for index, leaf in enumerate(leaves):
        if inspect.iscoroutine(leaf):
            stand_in: Future[Any] = Future()
            out[index] = stand_in
            waiting.append((leaf, stand_in))
    if not waiting:
        return out
    library = sniffio.current_async_library() if _in_async() else None
    lock = threading.Lock()

    def start_next(_: object = None) -> None:
        while True:
            with lock:
                if not waiting:
                    return
                coro, target = waiting.popleft()
            if target.done():  # cancelled while it waited: it never starts
                coro.close()
                continue
            task = _start_coroutine(coro, library)
            depend(task, target, partial(follow, target))
            watch(task, start_next)  # not interest: a cancelled stand-in cancels the task
            return

    for _ in range(min(limit, len(waiting))):
        start_next()
    return out


def _in_async() -> bool:
    import sniffio

    try:
        sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return False
    return True


def _start_coroutine(coro: Any, library: str | None) -> Future[Any]:
    from ._adapt import future_of
    from ._spawn import spawn

    if library == "asyncio":
        return future_of(coro)
    if library == "trio":
        return trio_task(contextvars.copy_context(), coro)
    return spawn(coro)
