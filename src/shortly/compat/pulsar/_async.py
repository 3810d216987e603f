"""pulsar's functions on futures and loops, and where the futures they return live.

``maybe_async``, ``chain_future``, ``multi_async``, ``run_in_loop``, ``task`` and
``async_while`` do their work with the core and hand the outcome out through ``_out``:
an asyncio future when called on the thread of the loop they work with, else the
:class:`shortly.Future` itself (an asyncio future of a loop in another thread is one
the caller could not safely touch). ``Bench`` hands its future out the same way.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import time
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ..._adapt import future_of
from ..._aio import run_in_loop as _run_in_loop
from ..._checks import check_delay
from ..._combine import all_of, settled
from ..._core import Err, Outcome
from ..._core import Future as _CoreFuture
from ..._spawn import spawn
from ..._timers import sleep

__all__ = [
    "ASYNC_WHILE_MAX",
    "ASYNC_WHILE_STEP",
    "async_while",
    "chain_future",
    "maybe_async",
    "multi_async",
    "run_in_loop",
    "task",
]

T = TypeVar("T")

#: How much longer :func:`async_while` pauses before each check than before the last.
ASYNC_WHILE_STEP = 0.1
#: The longest pause of :func:`async_while` between two checks, in seconds.
ASYNC_WHILE_MAX = 1.0


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


async def _while(
    timeout: float | None,
    while_clause: Callable[..., Any],
    args: tuple[Any, ...],
    sleep: Callable[[float], Any],
    clock: Callable[[], float],
) -> Any:
    """pulsar's loop: check, sleep 0.1 s, 0.2 s, ... up to 1 s between checks, give up
    (with the last, truthy, value) once ``timeout`` has passed."""
    start = clock()
    pause = 0.0
    value = while_clause(*args)
    while value:
        pause = min(pause + ASYNC_WHILE_STEP, ASYNC_WHILE_MAX)
        await sleep(pause)
        if timeout and clock() - start >= timeout:
            break
        value = while_clause(*args)
    return value


def async_while(timeout: float | None, while_clause: Callable[..., Any], *args: Any) -> Any:
    """The asynchronous ``while while_clause(*args):``: a future of the clause's last value.

    The clause is evaluated at once, then after pauses of 0.1 s, 0.2 s, ... growing to
    1 s, until it is false, or until ``timeout`` seconds (0 or None: no limit) have
    passed. Called where an event loop runs, the clause runs on that loop, as in
    pulsar, and the future is an asyncio task; called from a thread without a loop, the
    first check runs at once in that thread, the later ones on shortly's timer thread,
    and the future is a :class:`shortly.Future`.
    If the clause raises, the future fails with that exception.

    Raises:
        TypeError: if ``while_clause`` is not callable or ``timeout`` not a number.
        ValueError: if ``timeout`` is negative or not finite.

    >>> import asyncio, itertools, threading
    >>> from shortly.compat.pulsar import async_while
    >>> async def main():
    ...     countdown = itertools.count(2, -1)
    ...     loop_thread = threading.current_thread()
    ...     def busy():
    ...         assert threading.current_thread() is loop_thread
    ...         return next(countdown)
    ...     return await async_while(5, busy)
    >>> asyncio.run(main())
    0
    >>> async_while(0.05, lambda: "still busy").result(timeout=5)
    'still busy'
    """
    if not callable(while_clause):
        raise TypeError(f"while_clause must be callable, not {type(while_clause).__name__}")
    if timeout is not None:
        check_delay(timeout, "timeout")
    loop = asyncio._get_running_loop()
    if loop is not None:
        return loop.create_task(_while(timeout, while_clause, args, asyncio.sleep, loop.time))
    return spawn(_while(timeout, while_clause, args, sleep, time.monotonic))
