"""How a thread sleeps on a future: one-shot wakers and the stdlib's waiter list.

A future nobody blocks on owns no lock or condition. A thread that blocks brings its
own :class:`Waker`, a lock it holds until the resolver releases it, and leaves it in
the future's waiter list for that one wait. Stdlib functions (``concurrent.futures.wait``
and ``as_completed``) add their own waiters under the future's ``_condition``; the first
time they ask for it, the list becomes a :class:`StdlibWaiters`, whose type tells the
resolver to read it under the shared stdlib lock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["STDLIB_LOCK", "StdlibWaiters", "Waker", "check_timeout"]

# Only stdlib module functions take this one, and they take it re-entrantly (sorted
# acquisition of many futures' conditions), so one shared RLock cannot deadlock them.
STDLIB_LOCK = threading.RLock()


def check_timeout(timeout: float | None, name: str = "timeout") -> float | None:
    """Return ``timeout`` if it is ``None`` or a real number; raise naming ``name``.

    Raises:
        TypeError: if it is not a number (``bool`` included) or ``None``.
        ValueError: if it is NaN.

    >>> check_timeout(1.5)
    1.5
    >>> check_timeout("1")
    Traceback (most recent call last):
    ...
    TypeError: timeout must be a number of seconds or None, not str
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{name} must be a number of seconds or None, not {type(timeout).__name__}")
    if math.isnan(timeout):
        raise ValueError(f"{name} must not be NaN")
    return timeout


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
