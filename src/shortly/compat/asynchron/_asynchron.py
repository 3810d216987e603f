"""cs.asynchron's ``Asynchron`` (alias ``Result``): a :class:`shortly.Future` you call.

Calling it is the core's blocking ``result()``; ``.result = v``, ``put(v)``,
``.exc_info = (t, v, tb)`` and ``raise_()`` resolve the future; :meth:`~Asynchron.notify`
is a done-callback and :func:`report` is :func:`shortly.as_completed`.
"""

from __future__ import annotations

import itertools
import logging
import sys
import threading
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from ..._core import Future, fail
from ..._errors import CancelledError

__all__ = [
    "ASYNCH_CANCELLED",
    "ASYNCH_PENDING",
    "ASYNCH_READY",
    "ASYNCH_RUNNING",
    "Asynchron",
    "CancellationError",
    "Result",
]

T = TypeVar("T")

ASYNCH_PENDING = 0  #: not ready, nothing computing it
ASYNCH_RUNNING = 1  #: ``call()`` is computing it
ASYNCH_READY = 2  #: completed with a value or an exception
ASYNCH_CANCELLED = 3  #: cancelled

_log = logging.getLogger("shortly.compat.asynchron")
_names = itertools.count(1)
_names_lock = threading.Lock()

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class CancellationError(RuntimeError, CancelledError):
    """Raised when calling, or reading ``.result``/``.exc_info`` of, a cancelled Asynchron.

    A :class:`RuntimeError` as in the original, and also a :class:`shortly.CancelledError`.

    >>> from shortly.compat.asynchron import Asynchron, CancellationError
    >>> A = Asynchron(name="job")
    >>> A.cancel()
    True
    >>> try:
    ...     A()
    ... except CancellationError as e:
    ...     print(e)
    job: cancelled
    """

    def __init__(self, msg: object = None) -> None:
        super().__init__("cancelled" if msg is None else msg)


class Asynchron(Generic[T]):
    """A callable that receives its value later: calling it blocks until then.

    Args:
        name: a name for messages and ``repr`` (default ``"Asynchron-N"``).
        final: called with no arguments once the Asynchron completes, however it
            completes (value, exception or cancellation), before the notifiers.
        lock: the lock that guards completing it (default: a new ``threading.Lock``);
            pass one lock to several Asynchrons to serialise their completions.
        result: if not None, the Asynchron starts out completed with this value.

    Raises:
        TypeError: if ``name`` is not a str, ``final`` is not callable, or ``lock`` has
            no ``acquire``/``release``.

    >>> import threading
    >>> from shortly.compat.asynchron import Asynchron
    >>> A = Asynchron(name="my demo")
    >>> threading.Thread(target=setattr, args=(A, "result", 3)).start()
    >>> A()          # blocks until the other thread assigns the result
    3
    >>> A()          # later callers return at once
    3
    """

    __slots__ = ("_future", "_lock", "_running", "final", "name")

    def __init__(
        self,
        name: str | None = None,
        final: Callable[[], object] | None = None,
        lock: Any = None,
        result: T | None = None,
    ) -> None:
        if name is None:
            with _names_lock:
                name = f"{type(self).__name__}-{next(_names)}"
        elif not isinstance(name, str):
            raise TypeError(f"name must be a str or None, not {type(name).__name__}")
        if final is not None and not callable(final):
            raise TypeError(f"final must be callable or None, not {type(final).__name__}")
        if lock is None:
            lock = threading.Lock()
        elif not all(callable(getattr(lock, method, None)) for method in ("acquire", "release")):
            raise TypeError(f"lock must have acquire() and release(), not {type(lock).__name__}")
        self.name = name
        self.final = final
        self._lock = lock
        self._future: Future[T] = Future()
        # Only ever set from False to True (by call()), and read as part of a snapshot
        # of the state: no decision is taken on it, so it needs no lock.
        self._running = False
        # First of the done-callbacks, so it runs before every notifier.
        self._future.add_done_callback(self._run_final)
        if result is not None:
            self.result = result

    def _run_final(self, _: Future[T]) -> None:
        final = self.final
        if final is None:
            return
        try:
            answer = final()
        except Exception:
            _log.exception("%s: exception from .final()", self.name)
        else:
            if answer is not None:
                _log.warning("%s: discarding non-None result from .final(): %r", self.name, answer)

    def __shortly_future__(self) -> Future[T]:
        """The :class:`shortly.Future` behind this Asynchron (see :func:`shortly.future_of`).

        >>> import shortly
        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); A.result = 2
        >>> shortly.future_of(A).then(lambda x: x * 21).result()
        42
        """
        return self._future

    def __await__(self) -> Generator[Any, None, T]:
        """Await the value from asyncio, trio or :func:`shortly.spawn` (new here).

        >>> import asyncio
        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); A.result = "awaited"
        >>> async def main():
        ...     return await A
        >>> asyncio.run(main())
        'awaited'
        """
        return self._future.__await__()

    def __repr__(self) -> str:
        names = {0: "pending", 1: "running", 2: "ready", 3: "cancelled"}
        return f"<{type(self).__name__} {self.name!r} {names[self.state]}>"

    # -- state ----------------------------------------------------------------------

    @property
    def state(self) -> int:
        """One of ``ASYNCH_PENDING``, ``ASYNCH_RUNNING``, ``ASYNCH_READY``, ``ASYNCH_CANCELLED``.

        >>> from shortly.compat.asynchron import Asynchron, ASYNCH_PENDING, ASYNCH_READY
        >>> A = Asynchron()
        >>> A.state == ASYNCH_PENDING
        True
        >>> A.result = "x"
        >>> A.state == ASYNCH_READY
        True
        """
        future = self._future
        if future.cancelled():
            return ASYNCH_CANCELLED
        if future.done():
            return ASYNCH_READY
        return ASYNCH_RUNNING if self._running else ASYNCH_PENDING

    @property
    def pending(self) -> bool:
        """True while nothing has completed it and no ``call()`` is computing it.

        >>> from shortly.compat.asynchron import Asynchron
        >>> Asynchron().pending
        True
        """
        return self.state == ASYNCH_PENDING

    @property
    def running(self) -> bool:
        """True while ``call()`` is computing the value.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron()
        >>> A.call(lambda: A.running)
        >>> A()
        True
        """
        return self.state == ASYNCH_RUNNING

    @property
    def ready(self) -> bool:
        """True once completed: with a value, an exception, or by cancellation.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); _ = A.cancel()
        >>> A.ready, A.cancelled
        (True, True)
        """
        return self._future.done()

    @property
    def cancelled(self) -> bool:
        """True if the Asynchron was cancelled.

        >>> from shortly.compat.asynchron import Asynchron
        >>> Asynchron().cancelled
        False
        """
        return self._future.cancelled()

    # -- completing -------------------------------------------------------------------

    @property
    def result(self) -> T:
        """The value: assign to complete the Asynchron, read once it is ready.

        Raises:
            AttributeError: if it is not ready yet.
            CancellationError: if it was cancelled.
            Exception: the recorded exception, if it completed with one.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron()
        >>> hasattr(A, "result")
        False
        >>> A.result = 42
        >>> A.result
        42
        """
        if not self._future.done():
            raise AttributeError(f"{self.name}: not ready: no .result attribute")
        self._check_cancelled()
        return self._future.result()

    @result.setter
    def result(self, value: T) -> None:
        with self._lock:
            completed = self._future.try_set_result(value)
        if not completed:
            self._late("result", value)

    def put(self, value: T) -> None:
        """Complete the Asynchron with ``value``: ``.result = value``, Queue style.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); A.put("delivered")
        >>> A.get()
        'delivered'
        """
        self.result = value

    @property
    def exc_info(self) -> ExcInfo | None:
        """``(type, value, traceback)`` of the recorded exception, or None if it succeeded.

        Assign such a triple (as :func:`sys.exc_info` returns) to complete the
        Asynchron with that exception.

        Raises:
            AttributeError: when reading, if it is not ready yet.
            CancellationError: when reading, if it was cancelled.
            TypeError: when assigning anything but an exception triple.

        >>> import sys
        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron()
        >>> try:
        ...     1 / 0
        ... except ZeroDivisionError:
        ...     A.exc_info = sys.exc_info()
        >>> A.exc_info[0].__name__
        'ZeroDivisionError'
        >>> A()
        Traceback (most recent call last):
        ...
        ZeroDivisionError: division by zero
        """
        if not self._future.done():
            raise AttributeError(f"{self.name}: not ready: no .exc_info attribute")
        self._check_cancelled()
        error = self._future.exception()
        return None if error is None else (type(error), error, error.__traceback__)

    @exc_info.setter
    def exc_info(self, exc_info: ExcInfo) -> None:
        error = _exception_of(exc_info)
        with self._lock:
            completed = fail(self._future, error)
        if not completed:
            self._late("exc_info", exc_info)

    def raise_(self, exc: BaseException | type[BaseException] | None = None) -> None:
        """Complete with the exception ``exc`` (a class or an instance), or, with no
        argument, with the exception being handled.

        The exception gets a traceback from being raised here, as in the original.

        Raises:
            ValueError: if ``exc`` is omitted outside an ``except`` block.
            TypeError: if ``exc`` is not an exception class or instance.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron()
        >>> A.raise_(KeyError("missing"))
        >>> A.get(default="fallback"), A.exc_info[0].__name__
        ('fallback', 'KeyError')
        """
        if exc is None:
            current = sys.exc_info()
            if current[1] is None:
                raise ValueError("raise_() with no exception given and none being handled")
            self.exc_info = current
            return
        if not (
            isinstance(exc, BaseException)
            or (isinstance(exc, type) and issubclass(exc, BaseException))
        ):
            raise TypeError(f"exc must be an exception class or instance, not {type(exc).__name__}")
        try:
            raise exc
        except BaseException as error:
            self.exc_info = (type(error), error, error.__traceback__)

    def _late(self, what: str, value: object) -> None:
        # The original keeps the first outcome and warns; a cancelled one ignores it
        # quietly, as every shortly future does.
        if not self._future.cancelled():
            _log.warning("%s: already complete, ignoring .%s = %r", self, what, value)

    def call(self, func: Callable[..., T], *a: Any, **kw: Any) -> None:
        """Compute the value: ``func(*a, **kw)``, or the exception it raises.

        The Asynchron is ``running`` meanwhile. ``KeyboardInterrupt`` and
        ``SystemExit`` are recorded and then re-raised.

        Raises:
            TypeError: if ``func`` is not callable.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron()
        >>> A.call(sum, [1, 2, 3])
        >>> A()
        6
        >>> B = Asynchron(); B.call(int, "seven")
        >>> B.exc_info[0].__name__
        'ValueError'
        """
        if not callable(func):
            raise TypeError(f"func must be callable, not {type(func).__name__}")
        self._running = True
        try:
            value = func(*a, **kw)
        except BaseException as error:
            self.exc_info = (type(error), error, error.__traceback__)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            self.result = value

    def cancel(self) -> bool:
        """Cancel: True if pending, running or already cancelled; False once ready.

        Every caller, waiting or later, then raises :class:`CancellationError`. A
        ``call()`` still running finishes, and its value is dropped.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); A.result = 1
        >>> A.cancel()
        False
        """
        with self._lock:
            return self._future.cancel(f"{self.name}: cancelled")

    # -- collecting -------------------------------------------------------------------

    def empty(self) -> bool:
        """True while not ready: the Queue-like spelling of ``not ready``.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); before = A.empty(); A.put(1)
        >>> before, A.empty()
        (True, False)
        """
        return not self._future.done()

    def join(self) -> tuple[T | None, ExcInfo | None]:
        """Block until ready; return ``(result, None)``, ``(None, exc_info)`` if it
        failed, or ``(None, None)`` if it was cancelled. Never raises the failure.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); A.call(int, "x")
        >>> result, exc_info = A.join()
        >>> result, exc_info[0].__name__
        (None, 'ValueError')
        """
        future = self._future
        future.wait()
        if future.cancelled():
            return None, None
        error = future.exception()  # read: the caller has been handed the failure
        if error is None:
            return future.result(), None
        return None, (type(error), error, error.__traceback__)

    def get(self, default: Any = None) -> Any:
        """Block until ready; the value, or ``default`` if it failed or was cancelled.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); _ = A.cancel()
        >>> A.get(default="none")
        'none'
        """
        result, exc_info = self.join()
        if exc_info is not None or self._future.cancelled():
            return default
        return result

    def __call__(self) -> T:
        """Block until the value arrives; return it, or re-raise the recorded exception.

        Raises:
            CancellationError: if the Asynchron is (or gets) cancelled.
            Exception: the recorded exception.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(); A.result = "ready"
        >>> A()
        'ready'
        """
        future = self._future
        future.wait()
        self._check_cancelled()
        return future.result()

    def _check_cancelled(self) -> None:
        if self._future.cancelled():
            raise CancellationError(f"{self.name}: cancelled")

    def notify(self, notifier: Callable[[Asynchron[T]], object]) -> None:
        """Call ``notifier(self)`` once complete; at once if it already is.

        The notifier runs in the thread that completes the Asynchron (or in this one).

        Raises:
            TypeError: if ``notifier`` is not callable.

        >>> from shortly.compat.asynchron import Asynchron
        >>> A = Asynchron(name="n")
        >>> A.notify(lambda a: print(a.name, "is", a()))
        >>> A.result = "done"
        n is done
        """
        if not callable(notifier):
            raise TypeError(f"notifier must be callable, not {type(notifier).__name__}")
        self._future.add_done_callback(lambda _: notifier(self))


#: The original's other name for :class:`Asynchron`.
Result = Asynchron


def _exception_of(exc_info: object) -> BaseException:
    """The exception of a ``(type, value, traceback)`` triple, with that traceback."""
    if not (isinstance(exc_info, tuple) and len(exc_info) == 3):
        raise TypeError(
            "exc_info must be a (type, value, traceback) tuple as sys.exc_info() returns, "
            f"not {type(exc_info).__name__}"
        )
    kind, error, traceback = exc_info
    if error is None and isinstance(kind, type) and issubclass(kind, BaseException):
        error = kind()
    if not isinstance(error, BaseException):
        raise TypeError(f"exc_info[1] must be an exception instance, not {type(error).__name__}")
    if traceback is not None and error.__traceback__ is not traceback:
        error = error.with_traceback(traceback)
    return error
