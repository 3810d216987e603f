"""How a thread sleeps on a future: one-shot wakers and the stdlib's waiter list.

A future nobody blocks on owns no lock or condition. A thread that blocks brings its
own :class:`Waker`, a lock it holds until the resolver releases it, and leaves it in
the future's waiter list for that one wait. Stdlib functions (``concurrent.futures.wait``
and ``as_completed``) add their own waiters under the future's ``_condition``; the first
time they ask for it, the list becomes a :class:`StdlibWaiters`, whose type tells the
resolver to change state and read the list under the shared stdlib lock.

Invariants the resolver keeps (see ``Future._settle``):

* once the list is a :class:`StdlibWaiters`, a state change happens while holding
  :data:`STDLIB_LOCK`, and the waiters to notify are copied in the same step. A stdlib
  waiter therefore either sees the future pending and is notified once, or sees it done
  and is never notified: ``wait()`` cannot count a future twice.
* lock order is :data:`STDLIB_LOCK` first, then the future's stripe lock (the stdlib's
  ``_AcquireFutures`` takes the conditions, and the list's creation takes the stripe).
* code that drives the stdlib protocol by hand (sets ``_state`` under ``with
  f._condition:`` and calls ``notify_all()``) wakes shortly's own sleepers too, because
  the condition is a :class:`ProtocolCondition`; sleepers re-check the state on waking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from ._erased import Any

__all__ = ["STDLIB_LOCK", "ProtocolCondition", "StdlibWaiters", "Waker"]

# Only stdlib module functions take this one, and they take it re-entrantly (sorted
# acquisition of many futures' conditions), so one shared RLock cannot deadlock them.
STDLIB_LOCK = threading.RLock()


class StdlibWaiters(list[Any]):
    """The waiter list of a future that stdlib functions have used.

    Its type is the flag that says "change state and read me under the stdlib lock".
    """

    __slots__ = ("condition",)

    def __init__(self, waiters: Iterable[Any]) -> None:
        super().__init__(waiters)
        self.condition = ProtocolCondition(self)


class ProtocolCondition(threading.Condition):
    """A future's ``_condition``: notifying it also wakes threads blocked in ``result()``.

    Those threads sleep on a :class:`Waker` in the waiter list, not on the condition,
    so a plain condition would leave them asleep until their timeout.
    """

    def __init__(self, waiters: list[Any]) -> None:
        super().__init__(STDLIB_LOCK)
        self._sleepers = waiters

    def notify(self, n: int = 1) -> None:
        super().notify(n)  # notify_all() calls notify() too
        for waiter in self._sleepers[:]:
            if type(waiter) is Waker:
                waiter.wake(None)


class Waker:
    """A blocked thread's one-shot wake-up, shaped like a stdlib ``_Waiter``."""

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wake(self, future: object) -> None:
        # Idempotent: a hand-driven notify_all() and the resolver may both wake us.
        # try/except, not contextlib.suppress: this runs on every wake-up.
        try:  # noqa: SIM105
            self._lock.release()
        except RuntimeError:
            pass

    add_result = add_exception = add_cancelled = wake

    def sleep(self, timeout: float | None) -> None:
        if timeout is None:
            self._lock.acquire()
        else:
            self._lock.acquire(True, min(max(timeout, 0.0), threading.TIMEOUT_MAX))
