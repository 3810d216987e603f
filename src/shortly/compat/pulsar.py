"""pulsar 1.6's asynchronous API, on asyncio and shortly's core.

Change ``from pulsar.api import ...`` (or ``pulsar.async.futures``/``pulsar.async.lock``)
to ``from shortly.compat.pulsar import ...``.

pulsar's ``Future`` is asyncio's, and so is the one here. The work is done by the core:
:func:`run_in_loop` and :func:`task` are :func:`shortly.run_in_loop`,
:func:`multi_async` is :func:`shortly.all_of` (or :func:`shortly.settled`),
:func:`chain_future` is a core chain, :func:`async_while` is :func:`shortly.wait_until`,
and :class:`Lock` is :class:`shortly.Lock`. Nothing needs an event loop at construction:
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
  falsy when it became false, truthy when ``timeout`` ran out first.
* ``Lock(name, *, loop=None, timeout=None, blocking=True)``: locks of one name exclude
  each other; ``blocking`` False tries once, True waits for ever, a number waits that
  long; ``timeout`` frees the lock after that many seconds; ``acquire()`` tells whether
  it got the lock, ``locked()`` whether this handle holds it, and ``async with`` raises
  ``LockError`` (here :class:`shortly.LockError`, a ``RuntimeError``) when it cannot.

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
* ``async_while`` polls every 0.1 s, on shortly's timer thread: keep the clause a quick,
  thread-safe check. ``chain_future`` does not call the errback for a cancelled future:
  cancellation passes to ``next``, as in the core's chains.
* The functions need a loop only for what must run on one: ``maybe_async`` of a
  coroutine with no loop given or running raises ``RuntimeError`` rather than parking it
  on a loop that may never run.
"""

from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import functools
import inspect
import logging
import threading
import time
import types
from asyncio import Future
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from .._adapt import future_of
from .._aio import run_in_loop as _run_in_loop
from .._combine import all_of, settled
from .._errors import TimeoutError as _ShortlyTimeout
from .._future import Future as _CoreFuture
from .._lock import Lease, check_blocking, check_name, check_seconds
from .._lock import Lock as _CoreLock

# pulsar's LockError is the core's (also a RuntimeError). Not in __all__: it is documented
# as shortly.LockError, and a second description would make references to it ambiguous.
from .._lock import LockError as LockError
from .._outcome import Err, Outcome
from .._spawn import spawn
from .._timers import wait_until

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

T = TypeVar("T")

LOGGER = logging.getLogger("pulsar")

#: How often :func:`async_while` evaluates its clause, in seconds.
ASYNC_WHILE_INTERVAL = 0.1


# -- where futures are handed out ---------------------------------------------------------


def _home(loop: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop | None:
    """The loop to hand an asyncio future out on: ``loop`` (or, if None, the running
    loop) when it runs in this thread; None when that thread is another one."""
    running = asyncio._get_running_loop()
    return running if loop is None or loop is running else None


def _out(future: _CoreFuture[Any], loop: asyncio.AbstractEventLoop | None) -> Any:
    """``future`` as the caller can use it: an asyncio future on its loop's thread."""
    home = _home(loop)
    return future if home is None else asyncio.wrap_future(future, loop=home)


def _check_loop(loop: object) -> asyncio.AbstractEventLoop | None:
    if loop is not None and not isinstance(loop, asyncio.AbstractEventLoop):
        raise TypeError(f"loop must be an asyncio event loop or None, not {type(loop).__name__}")
    return loop


def _future(value: Any, loop: asyncio.AbstractEventLoop | None) -> Any:
    """maybe_async's work: a future for futures, coroutines and generators, else None."""
    if asyncio.isfuture(value):
        return value
    if isinstance(value, types.GeneratorType):
        return _out(spawn(value), loop)  # a pre-async-def coroutine: spawn drives it
    if isinstance(value, concurrent.futures.Future) or hasattr(value, "__shortly_future__"):
        return _out(future_of(value), loop)
    if not inspect.isawaitable(value):
        return None
    home = _home(loop)
    if home is not None:
        return asyncio.ensure_future(value, loop=home)
    if loop is None:
        raise RuntimeError(
            f"maybe_async() needs an event loop to run {type(value).__name__} on: "
            "pass loop= or call it where a loop is running"
        )
    return _run_in_loop(loop, functools.partial(_identity, value))


def _identity(value: T) -> T:
    return value


def maybe_async(value: Any, loop: asyncio.AbstractEventLoop | None = None) -> Any:
    """Return a future only if ``value`` is a future, a coroutine or a generator.

    Coroutines (and generator coroutines) are scheduled as tasks on ``loop`` (or the
    running loop); any other value is returned unchanged.

    Raises:
        TypeError: if ``loop`` is not an asyncio event loop.
        RuntimeError: if ``value`` is a coroutine and no loop is given or running.

    >>> import asyncio
    >>> from shortly.compat.pulsar import maybe_async
    >>> maybe_async(3)
    3
    >>> async def main():
    ...     async def five():
    ...         return 5
    ...     f = maybe_async(five())
    ...     return asyncio.isfuture(f), await f
    >>> asyncio.run(main())
    (True, 5)
    """
    future = _future(value, _check_loop(loop))
    return value if future is None else future


# -- chains and collections -----------------------------------------------------------------


def _source(future: Any, loop: asyncio.AbstractEventLoop | None) -> _CoreFuture[Any]:
    """A shortly future of a future, coroutine or generator (what chain_future accepts)."""
    found = _future(future, loop)
    if found is None:
        raise TypeError(
            f"future must be a future, a coroutine or a generator, not {type(future).__name__}"
        )
    return future_of(found)


def _into(source: _CoreFuture[Any], target: asyncio.Future[Any]) -> None:
    """Settle the asyncio future ``target`` like ``source``, on ``target``'s loop."""
    loop = target.get_loop()

    def settle(done: _CoreFuture[Any]) -> None:  # on the loop's thread
        if target.done():
            return
        if done.cancelled():
            target.cancel()
            return
        error = done.exception()
        if error is None:
            target.set_result(done.result())
        else:
            target.set_exception(error)

    source.add_done_callback(lambda done: loop.call_soon_threadsafe(settle, done))


def chain_future(
    future: Any,
    callback: Callable[[Any], Any] | None = None,
    errback: Callable[[BaseException], Any] | None = None,
    next: asyncio.Future[Any] | None = None,
) -> Any:
    """Chain a future to ``future``: ``callback`` on its result, ``errback`` on its error.

    What the callback returns (or the errback, which so recovers from the error)
    becomes the result of ``next``; a returned future is waited for; an exception
    either raises fails ``next``. Without ``next`` a new future is returned.

    Args:
        future: the original future (or a coroutine).
        callback: called with the result.
        errback: called with the exception.
        next: an asyncio future to settle; it is returned.

    Raises:
        TypeError: if ``future`` is not a future or coroutine, or a callback is not
            callable.

    >>> import asyncio
    >>> from shortly.compat.pulsar import chain_future
    >>> async def main():
    ...     loop = asyncio.get_running_loop()
    ...     start = loop.create_future()
    ...     doubled = chain_future(start, callback=lambda x: 2 * x)
    ...     start.set_result(21)
    ...     return await doubled
    >>> asyncio.run(main())
    42
    """
    if next is not None and not asyncio.isfuture(next):
        raise TypeError(f"next must be an asyncio future or None, not {type(next).__name__}")
    loop = None if next is None else next.get_loop()
    chained = _source(future, loop).then(callback, errback)
    if next is None:
        return _out(chained, loop)
    _into(chained, next)
    return next


def _multi(
    data: Any, loop: asyncio.AbstractEventLoop | None, kind: Any, raise_on_error: bool
) -> _CoreFuture[Any]:
    """multi_async's work, as a shortly future."""
    if not isinstance(raise_on_error, bool):
        raise TypeError(f"raise_on_error must be a bool, not {type(raise_on_error).__name__}")
    if data is None:
        data = []
    container: Any
    if isinstance(data, Mapping):
        container = kind if kind is not None else type(data)
        keys = list(data)
        values = [data[key] for key in keys]
    elif isinstance(data, Iterable) and not isinstance(data, (str, bytes)):
        container, keys, values = list, [], list(data)
    else:
        raise TypeError(f"data must be a mapping or an iterable, not {type(data).__name__}")
    inputs = [maybe_async(value, loop) for value in values]

    def rebuild(results: list[Any]) -> Any:
        if container is list:
            return results
        out = container()
        for key, value in zip(keys, results, strict=True):
            out[key] = value
        return out

    if raise_on_error:
        # The first failure decides; the others run on, as in pulsar.
        return all_of(inputs, cancel_on_error=False).then(rebuild)
    return settled(inputs).then(lambda outcomes: rebuild([_unwrapped(o) for o in outcomes]))


def _unwrapped(outcome: Outcome[Any]) -> Any:
    """A value, or the exception in its place (raise_on_error=False)."""
    return outcome.error if isinstance(outcome, Err) else outcome.unwrap()


def multi_async(
    data: Any = None,
    loop: asyncio.AbstractEventLoop | None = None,
    type: Any = None,
    raise_on_error: bool = True,
) -> Any:
    """Handle several futures at once: a future of ``data`` with each future resolved.

    A mapping keeps its type (or becomes ``type``); any other iterable becomes a list.
    Plain values pass through, coroutines are scheduled on ``loop`` (or the running
    loop). The first failure fails the whole, unless ``raise_on_error`` is False: then
    each exception takes the place of its value. Thread safe.

    Raises:
        TypeError: if ``data`` is neither a mapping nor an iterable, or ``loop`` not a loop.

    >>> import asyncio
    >>> from shortly.compat.pulsar import multi_async
    >>> async def main():
    ...     async def later(x):
    ...         await asyncio.sleep(0)
    ...         return x
    ...     both = await multi_async({"a": later(1), "b": 2})
    ...     mixed = await multi_async((later(3), 4))
    ...     return both, mixed
    >>> asyncio.run(main())
    ({'a': 1, 'b': 2}, [3, 4])
    """
    loop = _check_loop(loop)
    return _out(_multi(data, loop, type, raise_on_error), loop)


# -- loops and tasks ------------------------------------------------------------------------


def run_in_loop(
    loop: asyncio.AbstractEventLoop, callable: Callable[..., Any], *args: Any, **kwargs: Any
) -> Any:
    """Run ``callable(*args, **kwargs)`` in the event loop's thread; thread safe.

    A coroutine (or future) it returns is awaited there. Returns a future of the
    outcome: an asyncio one when called on the loop's thread, else a shortly one.

    Raises:
        TypeError: if ``loop`` is not an asyncio loop or ``callable`` is not callable.

    >>> import asyncio, threading
    >>> from shortly.compat.pulsar import run_in_loop
    >>> loop = asyncio.new_event_loop()
    >>> thread = threading.Thread(target=loop.run_forever); thread.start()
    >>> run_in_loop(loop, lambda: threading.current_thread() is thread).result(timeout=5)
    True
    >>> _ = loop.call_soon_threadsafe(loop.stop); thread.join(); loop.close()
    """
    return _out(_run_in_loop(loop, callable, *args, **kwargs), loop)


def task(function: Callable[..., Any]) -> Callable[..., Any]:
    """Thread-safe decorator to run ``function`` in an event loop; calls return a future.

    ``function`` may return a coroutine, a future or plain data. The loop is the
    ``_loop`` of the first argument (a method of an :class:`AsyncObject`), else the
    loop running in the calling thread.

    Raises:
        TypeError: if ``function`` is not callable.
        RuntimeError: (when called) if there is no loop to run on.

    >>> import asyncio
    >>> from shortly.compat.pulsar import task
    >>> @task
    ... def double(x):
    ...     return 2 * x
    >>> async def main():
    ...     return await double(21)
    >>> asyncio.run(main())
    42
    """
    if not callable(function):
        raise TypeError(f"task() decorates a callable, not {type(function).__name__}")

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        loop = getattr(args[0], "_loop", None) if args else None
        if loop is None:
            loop = asyncio._get_running_loop()
            if loop is None:
                raise RuntimeError(
                    f"{getattr(function, '__qualname__', function)!s} has no event loop to "
                    "run on: give its object a _loop, or call it where a loop is running"
                )
        return run_in_loop(loop, function, *args, **kwargs)

    return run


def async_while(timeout: float | None, while_clause: Callable[..., Any], *args: Any) -> Any:
    """The asynchronous ``while while_clause(*args):``: a future of the clause's last value.

    The clause is evaluated at once and then every 0.1 s (on shortly's timer thread)
    until it is false, or until ``timeout`` seconds (0 or None: no limit) have passed.
    If the clause raises, the future fails with that exception.

    Raises:
        TypeError: if ``while_clause`` is not callable or ``timeout`` not a number.

    >>> import itertools
    >>> from shortly.compat.pulsar import async_while
    >>> countdown = itertools.count(3, -1)
    >>> async_while(5, lambda: next(countdown)).result(timeout=5)
    0
    >>> async_while(0.05, lambda: "still busy").result(timeout=5)
    'still busy'
    """
    if not callable(while_clause):
        raise TypeError(f"while_clause must be callable, not {type(while_clause).__name__}")
    # The predicate and the timeout handler both run on the timer thread, one after the
    # other, so the last value needs no lock.
    last: list[Any] = [None]

    def stopped() -> tuple[Any] | None:
        value = last[0] = while_clause(*args)
        return None if value else (value,)

    polled = wait_until(stopped, timeout=timeout or None, interval=ASYNC_WHILE_INTERVAL)
    result = polled.then(lambda box: box[0]).catch(lambda _: last[0], _ShortlyTimeout)
    return _out(result, None)


# -- timing --------------------------------------------------------------------------------


class Bench:
    """Run an asynchronous function a number of times and wait for all the results.

    Call it with the function and its arguments: the calls are started together, and
    the future it returns resolves with the Bench itself, whose ``taken`` is the time
    from the start to the last result and ``result`` the tuple of results.

    Raises:
        TypeError: if ``times`` is not an int.
        ValueError: if ``times`` is negative.

    >>> import asyncio
    >>> from shortly.compat.pulsar import Bench
    >>> async def ping():
    ...     await asyncio.sleep(0)
    ...     return "pong"
    >>> async def main():
    ...     bench = await Bench(3)(ping)
    ...     return bench.result, bench.taken >= 0
    >>> asyncio.run(main())
    (('pong', 'pong', 'pong'), True)
    """

    def __init__(self, times: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if isinstance(times, bool) or not isinstance(times, int):
            raise TypeError(f"times must be an int, not {type(times).__name__}")
        if times < 0:
            raise ValueError(f"times must be >= 0, not {times}")
        self.times = times
        self._loop = _check_loop(loop)
        self.start: float | None = None
        self.finish: float | None = None
        self.result: tuple[Any, ...] = ()

    @property
    def taken(self) -> float | None:
        """The total time taken for execution, in seconds (None until finished).

        >>> from shortly.compat.pulsar import Bench
        >>> print(Bench(1).taken)
        None
        """
        if self.finish is None or self.start is None:
            return None
        return self.finish - self.start

    def __call__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``func(*args, **kwargs)`` ``times`` times; a future of this Bench.

        >>> import asyncio
        >>> from shortly.compat.pulsar import Bench
        >>> async def main():
        ...     bench = Bench(2)
        ...     return await bench(asyncio.sleep, 0, "slept") is bench, bench.result
        >>> asyncio.run(main())
        (True, ('slept', 'slept'))
        """
        self.start = time.monotonic()
        calls = [func(*args, **kwargs) for _ in range(self.times)]
        return _out(_multi(calls, self._loop, None, True).then(self._done), self._loop)

    def _done(self, results: list[Any]) -> Bench:
        self.finish = time.monotonic()
        self.result = tuple(results)
        return self


class AsyncObject:
    """Interface for asynchronous objects: a loop, a logger, and ``timeit``.

    >>> from shortly.compat.pulsar import AsyncObject
    >>> class Client(AsyncObject):
    ...     pass
    >>> Client().logger.name, Client().debug
    ('pulsar', False)
    """

    #: The event loop associated with this object (None: the running one, when needed).
    _loop: asyncio.AbstractEventLoop | None = None
    #: Optional logger instance, used by the ``logger`` attribute.
    _logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        """The logger for this object: ``_logger``, else the loop's ``logger``, else pulsar's.

        >>> import logging
        >>> from shortly.compat.pulsar import AsyncObject
        >>> class Quiet(AsyncObject):
        ...     _logger = logging.getLogger("quiet")
        >>> Quiet().logger.name
        'quiet'
        """
        if self._logger is not None:
            return self._logger
        found: logging.Logger = getattr(self._loop, "logger", LOGGER)
        return found

    @property
    def debug(self) -> bool:
        """True when in debug mode (the loop's debug mode).

        >>> import asyncio
        >>> from shortly.compat.pulsar import AsyncObject
        >>> obj = AsyncObject(); obj._loop = asyncio.new_event_loop()
        >>> obj._loop.set_debug(True); obj.debug
        True
        >>> obj._loop.close()
        """
        return bool(self._loop is not None and self._loop.get_debug())

    def timeit(self, method: str, times: int, *args: Any, **kwargs: Any) -> Any:
        """Benchmark the asynchronous method named ``method``: a future of a :class:`Bench`.

        The method is called ``times`` times with ``args`` and ``kwargs``.

        >>> import asyncio
        >>> from shortly.compat.pulsar import AsyncObject
        >>> class Echo(AsyncObject):
        ...     async def echo(self, x):
        ...         return x
        >>> async def main():
        ...     bench = await Echo().timeit("echo", 10, "hi")
        ...     return len(bench.result), bench.taken is not None
        >>> asyncio.run(main())
        (10, True)
        """
        return Bench(times, loop=self._loop)(getattr(self, method), *args, **kwargs)


# -- locks ----------------------------------------------------------------------------------


class LockBase(abc.ABC):
    """An asynchronous locking primitive associated to a given name.

    A lock is 'locked' or 'unlocked', created unlocked. :meth:`acquire` locks it,
    waiting as ``blocking`` says while another holder has it; :meth:`release` unlocks
    it. ``async with lock:`` acquires (raising :class:`LockError` if it cannot) and
    releases.

    Attributes:
        name: the lock's name.
        blocking: the time to wait for the lock when acquiring it: False does not
            wait, True waits for ever, a positive number waits that many seconds.
        timeout: free the lock after this many seconds; None (default) holds it
            until ``release`` is called.

    >>> from shortly.compat.pulsar import Lock, LockBase
    >>> lock = Lock("doc-pulsar-lockbase", timeout=10, blocking=0.5)
    >>> isinstance(lock, LockBase), lock.name, lock.timeout, lock.blocking
    (True, 'doc-pulsar-lockbase', 10, 0.5)
    """

    def __init__(
        self,
        name: str,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout: float | None = None,
        blocking: bool | float = True,
    ) -> None:
        self.name = check_name(name)
        check_seconds(timeout, "timeout")
        check_blocking(blocking)
        self.timeout = timeout
        self.blocking = blocking
        self._loop = _check_loop(loop)

    @abc.abstractmethod
    def locked(self) -> bool:
        """Return True if the lock is acquired (by this handle)."""

    @abc.abstractmethod
    async def acquire(self) -> bool:
        """Try to acquire the lock; return True if acquired."""

    @abc.abstractmethod
    def release(self) -> Awaitable[None]:
        """Release the lock."""

    async def __aenter__(self) -> LockBase:
        if not await self.acquire():
            raise LockError(f"could not acquire lock {self.name!r} (blocking={self.blocking})")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.locked():
            await self.release()


class Lock(LockBase):
    """An asynchronous lock, on :class:`shortly.Lock` (one process; leases for ``timeout``).

    Raises:
        TypeError: if ``name`` is not a str, or ``timeout``/``blocking`` not numbers.
        ValueError: if ``name`` is empty, ``timeout`` not positive, ``blocking`` negative.

    >>> import asyncio
    >>> from shortly.compat.pulsar import Lock
    >>> orders = Lock("doc-pulsar-orders")           # no loop needed to create it
    >>> async def main():
    ...     async with orders:
    ...         busy = await Lock("doc-pulsar-orders", blocking=False).acquire()
    ...     return busy, orders.locked()
    >>> asyncio.run(main())
    (False, False)
    """

    def __init__(
        self,
        name: str,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout: float | None = None,
        blocking: bool | float = True,
    ) -> None:
        super().__init__(name, loop=loop, timeout=timeout, blocking=blocking)
        self._mutex = threading.Lock()
        self._held: tuple[_CoreLock, Lease] | None = None

    def locked(self) -> bool:
        """Return True if this handle holds the lock (and ``timeout`` has not freed it).

        >>> from shortly.compat.pulsar import Lock
        >>> Lock("doc-pulsar-locked").locked()
        False
        """
        with self._mutex:
            held = self._held
        return held is not None and held[1].live()

    async def acquire(self) -> bool:
        """Try to acquire the lock, waiting as ``blocking`` says; True if acquired.

        >>> import asyncio
        >>> from shortly.compat.pulsar import Lock
        >>> async def main():
        ...     lock = Lock("doc-pulsar-acquire", timeout=10)
        ...     got = await lock.acquire()
        ...     await lock.release()
        ...     return got
        >>> asyncio.run(main())
        True
        """
        handle = _CoreLock(self.name, lease=self.timeout)
        lease = await handle.acquire_async(self.blocking)
        if lease is None:
            return False
        with self._mutex:
            self._held = handle, lease
        return True

    def release(self) -> _CoreFuture[None]:
        """Release the lock now; returns an awaitable, so ``await lock.release()`` works.

        If ``timeout`` freed the lock already, this does nothing: the lock may belong to
        someone else by now.

        Raises:
            LockError: if this handle never acquired the lock, or released it already.

        >>> import asyncio
        >>> from shortly.compat.pulsar import Lock
        >>> async def main():
        ...     lock = Lock("doc-pulsar-release")
        ...     await lock.acquire()
        ...     await lock.release()
        ...     return lock.locked()
        >>> asyncio.run(main())
        False
        """
        with self._mutex:
            held, self._held = self._held, None
        if held is None:
            raise LockError(f"release of lock {self.name!r}, which this handle does not hold")
        handle, lease = held
        if lease.live():
            try:
                handle.release(lease)
            except LockError:
                if lease.live():
                    raise  # not the expiry: the backend refused for another reason
        return _CoreFuture.resolved(None)
