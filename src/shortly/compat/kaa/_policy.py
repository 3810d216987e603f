"""kaa's coroutine policies: which earlier, unfinished call a new call of a coroutine sees.

Each decorated function keeps the unfinished InProgress objects of its calls, oldest
first, where kaa kept them: on the instance for a method (under the ``group`` name, so
methods of one group share them), on the function otherwise. A policy reads that list
when the coroutine is called.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..._core import watch

if TYPE_CHECKING:
    from ._inprogress import InProgress

__all__ = ["POLICY_PASS_LAST", "POLICY_SINGLETON", "POLICY_SYNCHRONIZED"]

#: Calls run one after the other: a call starts once the previous one has finished.
POLICY_SYNCHRONIZED = "synchronized"
#: While a call is unfinished, calling again returns its InProgress.
POLICY_SINGLETON = "singleton"
#: Each call gets the InProgress of the latest unfinished call (or None) as ``last=``.
POLICY_PASS_LAST = "passlast"

POLICIES = (POLICY_SYNCHRONIZED, POLICY_SINGLETON, POLICY_PASS_LAST)


class Calls:
    """The unfinished calls of one coroutine (or group), and the lock deciding on them.

    The lock is held while a call decides and starts, so that two threads calling a
    singleton at once start it once; it is reentrant for a coroutine calling itself.
    """

    __slots__ = ("lock", "unfinished")

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.unfinished: list[InProgress] = []

    def latest(self) -> InProgress | None:
        return self.unfinished[-1] if self.unfinished else None

    def add(self, ip: InProgress) -> None:
        """Keep ``ip`` until it finishes (under :attr:`lock`)."""
        if ip.finished:
            return
        self.unfinished.append(ip)
        watch(ip._future, lambda _: self._drop(ip))

    def _drop(self, ip: InProgress) -> None:
        with self.lock:
            self.unfinished.remove(ip)


_attach_lock = threading.Lock()


def calls_of(
    func: Callable[..., Any], wrapper: Callable[..., Any], args: tuple[Any, ...], group: str | None
) -> Calls:
    """The :class:`Calls` a call of ``wrapper(*args)`` shares (kaa's decorator data store)."""
    name = group or func.__name__
    target: Any = func
    method = getattr(args[0], func.__name__, None) if args else None
    if getattr(method, "__func__", None) is wrapper:
        target = args[0]  # a method: its instance holds the calls, per group
    key = f"_kaa_coroutine_calls_{name}"
    with _attach_lock:
        calls = getattr(target, key, None)
        if calls is None:
            calls = Calls()
            setattr(target, key, calls)
    return calls
