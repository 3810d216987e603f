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

from . import _report
from ._erased import Any

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


# Interrupts propagate; anything else a callback raises is reported and goes no further.
_INTERRUPTS = (KeyboardInterrupt, SystemExit)


def _failed(fn: Callable[[Any], object], future: Any, error: BaseException) -> BaseException | None:
    """Report what ``fn`` raised; return it instead if it is an interrupt to re-raise."""
    if isinstance(error, _INTERRUPTS):
        return error
    # The stdlib's words, so log filters and tests written for concurrent.futures match.
    _report.report(error, f"exception calling callback for {future!r}", repr(fn))
    return None


def run_callback(fn: Callable[[Any], object], future: Any) -> None:
    """Call ``fn(future)``; a raise is reported as unhandled and goes no further.

    Raises:
        KeyboardInterrupt, SystemExit: if ``fn`` raised one.
    """
    try:
        fn(future)
    except BaseException as error:
        interrupt = _failed(fn, future, error)
        if interrupt is not None:
            raise


def _run(future: Any, callbacks: _Callbacks) -> BaseException | None:
    """Run ``callbacks`` on ``future``, every one of them; return the first interrupt."""
    if type(callbacks) is not list:
        try:
            callbacks(future)
        except BaseException as error:
            return _failed(callbacks, future, error)
        return None
    interrupt = None
    for fn in callbacks:
        try:
            fn(future)
        except BaseException as error:
            interrupt = _first(interrupt, _failed(fn, future, error))
    return interrupt


def _first(kept: BaseException | None, new: BaseException | None) -> BaseException | None:
    """The interrupt to re-raise: the first one; a later one is reported, not lost."""
    if kept is None:
        return new
    if new is not None:
        _report.report(new, "a second interrupt while running callbacks")
    return kept


def dispatch(future: Any, callbacks: _Callbacks) -> None:
    """Run ``callbacks`` (one, or a list) on ``future`` now, or queue them if draining.

    Every queued callback runs before this returns, even after one raised
    ``KeyboardInterrupt`` or ``SystemExit``: that interrupt is then re-raised here, once,
    to the code that resolved the future.

    Raises:
        KeyboardInterrupt, SystemExit: if a callback run by this call raised one.
    """
    try:
        state = _local.state
    except AttributeError:
        state = _state()
    if state.draining:
        state.queue.append((future, callbacks))
        return
    state.draining = True
    interrupt = None
    try:
        interrupt = _run(future, callbacks)
        queue = state.queue
        if queue:  # no bound method when nothing was queued
            popleft = queue.popleft
            while queue:
                # _run inlined for a single callback, the shape of every chain link: this
                # loop runs once per link of a cascade.
                future, callbacks = popleft()
                if type(callbacks) is list:
                    interrupt = _first(interrupt, _run(future, callbacks))
                    continue
                try:
                    callbacks(future)
                except BaseException as error:
                    interrupt = _first(interrupt, _failed(callbacks, future, error))
    except BaseException as error:  # a signal that arrived between two callbacks
        interrupt = _first(interrupt, error)
        interrupt = _first(interrupt, _drain(state))
    finally:
        state.draining = False
    if interrupt is not None:
        raise interrupt


def _drain(state: _State) -> BaseException | None:
    interrupt = None
    queue = state.queue
    while queue:
        interrupt = _first(interrupt, _run(*queue.popleft()))
    return interrupt


def help_drain(done: Callable[[], bool]) -> None:
    """Run this thread's queued callbacks until ``done()`` or the queue is empty.

    Called by a blocking wait: work queued on this thread cannot run while the thread
    sleeps, so it is run first.

    Raises:
        KeyboardInterrupt, SystemExit: if a callback raised one (the outer dispatch
            then runs what is left before re-raising it).
    """
    queue = _state().queue
    while queue and not done():
        interrupt = _run(*queue.popleft())
        if interrupt is not None:
            raise interrupt
