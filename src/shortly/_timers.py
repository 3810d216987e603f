"""One shared timer thread: ``later``, ``sleep``, ``with_timeout`` and ``wait_until``.

Every timer in the process lives in one heap ordered by deadline (ties by arming
order), guarded by one lock, with a condition on it for the thread to sleep on. The
timer thread is started by the first timer
armed and exits as soon as no timer is left, so an idle program has no timer thread;
it is a daemon, so a pending timer never keeps the interpreter alive.

Cancelling is lazy but leaves nothing behind: a disarmed entry drops its timer at
once (so the future, ``fn`` and its arguments are freed) and only a three-slot list
stays in the heap until the thread meets it, or until dead entries outnumber live
ones and the heap is rebuilt. Setting a timer is O(log n), cancelling O(1)
amortised, and the heap never holds more than twice the live timers (plus a small
constant).

Where user code runs. Timers fire *on the timer thread*, in deadline order: ``fn``
of :func:`later`, the predicate of :func:`wait_until`, and the done-callbacks of
every timer future (including code resumed after ``await shortly.sleep(...)`` under
:func:`shortly.spawn`). This is asyncio's ``call_later`` rule and keeps firing order
exact, but a slow callback delays every timer behind it: keep them short, and run
slow work after a delay with ``shortly.submit(fn, delay=seconds)``, which only
*starts* it from the timer thread. A timer callback that blocks on another timer's
future would wait for ever, so it raises :class:`~shortly.DeadlockError` instead.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import os
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, overload

from ._adapt import refuse_coroutine, refuse_coroutine_function
from ._checks import check_delay, check_name
from ._core import Future, attempt, depend, fail, fail_running, follow, report, undepend
from ._errors import TimeoutError

__all__ = ["Timer", "later", "sleep", "wait_until", "with_timeout"]

T = TypeVar("T")

#: What to do with an ``async def`` function instead of giving it to later().
_ASYNC_HINT = (
    "run it later with shortly.spawn(), awaiting shortly.sleep(seconds) before calling {name}(...)"
)

# Dead entries are kept until they outnumber live ones and there are at least this
# many, so small heaps are never rebuilt for nothing.
_COMPACT_MIN = 64


@dataclass(frozen=True)
class TimerStatistics:
    """A snapshot of the timer thread, from ``shortly._timers.statistics()``.

    Attributes:
        armed: timers waiting to fire.
        dead_entries: cancelled entries not yet swept from the heap.
        thread_alive: whether the timer thread currently exists.

    >>> from shortly import _timers
    >>> _timers.TimerStatistics(armed=0, dead_entries=0, thread_alive=False).armed
    0
    """

    armed: int
    dead_entries: int
    thread_alive: bool


class TimerThread:
    """The heap, its lock and condition, and the thread that drains it (one per process).

    It is also the owner of every timer future: a wait on one from the timer thread
    itself raises DeadlockError (see :mod:`shortly._core._deadlock`, which names an owner
    by its class, hence this class's name).
    """

    def __init__(self) -> None:
        # The lock alone on hot paths: Condition's own "with" is Python code.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[list[Any]] = []  # [deadline, seq, timer or None when disarmed]
        self._seq = itertools.count()
        self._live = 0
        self._dead = 0
        self._thread: threading.Thread | None = None

    def __shortly_owner_thread__(self) -> threading.Thread | None:
        return self._thread

    def arm(
        self,
        timer: Timer[Any],
        delay: float,
        action: Callable[..., None] | None = None,
        args: tuple[Any, ...] = (),
    ) -> None:
        """In ``delay`` seconds call ``action(timer, *args)`` (or resolve ``timer`` with None).

        Nothing happens if ``timer`` is already done.
        """
        if timer._scheduler is not self:
            raise ValueError("a timer can only be armed on the scheduler it was made for")
        entry = [time.monotonic() + delay, 0, timer]
        lock = self._lock
        lock.acquire()
        try:
            # Checked under this lock: a cancel settles the timer *before* it disarms
            # it here, so either we see it done or its disarm sees this entry.
            if timer.done():
                return
            entry[1] = next(self._seq)
            timer._entry, timer._action, timer._args = entry, action, args
            heapq.heappush(self._heap, entry)
            self._live += 1
            if self._thread is None:
                try:
                    self._start_thread()
                except BaseException:
                    self._thread = None
                    self._disarm_locked(timer)
                    raise
            elif self._heap[0] is entry:
                self._cond.notify()
        finally:
            lock.release()

    def disarm(self, timer: Timer[Any]) -> None:
        """Take ``timer`` out of the schedule if it is in it."""
        lock = self._lock
        lock.acquire()
        try:
            self._disarm_locked(timer)
        finally:
            lock.release()

    def _disarm_locked(self, timer: Timer[Any]) -> None:
        entry = timer._entry
        if entry is None:
            return
        timer._entry = timer._action = timer._args = None
        entry[2] = None
        self._live -= 1
        if self._live == 0:
            self._heap.clear()
            self._dead = 0
            self._cond.notify()  # let the thread see there is nothing left, and go
            return
        self._dead += 1
        if self._dead >= _COMPACT_MIN and self._dead > self._live:
            self._heap[:] = [e for e in self._heap if e[2] is not None]
            heapq.heapify(self._heap)
            self._dead = 0

    def _next_due(self) -> tuple[Timer[Any], Callable[..., None] | None, tuple[Any, ...]] | None:
        """Under the lock: pop the next due timer with its action; None when none is left."""
        heap = self._heap
        while self._live:
            entry = heap[0]
            timer = entry[2]
            if timer is None:
                heapq.heappop(heap)
                self._dead -= 1
                continue
            delay = entry[0] - time.monotonic()
            if delay > 0:
                self._cond.wait(min(delay, threading.TIMEOUT_MAX))
                continue
            heapq.heappop(heap)
            due = timer, timer._action, timer._args or ()
            timer._entry = timer._action = timer._args = None
            self._live -= 1
            return due
        heap.clear()
        self._dead = 0
        self._thread = None
        return None

    def _run(self) -> None:
        while True:
            with self._lock:
                due = self._next_due()
            if due is None:
                return
            timer, action, args = due
            del due  # hold nothing of a fired timer while sleeping for the next one
            try:
                if action is None:
                    timer.try_set_result(None)
                else:
                    action(timer, *args)
            except BaseException as error:
                # Only a done-callback's KeyboardInterrupt/SystemExit gets here; the
                # thread must survive it or every later timer would be stranded.
                report(error, "a timer callback raised", repr(timer))
            del timer, action, args

    def statistics(self) -> TimerStatistics:
        with self._lock:
            return TimerStatistics(self._live, self._dead, self._thread is not None)

    def after_fork_in_child(self) -> None:
        """In a forked child: new lock, and a thread of this process for the heap.

        The fork happened while the forking thread held the lock (see the hooks
        below), so the heap is whole. The parent's timer thread does not exist here:
        forget it and, if timers are armed, start one. Timers keep their deadlines in
        the child (time passes in both processes); one the parent's thread was firing
        at the fork fires in the parent only.
        """
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        if self._thread is threading.current_thread():
            return  # a timer callback forked: this thread goes on draining the heap
        self._thread = None
        if self._live:
            self._start_thread()

    def _start_thread(self) -> None:
        thread = self._thread = threading.Thread(
            target=self._run, name="shortly-timers", daemon=True
        )
        thread.start()


_scheduler = TimerThread()


def _hold_timer_lock() -> None:
    _scheduler._lock.acquire()


def _release_timer_lock() -> None:
    _scheduler._lock.release()


# A child forked while another thread changes the heap would inherit it half changed,
# with its lock held for good; so the fork waits for the lock (as logging's does).
os.register_at_fork(
    before=_hold_timer_lock,
    after_in_parent=_release_timer_lock,
    after_in_child=lambda: _scheduler.after_fork_in_child(),
)


def statistics() -> TimerStatistics:
    """How many timers are armed and whether the timer thread exists.

    >>> from shortly import _timers
    >>> isinstance(_timers.statistics().armed, int)
    True
    """
    return _scheduler.statistics()


class Timer(Future[T]):
    """A future settled by the timer thread: what :func:`later` and friends return.

    It is a :class:`shortly.Future` in every respect; settling or cancelling it
    before it fires takes it out of the schedule.

    >>> import shortly
    >>> t = shortly.later(3600)
    >>> t.cancel(), type(t).__name__
    (True, 'Timer')
    """

    __slots__ = ("_action", "_args", "_entry", "_scheduler")

    def __init__(self, scheduler: TimerThread | None = None) -> None:
        self._scheduler = scheduler or _scheduler
        Future.__init__(self, owner=self._scheduler)
        # Set and cleared under the scheduler's lock (see TimerThread.arm).
        self._entry: list[Any] | None = None
        self._action: Callable[..., None] | None = None
        self._args: tuple[Any, ...] | None = None

    # Future._x(self, ...) rather than super()._x(...): these run once per timer.
    def _settle(self, result: Any, error: BaseException | None) -> bool:
        if not Future._settle(self, result, error):
            return False
        self._scheduler.disarm(self)
        return True

    def _cancel_one(
        self, msg: Any, only_if: Callable[[Future[T]], bool] | None
    ) -> tuple[bool, Any]:
        # The one place every cancellation passes: cancel(), and the upward rule.
        cancelled, upstream = Future._cancel_one(self, msg, only_if)
        if cancelled:
            self._scheduler.disarm(self)
        return cancelled, upstream


def _call_later(
    timer: Timer[Any], ctx: contextvars.Context, fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    try:
        if not timer.set_running_or_notify_cancel():
            return
    except RuntimeError:
        return  # somebody settled it by hand between the pop and now
    ok, value = attempt(ctx.run, fn, *args)
    if ok and type(value) is types.CoroutineType:
        ok, value = False, refuse_coroutine(value, "later()", _ASYNC_HINT)
    if ok:
        timer.try_set_result(value)
    else:
        fail_running(timer, value)
        # The error's traceback keeps this frame alive (through its callers' frames):
        # holding the timer here would put it in a cycle, and delay its report to GC.
        del timer, value


@overload
def later(seconds: float, *, name: str | None = None) -> Future[None]: ...
@overload
def later(
    seconds: float, fn: Callable[..., T], *args: Any, name: str | None = None
) -> Future[T]: ...
def later(
    seconds: float, fn: Callable[..., Any] | None = None, *args: Any, name: str | None = None
) -> Future[Any]:
    """A future that resolves after ``seconds``, with ``fn(*args)`` or with None.

    ``fn`` runs on the shared timer thread, in the :mod:`contextvars` context of this
    call; its return value resolves the future (it is not adopted if it is itself a
    future) and its exception fails it. Keep ``fn`` short: it delays the timers behind
    it (see the module notes; ``shortly.submit(fn, delay=...)`` runs slow work
    elsewhere). Cancelling the future before it fires removes the timer; once ``fn``
    has started, ``cancel()`` returns False. ``name`` labels the future (it shows in
    its ``repr`` and in the messages that name it).

    Raises:
        TypeError: if ``seconds`` is not a number, ``fn`` is neither callable nor None,
            ``name`` is not a str, or ``fn`` is an ``async def`` function (the message
            says how to run one later; a coroutine that ``fn`` returns fails the
            future with TypeError).
        ValueError: if ``seconds`` is negative or NaN (infinity and huge numbers are
            clamped to ``threading.TIMEOUT_MAX``, which never comes in practice), or
            ``name`` is empty.

    >>> import shortly
    >>> shortly.later(0.01, lambda a, b: a + b, 2, 3).result(timeout=5)
    5
    >>> t = shortly.later(3600, print, "never")
    >>> t.cancel()
    True
    """
    delay = check_delay(seconds, "seconds")
    if name is not None:
        check_name(name)
    if fn is None:
        if args:
            raise TypeError("later() got arguments for fn but no fn")
        timer: Timer[Any] = Timer()
        timer._name = name
        _scheduler.arm(timer, delay)
        return timer
    if not callable(fn):
        raise TypeError(f"fn must be callable or None, not {type(fn).__name__}")
    refuse_coroutine_function(fn, "later()", _ASYNC_HINT)
    timer = Timer()
    timer._name = name
    _scheduler.arm(timer, delay, _call_later, (contextvars.copy_context(), fn, args))
    return timer


def sleep(seconds: float, *, name: str | None = None) -> Future[None]:
    """A future that resolves with None after ``seconds``: ``await`` it or block on it.

    ``name`` labels the future (it shows in its ``repr``).

    Raises:
        TypeError: if ``seconds`` is not a number, or ``name`` not a str.
        ValueError: if ``seconds`` is negative or NaN (infinity and huge numbers are
            clamped to ``threading.TIMEOUT_MAX``, which never comes in practice), or
            ``name`` is empty.

    >>> import shortly
    >>> print(shortly.sleep(0.01).result(timeout=5))
    None
    """
    delay = check_delay(seconds, "seconds")
    timer: Timer[None] = Timer()
    if name is not None:
        timer._name = check_name(name)
    _scheduler.arm(timer, delay)
    return timer


def _time_out(timer: Timer[Any], source: Future[Any], seconds: float, cancel: bool) -> None:
    error = TimeoutError(f"{source!r} did not settle within {seconds} seconds")
    if cancel:
        # The source is cancelled first, so whoever sees the TimeoutError finds it
        # cancelled; the timer stops following it first, or that cancellation would
        # cancel the timer instead of timing it out.
        undepend(source, timer)  # expired: a long-lived source keeps nothing of it
        source.cancel(f"timed out after {seconds} seconds")
        timer.try_set_exception(error)
    elif timer.try_set_exception(error):
        undepend(source, timer)


def with_timeout(future: Future[T], seconds: float, *, cancel: bool = False) -> Future[T]:
    """A future settled like ``future``, or failed with TimeoutError after ``seconds``.

    ``future`` itself is left alone on timeout unless ``cancel`` is true, in which
    case it is cancelled too. Cancelling the returned future cancels ``future`` by the
    upward rule (only if nobody else wants it). Called by :meth:`Future.with_timeout`.

    Raises:
        TypeError: if ``future`` is not a shortly future or ``seconds`` not a number.
        ValueError: if ``seconds`` is negative or NaN (infinity and huge numbers are
            clamped to ``threading.TIMEOUT_MAX``, which never comes in practice).

    >>> import shortly
    >>> slow = shortly.Future()
    >>> slow.with_timeout(0.01, cancel=True).exception(timeout=5)
    TimeoutError(...)
    >>> slow.cancelled()
    True
    >>> shortly.Future.resolved(1).with_timeout(5).result()
    1
    """
    if not isinstance(future, Future):
        raise TypeError(f"future must be a shortly.Future, not {type(future).__name__}")
    delay = check_delay(seconds, "seconds")
    if not isinstance(cancel, bool):
        raise TypeError(f"cancel must be a bool, not {type(cancel).__name__}")
    out: Timer[T] = Timer()
    # The timer thread owns it, but the source settles it too (see _deadlock).
    out._sources = future
    # Armed before the dependency, so a future that settles in between disarms it.
    if not future.done():
        _scheduler.arm(out, delay, _time_out, (future, seconds, cancel))
    depend(future, out, partial(follow, out))
    return out


def _poll(
    timer: Timer[Any],
    ctx: contextvars.Context,
    predicate: Callable[[], Any],
    interval: float,
    deadline: float | None,
) -> None:
    ok, value = attempt(ctx.run, predicate)
    if not ok:
        fail(timer, value)
        del timer, value  # no cycle through the traceback (see _call_later)
        return
    if value:
        timer.try_set_result(value)
        return
    now = time.monotonic()
    if deadline is not None and now >= deadline:
        timer.try_set_exception(
            TimeoutError(f"wait_until: {predicate!r} was still false when time ran out")
        )
        return
    step = interval if deadline is None else min(interval, deadline - now)
    timer._scheduler.arm(timer, step, _poll, (ctx, predicate, interval, deadline))


def wait_until(
    predicate: Callable[[], T | None], timeout: float | None = None, interval: float = 0.1
) -> Future[T]:
    """Poll ``predicate()`` every ``interval`` seconds; resolve with its first truthy value.

    The predicate runs on the timer thread (first at once, then every ``interval``),
    in the :mod:`contextvars` context of this call, and is polled one last time when
    ``timeout`` runs out. If it raises, the future fails with that exception. Cancel
    the future to stop polling. This is pulsar's ``async_while`` turned around.

    Raises:
        TypeError: if ``predicate`` is not callable or a time is not a number.
        ValueError: if ``timeout`` or ``interval`` is negative or NaN, or ``interval``
            is zero (infinity and huge numbers are clamped to ``threading.TIMEOUT_MAX``).

    >>> import shortly, itertools
    >>> counter = itertools.count()
    >>> shortly.wait_until(lambda: next(counter) >= 3 and "ready", interval=0.001).result(5)
    'ready'
    >>> shortly.wait_until(lambda: False, timeout=0.01, interval=0.001).exception(timeout=5)
    TimeoutError(...)
    """
    if not callable(predicate):
        raise TypeError(f"predicate must be callable, not {type(predicate).__name__}")
    step = check_delay(interval, "interval")
    if step == 0:
        raise ValueError("interval must be > 0: a zero interval would spin the timer thread")
    deadline = None if timeout is None else time.monotonic() + check_delay(timeout, "timeout")
    timer: Timer[T] = Timer()
    _scheduler.arm(timer, 0.0, _poll, (contextvars.copy_context(), predicate, step, deadline))
    return timer
