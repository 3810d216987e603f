"""quickrpc's ``Promise`` and ``ActionQueue``, on shortly's Future and SerialExecutor.

Change ``from quickrpc.promise import Promise`` (and ``quickrpc.action_queue``) to
``from shortly.compat.quickrpc import Promise, ActionQueue``.

A :class:`Promise` wraps a :class:`shortly.Future` whose owner is the promise's
setter thread, so quickrpc's deadlock protection *is* the core's: a wait from the
setter thread on its own pending promise, or one that closes a cycle of such waits
across threads, raises at once. :class:`ActionQueue` is :class:`shortly.SerialExecutor`.

Follows the original:

* ``Promise(setter_thread=None)``: the setter is the creating thread by default;
  ``result(timeout=1.0)`` waits one second by default and raises
  :class:`PromiseTimeoutError` after it, or the issuer's exception if the promise
  failed; the setter thread waiting on its own pending promise gets
  :class:`PromiseDeadlockError` at once.
* Setting a result or an exception twice raises :class:`PromiseDoneError` to the setter.
* ``then(callback, errback=None)``: without an errback the exception is handed to
  ``callback``; a promise that is already settled calls back at once, in the caller's
  thread; otherwise the callback runs in the thread that settles the promise.
* The four error classes have their documented bases.
* ``ActionQueue().put(action)`` returns at once; actions run one at a time, in order,
  on a worker thread started when work arrives and gone when the queue is empty.

Differs, on purpose:

* The original ``ActionQueue`` stalls for ever once an action raises (its worker dies
  and nothing restarts it). Here the exception is reported through
  :func:`shortly.set_unhandled_handler` (and logged) and the next action runs.
* A callback or errback that raises is not lost: ``then`` returns the
  :class:`shortly.Future` of the handler's outcome, which reports the failure as
  unhandled if nobody looks at it.
* The deadlock check also catches cycles (A waits on B's promise while B waits on A's),
  which the original's check, limited to the setter itself, lets hang until timeout.
* Each error class also derives from the matching :mod:`shortly` error
  (:class:`shortly.TimeoutError`, :class:`shortly.InvalidStateError`,
  :class:`shortly.DeadlockError`), so code moving to the core API catches them too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from .._core import Future
from .._errors import DeadlockError, InvalidStateError
from .._errors import TimeoutError as _ShortlyTimeout

# The core's serial worker is quickrpc's ActionQueue, minus the stall after an action raises.
from .._serial import ActionQueue as ActionQueue

__all__ = [
    "ActionQueue",
    "Promise",
    "PromiseDeadlockError",
    "PromiseDoneError",
    "PromiseError",
    "PromiseTimeoutError",
]

T = TypeVar("T")


class PromiseError(Exception):
    """promise-related error: the base of the other three.

    >>> from shortly.compat.quickrpc import PromiseError, PromiseTimeoutError
    >>> issubclass(PromiseTimeoutError, PromiseError)
    True
    """


class PromiseTimeoutError(PromiseError, _ShortlyTimeout):
    """waiting for the promise took too long.

    Bases: :class:`PromiseError` and :class:`TimeoutError` (through
    :class:`shortly.TimeoutError`, which is one).

    >>> from shortly.compat.quickrpc import Promise, PromiseTimeoutError
    >>> import threading
    >>> p = Promise(setter_thread=threading.Thread())  # someone else will set it
    >>> try:
    ...     p.result(timeout=0.01)
    ... except TimeoutError as e:
    ...     print(type(e).__name__)
    PromiseTimeoutError
    """


class PromiseDoneError(PromiseError, InvalidStateError, RuntimeError):
    """raised to the promise issuer if a result or exception was already set.

    Bases: :class:`PromiseError` and :class:`RuntimeError` (and
    :class:`shortly.InvalidStateError`).

    >>> from shortly.compat.quickrpc import Promise, PromiseDoneError
    >>> p = Promise(); p.set_result(1)
    >>> try:
    ...     p.set_result(2)
    ... except PromiseDoneError:
    ...     print("already set")
    already set
    """


class PromiseDeadlockError(PromiseError, DeadlockError):
    """raised if the result-setter thread tries to wait for the result (i.e. itself).

    Bases: :class:`PromiseError` and :class:`RuntimeError` (through
    :class:`shortly.DeadlockError`, which is one).

    >>> from shortly.compat.quickrpc import Promise, PromiseDeadlockError
    >>> p = Promise()   # this thread is the setter
    >>> try:
    ...     p.result()
    ... except PromiseDeadlockError:
    ...     print("refused at once")
    refused at once
    """


class Promise(Generic[T]):
    """Encapsulates a result that will arrive later.

    Like an order slip for something that is still being produced: asynchronous
    functions hand out promises, :meth:`result` waits for the value, :meth:`then` calls
    back with it. ``setter_thread`` is the thread that will set the result (default:
    this one); it may not wait on the promise while it is pending.

    Raises:
        TypeError: if ``setter_thread`` is not a :class:`threading.Thread` or ``None``.

    >>> import threading
    >>> from shortly.compat.quickrpc import Promise
    >>> worker = threading.Thread(target=lambda: p.set_result("slip 42"))
    >>> p = Promise(setter_thread=worker)
    >>> worker.start()
    >>> p.result(timeout=5)
    'slip 42'
    """

    __slots__ = ("_future",)

    def __init__(self, setter_thread: threading.Thread | None = None) -> None:
        if setter_thread is None:
            setter_thread = threading.current_thread()
        elif not isinstance(setter_thread, threading.Thread):
            raise TypeError(
                f"setter_thread must be a threading.Thread or None, "
                f"not {type(setter_thread).__name__}"
            )
        self._future: Future[T] = Future(owner=setter_thread)

    def __shortly_future__(self) -> Future[T]:
        """The :class:`shortly.Future` behind this promise (for :func:`shortly.future_of`).

        >>> import shortly
        >>> from shortly.compat.quickrpc import Promise
        >>> p = Promise(); p.set_result(3)
        >>> shortly.future_of(p).then(lambda x: x + 1).result()
        4
        """
        return self._future

    def __await__(self) -> Generator[Any, None, T]:
        """Await the promise from asyncio, trio or :func:`shortly.spawn` (new here).

        >>> import asyncio
        >>> from shortly.compat.quickrpc import Promise
        >>> p = Promise(); p.set_result("awaited")
        >>> async def main():
        ...     return await p
        >>> asyncio.run(main())
        'awaited'
        """
        return self._future.__await__()

    def result(self, timeout: float | None = 1.0) -> T:
        """Return the result, waiting for it if necessary (``timeout`` seconds).

        Raises:
            PromiseTimeoutError: if the promise is still unfulfilled after ``timeout``.
            PromiseDeadlockError: at once, if the promise is unfulfilled and this is its
                setter thread (or the wait would close a cycle of such waits).
            TypeError: if ``timeout`` is not a number or ``None``.
            Exception: the exception the issuer gave, if the promise failed.

        >>> from shortly.compat.quickrpc import Promise
        >>> p = Promise(); p.set_exception(KeyError("sold out"))
        >>> p.result()
        Traceback (most recent call last):
        ...
        KeyError: 'sold out'
        """
        future = self._future
        # wait() first, then result(): a DeadlockError or TimeoutError that the issuer
        # set as the outcome must reach the caller as it is, not be translated.
        try:
            done = future.wait(timeout)
        except DeadlockError as error:
            raise PromiseDeadlockError(str(error)) from None
        if not done:
            raise PromiseTimeoutError(f"the promise was not fulfilled within {timeout} seconds")
        return future.result()

    def set_result(self, val: T) -> None:
        """called by the promise issuer to set the result.

        Raises:
            PromiseDoneError: if a result or exception was already set.

        >>> from shortly.compat.quickrpc import Promise
        >>> p = Promise(); p.set_result([1, 2]); p.result()
        [1, 2]
        """
        if not self._future.try_set_result(val):
            self._already_done()

    def set_exception(self, exception: BaseException) -> None:
        """called by the promise issuer to indicate failure.

        Raises:
            PromiseDoneError: if a result or exception was already set.
            TypeError: if ``exception`` is not an exception instance.

        >>> from shortly.compat.quickrpc import Promise
        >>> p = Promise(); p.set_exception(ValueError("bad order"))
        >>> p.then(print)    # no errback: the callback receives the exception
        bad order
        <Future ...>
        """
        if not self._future.try_set_exception(exception):
            self._already_done()

    def _already_done(self) -> None:
        # A promise cancelled through its shortly future ignores late results, as
        # every shortly future does: the producer must not crash for it.
        if not self._future.cancelled():
            raise PromiseDoneError(f"{self!r} already has a result or exception")

    def then(
        self,
        callback: Callable[[Any], Any],
        errback: Callable[[BaseException], Any] | None = None,
    ) -> Future[Any]:
        """set handler to run as soon as the result is set.

        ``callback`` takes the result as single argument. ``errback``, if given, is
        called with the exception if the promise fails; if not given, the exception is
        passed to ``callback`` as the result. If the result already arrived, the
        handler is called immediately, in this thread.

        Returns:
            a :class:`shortly.Future` of what the handler returns (or raises): new in
            this module, ignored by code written for quickrpc.

        Raises:
            TypeError: if ``callback`` or ``errback`` is not callable.

        >>> from shortly.compat.quickrpc import Promise
        >>> p = Promise()
        >>> _ = p.then(lambda v: print("got", v), lambda e: print("failed:", e))
        >>> p.set_result("soup")
        got soup
        """
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        return self._future.then(callback, callback if errback is None else errback)

    def __repr__(self) -> str:
        return f"<Promise wrapping {self._future!r}>"
