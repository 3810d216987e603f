"""How a thread sleeps on a future: one-shot wakers and the stdlib's waiter list.

A future nobody blocks on owns no lock or condition. A thread that blocks brings its
own :class:`Waker`, a lock it holds until the resolver releases it, and leaves it in
the future's waiter list for that one wait. Stdlib functions (``concurrent.futures.wait``
and ``as_completed``) add their own waiters under the future's ``_condition``; the first
time they ask for it, the list becomes a :class:`StdlibWaiters`, whose type tells the
resolver to read it under the shared stdlib lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["STDLIB_LOCK", "StdlibWaiters", "Waker"]

# Only stdlib module functions take this one, and they take it re-entrantly (sorted
# acquisition of many futures' conditions), so one shared RLock cannot deadlock them.
STDLIB_LOCK = threading.RLock()


class StdlibWaiters(list[Any]):
    """The waiter list of a future that stdlib functions have used.

    Its type is the flag that says "read me under the stdlib lock".
    """

    __slots__ = ("condition",)

    def __init__(self, waiters: Iterable[Any]) -> None:
        super().__init__(waiters)
        self.condition = threading.Condition(STDLIB_LOCK)


class Waker:
    """A blocked thread's one-shot wake-up, shaped like a stdlib ``_Waiter``."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wake(self, future: object) -> None:
        self._lock.release()

    add_result = add_exception = add_cancelled = wake

    def sleep(self, timeout: float | None) -> None:
        if timeout is None:
            self._lock.acquire()
        else:
            self._lock.acquire(True, min(max(timeout, 0.0), threading.TIMEOUT_MAX))
