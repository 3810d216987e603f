"""kaa's ``InProgress`` signals and generator coroutines, on shortly's core.

Change ``import kaa`` to ``from shortly.compat import kaa``.

An :class:`InProgress` is a view of a :class:`shortly.Future`: ``finish``/``throw``
resolve it, one done-callback emits the signals, ``waitfor`` and ``timeout`` are core
chains and timers, ``abort`` is the core's cancel (its ``InProgressAborted`` travels
as the cancel message), :class:`InProgressAny` and :class:`InProgressAll` are
counted dependants of the children, and :func:`coroutine` runs the generator with
:func:`shortly.spawn`. Callbacks run in the thread that finishes the InProgress, a
coroutine resumes in the thread that finishes what it yielded, and ``wait()`` blocks
the calling thread. :mod:`~shortly.compat.kaa.main` is a main loop for what must run in
the main thread: ``@threaded(MAINTHREAD)`` calls from other threads and
:class:`Socket` completions; ``wait()`` in the main thread keeps running them.

Follows the original:

* An InProgress is a :class:`Signal`: ``connect(callback, *args, **kwargs)`` callbacks
  get the result; the ``exception`` signal's handlers get ``(tp, exc, tb)``;
  ``connect_both`` connects both. ``finished``, ``failed`` and ``result`` (which
  raises the exception) report the outcome.
* ``finish(result)`` returns self; finishing with an unfinished InProgress waits for it
  (``waitfor``); finishing twice raises ``RuntimeError``. ``throw()`` with no
  arguments throws the exception being handled.
* ``execute(func, *args, **kwargs)`` finishes with what ``func`` returns or raises.
* ``abort(exc=None)`` throws :class:`InProgressAborted` (``RuntimeError`` if finished
  or not abortable: abortable means ``abortable=True`` or a handler on the ``abort``
  signal, and coroutines, timeouts and delays are). ``timeout(seconds, callback=None,
  abort=False)`` throws :class:`TimeoutException`. ``wait(timeout=None)`` returns the
  result or raises. ``InProgressAborted`` and ``TimeoutException`` derive from
  ``BaseException``.
* :class:`InProgressAny` finishes with ``(index, result)`` of the first to finish (a
  failure as ``(index, (tp, exc, tb))``); :class:`InProgressAll` finishes with itself
  once every child has finished or failed (at once if empty), and iterates its children.
* ``finish=`` (``FINISH_IDX_RESULT``, ``FINISH_RESULT``, ``FINISH_IDX``, ``FINISH_SELF``)
  chooses what they finish with; ``InProgressAny(filter=f)`` skips a child whose
  result ``f`` accepts while others may still finish. ``noabort()`` is a copy that
  cannot be aborted. :class:`InProgressCallable` finishes with what it is called with.
* ``@coroutine(policy=...)``: ``POLICY_SYNCHRONIZED`` queues calls, ``POLICY_SINGLETON``
  returns the unfinished call, ``POLICY_PASS_LAST`` passes it as ``last=``; methods of
  one ``group`` share them per instance. ``progress=True`` passes an
  :class:`InProgressStatus` (a Signal emitted with itself on ``set``/``update``), also
  the InProgress's ``progress``.
* ``Signal``: ``connect_weak``, ``connect_once``, ``disconnect(cb, *args)``,
  ``emit_when_handled``/``emit_deferred``. A failure's exception gets
  ``formatted_traceback``.
* ``kaa.main.run()``/``stop()``; ``@threaded()`` (a thread per call), ``@threaded(name)``
  and ``@threaded(MAINTHREAD)`` return an InProgress.
* :func:`inprogress` calls ``__inprogress__``; a :class:`Signal`'s InProgress finishes
  at its next emission. :func:`delay` finishes after a number of seconds.
* ``@coroutine()`` generators yield an InProgress to wait for it (its exception is
  raised at the ``yield``), ``NotFinished`` to be resumed later, and any other value to
  finish with it. A coroutine that fails before its first wait raises to the caller.
* A failure nobody handled (no exception handler, ``result`` never read, not caught in
  a coroutine) is reported with the heading "Unhandled asynchronous exception." when
  the InProgress is dropped, on the ``shortly`` logger and to
  :func:`shortly.set_unhandled_handler`.

Differs, on purpose:

* A callback connected after the InProgress finished is called at once (the original
  called it only if nobody had been connected at the finish, and otherwise never).
* Finishing or throwing into an aborted InProgress is a quiet no-op, as resolving a
  cancelled shortly future is (the producer must not crash because a consumer lost
  interest); throwing into a finished one raises ``RuntimeError`` instead of silently
  replacing the outcome.
* A callback that raises is reported as an unhandled failure (the original only logged
  it) and the other callbacks still run.
* :class:`InProgressAny` and :class:`InProgressAll` watch their children at once rather
  than only once something is connected to them. An empty ``InProgressAny``, which the
  original left unfinished for ever, raises ``ValueError``.
* ``timeout(abort=True)`` aborts the original even if it is not abortable; aborting the
  InProgress it returns aborts the original only if nothing else waits for it.
* The ``@coroutine`` interval applies after ``NotFinished`` only.
* ``InProgressAny(filter=...)`` calls the filter with the result only, as the
  original's code did (its documentation promised ``(index, result)``).
* The rest (``threaded`` pools, the minimal ``Socket``, the main loop's reach) is
  listed in the migration guide's table of differences.
"""

from __future__ import annotations

from typing import Any

# Each submodule owns one idea and imports only those below it, never this package.
from ... import _public
from . import _coroutine, main
from ._callable import InProgressCallable
from ._combine import (
    FINISH_IDX,
    FINISH_IDX_RESULT,
    FINISH_RESULT,
    FINISH_SELF,
    InProgressAll,
    InProgressAny,
)
from ._coroutine import CoroutineInProgress, coroutine, delay
from ._exceptions import InProgressAborted, TimeoutException
from ._inprogress import InProgress, inprogress
from ._policy import POLICY_PASS_LAST, POLICY_SINGLETON, POLICY_SYNCHRONIZED
from ._signal import Signal
from ._socket import Socket
from ._status import InProgressStatus
from ._thread import MAINTHREAD, threaded
from .main import is_mainthread

__all__ = [
    "FINISH_IDX",
    "FINISH_IDX_RESULT",
    "FINISH_RESULT",
    "FINISH_SELF",
    "MAINTHREAD",
    "POLICY_PASS_LAST",
    "POLICY_SINGLETON",
    "POLICY_SYNCHRONIZED",
    "CoroutineInProgress",
    "InProgress",
    "InProgressAborted",
    "InProgressAll",
    "InProgressAny",
    "InProgressCallable",
    "InProgressStatus",
    "NotFinished",
    "Signal",
    "Socket",
    "TimeoutException",
    "coroutine",
    "delay",
    "inprogress",
    "is_mainthread",
    "main",
    "threaded",
]

# Assigned, not imported: autodoc reads a name's ``#:`` comment from this module's source.
#: Yielded by a :func:`coroutine` to be resumed after its interval.
NotFinished: Any = _coroutine.NotFinished

_public.adopt_classes(globals())
