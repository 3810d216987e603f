"""cs.asynchron's callable ``Asynchron`` (alias ``Result``), on shortly's Future.

Change ``from cs.asynchron import Asynchron, report`` to
``from shortly.compat.asynchron import Asynchron, report`` (``Result`` and
``OnDemandFunction`` too).

An :class:`Asynchron` wraps a :class:`shortly.Future`: calling it is the core's
blocking ``result()``, ``.result = v`` and ``.exc_info = (t, v, tb)`` resolve the
future, :meth:`~Asynchron.notify` is a done-callback, and :func:`report` is
:func:`shortly.as_completed`.

Follows the original:

* Calling an Asynchron blocks until its value arrives, then returns it or re-raises the
  recorded exception; any number of callers, before or after delivery.
* ``.result = v`` completes it with ``v``; ``.exc_info = (type, value, traceback)``
  completes it with an exception; ``call(func, *args, **kwargs)`` computes the value,
  recording an exception instead if ``func`` raises.
* ``state`` is one of ``ASYNCH_PENDING``, ``ASYNCH_RUNNING`` (while ``call`` runs),
  ``ASYNCH_READY`` and ``ASYNCH_CANCELLED``; the properties ``pending``, ``running``,
  ``ready`` and ``cancelled`` test it (``ready`` is true once completed, cancelled
  included, as in the original).
* ``cancel()`` succeeds while pending or running and makes every caller raise
  :class:`CancellationError`; it returns False once the value is ready.
* Reading ``.result`` or ``.exc_info`` before completion raises ``AttributeError``.
* The Queue-like idiom: ``put(value)`` completes it, ``get(default=None)`` blocks and
  returns the value (``default`` if it failed or was cancelled), ``join()`` blocks and
  returns ``(result, None)``, ``(None, exc_info)`` or, if cancelled, ``(None, None)``;
  ``empty()`` is ``not ready``; ``raise_(exc=None)`` completes it with ``exc`` (or the
  exception being handled).
* ``Asynchron(name=None, final=None, lock=None, result=None)``: ``final()`` runs once it
  completes, however it completes, before the notifiers (its exception is logged, a
  non-None return warned about); ``lock`` guards completion (completion, ``final`` and
  the notifiers run holding it, as in the original); a non-None ``result`` completes it
  at once.
* :class:`OnDemandFunction` ``(func, *a, **kw)`` runs ``func(*a, **kw)`` in the thread
  that first calls it, and records its value or exception.
* Notifiers receive the Asynchron itself, and run at once if it is already complete.
* :func:`report` yields Asynchrons in completion order (and accepts anything with a
  ``notify`` method, or any future :func:`shortly.future_of` adapts).

Differs, on purpose:

* Completing an Asynchron a second time logs a warning and keeps the first outcome;
  the original raised ``RuntimeError`` to the second completer.

* Reading ``.result`` of an Asynchron that failed re-raises its exception; the
  original returned ``None`` and so lost the error.
* A notifier that raises is reported through :func:`shortly.set_unhandled_handler`
  (and logged) instead of only logged; the other notifiers still run.
* ``call()`` records any exception, ``KeyboardInterrupt`` and ``SystemExit`` included
  (those are then re-raised); the original let them escape and left every caller
  blocked for ever.
* Calling an :class:`OnDemandFunction` again returns (or raises) the first call's
  outcome, waiting for it if it is still running, as its docstring promised; the
  original raised ``RuntimeError`` on any call but the first.
* ``final`` runs as the first done-callback: a thread blocked in ``A()`` may wake up
  while it runs, where the original woke waiters only after it.
* A failure nobody ever reads is reported when the Asynchron is dropped, as for every
  shortly future.
"""

from __future__ import annotations

from ... import _public
from ._asynchron import (
    ASYNCH_CANCELLED,
    ASYNCH_PENDING,
    ASYNCH_READY,
    ASYNCH_RUNNING,
    Asynchron,
    CancellationError,
    Result,
)
from ._ondemand import OnDemandFunction
from ._report import report

__all__ = [
    "ASYNCH_CANCELLED",
    "ASYNCH_PENDING",
    "ASYNCH_READY",
    "ASYNCH_RUNNING",
    "Asynchron",
    "CancellationError",
    "OnDemandFunction",
    "Result",
    "report",
]

_public.adopt_classes(globals())
