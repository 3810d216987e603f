"""Pyro4's ``Future`` and ``FutureResult`` (``Pyro4.futures``), on shortly's core.

Change ``from Pyro4.futures import Future, FutureResult`` to
``from shortly.compat.pyro4 import Future, FutureResult``.

A :class:`Future` holds a callable; calling it starts the call on a daemon thread of
its own (after a core timer for :meth:`Future.delay`) and returns a
:class:`FutureResult`, a view of the :class:`shortly.Future` of the call whose
``then`` extends it with the core's chains.

Follows the original:

* ``Future(callable)(*args, **kwargs)`` starts the call on a daemon thread of its own
  and returns a ``FutureResult`` at once: calls that wait on each other never wait for
  a free worker, and a call that never returns does not keep the program alive. A
  ``Future`` is single-shot: calling it again raises ``RuntimeError``.
* ``Future.then(call, *args, **kwargs)`` and ``iferror(handler)`` return the Future
  itself (one mutable call chain); ``then`` after the call has started raises
  ``RuntimeError``. Each ``call`` gets the previous value as its first argument.
* ``delay(seconds)`` and ``cancel()`` return True only before evaluation starts.
  Cancelling during the delay makes ``FutureResult.value`` raise a ``RuntimeError``
  that mentions "cancelled".
* The ``iferror`` handler is called with the exception object when the call (or a
  call of its chain) raises; reading ``value`` still raises it.
* ``FutureResult.ready`` tells readiness; ``value`` blocks, without a timeout, and
  returns the value or raises the call's exception; ``wait(timeout=None)`` returns
  whether it is ready. ``FutureResult.then`` and ``iferror`` return the FutureResult
  itself; a ``then`` on a ready result runs at once, in the caller's thread.
* ``FutureResult()`` takes no argument; assigning its ``value`` runs the call chain in
  the assigning thread and wakes the waiters.

Differs, on purpose:

* An exception nobody handles (no ``iferror``, ``value`` never read) is reported as an
  unhandled failure (logged, and passed to :func:`shortly.set_unhandled_handler`) when
  the result is dropped, instead of being "silently ignored".
* A ``then`` callable that raises on a ready ``FutureResult`` makes the exception the
  result (``value`` raises it) instead of raising it out of ``then``, and
  ``FutureResult.iferror`` handlers hear about failures of the whole chain, even when
  registered after the failure.
* Changing the delay of a Future already called restarts the delay from that moment
  (the original shortened or lengthened the remaining sleep, in 2-second steps).
* Setting ``FutureResult.value`` a second time raises ``RuntimeError``; the original
  overwrote the value. A value set by hand is always a value: the original's private
  exception wrapper, which made it a failure, does not exist here.
"""

from __future__ import annotations

from ... import _public
from ._future import Future
from ._result import FutureResult

__all__ = ["Future", "FutureResult"]

_public.adopt_classes(globals())
