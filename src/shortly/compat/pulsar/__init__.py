"""pulsar 1.6's asynchronous API, on asyncio and shortly's core.

Change ``from pulsar.api import ...`` (or ``pulsar.async.futures``/``pulsar.async.lock``)
to ``from shortly.compat.pulsar import ...``.

pulsar's ``Future`` is asyncio's, and so is the one here. The work is done by the core:
:func:`run_in_loop` and :func:`task` are :func:`shortly.run_in_loop`,
:func:`multi_async` is :func:`shortly.all_of` (or :func:`shortly.settled`),
:func:`chain_future` is a core chain, :func:`async_while` is a task on the running loop
(or a :func:`shortly.spawn` task on shortly's timer), and :class:`Lock` is
:class:`shortly.Lock`. Nothing needs an event loop at construction:
``Lock(...)``, ``Bench(...)`` and ``AsyncObject`` subclasses may be created at import
time; a loop is looked up when there is work to schedule.

What the functions return. Called on the thread of the event loop they work with (the
``loop`` argument, or the running loop), they return an asyncio future of that loop, as
pulsar did. Called from any other thread they return a :class:`shortly.Future`, which
that thread can block on, chain or await (pulsar handed back an asyncio future of a loop
in another thread, which the caller could not safely touch).

Follows the original:

* ``AsyncObject``: ``_loop``, ``_logger``, ``logger`` (``_logger``, else the loop's
  ``logger``, else the ``pulsar`` logger), ``debug`` and ``timeit(method, times, *args,
  **kwargs)``, a future of a :class:`Bench` whose ``taken`` is the total time.
* ``task`` runs the function on the loop of its first argument's ``_loop`` (or the
  running loop), from any thread; coroutines are awaited, plain results returned.
* ``maybe_async`` returns a future only for futures and coroutines (and generators),
  and any other value unchanged.
* ``chain_future(future, callback=None, errback=None, next=None)``: the callback's
  result (or the errback's, which recovers) becomes ``next``'s; a returned future is
  waited for.
* ``multi_async(data, loop=None, type=None, raise_on_error=True)`` keeps the container
  (a mapping stays a mapping of its type, any other iterable becomes a list), passes
  plain values through, fails with the first error, or with ``raise_on_error=False``
  puts each exception in place of its value.
* ``async_while(timeout, while_clause, *args)`` resolves with the clause's last value:
  falsy when it became false, truthy when ``timeout`` ran out first. Called on a loop,
  it checks the clause on that loop, pausing 0.1 s, 0.2 s, ... up to 1 s between
  checks.
* ``Lock(name, *, loop=None, timeout=None, blocking=True)``: locks of one name exclude
  each other; ``blocking`` False tries once, True waits for ever, a number waits that
  long; ``timeout`` frees the lock after that many seconds; ``acquire()`` tells whether
  it got the lock, ``locked()`` whether this handle holds it, and ``async with`` raises
  ``LockError`` (here :class:`shortly.LockError`, a ``RuntimeError``) when it cannot.
  ``LockBase`` is an ``AsyncObject``: its ``_loop`` is the ``loop`` given, or the loop
  running where it is created.

Differs, on purpose:

* ``Lock(blocking=False)`` is a real try-acquire; the original's zero timeout never
  acquired even a free lock.
* When ``timeout`` frees a lock, the late ``release()`` of the old holder does nothing;
  the original released the *next* holder's lock and let two holders in. Releasing a
  handle that never acquired raises ``LockError`` (the original ignored it). A task that
  holds a lock and acquires it again, ready to wait for ever, gets
  :class:`shortly.DeadlockError` at once instead of hanging.
* ``release()`` releases at once and returns an awaitable, so both ``await
  lock.release()`` and ``lock.release()`` work.
* ``async_while`` called from a thread with no running loop checks the clause on
  shortly's timer thread (after a first check in the calling thread) instead of failing
  for want of a loop. ``chain_future`` does not call the errback for a cancelled future:
  cancellation passes to ``next``, as in the core's chains.
* The functions need a loop only for what must run on one: ``maybe_async`` of a
  coroutine with no loop given or running raises ``RuntimeError`` rather than parking it
  on a loop that may never run.
"""

from __future__ import annotations

# pulsar's Future is asyncio's, as in pulsar itself.
from asyncio import Future

from ... import _public

# pulsar's LockError is the core's (also a RuntimeError). Not in __all__: it is documented
# as shortly.LockError, and a second description would make references to it ambiguous.
from ..._lock import LockError as LockError
from ._async import async_while, chain_future, maybe_async, multi_async, run_in_loop, task
from ._lock import Lock, LockBase
from ._object import AsyncObject, Bench

__all__ = [
    "AsyncObject",
    "Bench",
    "Future",
    "Lock",
    "LockBase",
    "async_while",
    "chain_future",
    "maybe_async",
    "multi_async",
    "run_in_loop",
    "task",
]

_public.adopt_classes(globals())
