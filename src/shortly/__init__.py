"""shortly: results that arrive later.

One :class:`Future` that threads can block on, asyncio and trio can ``await``, that
chains like a promise, never loses an error silently and refuses to deadlock.

>>> import shortly
>>> f = shortly.Future()
>>> f.set_result(21)
>>> f.result() * 2
42
"""

from __future__ import annotations

from ._adapt import future_of, register_adapter
from ._aio import in_loop, run_in_loop
from ._as_completed import as_completed
from ._chain import shield
from ._combine import AllFailed, all_of, any_of, race, settled
from ._deadlock import OwnerLike
from ._errors import CancelledError, DeadlockError, Error, InvalidStateError, TimeoutError
from ._future import Future
from ._gather import gather
from ._lock import Lock
from ._lock_backend import Lease, LockBackend, LockError, LockStatistics, LockTimeout
from ._lock_local import LocalBackend
from ._map import MapIterator, map
from ._outcome import Err, Ok, Outcome
from ._progress import Progress, progress
from ._progress_bar import progress_bar
from ._report import Unhandled, flush_reports, get_debug, set_debug, set_unhandled_handler
from ._scope import Scope, scope
from ._spawn import spawn
from ._timers import later, sleep, wait_until
from ._trace import format_chain
from ._wait_points import cancelled, checkpoint
from ._workers import ActionQueue, SerialExecutor, submit

__all__ = [
    "CancelledError",
    "DeadlockError",
    "Error",
    "Future",
    "InvalidStateError",
    "OwnerLike",
    "TimeoutError",
    "Unhandled",
    "flush_reports",
    "get_debug",
    "set_debug",
    "set_unhandled_handler",
    # -- chains, awaiting, adapters (issue 3)
    "future_of",
    "in_loop",
    "register_adapter",
    "run_in_loop",
    "shield",
    # -- timers, workers, spawn (issue 4)
    "ActionQueue",
    "SerialExecutor",
    "later",
    "sleep",
    "spawn",
    "submit",
    "wait_until",
    # -- combinators (issue 5)
    "AllFailed",
    "Err",
    "Ok",
    "Outcome",
    "all_of",
    "any_of",
    "as_completed",
    "gather",
    "race",
    "settled",
    # -- locks (issue 6)
    "Lease",
    "LocalBackend",
    "Lock",
    "LockBackend",
    "LockError",
    "LockStatistics",
    "LockTimeout",
    # -- scopes, map, progress, traced chains (issue 16)
    "MapIterator",
    "Progress",
    "Scope",
    "cancelled",
    "checkpoint",
    "format_chain",
    "map",
    "progress",
    "progress_bar",
    "scope",
]

__version__ = "0.1.0"


def _fixup_module_metadata(namespace: dict[str, object], public: list[str]) -> None:
    """Make every public name say it lives in ``shortly``, where users import it from.

    Reprs, tracebacks and the docs then show ``shortly.Future``, not
    ``shortly._future.Future``. Methods are renamed too, so that tools that match an
    object's members to its module (doctest among them) still find them.
    """
    seen: set[int] = set()

    def fix(obj: object, qualname: str) -> None:
        if id(obj) in seen or not getattr(obj, "__module__", "").startswith("shortly._"):
            return
        seen.add(id(obj))
        obj.__module__ = "shortly"
        if isinstance(obj, type):
            obj.__qualname__ = qualname
            for attr_name, attr in vars(obj).items():
                member = getattr(attr, "__func__", attr)  # classmethod, staticmethod
                if isinstance(member, property):
                    member = member.fget
                if callable(member) and getattr(member, "__qualname__", "").startswith(
                    obj.__name__ + "."
                ):
                    fix(member, f"{qualname}.{attr_name}")

    for name in public:
        fix(namespace[name], name)


_fixup_module_metadata(globals(), __all__)
del _fixup_module_metadata


def __dir__() -> list[str]:
    """``dir(shortly)`` lists the public API only."""
    return sorted([*__all__, "__version__"])
