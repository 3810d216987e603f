"""``future_of()``: other kinds of future as shortly futures, and the adapter registry.

Code that mixes worlds holds stdlib futures from executors, asyncio tasks, Twisted
Deferreds and dask futures. :func:`future_of` turns each into a shortly future that
settles as the original does, so chains, combinators and blocking waits need to know
only one type. The rules, most specific first:

1. a shortly future is returned as it is;
2. an adapter registered with :func:`register_adapter` for the object's class or a base;
3. an object with a ``__shortly_future__()`` method: its answer;
4. a Twisted ``Deferred`` or a dask ``distributed.Future`` (recognised by name, so
   neither library is imported until one is actually met; dask's goes through
   :mod:`shortly._adapt_dask`, which cancels it without blocking);
5. an asyncio future or task, read on its own loop and readable from any thread;
6. a :class:`concurrent.futures.Future`, or anything shaped like one (``done``,
   ``result``, ``exception``, ``add_done_callback``: dask's futures);
7. a coroutine or other awaitable, scheduled as a task on the running asyncio loop;
8. any other value only with ``allow_values=True``.

The answer per class is cached, so adapting costs one dictionary lookup plus the
adapter itself.

Cancellation goes both ways: the original cancelled cancels the adapted future, and the
adapted future cancelled cancels the original (asyncio's ``wrap_future`` rule). The
hook that carries the second direction expresses no interest in the outcome, so it
never stops Bluebird's upward rule (see :mod:`shortly._core._cancel`) from cancelling the
adapted future when all its dependants lose interest. A stdlib future is *mirrored*
(:class:`Mirror`): the adapted future is ``running()`` while the original runs, and
cancelling it succeeds only if cancelling the original did, so ``cancel()`` returning
True always means the work never ran.
"""

from __future__ import annotations

import inspect
import sys
import threading
import types
from collections.abc import Awaitable, Callable
from concurrent.futures import _base
from functools import partial
from typing import Any, TypeVar, overload

from ._core import (
    ADAPTER_CACHE,
    CANCELLED_STATES,
    PENDING,
    RUNNING,
    EventLoopOwner,
    Future,
    fail,
    when_cancelled,
)

__all__ = [
    "adapter_for",
    "cache",
    "future_of",
    "refuse_coroutine",
    "refuse_coroutine_function",
    "register_adapter",
]

T = TypeVar("T")

Adapter = Callable[[Any], "Future[Any]"]

# Guards the registry and every cache fill, so that a lookup racing a registration
# can never store an answer computed from the old registry after the cache was cleared.
_lock = threading.Lock()
_registered: dict[type, Adapter] = {}
#: Adapter (or None, for plain values) per class; read without the lock on hot paths.
# The core's chain links read it to tell a plain value from one to adopt.
cache: dict[type, Adapter | None] = ADAPTER_CACHE
_MISSING: Any = object()


# -- helpers shared by adapters, chains and loop bridges --------------------------------


# Callables that can never be coroutine functions: checked first, by type, because
# refusing coroutine functions sits on every put and submit.
_PLAIN_CALLABLES = frozenset(
    {types.BuiltinFunctionType, types.MethodWrapperType, types.WrapperDescriptorType, type}
)
_CO_COROUTINE = inspect.CO_COROUTINE


def refuse_coroutine_function(fn: Callable[..., Any], where: str, instead: str) -> None:
    """Raise TypeError if ``fn`` is an ``async def`` function: ``where`` runs plain ones.

    Refusing at the call means no coroutine object is ever made, so none is left
    un-awaited. ``instead`` names the tool that does run coroutines; ``{name}`` in it
    stands for the function's name.
    """
    kind = type(fn)
    if kind is types.FunctionType:
        if not fn.__code__.co_flags & _CO_COROUTINE:
            return
    elif kind in _PLAIN_CALLABLES or not inspect.iscoroutinefunction(fn):
        return
    name = getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", "fn")
    raise TypeError(
        f"{where} runs plain functions, and {name} is an async function: "
        + instead.format(name=name)
    )


def refuse_coroutine(value: Any, where: str, instead: str) -> BaseException | None:
    """If ``value`` is a coroutine object, close it and return the TypeError to fail with.

    For callables that return a coroutine without being ``async def`` themselves (a
    lambda around one, an object with an ``async def __call__``), which
    :func:`refuse_coroutine_function` cannot see coming. ``{name}`` in ``instead``
    stands for the coroutine's name.
    """
    if type(value) is not types.CoroutineType:
        return None
    value.close()  # it never ran: closing it keeps "never awaited" from being reported
    return TypeError(
        f"{where} runs plain functions, and this one returned a coroutine: "
        + instead.format(name=value.__name__)
    )


# -- the registry --------------------------------------------------------------------------


def register_adapter(
    cls: type[T], fn: Callable[[T], Future[Any]] | None
) -> Callable[[T], Future[Any]] | None:
    """Teach :func:`future_of` to adapt instances of ``cls`` (and its subclasses).

    ``fn(obj)`` must return a :class:`~shortly.Future` that settles as ``obj`` does
    (use :func:`future_of` inside it for anything it already knows). A registered
    adapter takes precedence over the built-in rules, except that a shortly future is
    always returned as it is. ``fn=None`` removes the registration. Returns the adapter
    registered for ``cls`` before, or ``None``.

    Raises:
        TypeError: if ``cls`` is not a class or ``fn`` is neither callable nor None.
        ValueError: if ``cls`` is :class:`~shortly.Future` or a subclass.

    >>> import shortly
    >>> class Box:
    ...     def __init__(self, value):
    ...         self.value = value
    >>> shortly.register_adapter(Box, lambda box: shortly.Future.resolved(box.value))
    >>> shortly.future_of(Box(5)).result()
    5
    >>> _ = shortly.register_adapter(Box, None)
    """
    if not isinstance(cls, type):
        raise TypeError(f"cls must be a class, not {type(cls).__name__}")
    if issubclass(cls, Future):
        raise ValueError("shortly futures need no adapter: future_of returns them as they are")
    if fn is not None and not callable(fn):
        raise TypeError(f"fn must be callable or None, not {type(fn).__name__}")
    with _lock:
        previous = _registered.pop(cls, None)
        if fn is not None:
            _registered[cls] = fn
        cache.clear()
    return previous


def adapter_for(cls: type) -> Adapter | None:
    """The adapter :func:`future_of` uses for instances of ``cls``, or None for values."""
    adapter = cache.get(cls, _MISSING)
    if adapter is _MISSING:
        with _lock:
            adapter = cache[cls] = _classify(cls)
    return adapter  # type: ignore[no-any-return]


def _classify(cls: type) -> Adapter | None:
    if issubclass(cls, Future):
        return _itself
    for base in cls.__mro__:
        registered = _registered.get(base)
        if registered is not None:
            return _checked(registered, cls)
    if callable(getattr(cls, "__shortly_future__", None)):
        return _from_protocol
    for base in cls.__mro__:
        named = (base.__module__, base.__name__)
        if named == ("twisted.internet.defer", "Deferred"):
            return _from_deferred
        if named == ("distributed.client", "Future"):
            return _from_dask
    # asyncio.isfuture's test, made on the class so asyncio need not be imported.
    if getattr(cls, "_asyncio_future_blocking", None) is not None:
        return _from_asyncio
    if issubclass(cls, _base.Future):
        return Mirror
    if all(
        callable(getattr(cls, name, None))
        for name in ("add_done_callback", "done", "result", "exception", "cancel")
    ):
        return _from_concurrent
    if callable(getattr(cls, "__await__", None)):
        return _from_awaitable
    return None


def _from_dask(future: Any) -> Future[Any]:
    # Loaded here, not at import: most programs never meet a dask future.
    from ._adapt_dask import from_dask

    return from_dask(future)


def _checked(fn: Adapter, cls: type) -> Adapter:
    def adapt(obj: Any) -> Future[Any]:
        future = fn(obj)
        if not isinstance(future, Future):
            raise TypeError(
                f"the adapter registered for {cls.__name__} returned "
                f"{type(future).__name__}, not a shortly.Future"
            )
        return future

    return adapt


# -- future_of -----------------------------------------------------------------------------


@overload
def future_of(obj: _base.Future[T], *, allow_values: bool = False) -> Future[T]: ...
@overload
def future_of(obj: Awaitable[T], *, allow_values: bool = False) -> Future[T]: ...
@overload
def future_of(obj: object, *, allow_values: bool = False) -> Future[Any]: ...
def future_of(obj: object, *, allow_values: bool = False) -> Future[Any]:
    """A shortly future that settles as ``obj`` does.

    See the module documentation for the objects understood, in order. Adapting a
    Twisted ``Deferred`` consumes its result, as ``Deferred.asFuture`` does: the
    shortly future carries it from then on.

    Args:
        obj: a future of any supported kind, an awaitable, or (with ``allow_values``)
            any value.
        allow_values: return an already resolved future for values that are not
            futures, instead of raising.

    Raises:
        TypeError: if ``obj`` is not a future of a known kind (naming its type), or is
            a coroutine or awaitable while no asyncio loop runs in this thread (drive it
            with :func:`shortly.spawn` instead), or a registered adapter returned
            something other than a shortly future.

    >>> import concurrent.futures, shortly
    >>> with concurrent.futures.ThreadPoolExecutor() as pool:
    ...     shortly.future_of(pool.submit(pow, 2, 10)).result(timeout=5)
    1024
    >>> shortly.future_of(7, allow_values=True).result()
    7
    >>> shortly.future_of(7)
    Traceback (most recent call last):
    ...
    TypeError: cannot make a shortly future from an int: ...
    """
    if isinstance(obj, Future):
        return obj
    adapter = adapter_for(type(obj))
    if adapter is not None:
        return adapter(obj)
    if allow_values:
        return Future.resolved(obj)
    raise TypeError(
        f"cannot make a shortly future from {_a(type(obj))}: it is not a future, an "
        "awaitable or an object with __shortly_future__() (register_adapter() teaches "
        "future_of a new type; allow_values=True accepts plain values)"
    )


def _a(cls: type) -> str:
    name = cls.__name__
    return f"an {name}" if name[:1].lower() in "aeiou" else f"a {name}"


def _itself(obj: Future[Any]) -> Future[Any]:
    return obj


def _from_protocol(obj: Any) -> Future[Any]:
    future = obj.__shortly_future__()
    if not isinstance(future, Future):
        raise TypeError(
            f"{type(obj).__name__}.__shortly_future__() returned "
            f"{type(future).__name__}, not a shortly.Future"
        )
    return future


def _copy_from(target: Future[Any], done: Any, message: Any = None) -> None:
    """Settle ``target`` as the stdlib-shaped future ``done`` has settled."""
    if done.cancelled():
        target.cancel(message)
        return
    error = done.exception()  # not result(): re-raising would grow its traceback
    if error is None:
        target.try_set_result(done.result())
    else:
        fail(target, error)


class Mirror(Future[T]):
    """A shortly future that tells what a :class:`concurrent.futures.Future` does.

    ``running()`` is true while the executor runs the work, and ``cancel()`` (by hand,
    by a timeout or by the upward rule) succeeds only if the stdlib future's own
    ``cancel()`` did, that is, only if the work was really kept from starting. A
    stdlib future says nothing when it starts running, so the state is read from it.

    >>> import concurrent.futures, shortly
    >>> with concurrent.futures.ThreadPoolExecutor(1) as pool:
    ...     busy = pool.submit(pow, 2, 10)
    ...     mirror = shortly.future_of(busy)
    ...     type(mirror).__name__, mirror.result(timeout=5), mirror.cancel()
    ('Mirror', 1024, False)
    """

    __slots__ = ("_message", "_source")

    def __init__(self, source: Any = None, *, owner: Any = None) -> None:
        Future.__init__(self, owner=owner)
        self._source: Any = None
        self._message: Any = None  # the cancel message, for the copy made on cancel
        if source is not None:
            self.mirror(source)

    def hand_over(self) -> bool:
        """Before submitting the work this mirror is to mirror: False if cancelled.

        Until :meth:`mirror` (or :meth:`handed_over`) is called, ``cancel()`` and
        ``running()`` from other threads wait for the hand-over to end, since only the
        executor's future can say whether the work started.
        """
        with self._lock:
            if self._state != PENDING:
                return False
            self._source = _HandOver()
        return True

    def mirror(self, source: Any) -> None:
        """Start mirroring ``source`` (a stdlib or shortly future)."""
        hand_over = self._source
        self._source = source
        source.add_done_callback(self._copy)
        if type(hand_over) is _HandOver:
            hand_over.done.set()

    def handed_over(self) -> None:
        """The hand-over failed (the mirror is then failed too): stop waiting for it."""
        hand_over, self._source = self._source, None
        if type(hand_over) is _HandOver:
            hand_over.done.set()

    def _settled_source(self) -> Any:
        """The source, once any hand-over has ended; None while this thread hands over."""
        source = self._source
        if type(source) is _HandOver:
            if source.thread == threading.get_ident():
                return None  # asked by the executor while submitting: nothing to say yet
            source.done.wait()
            source = self._source
        return source

    def _copy(self, done: Any) -> None:
        _copy_from(self, done, self._message)
        # The source keeps this callback, so letting go of it here leaves no cycle:
        # a failure is reported as soon as the mirror is dropped, not at the next GC.
        self._source = None

    def running(self) -> bool:
        """True while the stdlib future runs (or once set running by hand).

        >>> import concurrent.futures, shortly
        >>> shortly.future_of(concurrent.futures.Future()).running()
        False
        """
        if self._state == PENDING:
            source = self._settled_source()
            if source is not None:
                return bool(source.running())
        return self._state == RUNNING

    def _cancel_one(
        self, msg: Any, only_if: Callable[[Future[T]], bool] | None
    ) -> tuple[bool, Any]:
        # The one place every cancellation passes (cancel, timeouts, the upward rule).
        with self._lock:
            state = self._state
            if state in CANCELLED_STATES:
                return True, None
            if state != PENDING or (only_if is not None and not only_if(self)):
                return False, None
            self._message = msg
        # Outside our lock: the stdlib runs the source's callbacks (_copy, which
        # cancels us) inside its cancel().
        source = self._settled_source()
        if type(self._source) is _HandOver:
            return False, None  # the executor itself, while it takes the work: too late
        if source is not None and not source.cancel():
            return False, None  # it runs or ran: the work was not prevented
        return Future._cancel_one(self, msg, None)


class _HandOver:
    """A mirror's source while the work is being submitted (see Mirror.hand_over)."""

    __slots__ = ("done", "thread")

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.done = threading.Event()


def _from_concurrent(source: Any) -> Future[Any]:
    """Anything shaped like a stdlib future (dask's): its cancel() may say nothing."""
    target: Future[Any] = Future()
    when_cancelled(target, lambda _msg: source.cancel())
    source.add_done_callback(partial(_copy_from, target))
    return target


def _from_asyncio(source: Any) -> Future[Any]:
    import asyncio

    loop = source.get_loop()
    # Settled on the loop's thread: blocking on it there would wait for ever.
    target: Future[Any] = Future(owner=EventLoopOwner(loop, None))

    def copy(done: Any) -> None:  # on the loop's thread
        if done.cancelled():
            try:
                done.result()
            except asyncio.CancelledError as cancelled:  # the only way to read its message
                target.cancel(cancelled.args[0] if cancelled.args else None)
            return
        error = done.exception()  # also marks asyncio's "never retrieved" as handled
        if error is None:
            target.try_set_result(done.result())
        else:
            fail(target, error)

    def start() -> None:
        if source.done():
            copy(source)
        else:
            source.add_done_callback(copy)

    def cancel_source(msg: Any) -> None:
        if asyncio._get_running_loop() is loop:
            source.cancel(msg)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(source.cancel, msg)

    when_cancelled(target, cancel_source)
    if asyncio._get_running_loop() is loop:
        start()
    else:
        # asyncio futures belong to their loop's thread: read them only there.
        loop.call_soon_threadsafe(start)
    return target


def _from_awaitable(awaitable: Any) -> Future[Any]:
    asyncio = sys.modules.get("asyncio")  # not imported: no loop can be running
    loop = asyncio._get_running_loop() if asyncio is not None else None
    if asyncio is None or loop is None:
        raise TypeError(
            f"cannot make a shortly future from {_a(type(awaitable))} outside a running "
            "asyncio loop: await it, or drive it without a loop with shortly.spawn()"
        )
    return _from_asyncio(asyncio.ensure_future(awaitable, loop=loop))


def _from_deferred(deferred: Any) -> Future[Any]:
    from twisted.internet import defer

    target: Future[Any] = Future()

    def succeeded(value: object) -> None:
        target.try_set_result(value)

    def failed(failure: Any) -> None:
        if failure.check(defer.CancelledError):
            target.cancel()
        else:
            fail(target, failure.value)
        # Returning None consumes the failure: the shortly future now owns it, so
        # Twisted must not log it as unhandled too.

    def cancel_source(_msg: Any) -> None:
        from twisted.python import threadable

        io_thread: object = threadable.ioThread  # set once a reactor runs
        if io_thread is None or threadable.isInIOThread():  # type: ignore[no-untyped-call]
            deferred.cancel()
        else:
            from twisted.internet import reactor

            reactor.callFromThread(deferred.cancel)

    when_cancelled(target, cancel_source)
    deferred.addCallbacks(succeeded, failed)
    return target
