"""kaa's Signal, the ``__inprogress__`` protocol, and the signal side of an InProgress.

Besides :class:`Signal` and :func:`inprogress`, this holds what an InProgress builds on
its signals: the ``exception`` signal, whose handlers count as handling the failure,
and the answer to the core's upward-cancel rule (is anything still connected?).

An InProgress is a Signal, so ``_inprogress`` imports this module, and it is there
that an InProgress is made from a signal (``Signal._next_emission``, which that module
sets) or from any future (:func:`~shortly.compat.kaa.inprogress`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ..._core import Future, observe, report

if TYPE_CHECKING:
    from ._inprogress import InProgress

__all__ = ["Signal"]

_Entry = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], bool]
_OPEN: Any = object()  # a signal that has not been closed by its InProgress finishing


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

    __slots__ = ("__weakref__", "_callbacks", "_deferred", "_final", "_lock")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[_Entry] = []
        # Emissions waiting for a first callback (emit_when_handled, emit_deferred).
        self._deferred: list[tuple[Any, ...]] = []
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

    def connect_weak(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Like :meth:`connect`, holding ``callback`` by a weak reference.

        When the callback (for a bound method: its object) is collected, it is
        disconnected. The extra arguments are held strongly.

        Raises:
            TypeError: if ``callback`` is not callable or cannot be weakly referenced.

        >>> import gc
        >>> from shortly.compat import kaa
        >>> class Listener:
        ...     def heard(self, what):
        ...         print("heard", what)
        >>> s, listener = kaa.Signal(), Listener()
        >>> s.connect_weak(listener.heard)
        >>> _ = s.emit("one")
        heard one
        >>> del listener; _ = gc.collect(); s.count()
        0
        """
        self._connect(_WeakCallback(callback, self), args, kwargs, once=False)

    def connect_weak_once(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Weak variant of :meth:`connect_once`.

        >>> from shortly.compat import kaa
        >>> def show(x):
        ...     print(x)
        >>> s = kaa.Signal(); s.connect_weak_once(show)
        >>> s.emit(1); s.emit(2)
        1
        True
        True
        """
        self._connect(_WeakCallback(callback, self), args, kwargs, once=True)

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
                deferred, self._deferred = self._deferred, []
            else:
                deferred = []
        for emitted in deferred:
            self.emit(*emitted)
        if final is not _OPEN and final is not None:
            self._deliver([(callback, args, kwargs, once)], final)

    def disconnect(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Remove the connections of ``callback``; tell whether there was one.

        With no ``args``/``kwargs``, every connection of ``callback`` goes; with them,
        only those made with exactly these extra arguments.

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal(); s.connect(print, "a"); s.connect(print, "b")
        >>> s.disconnect(print, "a"), s.count(), s.disconnect(print), s.count()
        (True, 1, True, 0)
        """
        every = not args and not kwargs

        def matches(entry: _Entry) -> bool:
            return entry[0] == callback and (every or (entry[1], entry[2]) == (args, kwargs))

        with self._lock:
            kept = [entry for entry in self._callbacks if not matches(entry)]
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

    def emit_deferred(self, *args: Any) -> None:
        """Keep this emission until a callback connects, then emit it (to all connected).

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal(); s.emit_deferred("primed")
        >>> s.connect(print)
        primed
        """
        with self._lock:
            self._deferred.append(args)

    def emit_when_handled(self, *args: Any) -> bool | None:
        """Emit now if a callback is connected, else when the first one connects.

        Returns what :meth:`emit` returns, or None when the emission is deferred.

        >>> from shortly.compat import kaa
        >>> s = kaa.Signal()
        >>> print(s.emit_when_handled("later"))
        None
        >>> s.connect(print)
        later
        """
        with self._lock:
            if not self._callbacks:
                self._deferred.append(args)
                return None
        return self.emit(*args)

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
        return self._next_emission()

    #: Makes the InProgress of the next emission. An InProgress is a Signal, so its
    #: module imports this one and sets this when it loads (before any Signal is made:
    #: the package imports it first).
    _next_emission: ClassVar[Callable[[Signal], InProgress]]


class _WeakCallback:
    """A callback held weakly; equal to the callback it refers to (for ``disconnect``).

    When the referent dies, the connection is removed from its signal.
    """

    __slots__ = ("__weakref__", "ref")

    def __init__(self, callback: Callable[..., Any], signal: Signal) -> None:
        if not callable(callback):
            raise TypeError(f"callback must be callable, not {type(callback).__name__}")
        signal_ref = weakref.ref(signal)
        me = weakref.ref(self)

        def dead(_: object) -> None:
            owner, entry = signal_ref(), me()
            if owner is not None and entry is not None:
                owner.disconnect(entry)

        try:
            if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
                self.ref: Callable[[], Any] = weakref.WeakMethod(callback, dead)
            else:
                self.ref = weakref.ref(callback, dead)
        except TypeError:
            raise TypeError(
                f"callback of type {type(callback).__name__} cannot be weakly referenced"
            ) from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        target = self.ref()
        return None if target is None else target(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _WeakCallback):
            return other is self
        target = self.ref()
        return target is not None and bool(target == other)

    __hash__ = object.__hash__


class _Interest:
    """Whether anyone is connected to an InProgress: the upward cancel rule asks this.

    A coroutine awaiting an InProgress gives it up when aborted; the InProgress is then
    aborted too unless a callback or handler is still connected to it.
    """

    __slots__ = ("ip",)

    def __init__(self, ip: InProgress) -> None:
        self.ip = ip

    def lost_interest(self) -> bool:
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
            observe(self._future)
        return super()._deliver(entries, args)
