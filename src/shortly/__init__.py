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

import importlib

from . import _core, _public

# Not typing.TYPE_CHECKING: typing is not imported at run time (see _core._erased);
# type checkers take any `if TYPE_CHECKING:` as true.
TYPE_CHECKING = False

if TYPE_CHECKING:  # the names for type checkers and IDEs; at run time __getattr__ loads them
    from ._adapt import future_of as future_of
    from ._adapt import register_adapter as register_adapter
    from ._aio import in_loop as in_loop
    from ._aio import run_in_loop as run_in_loop
    from ._as_completed import as_completed as as_completed
    from ._chain import shield as shield
    from ._combine import (
        AllFailed as AllFailed,
    )
    from ._combine import (
        all_of as all_of,
    )
    from ._combine import (
        any_of as any_of,
    )
    from ._combine import (
        race as race,
    )
    from ._combine import (
        settled as settled,
    )
    from ._core import Future as Future
    from ._core import (
        Unhandled as Unhandled,
    )
    from ._core import cancelled as cancelled
    from ._core import checkpoint as checkpoint
    from ._core import (
        flush_reports as flush_reports,
    )
    from ._core import (
        get_debug as get_debug,
    )
    from ._core import (
        set_debug as set_debug,
    )
    from ._core import (
        set_unhandled_handler as set_unhandled_handler,
    )
    from ._core._outcome import Err as Err
    from ._core._outcome import Ok as Ok
    from ._core._outcome import Outcome as Outcome
    from ._core._owner_like import OwnerLike as OwnerLike
    from ._errors import (
        CancelledError as CancelledError,
    )
    from ._errors import (
        DeadlockError as DeadlockError,
    )
    from ._errors import (
        Error as Error,
    )
    from ._errors import (
        InvalidStateError as InvalidStateError,
    )
    from ._errors import (
        TimeoutError as TimeoutError,
    )
    from ._gather import gather as gather
    from ._lock import Lock as Lock
    from ._lock_backend import (
        Lease as Lease,
    )
    from ._lock_backend import (
        LockBackend as LockBackend,
    )
    from ._lock_backend import (
        LockError as LockError,
    )
    from ._lock_backend import (
        LockStatistics as LockStatistics,
    )
    from ._lock_backend import (
        LockTimeout as LockTimeout,
    )
    from ._lock_local import LocalBackend as LocalBackend
    from ._map import MapIterator as MapIterator
    from ._map import map as map
    from ._progress import Progress as Progress
    from ._progress import progress as progress
    from ._progress_bar import progress_bar as progress_bar
    from ._scope import Scope as Scope
    from ._scope import scope as scope
    from ._serial import ActionQueue as ActionQueue
    from ._serial import SerialExecutor as SerialExecutor
    from ._spawn import spawn as spawn
    from ._submit import submit as submit
    from ._timers import later as later
    from ._timers import sleep as sleep
    from ._timers import wait_until as wait_until
    from ._trace import format_chain as format_chain

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


# Where each public name lives. Submodules load on first use (PEP 562), so ``import
# shortly`` costs little more than ``import concurrent.futures``, and a script that
# only needs Future never loads the locks, the timers or the asyncio bridge.
_HOME: dict[str, str] = {
    "ActionQueue": "_serial",
    "AllFailed": "_combine",
    "CancelledError": "_errors",
    "DeadlockError": "_errors",
    "Err": "_core._outcome",
    "Error": "_errors",
    "Future": "_core",
    "InvalidStateError": "_errors",
    "Lease": "_lock_backend",
    "LocalBackend": "_lock_local",
    "Lock": "_lock",
    "LockBackend": "_lock_backend",
    "LockError": "_lock_backend",
    "LockStatistics": "_lock_backend",
    "LockTimeout": "_lock_backend",
    "MapIterator": "_map",
    "Ok": "_core._outcome",
    "Outcome": "_core._outcome",
    "OwnerLike": "_core._owner_like",
    "Progress": "_progress",
    "Scope": "_scope",
    "SerialExecutor": "_serial",
    "TimeoutError": "_errors",
    "Unhandled": "_core",
    "all_of": "_combine",
    "any_of": "_combine",
    "as_completed": "_as_completed",
    "cancelled": "_core",
    "checkpoint": "_core",
    "flush_reports": "_core",
    "format_chain": "_trace",
    "future_of": "_adapt",
    "gather": "_gather",
    "get_debug": "_core",
    "in_loop": "_aio",
    "later": "_timers",
    "map": "_map",
    "progress": "_progress",
    "progress_bar": "_progress_bar",
    "race": "_combine",
    "register_adapter": "_adapt",
    "run_in_loop": "_aio",
    "scope": "_scope",
    "set_debug": "_core",
    "set_unhandled_handler": "_core",
    "settled": "_combine",
    "shield": "_chain",
    "sleep": "_timers",
    "spawn": "_spawn",
    "submit": "_submit",
    "wait_until": "_timers",
}


if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name stays an error

    def __getattr__(name: str) -> object:
        """Load a public name's module on first use; keep every public name it defines here."""
        try:
            home = _HOME[name]
        except KeyError:
            raise AttributeError(f"module 'shortly' has no attribute {name!r}") from None
        _load(home)
        return globals()[name]


def _load(home: str) -> None:
    module = importlib.import_module(f"{__name__}.{home}")
    namespace = globals()
    for public, where in _HOME.items():
        if where == home:
            value = getattr(module, public)
            _public.adopt(value, __name__)
            namespace[public] = value


# The errors at once: they show in tracebacks from the start, and the module is tiny.
_load("_errors")

# Methods of Future whose machinery lives above the core, by name: the core cannot
# import those layers (they build on it), so it asks this finder (see _core._promise).
_IMPLEMENTATIONS: dict[str, tuple[str, str]] = {
    "then": ("_chain", "then"),
    "catch": ("_chain", "catch"),
    "finally_": ("_chain", "finally_"),
    "await_future": ("_aio", "await_future"),
    "with_timeout": ("_timers", "with_timeout"),
    "report_progress": ("_progress", "report_progress"),
    "on_progress": ("_progress", "on_progress"),
    "updates": ("_progress", "updates"),
}


def _find_implementation(name: str) -> object:
    home, attr = _IMPLEMENTATIONS[name]
    return getattr(importlib.import_module(f"{__name__}.{home}"), attr)


_core.install_finder(_find_implementation)


def __dir__() -> list[str]:
    """``dir(shortly)`` lists the public API only."""
    return sorted([*__all__, "__version__"])
