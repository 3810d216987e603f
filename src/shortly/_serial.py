"""The self-managing serial worker: :class:`SerialExecutor` (quickrpc's ActionQueue).

:class:`SerialExecutor` runs actions one at a time, in the order they were put, on a
worker thread that exists only while there is work, give or take a short grace period
(quickrpc's ActionQueue, minus its stall after a raising action).

Why no action is ever stranded. Producers append to the queue under the executor's
lock and, in the same critical section, start a worker if none is marked running. The
worker takes the whole queue at once under that lock, and decides to exit under it
too, marking itself gone only when it finds the queue empty. Every put is ordered
before or after each of those decisions, so either the worker takes the action, or
the put sees no worker and starts one. Taking everything at once keeps the worker's
lock traffic at one acquisition per batch, not per action.

Parking. Before it exits, an idle worker parks for ``idle_timeout`` seconds: it marks
itself parked under the lock and sleeps in ``get()`` on a private ``SimpleQueue``. A
producer that finds it parked clears the mark under the lock and, once the lock is
free, puts one token; clearing the mark under the lock is what makes it one token per
park. A worker whose sleep times out while a token is on its way finds the mark
cleared, and takes the token before it looks at the queue again.

Why it is cheap. A put is one lock round trip and one in-place extend: each action is queued
as three entries ``context, call, future`` of a flat list (``future`` is None for a
put), so no tuple or job object per action is kept alive for the garbage collector to
scan while it waits. A caller with no context variables set (the common case) queues
``None`` as its context and the worker runs the call in a blank context, so no
snapshot is kept either.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import inspect
import os
import queue
import threading
import time
import types
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, ParamSpec, TypeVar

from ._adapt import refuse_coroutine, refuse_coroutine_function
from ._checks import check_delay, check_name
from ._core import Future, attempt, fail_running, report
from ._errors import DeadlockError
from ._progress import running

__all__ = ["ASYNC_HINT", "FORKED", "ActionQueue", "SerialExecutor", "SerialStatistics"]

T = TypeVar("T")
P = ParamSpec("P")

_copy_context = contextvars.copy_context
_Context = contextvars.Context
_Coroutine = types.CoroutineType
_Function = types.FunctionType
_Builtin = types.BuiltinFunctionType  # builtin functions and methods: never async
_CO_COROUTINE = inspect.CO_COROUTINE
#: What to do with an ``async def`` function instead (see refuse_coroutine_function);
#: ``submit`` gives the same advice.
ASYNC_HINT = (
    "drive it with shortly.spawn({name}(...)), or run it on an asyncio loop "
    "with shortly.run_in_loop()"
)

_names_lock = threading.Lock()
_names_used = 0

#: How long an idle worker stays parked for more work by default, in seconds: long
#: enough that bursts a few tens of milliseconds apart reuse one thread, short enough
#: that an idle executor holds no thread for long.
IDLE_GRACE = 0.25

# Workers are told to go when the interpreter exits, so that a finished program does
# not linger for a parked worker's idle_timeout.
_registry_lock = threading.Lock()
_live: dict[threading.Thread, SerialExecutor] = {}  # each worker thread, its executor
_exiting = False


def _on_exit() -> None:
    global _exiting
    with _registry_lock:
        _exiting = True
        live = list(_live.values())
    for executor in live:
        executor._signal()


_register_atexit = getattr(threading, "_register_atexit", None)
if _register_atexit is not None:  # runs before non-daemon threads are joined
    _register_atexit(_on_exit)

# Every executor, so that a forked child can give each a fresh start.
_executors: weakref.WeakSet[SerialExecutor] = weakref.WeakSet()

#: Why work queued before a fork is not done in the child (here and in ``_submit``).
FORKED = "the process forked: work queued before the fork is done by the parent only"


def _after_fork_in_child() -> None:
    global _names_lock, _registry_lock
    # Locks another thread held at the fork stay held in the child for good.
    _names_lock, _registry_lock = threading.Lock(), threading.Lock()
    me = threading.current_thread()
    live = {me: _live[me]} if me in _live else {}  # an action forked: its worker goes on
    _live.clear()
    _live.update(live)
    for executor in list(_executors):
        executor._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _cancel_futures(triples: Iterable[Any]) -> None:
    """Cancel the futures found in a run of ``context, call, future`` entries."""
    for entry in triples:
        if isinstance(entry, Future):
            entry.cancel("the executor was shut down")


@dataclass(frozen=True)
class SerialStatistics:
    """A snapshot of a :class:`SerialExecutor`, from its ``statistics()`` method.

    Attributes:
        queued: actions queued and not yet taken by the worker (it takes everything
            queued at once, then runs those actions in order).
        worker_alive: whether a worker thread exists right now (running or parked).
        threads_started: worker threads started so far (one per busy period, where
            gaps shorter than ``idle_timeout`` do not end a period).
        shutdown: whether ``shutdown()`` was called.

    >>> import shortly
    >>> queue = shortly.SerialExecutor()
    >>> queue.submit(int).result()
    0
    >>> queue.statistics().threads_started
    1
    """

    queued: int
    worker_alive: bool
    threads_started: int
    shutdown: bool


class SerialExecutor(concurrent.futures.Executor):
    """Runs actions one at a time, in order, on a thread that exists only while needed.

    A :class:`concurrent.futures.Executor`: :meth:`submit` returns a
    :class:`shortly.Future`, and :meth:`put` queues a fire-and-forget action. Actions
    run first in, first out; a worker thread starts when work arrives, stays parked
    for ``idle_timeout`` seconds once the queue is empty (a quarter of a second by
    default, so bursts a little apart reuse it), then exits, to start again on the
    next put. With ``idle_timeout=None`` one thread runs every action until
    :meth:`shutdown`, for objects bound to a thread (an sqlite3 connection). An action
    that raises fails its future (``submit``) or is reported as an unhandled failure
    (``put``), and the queue goes on. The worker is not a daemon: work queued when the
    program ends still runs, but an idle worker does not keep it waiting.

    ``map`` is the stdlib's, on top of :meth:`submit`. Each action runs in the
    :mod:`contextvars` context of the code that queued it (a copy: what it sets there
    is not seen by later actions). The executor owns the
    futures it runs: an action that blocks on the future of an action queued behind it
    raises :class:`~shortly.DeadlockError` instead of hanging.

    Args:
        name: the worker thread's name (default ``"SerialExecutor-N"``).
        idle_timeout: seconds an idle worker stays parked for more work before it
            exits (0: at once, after giving producers one chance to run); ``None``
            keeps one worker thread until shutdown.
        initializer: called as ``initializer(*initargs)`` on each new worker thread
            before its first action, as :class:`~concurrent.futures.ThreadPoolExecutor`
            does. If it raises, the executor is broken: queued futures fail, and
            later ``put``/``submit`` raise, with
            :class:`concurrent.futures.BrokenExecutor`.
        initargs: the arguments for ``initializer``.

    Raises:
        TypeError: if ``name`` is not a str, ``idle_timeout`` neither a number nor
            None, ``initializer`` not callable or ``initargs`` not a tuple.
        ValueError: if ``idle_timeout`` is negative or NaN (infinity and huge numbers
            are clamped to ``threading.TIMEOUT_MAX``).

    >>> import shortly
    >>> seen = []
    >>> with shortly.SerialExecutor(name="log-writer") as queue:
    ...     for word in ("one", "two", "three"):
    ...         queue.put(seen.append, word)
    ...     last = queue.submit(len, seen)
    >>> seen, last.result()
    (['one', 'two', 'three'], 3)
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        idle_timeout: float | None = IDLE_GRACE,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        global _names_used
        if name is None:
            with _names_lock:
                _names_used += 1
                name = f"SerialExecutor-{_names_used}"
        elif not isinstance(name, str):
            raise TypeError(f"name must be a str or None, not {type(name).__name__}")
        self._idle_timeout = (
            None if idle_timeout is None else check_delay(idle_timeout, "idle_timeout")
        )
        if initializer is not None and not callable(initializer):
            raise TypeError(
                f"initializer must be callable or None, not {type(initializer).__name__}"
            )
        if not isinstance(initargs, tuple):
            raise TypeError(f"initargs must be a tuple, not {type(initargs).__name__}")
        self._initializer = initializer
        self._initargs = initargs
        self._name = name
        # Everything below is guarded by _lock. The queue holds context, call, future.
        self._lock = threading.Lock()
        self._queue: list[Any] = []
        # shutdown(wait=True) waits on it for the worker to go.
        self._cond = threading.Condition(self._lock)
        # A parked worker sleeps in its get(); a producer puts a token to wake it. Of
        # the stdlib's waits with a timeout, this one wakes fastest (no Condition).
        self._wake: queue.SimpleQueue[None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._waiting = False  # the worker is parked: one token on _wake is due
        self._broken: BaseException | None = None  # the initializer raised this
        # A worker exists and no shutdown: just append (and wake it if it is parked).
        self._hot = False
        self._shutdown = False
        self._discard = False  # shutdown(cancel_futures=True): drop the current batch
        self._started = 0
        self._batch: list[Any] | None = None  # what the worker took and runs now
        _executors.add(self)

    @property
    def name(self) -> str:
        """The worker thread's name.

        >>> import shortly
        >>> shortly.SerialExecutor(name="db").name
        'db'
        """
        return self._name

    def __shortly_owner_thread__(self) -> threading.Thread | None:
        return self._thread

    def _after_fork_in_child(self) -> None:
        """In a forked child: no worker yet, and none of the parent's work.

        The work queued or taken when the process forked is the parent's to do: doing
        it here too would do it twice. Its futures are cancelled in the child (one that
        was running fails), so nothing there waits for it for ever.
        """
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._wake = queue.SimpleQueue()
        if self._thread is threading.current_thread():
            self._waiting = False
            return  # one of its actions forked: this thread goes on as the worker
        self._thread = None
        self._waiting = self._hot = self._discard = False
        taken, self._batch, queued, self._queue = self._batch, None, self._queue, []
        for entry in (*(taken or ()), *queued):
            if isinstance(entry, Future) and not entry.cancel(FORKED):
                entry.try_set_exception(RuntimeError(FORKED))

    def __repr__(self) -> str:
        state = "shut down" if self._shutdown else "running" if self._thread else "idle"
        return f"<{type(self).__name__} {self._name!r} {state} queued={len(self._queue) // 3}>"

    # -- queueing -------------------------------------------------------------------

    def _enqueue_slow(
        self,
        context: contextvars.Context | None,
        call: Callable[[], Any],
        future: Future[Any] | None,
    ) -> None:
        with self._cond:
            if self._shutdown:
                raise RuntimeError(f"cannot queue work on {self._name!r}: it was shut down")
            if self._broken is not None:
                raise self._broken_error()
            self._queue += context, call, future
            thread = self._thread
            if thread is None:
                thread = self._thread = threading.Thread(target=self._work, name=self._name)
                self._hot = True
                self._started += 1
                start = True
            else:
                start = False
                parked = self._waiting  # else it is about to look at the queue anyway
                self._waiting = False
        if not start:
            if parked:
                # Woken once our lock is free: a worker woken while this thread still
                # holds it would at once go back to sleep on it.
                self._wake.put(None)
            return
        # Started outside the lock: other producers keep appending meanwhile.
        try:
            thread.start()
        except BaseException:
            with self._cond:
                self._thread = None
                self._hot = False
                # This caller is told the put failed, so its action must not run.
                # Earlier actions stay queued for the next put to start a worker.
                entries = self._queue
                for i in range(len(entries) - 2, 0, -3):
                    if entries[i] is call:
                        del entries[i - 1 : i + 2]
                        break
                self._cond.notify_all()
            raise

    def put(
        self, action: Callable[..., object], /, *args: Any, name: str | None = None, **kwargs: Any
    ) -> None:
        """Queue ``action(*args, **kwargs)`` to run after everything queued before it.

        Fire and forget: the return value is dropped, and an exception is reported
        through :func:`shortly.set_unhandled_handler` (and logged) before the next
        action runs; the report names the action by ``name`` when given. Use
        :meth:`submit` to get the outcome. ``name`` is this method's own keyword: to
        pass a keyword of that name to ``action``, use :func:`functools.partial`.

        Raises:
            concurrent.futures.BrokenExecutor: if the initializer raised.
            TypeError: if ``action`` is not callable, or ``name`` is not a str. An
                ``async def`` action (or one that returns a coroutine) is not run: the
                worker closes the coroutine and reports a TypeError that names
                :func:`shortly.spawn`.
            ValueError: if ``name`` is empty.
            RuntimeError: if the executor was shut down.

        >>> import shortly
        >>> lines = []
        >>> queue = shortly.ActionQueue()
        >>> queue.put(lines.append, "hello from the worker")
        >>> queue.put(print, "with", "keywords", sep="-")
        >>> queue.shutdown()  # waits for the queue to drain
        with-keywords
        >>> lines
        ['hello from the worker']
        """
        # An async function is not refused here but by the worker, which closes the
        # coroutine and reports the TypeError, as it reports whatever a put raises:
        # a check here would cost the hottest path a seventh of its time.
        if not callable(action):
            raise TypeError(f"action must be callable, not {type(action).__name__}")
        if args or kwargs:
            action = partial(action, *args, **kwargs)
        if name is not None:
            action = _Labelled(action, check_name(name))
        self._enqueue(_copy_context() or None, action, None)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Queue ``fn(*args, **kwargs)``; return a future of its outcome.

        Cancelling the future before the action starts skips the action.

        Raises:
            concurrent.futures.BrokenExecutor: if the initializer raised.
            TypeError: if ``fn`` is not callable, or is an ``async def`` function
                (run those with :func:`shortly.spawn`); a coroutine that ``fn``
                returns all the same is closed, and fails the future with TypeError.
            RuntimeError: if the executor was shut down.

        >>> import shortly
        >>> queue = shortly.SerialExecutor()
        >>> queue.submit(pow, 2, 10).result(timeout=5)
        1024
        >>> queue.submit(int, "x").exception(timeout=5)
        ValueError("invalid literal for int() with base 10: 'x'")
        """
        kind = type(fn)  # plain functions and builtins, the common case: told by type
        if kind is _Function:
            if fn.__code__.co_flags & _CO_COROUTINE:
                refuse_coroutine_function(fn, "SerialExecutor.submit()", ASYNC_HINT)
        elif kind is not _Builtin:
            if not callable(fn):
                raise TypeError(f"fn must be callable, not {type(fn).__name__}")
            refuse_coroutine_function(fn, "SerialExecutor.submit()", ASYNC_HINT)
        future: Future[T] = Future(owner=self)
        call = partial(fn, *args, **kwargs) if args or kwargs else fn
        self._enqueue(_copy_context() or None, call, future)
        return future

    def _enqueue(
        self,
        context: contextvars.Context | None,
        call: Callable[[], Any],
        future: Future[Any] | None,
    ) -> None:
        """Queue ``call`` (to settle ``future``; None for a put): every put and submit."""
        lock = self._lock
        lock.acquire()
        try:
            hot = self._hot
            if hot:
                self._queue += (context, call, future)  # one call, not three appends
                parked = self._waiting
                if parked:
                    self._waiting = False
        finally:
            lock.release()
        if not hot:
            self._enqueue_slow(context, call, future)
        elif parked:
            self._wake.put(None)  # outside the lock, which the woken worker takes first

    # -- the worker -------------------------------------------------------------------

    def _signal(self) -> None:
        """Wake the worker if it is parked (for shutdown and interpreter exit)."""
        with self._lock:
            parked = self._waiting
            self._waiting = False
        if parked:
            self._wake.put(None)

    def _broken_error(self) -> concurrent.futures.BrokenExecutor:
        error = concurrent.futures.BrokenExecutor(
            f"the initializer of {self._name!r} raised: {self._broken!r}"
        )
        error.__cause__ = self._broken
        return error

    def _initialize(self) -> bool:
        """Run the initializer on this new worker; False (executor broken) if it raised.

        As ThreadPoolExecutor does: the queued work fails, and so does every later put.
        """
        assert self._initializer is not None
        try:
            self._initializer(*self._initargs)
            return True
        except BaseException as raised:
            report(raised, f"the initializer of {self._name!r} raised")
            with self._cond:
                self._broken = raised
                self._thread = None
                self._hot = False
                dropped, self._queue = self._queue, []
                self._cond.notify_all()
            error = self._broken_error()
            for entry in dropped:
                if isinstance(entry, Future):
                    entry.try_set_exception(error)
            return False

    def _work(self) -> None:
        me = threading.current_thread()
        with _registry_lock:
            _live[me] = self  # told to go at interpreter exit (see _on_exit)
        try:
            if self._initializer is None or self._initialize():
                self._run()
        finally:
            with _registry_lock:
                del _live[me]

    def _run(self) -> None:
        me = threading.get_ident()
        # Actions queued without context variables share one blank context, renewed
        # whenever one of them leaves a variable set in it, so none leaks to the next.
        blank = _Context()
        while True:
            batch = self._take()
            if batch is None:
                return
            entries = iter(batch)
            # By construction the entries come in threes.
            for context, call, future in zip(entries, entries, entries):  # noqa: B905
                if self._discard:
                    _cancel_futures((future, *entries))
                    break
                if context is None:
                    context = blank
                try:
                    if future is None:
                        value = context.run(call)
                        if value is not None and type(value) is _Coroutine:
                            raise refuse_coroutine(value, "put()", ASYNC_HINT)  # type: ignore[misc]
                    elif future.set_running_or_notify_cancel():
                        running[me] = future  # what shortly.progress() reports on
                        ok, value = context.run(attempt, call)
                        del running[me]
                        if ok and type(value) is _Coroutine:
                            ok, value = False, refuse_coroutine(value, "submit()", ASYNC_HINT)
                        if ok:
                            future.try_set_result(value)
                        else:
                            fail_running(future, value)
                except BaseException as error:
                    # The queue must go on whatever an action (or a callback) raises.
                    report(error, f"an action on {self._name!r} raised", repr(call))
                if context is blank and blank:
                    blank = _Context()
            # Hold on to nothing of the last actions while idle.
            batch = self._batch = entries = context = call = future = value = None  # type: ignore[assignment]

    def _take(self) -> list[Any] | None:
        """Everything queued, once there is some; None when the worker is to exit."""
        with self._cond:
            batch = self._queue
            if batch:
                # _batch first: a fork at any instant finds the work in one or the other.
                self._batch = batch
                self._queue = []
                return batch
        # Let a producer run before deciding. Under the GIL a producer in a tight loop
        # gets no chance while this thread runs, so a worker deciding at once would
        # find the queue empty and be restarted for nearly every action.
        time.sleep(0)
        lock, wake, grace = self._lock, self._wake, self._idle_timeout
        deadline = None if grace is None else time.monotonic() + grace
        lock.acquire()
        try:
            while True:
                batch = self._queue
                if batch:
                    self._batch = batch
                    self._queue = []
                    return batch
                remaining = None if deadline is None else deadline - time.monotonic()
                # _exiting is read under our lock, which _on_exit takes after setting it:
                # either this sees it, or _on_exit sees this worker parked and wakes it.
                if self._shutdown or _exiting or (remaining is not None and remaining <= 0):
                    self._thread = None
                    self._hot = False
                    self._cond.notify_all()  # shutdown(wait=True) may be waiting for this
                    return None
                # Park. The worker stays "hot": a producer appends under the lock, sees
                # it parked and wakes it (see put); shutdown and exit do the same.
                self._waiting = True
                lock.release()
                woken = True
                try:
                    wake.get(True, remaining)
                except queue.Empty:
                    woken = False
                finally:
                    lock.acquire()
                if self._waiting:
                    self._waiting = False  # nobody woke it: the grace ran out
                elif not woken:
                    wake.get()  # a wake-up raced the timeout: take its token
        finally:
            lock.release()

    # -- stopping -----------------------------------------------------------------------

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new work; with ``wait``, return once everything queued has run.

        With ``cancel_futures``, actions not yet started are dropped and their futures
        cancelled (the running one finishes). Calling it again is harmless.

        Raises:
            DeadlockError: if ``wait`` is true and this is called by one of this
                executor's own actions, which would then wait for itself.

        >>> import shortly
        >>> queue = shortly.SerialExecutor()
        >>> f = queue.submit(sum, [1, 2])
        >>> queue.shutdown()
        >>> f.result()
        3
        >>> queue.put(print)
        Traceback (most recent call last):
        ...
        RuntimeError: cannot queue work on 'SerialExecutor-...': it was shut down
        """
        with self._cond:
            if wait and self._thread is threading.current_thread():
                raise DeadlockError(
                    f"{self!r}.shutdown(wait=True) was called by one of its own actions, "
                    "which would wait for itself; use wait=False"
                )
            self._shutdown = True
            self._hot = False
            dropped: list[Any] = []
            if cancel_futures:
                dropped, self._queue = self._queue, dropped
                # The worker drops what it has taken but not started, too.
                self._discard = self._thread is not None
            self._cond.notify_all()
        self._signal()
        _cancel_futures(dropped)
        if wait:
            with self._cond:
                self._cond.wait_for(lambda: self._thread is None)

    def statistics(self) -> SerialStatistics:
        """A snapshot: queued actions, whether a worker exists, threads started.

        >>> import shortly
        >>> shortly.SerialExecutor().statistics()
        SerialStatistics(queued=0, worker_alive=False, threads_started=0, shutdown=False)
        """
        with self._lock:
            return SerialStatistics(
                len(self._queue) // 3, self._thread is not None, self._started, self._shutdown
            )


class _Labelled:
    """A ``put`` action with a name, which its unhandled-failure report shows."""

    __slots__ = ("action", "name")

    def __init__(self, action: Callable[[], object], name: str) -> None:
        self.action = action
        self.name = name

    def __call__(self) -> object:
        return self.action()

    def __repr__(self) -> str:
        return f"<action {self.name!r}: {self.action!r}>"


#: quickrpc's name for :class:`SerialExecutor`: ``ActionQueue().put(action)``.
ActionQueue = SerialExecutor
