"""Pyro4's ``Future``: a callable run on a daemon thread of its own when called.

Each call gets its own daemon thread, as in Pyro4, so calls that wait on each other
never starve for a worker, and a call that never returns does not keep the process
alive. The delay is a core timer that starts the thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..._checks import check_delay
from ..._core import Future as _CoreFuture
from ..._core import depend, failure_of, follow, observe
from ..._timers import later
from ._result import FutureResult, _call_with_value, _check_callable, _Handler

__all__ = ["Future"]

T = TypeVar("T")


def _settable(error: BaseException) -> BaseException:
    """``error`` as a future can hold it (a StopIteration cannot travel through await)."""
    if isinstance(error, StopIteration):
        wrapped = RuntimeError("the call raised StopIteration")
        wrapped.__cause__ = error
        return wrapped
    return error


def _launch(run: Callable[[], None]) -> None:
    """Run ``run`` on a new daemon thread: no pool, so no call ever waits for a worker."""
    threading.Thread(target=run, name="pyro4-future", daemon=True).start()


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
        # What the FutureResult shows settles only after the iferror handler ran, as in
        # Pyro4 (which called it before marking the result ready).
        shown: _CoreFuture[Any] = _CoreFuture()
        depend(end, shown, functools.partial(self._call_settled, shown))
        return FutureResult(shown)

    def _schedule(self) -> None:
        """Under the lock: start the call's thread, after the delay if there is one."""
        self._generation += 1
        start = functools.partial(_launch, functools.partial(self._start, self._generation))
        if self._delay:
            self._pending = later(self._delay, start)
        else:
            self._pending = None
            start()

    def _start(self, generation: int) -> None:
        """On the call's thread: run the call, unless cancelled or rescheduled meanwhile."""
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

    def _call_settled(self, shown: _CoreFuture[Any], end: _CoreFuture[Any]) -> None:
        """The call and its chain settled: a failure goes to the iferror handler, then
        the outcome to the FutureResult."""
        with self._lock:
            handler = self._handler
        error = failure_of(end)
        if handler is None or error is None:
            follow(shown, end)
            return
        try:
            handler(error)
        finally:
            follow(shown, end)
            observe(shown)  # handled: no report when dropped

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
