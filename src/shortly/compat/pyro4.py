"""Pyro4's ``Future`` and ``FutureResult`` (``Pyro4.futures``), on shortly's core.

Change ``from Pyro4.futures import Future, FutureResult`` to
``from shortly.compat.pyro4 import Future, FutureResult``.

A :class:`Future` holds a callable; calling it submits the call with
:func:`shortly.submit` (``delay=`` for :meth:`Future.delay`) and returns a
:class:`FutureResult`, a view of the :class:`shortly.Future` of the call whose
``then`` extends it with the core's chains.

Follows the original:

* ``Future(callable)(*args, **kwargs)`` starts the call in a background thread and
  returns a ``FutureResult`` at once. A ``Future`` is single-shot: calling it again
  raises ``RuntimeError``.
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

Differs, on purpose:

* An exception nobody handles (no ``iferror``, ``value`` never read) is reported as an
  unhandled failure (logged, and passed to :func:`shortly.set_unhandled_handler`) when
  the result is dropped, instead of being "silently ignored".
* A ``then`` callable that raises on a ready ``FutureResult`` makes the exception the
  result (``value`` raises it) instead of raising it out of ``then``, and
  ``FutureResult.iferror`` handlers hear about failures of the whole chain, even when
  registered after the failure.
* The call runs on shortly's shared worker pool rather than on a daemon thread of its
  own, so a call still running when the program ends is waited for.
* Changing the delay of a Future already called restarts the delay from that moment
  (the original shortened or lengthened the remaining sleep, in 2-second steps).
* ``FutureResult(future)`` wraps a :class:`shortly.Future`; the original's
  argument-less constructor and its undocumented ``value`` setter are not provided.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from .._cancel import depend, watch
from .._chain import follow
from .._checks import check_delay
from .._errors import CancelledError
from .._future import Future as _CoreFuture
from .._workers import submit

__all__ = ["Future", "FutureResult"]

T = TypeVar("T")

_Handler = Callable[[BaseException], object]


def _call_with_value(
    call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Callable[[Any], Any]:
    """A chain link: ``call(value, *args, **kwargs)``."""
    return functools.partial(_apply, call, args, kwargs)


def _apply(
    call: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], value: Any
) -> Any:
    return call(value, *args, **kwargs)


def _settable(error: BaseException) -> BaseException:
    """``error`` as a future can hold it (a StopIteration cannot travel through await)."""
    if isinstance(error, StopIteration):
        wrapped = RuntimeError("the call raised StopIteration")
        wrapped.__cause__ = error
        return wrapped
    return error


def _check_callable(call: object, name: str) -> None:
    if not callable(call):
        raise TypeError(f"{name} must be callable, not {type(call).__name__}")


class FutureResult(Generic[T]):
    """The result of an asynchronous call: ``ready``, a blocking ``value``, a call chain.

    Created by calling a :class:`Future`; it is a view of a :class:`shortly.Future`
    (any future :func:`shortly.future_of` adapts may be passed to wrap it).

    >>> from shortly.compat.pyro4 import Future
    >>> result = Future(pow)(2, 10)
    >>> result.wait(timeout=5), result.value
    (True, 1024)
    """

    __slots__ = ("_future", "_handled", "_handler", "_lock")

    def __init__(self, future: _CoreFuture[T]) -> None:
        if not isinstance(future, _CoreFuture):
            raise TypeError(f"future must be a shortly.Future, not {type(future).__name__}")
        self._lock = threading.Lock()
        # The end of the call chain: then() replaces it with a new link.
        self._future: _CoreFuture[Any] = future
        self._handler: _Handler | None = None
        self._handled = False
        self._watch(future)

    def __shortly_future__(self) -> _CoreFuture[Any]:
        """The :class:`shortly.Future` of the whole chain so far (see :func:`shortly.future_of`).

        >>> import shortly
        >>> from shortly.compat.pyro4 import Future
        >>> shortly.future_of(Future(len)("four")).result(timeout=5)
        4
        """
        with self._lock:
            return self._future

    def __await__(self) -> Generator[Any, None, T]:
        """Await the value (of the chain so far) from asyncio, trio or ``spawn`` (new here).

        >>> import asyncio
        >>> from shortly.compat.pyro4 import Future
        >>> async def main():
        ...     return await Future(str.upper)("awaited")
        >>> asyncio.run(main())
        'AWAITED'
        """
        return self.__shortly_future__().__await__()

    @property
    def ready(self) -> bool:
        """Boolean that contains the readiness of the async result.

        >>> from shortly.compat.pyro4 import Future
        >>> result = Future(str)(1)
        >>> _ = result.wait(5); result.ready
        True
        """
        return self.__shortly_future__().done()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (None: for ever); return whether it is ready.

        Raises:
            TypeError: if ``timeout`` is not a number or None.

        >>> import threading
        >>> from shortly.compat.pyro4 import Future
        >>> gate = threading.Event()
        >>> result = Future(gate.wait)()
        >>> result.wait(timeout=0.01)
        False
        >>> gate.set(); result.wait(timeout=5)
        True
        """
        return self._settled_future(timeout) is not None

    def _settled_future(self, timeout: float | None) -> _CoreFuture[Any] | None:
        """The current end of the chain once it is done, or None on timeout.

        A ``then`` added while we wait moves the end: wait for the new end too, so
        what a reader gets includes every ``then`` called before it returned.
        """
        future = self.__shortly_future__()
        while future.wait(timeout):
            current = self.__shortly_future__()
            if current is future:
                return future
            future = current
        return None

    @property
    def value(self) -> T:
        """The result value of the call. Reading it will block if not available yet.

        Raises:
            RuntimeError: if the call was cancelled (the message says "cancelled").
            Exception: the exception the call, or a call of its chain, raised.

        >>> from shortly.compat.pyro4 import Future
        >>> Future(int)("x").value
        Traceback (most recent call last):
        ...
        ValueError: invalid literal for int() with base 10: 'x'
        """
        future = self._settled_future(None)
        assert future is not None  # no timeout: only a result (or an error) ends it
        try:
            return future.result()  # type: ignore[no-any-return]
        except CancelledError as error:
            if not future.cancelled():
                raise  # the call itself raised it: it is the value
            raise RuntimeError("the future has been cancelled") from error

    def then(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> FutureResult[Any]:
        """Add ``call`` to the call chain; it gets the current value as first argument.

        Optional extra arguments are passed after it. If the result is ready, ``call``
        runs at once in this thread; otherwise in the thread that delivers the result.
        Returns self, so calls chain.

        Raises:
            TypeError: if ``call`` is not callable.

        >>> from shortly.compat.pyro4 import Future
        >>> result = Future(sum)([1, 2, 3])
        >>> result.then(pow, 2).then(str).value
        '36'
        """
        _check_callable(call, "call")
        # The link hangs from a placeholder, so that it can become the chain's end under
        # the lock (concurrent thens keep their order) while ``call`` itself, which runs
        # at once if the result is ready, runs outside it.
        placeholder: _CoreFuture[Any] = _CoreFuture()
        link = placeholder.then(_call_with_value(call, args, kwargs))
        with self._lock:
            parent, self._future = self._future, link
        self._watch(link)
        depend(parent, placeholder, functools.partial(follow, placeholder))
        return self

    def iferror(self, exceptionhandler: _Handler) -> FutureResult[T]:
        """Call ``exceptionhandler(exception)`` if the result (or its chain) fails.

        If it already failed, the handler is called at once. Without a handler, a
        failure is reported as unhandled unless ``value`` is read. Returns self.

        Raises:
            TypeError: if ``exceptionhandler`` is not callable.

        >>> from shortly.compat.pyro4 import Future
        >>> result = Future(int)("x").iferror(lambda e: print("failed:", type(e).__name__))
        >>> _ = result.wait(5)
        failed: ValueError
        """
        _check_callable(exceptionhandler, "exceptionhandler")
        with self._lock:
            self._handler = exceptionhandler
            future = self._future
        if future.done():
            self._link_settled(future)
        return self

    def _watch(self, link: _CoreFuture[Any]) -> None:
        watch(link, self._link_settled)

    def _link_settled(self, link: _CoreFuture[Any]) -> None:
        """A link settled: if it is the chain's end and failed, tell the handler once."""
        with self._lock:
            handler = self._handler
            if link is not self._future or handler is None:
                return  # a later link carries the outcome on, or nobody listens yet
            handled, error = self._handled, link._exception
            if link.cancelled():
                error = RuntimeError("the future has been cancelled")
            elif error is None:
                return
            self._handled = True
        if not link.cancelled():
            link._observe()  # the handler is told: no report when dropped
        # A chain that failed stays failed with the same error (``then`` has no error
        # handler): links added after the handler heard of it need no second call.
        if not handled:
            handler(error)

    def __repr__(self) -> str:
        return f"<FutureResult of {self.__shortly_future__()!r}>"


class Future(Generic[T]):
    """A callable to be executed asynchronously, providing its result later.

    Call the Future with the arguments for the callable: the call starts in the
    background and a :class:`FutureResult` comes back at once. A Future can be called
    once. Before that, :meth:`then` builds a chain of calls on the value, :meth:`iferror`
    sets an error handler, and :meth:`delay` and :meth:`cancel` hold or stop the call.

    >>> from shortly.compat.pyro4 import Future
    >>> future = Future(lambda a, b: a + b).then(lambda total: total * 10)
    >>> future(1, 2).value
    30
    """

    __slots__ = (
        "_arguments",
        "_callable",
        "_chain",
        "_delay",
        "_generation",
        "_handler",
        "_lock",
        "_pending",
        "_state",
    )

    def __init__(self, somecallable: Callable[..., Any]) -> None:
        _check_callable(somecallable, "somecallable")
        self._callable = somecallable
        self._lock = threading.Lock()
        self._chain: list[Callable[[Any], Any]] | None = []  # None once called
        self._handler: _Handler | None = None
        self._delay = 0.0
        # The call's own state: pending until it starts, running, then done; a cancel
        # while pending is final. It never leaves this object.
        self._state: _CoreFuture[Any] = _CoreFuture()
        # Once called: the arguments, the scheduled start and its generation. delay()
        # reschedules, and a start whose generation is stale does nothing.
        self._arguments: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})
        self._pending: _CoreFuture[Any] | None = None
        self._generation = 0

    def __call__(self, *args: Any, **kwargs: Any) -> FutureResult[T]:
        """Start the call with these arguments; return its :class:`FutureResult` at once.

        Raises:
            RuntimeError: if the Future was called before, or was cancelled.

        >>> from shortly.compat.pyro4 import Future
        >>> future = Future(str.upper)
        >>> future("pyro").value
        'PYRO'
        >>> future("again")
        Traceback (most recent call last):
        ...
        RuntimeError: the future has already been evaluated
        """
        with self._lock:
            chain = self._chain
            if chain is None:
                raise RuntimeError("the future has already been evaluated")
            if self._state.cancelled():
                raise RuntimeError("the future has been cancelled")
            self._chain = None
            end = self._state
            for link in chain:
                end = end.then(link)
            self._arguments = args, kwargs
            self._schedule()
        watch(end, self._call_settled)
        return FutureResult(end)

    def _schedule(self) -> None:
        """Under the lock: submit the start, after the delay if there is one."""
        self._generation += 1
        start = functools.partial(self._start, self._generation)
        self._pending = submit(start, delay=self._delay or None)

    def _start(self, generation: int) -> None:
        """On a worker thread: run the call, unless cancelled or rescheduled meanwhile."""
        state = self._state
        with self._lock:
            if generation != self._generation or not state.set_running_or_notify_cancel():
                return
            self._pending = None
            args, kwargs = self._arguments
        try:
            value = self._callable(*args, **kwargs)
        except BaseException as error:
            state.set_exception(_settable(error))
        else:
            state.set_result(value)

    def _call_settled(self, end: _CoreFuture[Any]) -> None:
        """The call and its chain settled: a failure goes to the iferror handler."""
        with self._lock:
            handler = self._handler
        if handler is None or end.cancelled():
            return
        error = end._exception
        if error is not None:
            end._observe()  # handled: no report when dropped
            handler(error)

    def then(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[T]:
        """Add ``call`` to the call chain, to be invoked when the results become available.

        ``call`` gets the result of the current call as first argument, then ``args``
        and ``kwargs``. Returns self.

        Raises:
            TypeError: if ``call`` is not callable.
            RuntimeError: if the Future was already called.

        >>> from shortly.compat.pyro4 import Future
        >>> Future(len).then(divmod, 3)("sixteen").value
        (2, 1)
        """
        _check_callable(call, "call")
        with self._lock:
            if self._chain is None:
                raise RuntimeError("the future has already been evaluated")
            self._chain.append(_call_with_value(call, args, kwargs))
        return self

    def iferror(self, exceptionhandler: _Handler) -> Future[T]:
        """Call ``exceptionhandler(exception)`` if the call or its chain raises.

        Returns self.

        Raises:
            TypeError: if ``exceptionhandler`` is not callable.
            RuntimeError: if the call has already started.

        >>> from shortly.compat.pyro4 import Future
        >>> errors = []
        >>> result = Future(int).iferror(errors.append)("x")
        >>> _ = result.wait(5)
        >>> errors
        [ValueError("invalid literal for int() with base 10: 'x'")]
        """
        _check_callable(exceptionhandler, "exceptionhandler")
        with self._lock:
            if self._state.running() or self._state.done():
                raise RuntimeError("the future has already been evaluated")
            self._handler = exceptionhandler
        return self

    def delay(self, seconds: float) -> bool:
        """Delay the evaluation by ``seconds``; False if it has already started or ended.

        Called after the Future was called, the delay counts from this call.

        Raises:
            TypeError: if ``seconds`` is not a number.
            ValueError: if ``seconds`` is negative or not finite.

        >>> from shortly.compat.pyro4 import Future
        >>> future = Future(str)
        >>> future.delay(0.01)
        True
        >>> result = future("later")
        >>> result.value, future.delay(1)
        ('later', False)
        """
        seconds = check_delay(seconds, "seconds")
        with self._lock:
            if self._state.done() or self._state.running():
                return False
            self._delay = seconds
            stale = self._pending
            if stale is not None:
                # Called already: start again from now. The stale start finds its
                # generation outdated if it fires before the cancel below.
                self._schedule()
        if stale is not None:
            stale.cancel()
        return True

    def cancel(self) -> bool:
        """Cancel the evaluation; True if it had not started, False otherwise.

        >>> from shortly.compat.pyro4 import Future
        >>> future = Future(print)
        >>> future.delay(60)
        True
        >>> result = future("never printed")
        >>> future.cancel()
        True
        >>> result.value
        Traceback (most recent call last):
        ...
        RuntimeError: the future has been cancelled
        """
        # Atomic against the start, which marks the state running under the same
        # future's lock; outside our lock, because cancelling runs the chain's callbacks.
        if not self._state.cancel("the future has been cancelled"):
            return False
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending.cancel()  # disarm the delay timer
        return True

    def __repr__(self) -> str:
        return f"<pyro4 Future of {self._callable!r}: {self._state!r}>"
