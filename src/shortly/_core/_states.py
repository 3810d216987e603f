"""The stdlib's future states, and the groups of them shortly tests against, defined once.

A shortly future keeps the stdlib's state strings in ``_state`` (see ``_future``), so
stdlib functions read it as one of their own. ``DONE`` is every state ``done()`` is
true in; ``CANCELLED`` both cancelled states (shortly itself only ever sets
``CANCELLED_AND_NOTIFIED``; hand-driven protocol code may set the other).

>>> from shortly._core._states import DONE, FINISHED
>>> FINISHED in DONE
True
"""

from __future__ import annotations

from concurrent.futures import _base

__all__ = [
    "CANCELLED",
    "CANCELLED_AND_NOTIFIED",
    "CANCELLED_STATES",
    "DONE",
    "FINISHED",
    "PENDING",
    "RUNNING",
]

PENDING: str = _base.PENDING
RUNNING: str = _base.RUNNING
CANCELLED: str = _base.CANCELLED
CANCELLED_AND_NOTIFIED: str = _base.CANCELLED_AND_NOTIFIED
FINISHED: str = _base.FINISHED

DONE = (FINISHED, CANCELLED_AND_NOTIFIED, CANCELLED)
CANCELLED_STATES = (CANCELLED_AND_NOTIFIED, CANCELLED)
