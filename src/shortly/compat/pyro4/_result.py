"""Pyro4's ``FutureResult``: a view of the end of a chain of :class:`shortly.Future` links.

``then`` extends the chain with a core chain link; ``iferror`` watches its end.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from ..._core import Future as _CoreFuture
from ..._core import depend, failure_of, follow, observe, watch
from ..._errors import CancelledError

__all__ = ["FutureResult"]

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


def _check_callable(call: object, name: str) -> None:
    if not callable(call):
        raise TypeError(f"{name} must be callable, not {type(call).__name__}")


class FutureResult(Generic[T]):
    """The result of an asynchronous call: ``ready``, a blocking ``value``, a call chain.

    Created by calling a :class:`Future`, it is a view of a :class:`shortly.Future`.
    ``FutureResult()`` with no argument makes one whose :attr:`value` you assign, as
    Pyro4's proxies do; ``FutureResult(future)`` wraps a :class:`shortly.Future`.

    Raises:
        TypeError: if ``future`` is given and is not a :class:`shortly.Future`.

    >>> from shortly.compat.pyro4 import Future
    >>> result = Future(pow)(2, 10)
    >>> result.wait(timeout=5), result.value
    (True, 1024)
    """

    __slots__ = ("_future", "_handled", "_handler", "_lock", "_root")

    def __init__(self, future: _CoreFuture[T] | None = None) -> None:
        if future is None:
            future = _CoreFuture()
        elif not isinstance(future, _CoreFuture):
            raise TypeError(f"future must be a shortly.Future or None, not {type(future).__name__}")
        self._lock = threading.Lock()
        self._root = future  # what the value setter resolves
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

    @value.setter
    def value(self, value: T) -> None:
        """Set the value: the call chain runs on it now, in this thread, then waiters wake.

        Raises:
            RuntimeError: if the value is already set (or the call already finished).

        >>> from shortly.compat.pyro4 import FutureResult
        >>> result = FutureResult().then(str.upper)
        >>> result.ready
        False
        >>> result.value = "set by hand"
        >>> result.value
        'SET BY HAND'
        """
        if not self._root.try_set_result(value):
            raise RuntimeError("the value of this FutureResult is already set")

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
            handled, error = self._handled, failure_of(link)
            if link.cancelled():
                error = RuntimeError("the future has been cancelled")
            elif error is None:
                return
            self._handled = True
        if not link.cancelled():
            observe(link)  # the handler is told: no report when dropped
        # A chain that failed stays failed with the same error (``then`` has no error
        # handler): links added after the handler heard of it need no second call.
        if not handled:
            handler(error)

    def __repr__(self) -> str:
        return f"<FutureResult of {self.__shortly_future__()!r}>"
