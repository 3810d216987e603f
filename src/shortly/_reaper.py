"""The reaper: work a finalizer must not do itself, done on a thread of its own.

A finalizer (``__del__``) may run in the middle of any code, shortly's own locked
sections included, so it must not take a lock: closing a dropped ``shortly.map`` or an
``as_completed(..., cancel_pending=True)`` cancels futures, which does. It hands the
closing to the reaper instead: ``SimpleQueue.put`` is safe in a finalizer (it takes no
lock a Python thread could hold), and a daemon thread, started with the first object
that may need it rather than from a finalizer, runs what it is given.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable

from . import _report

__all__ = ["defer", "ensure"]

_work: queue.SimpleQueue[Callable[[], object]] = queue.SimpleQueue()
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _reap() -> None:
    while True:
        job = _work.get()
        try:
            job()
        except Exception as error:  # the reaper must outlive any one job
            _report.report(error, "closing a dropped object raised", repr(job))
        del job


def ensure() -> None:
    """Start the reaper if it is not running (call it when creating, not finalizing)."""
    global _thread
    if _thread is not None:
        return
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_reap, name="shortly-reaper", daemon=True)
            _thread.start()


def defer(job: Callable[[], object]) -> None:
    """From a finalizer: have the reaper run ``job()`` (if the interpreter is not ending)."""
    work = _work  # None once the interpreter tears the module down
    if work is not None and _thread is not None:
        work.put(job)


def _after_fork_in_child() -> None:
    global _thread, _lock
    _thread, _lock = None, threading.Lock()  # the parent's reaper is not in the child


os.register_at_fork(after_in_child=_after_fork_in_child)
