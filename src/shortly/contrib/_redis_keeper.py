"""The Redis backend's housekeeping thread: renewals, clean-ups and wake-ups, off the caller.

Three kinds of work must not make a caller wait for Redis: renewing the leases of held
locks (the watchdog), giving up attempts whose outcome is unknown (after a lost reply or
a time-out), and waking the listener for a new name. Each is a *job*: a function run on
this thread that returns when to run it again (a :func:`time.monotonic` time), or
``None`` when it is done. One thread per backend runs the jobs in the order they fall
due; it starts with the first job and ends once it has had nothing to do for a while,
so a backend at rest has no thread.

Scheduling a job is a dict assignment and a heap push under a lock: cheap enough for
every acquisition. A cancelled job leaves its heap entry behind, skipped when it comes
up; the heap is rebuilt when such entries outnumber the live ones.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

from .._core import report

__all__ = ["Job", "Keeper"]

Job = Callable[[], "float | None"]

# How long the thread waits with nothing to do before it ends.
_LINGER = 5.0


class Keeper:
    """Runs jobs on one thread of its own, each when it falls due."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._jobs: dict[object, tuple[int, Job]] = {}  # key -> (its heap entry's seq, job)
        self._heap: list[tuple[float, int, object]] = []  # (when, seq, key)
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = 0.0  # when the thread next looks at the jobs, if it is waiting
        self._running: object = None  # the key of the job running now
        self._closed = False

    def schedule(self, key: object, at: float, job: Job) -> None:
        """Run ``job`` at ``at`` (replacing any job under ``key``)."""
        with self._cond:
            if self._closed:
                return
            self._push(key, at, job)
            if self._thread is None:
                thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                thread.start()
                self._thread = thread
            elif at < self._wake_at:
                self._cond.notify()

    def _push(self, key: object, at: float, job: Job) -> None:
        seq = next(self._seq)
        self._jobs[key] = (seq, job)
        heapq.heappush(self._heap, (at, seq, key))
        if len(self._heap) > 2 * len(self._jobs) + 64:
            live = {seq for seq, _ in self._jobs.values()}
            self._heap = [entry for entry in self._heap if entry[1] in live]
            heapq.heapify(self._heap)

    def cancel(self, key: object) -> None:
        """Drop the job under ``key``, if any (one already running still finishes)."""
        with self._cond:
            self._jobs.pop(key, None)
            if self._running is key:
                self._running = None  # so that it is not put back when it returns

    def close(self) -> None:
        """Drop every job and end the thread."""
        with self._cond:
            self._closed = True
            self._jobs.clear()
            self._heap.clear()
            self._cond.notify()

    def _next(self) -> tuple[object, Job] | None:
        """Wait for the next due job; None once idle for a while or closed."""
        with self._cond:
            idle_since = time.monotonic()
            while not self._closed:
                now = time.monotonic()
                if self._heap:
                    at, seq, key = self._heap[0]
                    live = self._jobs.get(key)
                    if live is None or live[0] != seq:
                        heapq.heappop(self._heap)  # cancelled or scheduled anew
                        continue
                    if at <= now:
                        heapq.heappop(self._heap)
                        del self._jobs[key]
                        self._running = key
                        return key, live[1]
                    idle_since = now
                    self._wake_at = at
                elif now - idle_since >= _LINGER:
                    break
                else:
                    self._wake_at = idle_since + _LINGER
                self._cond.wait(self._wake_at - now)
            self._thread = None
            return None

    def _run(self) -> None:
        while (found := self._next()) is not None:
            key, job = found
            try:
                again = job()
            except Exception as error:  # a bug: say so, and keep the other jobs going
                report(error, "a Redis lock housekeeping job", repr(job))
                again = None
            with self._cond:
                # Not if it was cancelled or scheduled anew while it ran.
                rerun = self._running is key and not self._closed and key not in self._jobs
                if again is not None and rerun:
                    self._push(key, again, job)
                self._running = None
