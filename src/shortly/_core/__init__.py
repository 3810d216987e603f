"""The core: the future, its states, callbacks, waits, cancellation and reports.

Everything else in shortly is built on the names below and imports them from here,
never from the modules behind them, and never reads a future's private fields: a
settled future is read through :func:`succeeded`, :func:`value_of`,
:func:`failure_of` and :func:`take_failure` (see ``docs/internals.md``). The core
imports nothing of shortly's above it; where a :class:`Future` method's machinery
lives higher up (``then``, ``await``, progress), the package's face installs a finder
for it (:func:`install_finder`).

The modules, bottom up:

- ``_states``: the stdlib's state strings and their groups;
- ``_report``: unhandled-failure reports, debug mode, the deferred thread;
- ``_trampoline``: the per-thread callback queue that keeps cascades flat;
- ``_waiting``: how a thread sleeps on a future;
- ``_wait_points``: the current scope, checked before every sleep;
- ``_deadlock``: owners and the wait-for graph;
- ``_cancel``: dependants, upward cancellation, settling one future from another;
- ``_reading``: reading a settled future's outcome (the API for the layers above);
- ``_outcome``: capturing a failure without keeping frames alive;
- ``_promise``: the promise methods' signatures and the finder behind them;
- ``_progress_methods``: the progress methods, through the same finder;
- ``_blocking``: ``result()``, ``exception()`` and ``wait()`` (a mixin of the future);
- ``_future``: the future itself;
- ``_link``: a chain link, the callback that settles a child through a handler.
"""

from __future__ import annotations

import importlib

from ._cancel import (
    NOBODY,
    Dependant,
    Sweepable,
    attach,
    cancel_if_unwanted,
    cancel_upstream,
    depend,
    detach,
    fail,
    fail_running,
    follow,
    undepend,
    upstream_of,
    watch,
    when_cancelled,
)
from ._deadlock import EventLoopOwner, PoolJob, check_owner, owner_thread
from ._erased import TYPE_CHECKING
from ._future import Future, cancel_message, lock_of
from ._promise import install_finder
from ._report import (
    NOTE_PREFIX,
    Unhandled,
    creation_site,
    defer,
    ensure_deferred,
    flush_reports,
    future_label,
    get_debug,
    note_site,
    report,
    set_debug,
    set_unhandled_handler,
    site_line,
)
from ._states import CANCELLED_STATES, DONE, FINISHED, PENDING, RUNNING
from ._trampoline import dispatch, help_drain
from ._wait_points import (
    TREE,
    because,
    cancelled,
    cancelled_by,
    checkpoint,
    interrupt,
    is_cancel,
    scope_var,
    swallowed_by,
)

if TYPE_CHECKING:
    from ._link import ADAPTER_CACHE, Link, Runner, derive
    from ._outcome import Err, Ok, Outcome, Raised, attempt, capture, capture_in
    from ._owner_like import Owner, OwnerLike
    from ._reading import (
        error_of,
        failure_of,
        is_settled,
        observe,
        succeeded,
        take_failure,
        take_unobserved,
        value_of,
    )

# Loaded on first use: creating and resolving a future needs none of these, and a
# script that only does that should not pay for them (see benchmarks/bench_import.py).
_LAZY: dict[str, str] = {
    "Owner": "_owner_like",
    "OwnerLike": "_owner_like",
    "ADAPTER_CACHE": "_link",
    "Err": "_outcome",
    "Link": "_link",
    "Ok": "_outcome",
    "Outcome": "_outcome",
    "Raised": "_outcome",
    "Runner": "_link",
    "attempt": "_outcome",
    "capture": "_outcome",
    "capture_in": "_outcome",
    "derive": "_link",
    "error_of": "_reading",
    "failure_of": "_reading",
    "is_settled": "_reading",
    "observe": "_reading",
    "succeeded": "_reading",
    "take_failure": "_reading",
    "take_unobserved": "_reading",
    "value_of": "_reading",
}

if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        try:
            module = _LAZY[name]
        except KeyError:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


__all__ = [
    "ADAPTER_CACHE",
    "CANCELLED_STATES",
    "DONE",
    "FINISHED",
    "NOBODY",
    "NOTE_PREFIX",
    "PENDING",
    "RUNNING",
    "TREE",
    "Dependant",
    "Err",
    "EventLoopOwner",
    "Future",
    "Link",
    "Ok",
    "Outcome",
    "Owner",
    "OwnerLike",
    "PoolJob",
    "Raised",
    "Runner",
    "Sweepable",
    "Unhandled",
    "attach",
    "attempt",
    "because",
    "cancel_if_unwanted",
    "cancel_message",
    "cancel_upstream",
    "cancelled",
    "cancelled_by",
    "check_owner",
    "capture",
    "capture_in",
    "checkpoint",
    "creation_site",
    "defer",
    "depend",
    "derive",
    "detach",
    "dispatch",
    "ensure_deferred",
    "error_of",
    "fail",
    "fail_running",
    "failure_of",
    "flush_reports",
    "follow",
    "future_label",
    "get_debug",
    "help_drain",
    "install_finder",
    "interrupt",
    "is_settled",
    "is_cancel",
    "lock_of",
    "note_site",
    "observe",
    "owner_thread",
    "report",
    "scope_var",
    "set_debug",
    "set_unhandled_handler",
    "site_line",
    "succeeded",
    "swallowed_by",
    "take_failure",
    "take_unobserved",
    "undepend",
    "upstream_of",
    "value_of",
    "watch",
    "when_cancelled",
]
