"""The per-thread trampoline that keeps callback cascades flat.

Picture a chain of 100,000 futures where each callback resolves the next one. Run
naively, resolving the first would nest 100,000 calls deep and die of
``RecursionError``. Instead, the first resolution on a thread *drains*: it runs its
callbacks, and any future those callbacks resolve on the same thread queues its own
callbacks behind them instead of running them nested. The stack stays one level deep.

Order, which the user guide documents: a future's callbacks run in the order they
were added; callbacks of futures resolved *by* those callbacks run after them, in the
order those futures were resolved (breadth first). A thread that blocks on a future
while its own queue holds work runs that work first, so a handler may safely wait on
a future that a queued handler will resolve.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from . import _report

__all__ = ["dispatch", "help_drain", "run_callback"]

# A future's callbacks: one callable, or a list of them (see Future._callbacks).
_Callbacks = Any


class _State:
    __slots__ = ("draining", "queue")

    def __init__(self) -> None:
        self.draining = False
        self.queue: deque[tuple[Any, _Callbacks]] = deque()


# One thread-local lookup per dispatch; the rest are plain slot accesses.
_local = threading.local()


def _state() -> _State:
    try:
        return _local.state  # type: ignore[no-any-return]
    except AttributeError:
        _local.state = state = _State()
        return state


def _failed(fn: Callable[[Any], object], error: BaseException) -> None:
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error
    _report.report(error, "a done-callback raised", repr(fn))


def run_callback(fn: Callable[[Any], object], future: Any) -> None:
    """Call ``fn(future)``; a raise is reported as unhandled and goes no further."""
    try:
        fn(future)
    except BaseException as error:
        _failed(fn, error)


def _run(future: Any, callbacks: _Callbacks) -> None:
    if type(callbacks) is not list:
        try:
            callbacks(future)
        except BaseException as error:
            _failed(callbacks, error)
        return
    for fn in callbacks:
        try:
            fn(future)
        except BaseException as error:
            _failed(fn, error)


def dispatch(future: Any, callbacks: _Callbacks) -> None:
    """Run ``callbacks`` (one, or a list) on ``future`` now, or queue them if draining."""
    try:
        state = _local.state
    except AttributeError:
        state = _state()
    if state.draining:
        state.queue.append((future, callbacks))
        return
    state.draining = True
    try:
        _run(future, callbacks)
        queue = state.queue
        while queue:
            _run(*queue.popleft())
    finally:
        state.draining = False


def help_drain(done: Callable[[], bool]) -> None:
    """Run this thread's queued callbacks until ``done()`` or the queue is empty.

    Called by a blocking wait: work queued on this thread cannot run while the thread
    sleeps, so it is run first.
    """
    queue = _state().queue
    while queue and not done():
        _run(*queue.popleft())
