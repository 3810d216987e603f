"""kaa's ``InProgress`` signals and generator coroutines, on shortly's core.

Change ``import kaa`` to ``from shortly.compat import kaa``.

An :class:`InProgress` is a view of a :class:`shortly.Future`: ``finish``/``throw``
resolve it, one done-callback emits the signals, ``waitfor`` and ``timeout`` are core
chains and timers, ``abort`` is the core's cancel (its ``InProgressAborted`` travels
as the cancel message), :class:`InProgressAny` and :class:`InProgressAll` are
:func:`shortly.race` and :func:`shortly.settled`, and :func:`coroutine` runs the
generator with :func:`shortly.spawn`. There is no main loop: callbacks run in the
thread that finishes the InProgress, a coroutine resumes in the thread that finishes
what it yielded, and ``wait()`` blocks the calling thread.

Follows the original:

* An InProgress is a :class:`Signal`: ``connect(callback, *args, **kwargs)`` callbacks
  get the result; the ``exception`` signal's handlers get ``(tp, exc, tb)``;
  ``connect_both`` connects both. ``finished``, ``failed`` and ``result`` (which
  raises the exception) report the outcome.
* ``finish(result)`` returns self; finishing with an unfinished InProgress waits for it
  (``waitfor``); finishing twice raises ``RuntimeError``. ``throw()`` with no
  arguments throws the exception being handled.
* ``execute(func, *args, **kwargs)`` finishes with what ``func`` returns or raises.
* ``abort(exc=None)`` throws :class:`InProgressAborted` (``RuntimeError`` if finished
  or not abortable: abortable means ``abortable=True`` or a handler on the ``abort``
  signal, and coroutines, timeouts and delays are). ``timeout(seconds, callback=None,
  abort=False)`` throws :class:`TimeoutException`. ``wait(timeout=None)`` returns the
  result or raises. ``InProgressAborted`` and ``TimeoutException`` derive from
  ``BaseException``.
* :class:`InProgressAny` finishes with ``(index, result)`` of the first to finish (a
  failure as ``(index, (tp, exc, tb))``); :class:`InProgressAll` finishes with itself
  once every child has finished or failed (at once if empty), and iterates its children.
* :func:`inprogress` calls ``__inprogress__``; a :class:`Signal`'s InProgress finishes
  at its next emission. :func:`delay` finishes after a number of seconds.
* ``@coroutine()`` generators yield an InProgress to wait for it (its exception is
  raised at the ``yield``), ``NotFinished`` to be resumed later, and any other value to
  finish with it. A coroutine that fails before its first wait raises to the caller.
* A failure nobody handled (no exception handler, ``result`` never read, not caught in
  a coroutine) is reported with the heading "Unhandled asynchronous exception." when
  the InProgress is dropped, on the ``shortly`` logger and to
  :func:`shortly.set_unhandled_handler`.

Differs, on purpose:

* A callback connected after the InProgress finished is called at once (the original
  called it only if nobody had been connected at the finish, and otherwise never).
* Finishing or throwing into an aborted InProgress is a quiet no-op, as resolving a
  cancelled shortly future is (the producer must not crash because a consumer lost
  interest); throwing into a finished one raises ``RuntimeError`` instead of silently
  replacing the outcome.
* A callback that raises is reported as an unhandled failure and the other callbacks
  still run; the original let it escape into whoever finished the InProgress.
* :class:`InProgressAny` and :class:`InProgressAll` watch their children at once rather
  than only once something is connected to them. An empty ``InProgressAny``, which the
  original left unfinished for ever, raises ``ValueError``.
* ``timeout(abort=True)`` aborts the original even if it is not abortable; aborting the
  InProgress it returns aborts the original only if nothing else waits for it.
* ``@coroutine`` takes only ``interval`` (no policies, progress or groups); the
  interval applies after ``NotFinished``.
"""

from __future__ import annotations

import builtins
import functools
import sys
import threading
import types
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, overload

from .._adapt import adapter_for, future_of
from .._cancel import Dependant, depend
from .._chain import follow, shield
from .._combine import race, settled
from .._errors import CancelledError
from .._future import Future, lock_of
from .._report import report
from .._spawn import spawn
from .._timers import check_delay, later, sleep

__all__ = [
    "CoroutineInProgress",
    "InProgress",
    "InProgressAborted",
    "InProgressAll",
    "InProgressAny",
    "NotFinished",
    "Signal",
    "TimeoutException",
    "coroutine",
    "delay",
    "inprogress",
]

ExcInfo = tuple[type[BaseException], BaseException, types.TracebackType | None]
_Entry = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], bool]
_OPEN: Any = object()  # a signal that has not been closed by its InProgress finishing


class InProgressAborted(BaseException):
    """Thrown into an InProgress (and into a coroutine) by :meth:`InProgress.abort`.

    A ``BaseException``, like ``KeyboardInterrupt``: ``except Exception`` does not
    swallow an abort. ``inprogress`` is the InProgress aborted, ``origin`` the one
    ``abort()`` was called on.

    >>> from shortly.compat import kaa
    >>> issubclass(kaa.InProgressAborted, Exception)
    False
    """

    def __init__(self, *args: Any, inprogress: Any = None, origin: Any = None) -> None:
        super().__init__(*args)
        self.inprogress = inprogress
        self.origin = origin


class TimeoutException(InProgressAborted):
    """Thrown into the InProgress returned by :meth:`InProgress.timeout` when time runs out.

    Its ``inprogress`` is the original InProgress, which can be aborted from there.

    >>> from shortly.compat import kaa
    >>> ip = kaa.InProgress()
    >>> try:
    ...     ip.timeout(0.01).wait(timeout=5)
    ... except kaa.TimeoutException as e:
    ...     print(e.inprogress is ip)
    True
    """


class _NotFinished:
    __slots__ = ()

    def __repr__(self) -> str:
        return "kaa.NotFinished"


#: Yielded by a :func:`coroutine` to be resumed after its interval.
NotFinished: Any = _NotFinished()


def _packed(args: tuple[Any, ...]) -> Any:
    """What an emission with ``args`` finishes an InProgress with (kaa's rule)."""
    return None if not args else args[0] if len(args) == 1 else args


class Signal:
    """A list of callbacks, called by :meth:`emit`: the minimal kaa ``Signal``.

    >>> from shortly.compat import kaa
    >>> clicked = kaa.Signal()
    >>> clicked.connect(print, "(from the button)")
    >>> clicked.emit("click")
    click (from the button)
    True
    """

    __slots__ = ("__weakref__", "_callbacks", "_final", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[_Entry] = []
        # Once the owning InProgress finishes: the arguments a late callback is called
        # with at once, or None if it is never called.
        self._final: Any = _OPEN

    def connect(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call ``callback(*emitted, *args, **kwargs)`` on each emission.

        Raises:
            TypeError: if ``callback`` is not callable.

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal(); s.connect(print, "and", sep="-")
        >>> _ = s.emit("this")
        this-and
        """
        self._connect(callback, args, kwargs, once=False)

    def connect_once(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Like :meth:`connect`, for the next emission only.

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal(); s.connect_once(print)
        >>> s.emit(1); s.emit(2)
        1
        True
        True
        """
        self._connect(callback, args, kwargs, once=True)

    def _connect(
        self,
        callback: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        once: bool,
    ) -> None:
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        with self._lock:
            final = self._final
            if final is _OPEN:
                self._callbacks.append((callback, args, kwargs, once))
                return
        if final is not None:
            self._deliver([(callback, args, kwargs, once)], final)

    def disconnect(self, callback: Callable[..., Any]) -> bool:
        """Remove every connection of ``callback``; tell whether there was one.

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal(); s.connect(print)
        >>> s.disconnect(print), s.count()
        (True, 0)
        """
        with self._lock:
            kept = [entry for entry in self._callbacks if entry[0] != callback]
            removed = len(kept) != len(self._callbacks)
            self._callbacks = kept
        return removed

    def count(self) -> int:
        """How many callbacks are connected (also ``len(signal)``).

        >>> from shortly.compat import kaa
        >>> kaa.Signal().count()
        0
        """
        with self._lock:
            return len(self._callbacks)

    def __len__(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return True  # a signal with no callbacks is still a signal, not a false value

    def emit(self, *args: Any) -> bool:
        """Call the connected callbacks with ``args``; False if one of them returned False.

        A callback that raises is reported as an unhandled failure (see
        :func:`shortly.set_unhandled_handler`) and the others still run.

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal(); s.connect(lambda x: x > 0)
        >>> s.emit(1), s.emit(-1)
        (True, False)
        """
        with self._lock:
            entries = self._callbacks
            self._callbacks = [entry for entry in entries if not entry[3]]
        return self._deliver(entries, args)

    def _close(self, final: tuple[Any, ...] | None) -> list[_Entry]:
        """Take the callbacks for a last emission; later ones get ``final`` at once."""
        with self._lock:
            self._final = final
            entries, self._callbacks = self._callbacks, []
        return entries

    def _deliver(self, entries: list[_Entry], args: tuple[Any, ...]) -> bool:
        answer = True
        for callback, extra, kwargs, _once in entries:
            try:
                if callback(*args, *extra, **kwargs) is False:
                    answer = False
            except BaseException as error:
                report(error, "a kaa signal callback raised", repr(callback))
                if isinstance(error, (KeyboardInterrupt, SystemExit)):
                    raise
        return answer

    def __inprogress__(self) -> InProgress:
        """An InProgress finished by the next emission (with its argument, or a tuple).

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal()
        >>> ip = kaa.inprogress(s)
        >>> s.emit("payload")
        True
        >>> ip.result
        'payload'
        """
        ip = InProgress(abortable=True)
        future = ip._future

        def emitted(*args: Any) -> None:
            future.try_set_result(_packed(args))

        self.connect_once(emitted)
        # Aborted or finished otherwise: leave nothing connected to the signal.
        future.add_done_callback(Dependant(_BYSTANDER, lambda _: self.disconnect(emitted)))
        return ip


class _Bystander:
    """The child of a hook that wants nothing from the future it watches (see _cancel)."""

    __slots__ = ()

    def cancelled(self) -> bool:
        return True


_BYSTANDER = _Bystander()


class _Interest:
    """Whether anyone is connected to an InProgress: the upward cancel rule asks this.

    A coroutine awaiting an InProgress gives it up when aborted; the InProgress is then
    aborted too unless a callback or handler is still connected to it.
    """

    __slots__ = ("ip",)

    def __init__(self, ip: InProgress) -> None:
        self.ip = ip

    def cancelled(self) -> bool:
        ip = self.ip
        return not (ip.count() or ip._exception_signal.count())


class _ExceptionSignal(Signal):
    """The ``exception`` signal: delivering to a handler marks the failure as handled."""

    __slots__ = ("_future",)

    def __init__(self, future: Future[Any]) -> None:
        super().__init__()
        self._future = future

    def _deliver(self, entries: list[_Entry], args: tuple[Any, ...]) -> bool:
        if entries and not self._future.cancelled():
            self._future._observe()
        return super()._deliver(entries, args)


def _aborted(future: Future[Any]) -> InProgressAborted:
    """The InProgressAborted a cancelled future stands for (its cancel message, if one)."""
    msg = future._result
    if isinstance(msg, InProgressAborted):
        return msg
    return InProgressAborted("aborted" if msg is None else str(msg))


def _report_unhandled(future: Future[Any], source: str) -> None:
    """At drop time: report ``future``'s failure if it is still unobserved."""
    with lock_of(future):
        guard, future._guard = future._guard, None
    if guard is not None and guard.error is not None:
        error, guard.error = guard.error, None
        report(error, "Unhandled asynchronous exception.", source)


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

    __slots__ = ("_abortable", "_exception_signal", "_future", "signals")

    def __init__(self, abortable: bool | None = None) -> None:
        self._setup(Future(), abortable)

    def _setup(self, future: Future[Any], abortable: bool | None) -> None:
        if abortable is not None and not isinstance(abortable, bool):
            raise TypeError(f"abortable must be a bool or None, not {type(abortable).__name__}")
        Signal.__init__(self)
        self._future = future
        self._abortable = abortable
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
            error = future._exception
        if error is None:
            self._exception_signal._close(None)
            value = (future._result,)
            self._deliver(self._close(value), value)
            return
        self._close(None)
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
        return future.cancelled() or (future.done() and future._exception is not None)

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
        ended_with = future._result if future.cancelled() else future._exception
        if ended_with is not exc:  # it finished otherwise while the handlers ran
            raise RuntimeError("InProgress is already finished.")

    def _cancel_for_abort(self, exc: InProgressAborted) -> bool:
        return self._future.cancel(exc)

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
        out.add_done_callback(Dependant(_BYSTANDER, lambda _: timer.cancel()))
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
        if not self._future.wait(timeout):
            raise TimeoutException("Timed out", inprogress=self)
        return self.result


def _wrap(future: Future[Any], abortable: bool | None = True) -> InProgress:
    """An InProgress showing ``future`` (which was made for it or is shared)."""
    ip = InProgress.__new__(InProgress)
    ip._setup(future, abortable)
    return ip


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


_inprogress_of = inprogress  # for methods whose argument is named ``inprogress``, as in kaa


def _flatten(objects: Iterable[Any]) -> Iterator[Any]:
    """Items of nested lists, tuples and generators (kaa's idiom), without recursion."""
    stack = [iter(objects)]
    while stack:
        item = next(stack[-1], _OPEN)
        if item is _OPEN:
            stack.pop()
        elif isinstance(item, (list, tuple, types.GeneratorType)):
            stack.append(iter(item))
        else:
            yield item


def _indexed(index: int, link: Future[Any], child: Future[Any]) -> None:
    """InProgressAny's view of a child: ``(index, result)`` or ``(index, exc_info)``."""
    if child.cancelled():
        error: BaseException | None = _aborted(child)
    else:
        error = child._exception
    if error is None:
        link.try_set_result((index, child._result))
        return
    child._observe()  # passed on as a value: InProgressAny's caller sees it
    link.try_set_result((index, (type(error), error, error.__traceback__)))


class InProgressAny(InProgress):
    """Finishes when any of the given InProgress objects finishes: ``(index, result)``.

    Arguments (and lists, tuples or generators of them) go through :func:`inprogress`,
    so Signals work too. A child that fails finishes it with ``(index, (tp, exc, tb))``.

    Raises:
        ValueError: if no InProgress is given.

    >>> from shortly.compat import kaa
    >>> slow, fast = kaa.InProgress(), kaa.InProgress()
    >>> first = kaa.InProgressAny(slow, fast)
    >>> _ = fast.finish("fast one")
    >>> first.result
    (1, 'fast one')
    """

    __slots__ = ()

    def __init__(self, *objects: Any) -> None:
        links: list[Future[Any]] = []
        for index, child in enumerate(inprogress(o) for o in _flatten(objects)):
            link: Future[Any] = Future()
            depend(child._future, link, functools.partial(_indexed, index, link))
            links.append(link)
        if not links:
            raise ValueError("InProgressAny needs at least one InProgress: nothing could finish it")
        self._setup(race(links, cancel_losers=False), None)


class InProgressAll(InProgress):
    """Finishes, with itself, once every given InProgress has finished or failed.

    Iterate it, or index it, for the children (their results or exceptions are theirs).
    With no children it finishes at once.

    >>> from shortly.compat import kaa
    >>> a, b = kaa.InProgress(), kaa.InProgress()
    >>> both = kaa.InProgressAll(a, b)
    >>> _ = a.finish(1); _ = b.throw(ValueError, ValueError("b broke"), None)
    >>> both.result is both, [ip.failed for ip in both], both[0].result
    (True, [False, True], 1)
    """

    __slots__ = ("_objects",)

    def __init__(self, *objects: Any) -> None:
        self._objects = [inprogress(o) for o in _flatten(objects)]
        future: Future[Any] = Future()
        done = settled([child._future for child in self._objects])
        depend(done, future, lambda _: future.try_set_result(self))
        self._setup(future, None)

    def __iter__(self) -> Iterator[InProgress]:
        return iter(self._objects)

    def __getitem__(self, index: int) -> InProgress:
        return self._objects[index]


def delay(seconds: float) -> InProgress:
    """An InProgress that finishes (with None) after ``seconds``; abortable.

    Raises:
        TypeError: if ``seconds`` is not a number.
        ValueError: if ``seconds`` is negative or not finite.

    >>> from shortly.compat import kaa
    >>> ip = kaa.delay(0.01)
    >>> ip.wait(timeout=5) is None, ip.finished
    (True, True)
    """
    return _wrap(sleep(check_delay(seconds, "seconds")))


# -- coroutines ------------------------------------------------------------------------


class _AbortBox:
    """Set by :meth:`CoroutineInProgress.abort` before the core cancel reaches the code.

    Tells the code's driver that the CancelledError it receives is this coroutine's own
    abort (which ends it) rather than the abort of what it yielded (which it may catch).
    """

    __slots__ = ("exc",)

    def __init__(self) -> None:
        self.exc: InProgressAborted | None = None


class CoroutineInProgress(InProgress):
    """The InProgress of a :func:`coroutine`; aborting it throws the abort into the code.

    >>> from shortly.compat import kaa
    >>> @kaa.coroutine()
    ... def forever():
    ...     yield kaa.InProgress()
    >>> ip = forever()
    >>> type(ip).__name__, ip.abortable
    ('CoroutineInProgress', True)
    >>> ip.abort(); ip.failed
    True
    """

    __slots__ = ("_box",)

    _box: _AbortBox

    def _cancel_for_abort(self, exc: InProgressAborted) -> bool:
        self._box.exc = exc
        return self._future.cancel(exc)


def _awaited(yielded: Any) -> Future[Any] | None:
    """The future a coroutine waits on for what it yielded; None: it is the result."""
    if isinstance(yielded, InProgress):
        return yielded._future
    if getattr(yielded, "__inprogress__", None) is not None:
        return inprogress(yielded)._future
    if isinstance(yielded, Future):
        return yielded
    return None


def _end_aborted(gen: Generator[Any, Any, Any], reason: InProgressAborted) -> None:
    """Throw this coroutine's own abort into it for clean-up, close it, raise the abort."""
    try:
        gen.throw(reason)
    except StopIteration:
        pass  # it caught the abort and returned: an abort still ends it aborted
    except InProgressAborted as error:
        if error is not reason:
            raise
    finally:
        gen.close()  # a value yielded after the abort is ignored, as in kaa
    raise reason


def _drive(
    gen: Generator[Any, Any, Any], interval: float, box: _AbortBox
) -> Generator[Any, Any, Any]:
    """What :func:`shortly.spawn` runs for a kaa coroutine: translate what it yields."""
    value: Any = None
    throw = False
    while True:
        try:
            yielded = gen.throw(value) if throw else gen.send(value)
        except StopIteration as stop:
            return stop.value
        if yielded is NotFinished:
            awaited: Future[Any] | None = sleep(interval)
        else:
            awaited = _awaited(yielded)
            if awaited is None:
                gen.close()
                return yielded
        try:
            value, throw = (yield awaited), False
        except GeneratorExit:
            gen.close()
            raise
        except CancelledError as cancelled:
            if box.exc is not None:
                _end_aborted(gen, box.exc)
            # What it waited for was aborted: kaa raises InProgressAborted at the yield.
            msg = cancelled.args[0] if cancelled.args else None
            value = msg if isinstance(msg, InProgressAborted) else InProgressAborted(str(cancelled))
            throw = True
        except BaseException as error:
            value, throw = error, True


@overload
def coroutine(interval: float = 0) -> Callable[[Callable[..., Any]], Callable[..., InProgress]]: ...
@overload
def coroutine(interval: Callable[..., Any]) -> Callable[..., InProgress]: ...
def coroutine(interval: Any = 0) -> Any:
    """Decorate a generator function: calling it runs it as a coroutine, an InProgress.

    The generator yields an InProgress (or a Signal, or a shortly future) to wait for
    it: its result is sent back, its exception raised at the ``yield``. It yields
    ``NotFinished`` to be resumed after ``interval`` seconds, and any other value (or
    returns) to finish with that value. The code runs at once until its first wait,
    then in whichever thread finishes what it waits for. Use ``@coroutine()`` (kaa's
    spelling) or ``@coroutine``.

    Raises:
        TypeError: if ``interval`` is not a number, or (when called) the decorated
            function does not return a generator.
        ValueError: if ``interval`` is negative or not finite.

    >>> from shortly.compat import kaa
    >>> @kaa.coroutine()
    ... def fetch(ip):
    ...     try:
    ...         data = yield ip
    ...     except KeyError as exc:
    ...         yield f"failed: {exc}"
    ...     yield f"got {data}"
    >>> ok, broken = kaa.InProgress(), kaa.InProgress()
    >>> a, b = fetch(ok), fetch(broken)
    >>> _ = ok.finish("page"); _ = broken.throw(KeyError, KeyError("404"), None)
    >>> a.result, b.result
    ('got page', "failed: '404'")
    """
    if callable(interval):
        return coroutine()(interval)
    seconds = check_delay(interval, "interval")

    def decorate(func: Callable[..., Any]) -> Callable[..., InProgress]:
        @functools.wraps(func)
        def start(*args: Any, **kwargs: Any) -> InProgress:
            gen = func(*args, **kwargs)
            if not isinstance(gen, types.GeneratorType):
                raise TypeError("@coroutine decorated function is not a generator")
            box = _AbortBox()
            ip = CoroutineInProgress.__new__(CoroutineInProgress)
            ip._box = box
            ip._setup(spawn(_drive(gen, seconds, box)), True)
            if ip.failed and not ip._future.cancelled():
                ip._future.result()  # failed before its first wait: raise it, as kaa does
            return ip

        return start

    return decorate
