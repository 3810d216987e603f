"""kaa's main loop: ``kaa.main.run()`` runs queued main-thread work until ``stop()``.

kaa programs end with ``kaa.main.run()``. Here the loop runs only what is sent to the
main thread: calls of ``@threaded(MAINTHREAD)`` functions made from other threads, and
what the compat module itself finishes there (a :class:`~shortly.compat.kaa.Socket`'s
connection). Everything else keeps running where shortly runs it (callbacks in the
thread that finishes an InProgress). The main thread is the thread running the loop,
or Python's main thread while no loop runs.

>>> import threading
>>> from shortly.compat import kaa
>>> ran_in = []
>>> @kaa.threaded(kaa.MAINTHREAD)
... def on_main():
...     ran_in.append(threading.current_thread())
...     kaa.main.stop()
>>> threading.Thread(target=on_main).start()   # queued for the loop
>>> kaa.main.run()                             # runs it, which stops the loop
>>> ran_in == [threading.current_thread()], kaa.main.is_running()
(True, False)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..._checks import check_timeout
from ..._core import Future, report
from ._signal import Signal

__all__ = ["is_mainthread", "is_running", "loop", "run", "signals", "stop", "wakeup"]

_Call = tuple[Callable[..., Any], tuple[Any, ...]]

# How long the main thread, waiting for an InProgress, lets queued calls wait.
_SLICE = 0.02


class _Loop:
    """The queue of main-thread calls and the thread that drains it."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.calls: deque[_Call] = deque()
        self.thread: threading.Thread | None = None
        self.stopping = False

    def queue(self, fn: Callable[..., Any], *args: Any) -> None:
        with self.cond:
            self.calls.append((fn, args))
            self.cond.notify_all()

    def wakeup(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def pump(self, keep_going: Callable[[], bool], timeout: float | None = None) -> bool:
        """Run queued calls while ``keep_going()``; False if ``timeout`` ran out first.

        ``keep_going`` is read under the condition; whatever makes it false must call
        :meth:`wakeup` (``stop`` does).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self.cond:
                while keep_going() and not self.calls:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self.cond.wait(left)
                if not keep_going():
                    return True
                fn, args = self.calls.popleft()
            self._call(fn, args)

    @staticmethod
    def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:
            report(error, "a kaa main-thread call raised", repr(fn))

    def run_pending(self) -> None:
        """Run the calls queued now, without waiting for more."""
        while True:
            with self.cond:
                if not self.calls:
                    return
                fn, args = self.calls.popleft()
            self._call(fn, args)

    def wait_for(self, future: Future[Any], timeout: float | None) -> bool:
        """Wait for ``future`` in the main thread, running queued calls meanwhile.

        The wait itself is the core's (its deadlock check, its waiter list), in short
        slices: a call queued meanwhile runs within one slice.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self.run_pending()
            left = None if deadline is None else deadline - time.monotonic()
            if future.wait(_SLICE if left is None else max(min(_SLICE, left), 0)):
                return True
            if left is not None and left <= _SLICE:
                return future.done()

    def owns(self, thread: threading.Thread) -> bool:
        with self.cond:
            running = self.thread
        return thread is (threading.main_thread() if running is None else running)


_loop = _Loop()

#: kaa's main loop signals; ``shutdown`` is emitted when :func:`run` returns.
signals = {"shutdown": Signal()}


def is_running() -> bool:
    """True while :func:`run` runs (in any thread).

    >>> from shortly.compat import kaa
    >>> kaa.main.is_running()
    False
    """
    with _loop.cond:
        return _loop.thread is not None


def is_mainthread() -> bool:
    """True in the thread running the loop, or (no loop running) in Python's main thread.

    >>> import threading
    >>> from shortly.compat import kaa
    >>> kaa.is_mainthread(), threading.current_thread() is threading.main_thread()
    (True, True)
    """
    return _loop.owns(threading.current_thread())


def run(threaded: bool = False) -> None:
    """Run the main loop until :func:`stop`: queued main-thread calls run here, in order.

    With ``threaded=True`` the loop runs in a new thread and ``run`` returns at once.
    ``KeyboardInterrupt`` or ``SystemExit`` raised by a queued call stops the loop
    quietly, as in kaa. The ``shutdown`` signal is emitted when the loop ends.

    Raises:
        RuntimeError: if the loop is already running.

    >>> from shortly.compat import kaa
    >>> kaa.main.run(threaded=True); kaa.main.is_running()
    True
    >>> kaa.main.stop(); kaa.main.is_running()
    False
    """
    if threaded:
        started = threading.Event()
        thread = threading.Thread(target=_run, args=(started,), name="kaa-main", daemon=True)
        thread.start()
        started.wait()
        return
    _run(None)


def _run(started: threading.Event | None) -> None:
    with _loop.cond:
        if _loop.thread is not None:
            if started is not None:
                started.set()
            raise RuntimeError("the kaa main loop is already running")
        _loop.thread = threading.current_thread()
        _loop.stopping = False
    if started is not None:
        started.set()
    try:
        _loop.pump(lambda: not _loop.stopping)
    except (KeyboardInterrupt, SystemExit):
        pass  # kaa ends its loop on these rather than crashing the program
    finally:
        with _loop.cond:
            _loop.thread = None
            _loop.stopping = False
            _loop.cond.notify_all()
        signals["shutdown"].emit()


def stop() -> None:
    """Ask the loop to stop once the call it is running returns; from any thread.

    Outside a running loop it does nothing. Called from another thread, it returns once
    the loop has stopped.

    >>> from shortly.compat import kaa
    >>> kaa.main.stop()   # nothing is running: nothing to do
    """
    with _loop.cond:
        running = _loop.thread
        if running is None:
            return
        _loop.stopping = True
        _loop.cond.notify_all()
        if running is threading.current_thread():
            return
        while _loop.thread is running:
            _loop.cond.wait()


def loop(condition: Callable[[], bool], timeout: float | None = None) -> None:
    """Run queued main-thread calls in this thread while ``condition()`` is true.

    For a thread that owns the loop and must wait without blocking it (what
    :meth:`InProgress.wait` does in the main thread).

    Raises:
        TypeError: if ``condition`` is not callable or ``timeout`` is not a number.
        ValueError: if ``timeout`` is NaN.

    >>> import itertools
    >>> from shortly.compat import kaa
    >>> ticks = itertools.count()
    >>> kaa.main.loop(lambda: next(ticks) < 3, timeout=0.01)
    """
    if not callable(condition):
        raise TypeError(f"condition must be callable, not {type(condition).__name__}")
    _loop.pump(condition, check_timeout(timeout, "timeout"))


def wakeup() -> None:
    """Wake the loop so that it re-reads what it waits for (kaa's ``main.wakeup``).

    >>> from shortly.compat import kaa
    >>> kaa.main.wakeup()
    """
    _loop.wakeup()
