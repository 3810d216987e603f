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

from ._deadlock import OwnerLike
from ._errors import CancelledError, DeadlockError, Error, InvalidStateError, TimeoutError
from ._future import Future
from ._report import Unhandled, get_debug, set_debug, set_unhandled_handler

# -- chains, awaiting, adapters (issue 3)
# -- timers, workers, spawn (issue 4)
# -- combinators (issue 5)
# -- locks (issue 6)
from ._lock import Lease, Lock, LockBackend, LockError, LockStatistics, LockTimeout
from ._lock_local import LocalBackend

__all__ = [
    "CancelledError",
    "DeadlockError",
    "Error",
    "Future",
    "InvalidStateError",
    "OwnerLike",
    "TimeoutError",
    "Unhandled",
    "get_debug",
    "set_debug",
    "set_unhandled_handler",
    # -- chains, awaiting, adapters (issue 3)
    # -- timers, workers, spawn (issue 4)
    # -- combinators (issue 5)
    # -- locks (issue 6)
    "Lease",
    "LocalBackend",
    "Lock",
    "LockBackend",
    "LockError",
    "LockStatistics",
    "LockTimeout",
]

__version__ = "0.1.0"
