"""kaa's InProgress: a :class:`shortly.Future` seen as a Signal emitted when it settles.

``finish``/``throw`` resolve the future, one done-callback emits the signals (and
arranges the report of a failure nobody handled), ``abort`` is the core's cancel,
``waitfor`` and ``timeout`` are core chains and timers.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import sys
import threading
import traceback
import types
import weakref
from collections.abc import Callable, Generator
from typing import Any

from ..._adapt import adapter_for, future_of
from ..._chain import shield
from ..._checks import check_delay, check_timeout
from ..._core import Dependant, Future, cancel_message, depend, failure_of, follow, value_of, watch
from ..._timers import later
from . import main as _main
from ._exceptions import InProgressAborted, TimeoutException, _aborted, _report_unhandled
from ._signal import Signal, _ExceptionSignal, _Interest, _packed

__all__ = ["InProgress", "inprogress"]


class InProgress(Signal):
    """The result of an asynchronous task: a Signal emitted when the task finishes.

    Args:
        abortable: True to allow :meth:`abort` without an ``abort`` signal handler,
            False to forbid it, None (default) to allow it if there is a handler.

    >>> from shortly.compat import kaa
    >>> ip = kaa.InProgress()
    >>> ip.connect_both(lambda r: print("result:", r), lambda tp, exc, tb: print("failed:", exc))
    >>> ip.finish(42) is ip
    result: 42
    True
    >>> ip.finished, ip.failed, ip.result
    (True, False, 42)
    """

    __slots__ = ("_abortable", "_exception_signal", "_future", "progress", "signals")

    def __init__(self, abortable: bool | None = None) -> None:
        self._setup(Future(), abortable)

    def _setup(self, future: Future[Any], abortable: bool | None) -> None:
        if abortable is not None and not isinstance(abortable, bool):
            raise TypeError(f"abortable must be a bool or None, not {type(abortable).__name__}")
        Signal.__init__(self)
        self._future = future
        self._abortable = abortable
        #: The task's :class:`InProgressStatus` (``coroutine(progress=True)``), or None.
        self.progress: Any = None
        self._exception_signal = _ExceptionSignal(future)
        #: kaa's signals of an InProgress: ``abort`` is emitted with the exception by abort().
        self.signals = {"abort": Signal()}
        future.add_done_callback(Dependant(_Interest(self), self._settled))

    def _settled(self, future: Future[Any]) -> None:
        """The core future settled: emit the one signal that applies, close both."""
        self.signals["abort"]._close(None)  # a finished InProgress cannot be aborted
        if future.cancelled():
            error: BaseException | None = _aborted(future)
        else:
            error = failure_of(future)
        if error is None:
            self._exception_signal._close(None)
            value = (value_of(future),)
            self._deliver(self._close(value), value)
            return
        self._close(None)
        _format_traceback(error)
        info = (type(error), error, error.__traceback__)
        handlers = self._exception_signal._close(info)
        if handlers:
            self._exception_signal._deliver(handlers, info)
        elif not future.cancelled():
            # kaa's report for a failure nobody handles: when the InProgress is dropped,
            # unless the result is read (or a handler connected) before.
            finalizer = weakref.finalize(self, _report_unhandled, future, repr(self))
            finalizer.atexit = False

    def __shortly_future__(self) -> Future[Any]:
        """The :class:`shortly.Future` behind this InProgress (see :func:`shortly.future_of`).

        >>> import shortly
        >>> from shortly.compat import kaa
        >>> shortly.future_of(kaa.InProgress().finish("x")).result()
        'x'
        """
        return self._future

    def __await__(self) -> Generator[Any, None, Any]:
        """Await the InProgress from asyncio, trio or :func:`shortly.spawn` (new here).

        >>> import asyncio
        >>> from shortly.compat import kaa
        >>> async def main():
        ...     return await kaa.delay(0.01).timeout(5)
        >>> print(asyncio.run(main()))
        None
        """
        return self._future.__await__()

    def __inprogress__(self) -> InProgress:
        """An InProgress represents itself.

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress(); kaa.inprogress(ip) is ip
        True
        """
        return self

    def __repr__(self) -> str:
        state = "finished" if self.finished else "not finished"
        return f"<{type(self).__name__} object ({state}) at {id(self):#x}>"

    def connect_both(
        self,
        finished: Callable[..., Any],
        exception: Callable[[Any, Any, Any], Any] | None = None,
    ) -> None:
        """Connect ``finished`` to the result and ``exception`` to the exception signal.

        Without ``exception``, ``finished`` is connected to both (so it must accept
        either one argument or three).

        Raises:
            TypeError: if a callback is not callable.

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress()
        >>> ip.connect_both(print, lambda tp, exc, tb: print("failed:", exc))
        >>> _ = ip.throw(OSError, OSError("offline"), None)
        failed: offline
        """
        self.connect(finished)
        self._exception_signal.connect(finished if exception is None else exception)

    # -- the outcome ----------------------------------------------------------------

    @property
    def exception(self) -> Signal:
        """A Signal emitted with ``(tp, exc, tb)`` if the task raises an exception.

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress()
        >>> ip.exception.connect(lambda tp, exc, tb: print(tp.__name__, exc))
        >>> _ = ip.throw(KeyError, KeyError("k"), None)
        KeyError 'k'
        """
        return self._exception_signal

    @property
    def finished(self) -> bool:
        """True once the InProgress finished: with a result, an exception or an abort.

        >>> from shortly.compat import kaa
        >>> kaa.InProgress().finished
        False
        """
        return self._future.done()

    @property
    def failed(self) -> bool:
        """True if it finished with an exception (an abort included).

        >>> from shortly.compat import kaa
        >>> kaa.InProgress().execute(int, "x").failed
        True
        """
        future = self._future
        return future.cancelled() or failure_of(future) is not None

    @property
    def result(self) -> Any:
        """The result; raises the exception if the task failed.

        Raises:
            RuntimeError: if it is not finished yet.
            BaseException: the task's exception (:class:`InProgressAborted` if aborted).

        >>> from shortly.compat import kaa
        >>> kaa.InProgress().finish([1]).result
        [1]
        """
        future = self._future
        if not future.done():
            raise RuntimeError("operation not finished")
        if future.cancelled():
            raise _aborted(future)
        return future.result()

    # -- finishing ------------------------------------------------------------------

    def emit(self, *args: Any) -> bool:
        """Emitting an InProgress finishes it (with the argument, or a tuple of them).

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress(); _ = ip.emit("done")
        >>> ip.result
        'done'
        """
        self.finish(_packed(args))
        return True

    def finish(self, result: Any) -> InProgress:
        """Finish with ``result`` and emit; an unfinished InProgress is waited for first.

        Returns self, so ``return InProgress().finish(42)`` works.

        Raises:
            RuntimeError: if it is already finished (an aborted one ignores it).

        >>> from shortly.compat import kaa
        >>> inner = kaa.InProgress()
        >>> outer = kaa.InProgress().finish(inner)    # waits for inner
        >>> outer.finished, inner.finish(5).result, outer.result
        (False, 5, 5)
        """
        if isinstance(result, InProgress) and result is not self:
            if self._future.done():
                self._already_finished()
            self.waitfor(result)
        elif not self._future.try_set_result(result):
            self._already_finished()
        return self

    def _already_finished(self) -> None:
        if not self._future.cancelled():
            raise RuntimeError(f"{self!r} already finished")

    def throw(
        self,
        type: builtins.type[BaseException] | None = None,
        value: BaseException | None = None,
        tb: types.TracebackType | None = None,
    ) -> InProgress:
        """Finish with an exception, given as ``sys.exc_info()`` parts; returns self.

        With no arguments, the exception being handled is thrown.

        Raises:
            ValueError: if called with no arguments outside an ``except`` block.
            RuntimeError: if it is already finished (an aborted one ignores it).

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress()
        >>> try:
        ...     {}["missing"]
        ... except KeyError:
        ...     _ = ip.throw()
        >>> ip.failed
        True
        >>> ip.result
        Traceback (most recent call last):
        ...
        KeyError: 'missing'
        """
        if type is None and value is None:
            type, value, tb = sys.exc_info()
            if value is None:
                raise ValueError("throw() with no parameters but there is no current exception")
        if value is None:
            if not (isinstance(type, builtins.type) and issubclass(type, BaseException)):
                raise TypeError(f"type must be an exception class, not {type!r}")
            value = type()
        if not isinstance(value, BaseException):
            raise TypeError(f"value must be an exception instance, not {builtins.type(value)}")
        if tb is not None and value.__traceback__ is not tb:
            value = value.with_traceback(tb)
        if isinstance(value, StopIteration):  # it cannot travel through a future
            wrapped = RuntimeError("StopIteration thrown into an InProgress")
            wrapped.__cause__ = value
            value = wrapped
        _format_traceback(value)
        if not self._future.try_set_exception(value):
            self._already_finished()
        return self

    def execute(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> InProgress:
        """Finish with ``func(*args, **kwargs)``, or throw what it raises; returns self.

        ``KeyboardInterrupt`` and ``SystemExit`` are thrown and then re-raised.

        >>> from shortly.compat import kaa
        >>> kaa.InProgress().execute(max, 3, 7).result
        7
        """
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            self.throw(builtins.type(error), error, error.__traceback__)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            self.finish(result)
        return self

    def waitfor(self, inprogress: Any) -> None:
        """Finish this InProgress as ``inprogress`` finishes (result or exception).

        >>> from shortly.compat import kaa
        >>> first, second = kaa.InProgress(), kaa.InProgress()
        >>> second.waitfor(first)
        >>> _ = first.finish("relayed"); second.result
        'relayed'
        """
        source = _inprogress_of(inprogress)._future
        target = self._future
        depend(source, target, functools.partial(follow, target))

    # -- aborting, time limits, waiting ---------------------------------------------

    @property
    def abortable(self) -> bool:
        """Whether :meth:`abort` may be called: set explicitly, or an abort handler exists.

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress()
        >>> ip.abortable
        False
        >>> ip.signals["abort"].connect(lambda exc: print("stopping"))
        >>> ip.abortable
        True
        """
        explicit = self._abortable
        return bool(explicit) or (explicit is None and self.signals["abort"].count() > 0)

    @abortable.setter
    def abortable(self, abortable: bool) -> None:
        self._abortable = abortable

    def abort(self, exc: InProgressAborted | None = None) -> None:
        """Abort the task: emit the ``abort`` signal, then throw ``exc`` into this InProgress.

        Raises:
            ValueError: if ``exc`` is not an :class:`InProgressAborted`.
            RuntimeError: if it is already finished, is not abortable, or an ``abort``
                handler returned False.

        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgress(abortable=True)
        >>> ip.abort()
        >>> ip.result
        Traceback (most recent call last):
        ...
        shortly.compat.kaa.InProgressAborted: InProgress task aborted by abort()
        """
        if exc is None:
            exc = InProgressAborted("InProgress task aborted by abort()", inprogress=self)
        elif not isinstance(exc, InProgressAborted):
            raise ValueError(f"exc must be an InProgressAborted, not {type(exc).__name__}")
        if self.finished:
            raise RuntimeError("InProgress is already finished.")
        if not self.abortable or self.signals["abort"].emit(exc) is False:
            raise RuntimeError(f"{self!r} cannot be aborted.")
        if exc.inprogress is None:
            exc.inprogress = self
        if exc.origin is None:
            exc.origin = self
        future = self._future
        if self._cancel_for_abort(exc) or not future.done():
            return  # aborted, or a running coroutine gets it at its next wait
        ended_with = cancel_message(future) if future.cancelled() else failure_of(future)
        if ended_with is not exc:  # it finished otherwise while the handlers ran
            raise RuntimeError("InProgress is already finished.")

    def _cancel_for_abort(self, exc: InProgressAborted) -> bool:
        return self._future.cancel(exc)

    def noabort(self) -> InProgress:
        """A new InProgress that finishes as this one does but cannot be aborted.

        Hand it to code that must not be able to abort the task.

        >>> from shortly.compat import kaa
        >>> task = kaa.InProgress(abortable=True)
        >>> guarded = task.noabort()
        >>> try:
        ...     guarded.abort()
        ... except RuntimeError:
        ...     print("refused")
        refused
        >>> task.finished, task.finish(1).result, guarded.result
        (False, 1, 1)
        """
        # Shielded: a coroutine aborted while it waits on the copy gives up the copy
        # only, never the task (kaa's abort of a non-abortable prerequisite failed).
        return _wrap(shield(self._future), abortable=False)

    def timeout(
        self, timeout: float, callback: Callable[[], object] | None = None, abort: bool = False
    ) -> InProgress:
        """A new InProgress that finishes like this one, or throws after ``timeout`` seconds.

        On timeout, ``callback()`` is called first; with ``abort`` this InProgress is
        aborted too; then :class:`TimeoutException` is thrown into the new one. Without
        a timeout, this InProgress is left alone.

        Raises:
            TypeError: if ``timeout`` is not a number or ``callback`` not callable.
            ValueError: if ``timeout`` is negative or not finite.

        >>> from shortly.compat import kaa
        >>> kaa.delay(0).timeout(5).wait(timeout=5) is None
        True
        """
        seconds = check_delay(timeout, "timeout")
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, not {type(callback).__name__}")
        # Aborting the result reaches the original only with abort=True (see shield).
        source = self._future if abort else shield(self._future)
        ip = InProgress(abortable=True)
        out = ip._future

        def expire() -> None:  # on the timer thread
            if out.done():
                return
            if callback is not None:
                callback()
            error = TimeoutException(
                f"InProgress timed out after {seconds:.02f} seconds", inprogress=self
            )
            if abort:
                self._cancel_for_abort(error)  # as abort() would, minus its veto
            out.try_set_exception(error)

        timer = later(seconds, expire)
        watch(out, lambda _: timer.cancel())
        depend(source, out, functools.partial(follow, out))
        return ip

    def wait(self, timeout: float | None = None) -> Any:
        """Block until finished; return the result or raise the exception.

        Raises:
            TimeoutException: if ``timeout`` seconds pass first.
            shortly.DeadlockError: if this thread is the one that must finish it.

        >>> from shortly.compat import kaa
        >>> kaa.delay(0.01).wait(timeout=5) is None
        True
        """
        future = self._future
        if _main._loop.owns(threading.current_thread()):
            # The main thread keeps the main loop going while it waits, as in kaa:
            # what it waits for may need a main-thread call to finish.
            finished = _main._loop.wait_for(future, check_timeout(timeout))
        else:
            finished = future.wait(timeout)
        if not finished:
            raise TimeoutException("Timed out", inprogress=self)
        return self.result


def _format_traceback(error: BaseException) -> None:
    """Give ``error`` kaa's ``formatted_traceback``: its traceback as text."""
    if getattr(error, "formatted_traceback", None) is None:
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        # An exception type that takes no attributes keeps none.
        with contextlib.suppress(AttributeError, TypeError):
            error.formatted_traceback = text.strip()  # type: ignore[attr-defined]


def _wrap(future: Future[Any], abortable: bool | None = True) -> InProgress:
    """An InProgress showing ``future`` (which was made for it or is shared)."""
    ip = InProgress.__new__(InProgress)
    ip._setup(future, abortable)
    return ip


def _next_emission(signal: Signal) -> InProgress:
    """A Signal's next emission as an InProgress (``Signal.__inprogress__``)."""
    ip = InProgress(abortable=True)
    future = ip._future

    def emitted(*args: Any) -> None:
        future.try_set_result(_packed(args))

    signal.connect_once(emitted)
    # Aborted or finished otherwise: leave nothing connected to the signal.
    watch(future, lambda _: signal.disconnect(emitted))
    return ip


Signal._next_emission = _next_emission


def inprogress(obj: Any) -> InProgress:
    """The InProgress representing ``obj``: ``obj.__inprogress__()``.

    An InProgress is returned as it is. Any future :func:`shortly.future_of` adapts is
    shown as an InProgress too (new in this module).

    Raises:
        TypeError: if ``obj`` has no ``__inprogress__`` and is not a future.

    >>> import shortly
    >>> from shortly.compat import kaa
    >>> kaa.inprogress(shortly.Future.resolved(5)).result
    5
    >>> kaa.inprogress(5)
    Traceback (most recent call last):
    ...
    TypeError: object of type 'int' has no __inprogress__()
    """
    method = getattr(obj, "__inprogress__", None)
    if method is not None:
        return method()  # type: ignore[no-any-return]
    if isinstance(obj, Future) or adapter_for(type(obj)) is not None:
        return _wrap(future_of(obj))
    raise TypeError(f"object of type '{type(obj).__name__}' has no __inprogress__()")


# waitfor's argument is named ``inprogress``, as in kaa, hiding the function of that name.
_inprogress_of = inprogress
