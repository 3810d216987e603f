"""Progress on futures: producers report, consumers subscribe, nobody else pays.

A *channel* exists only for a future somebody listens to, in a side table keyed by the
future's id (no slot on the future: a slot costs every future 8 bytes). It leaves the
table when the future is done. So a report nobody listens to is a context lookup and
one dictionary miss.

Who is reporting. :func:`progress` reports on behalf of the future of the work that
is running: ``submit`` and ``spawn`` bind it through a :mod:`contextvars` variable (to
a small :class:`Slot` that learns its future once the future exists), and a
:class:`~shortly.SerialExecutor` worker names the future of its current action in a
thread-local, which costs its queue nothing per action when nobody reports.

Throttling. A channel passes the first report, any report that reaches the total, and
then at most one report per :data:`INTERVAL` seconds; a report held back is delivered
by a timer at the end of the interval, so the last word is never lost.

Aggregation. A future nobody reports on directly but that depends on other futures
(a combinator, ``gather``, a ``then`` link) reports on their behalf when listened to:
its inputs are counted, each finished one as 1, each running one as the fraction it
reported (``done / total``), out of the number of inputs. ``map`` and scopes count
their calls and children the same way.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from ._core import upstream_of

if TYPE_CHECKING:
    from ._core import Future

__all__ = [
    "INTERVAL",
    "Progress",
    "Slot",
    "Tally",
    "Updates",
    "bind",
    "on_progress",
    "progress",
    "report_progress",
    "running",
    "updates",
]

#: Seconds between two reports a listener is given (the first and the last always pass).
INTERVAL = 0.05


class Progress(NamedTuple):
    """One progress report: ``done`` of ``total`` (None: unknown), with a ``note``.

    >>> from shortly import Progress
    >>> p = Progress(3, 4, "copying")
    >>> p.fraction
    0.75
    """

    done: float
    total: float | None = None
    note: str | None = None

    @property
    def fraction(self) -> float | None:
        """``done / total`` (capped at 1), or None when the total is not known."""
        if not self.total:
            return None
        return min(self.done / self.total, 1.0)


class Slot:
    """The reporting target bound in a context before its future exists."""

    __slots__ = ("future", "held")

    def __init__(self) -> None:
        self.future: Future[Any] | None = None
        self.held: Progress | None = None  # reported before the future was known

    def attach(self, future: Future[Any]) -> Future[Any]:
        self.future = future
        held, self.held = self.held, None
        if held is not None:
            report_progress(future, *held)
        return future


_var: contextvars.ContextVar[Any] = contextvars.ContextVar("shortly.progress", default=None)


#: The future of the SerialExecutor action each worker thread runs, by thread id.
#: Empty while no action runs, which is all a report outside any work has to see.
running: dict[int, Future[Any]] = {}
# Keyed by the future itself: hashing it is identity, and cheaper than id().
_channels: dict[Future[Any], _Channel] = {}
_channels_lock = threading.Lock()
_get_ident = threading.get_ident


def bind(ctx: contextvars.Context) -> Slot:
    """Bind a fresh :class:`Slot` in ``ctx``: :func:`progress` there reports to it."""
    slot = Slot()
    ctx.run(_var.set, slot)
    return slot


def bind_here(target: Any) -> None:
    """Bind ``target`` (a future or a slot) in the current context."""
    _var.set(target)


# -- producing ------------------------------------------------------------------------


def progress(done: float, total: float | None = None, note: str | None = None) -> None:
    """Report progress of the work running here, on the future that stands for it.

    Inside work started by :func:`shortly.submit`, :func:`shortly.spawn`, a scope's
    ``s.submit`` or a :class:`~shortly.SerialExecutor` action, this reports on that
    work's future; elsewhere it does nothing. Cheap when nobody listens; throttled
    when somebody does.

    Raises:
        TypeError: if ``done`` or ``total`` is not a number, or ``note`` not a str.

    >>> import shortly
    >>> def copy(files):
    ...     for n, name in enumerate(files, 1):
    ...         shortly.progress(n, len(files), name)
    ...     return len(files)
    >>> shortly.submit(copy, ["a", "b"]).result(timeout=5)
    2
    """
    # Inline type tests, the full check only when they fail: this runs in hot loops.
    if not (
        (type(done) is int or type(done) is float)
        and (total is None or type(total) is int or type(total) is float)
        and (note is None or type(note) is str)
    ):
        _check(done, total, note)
    target = _var.get()
    if target is None:
        if not running:
            return
        target = running.get(_get_ident())
        if target is None:
            return
    if type(target) is Slot:
        if target.future is None:
            target.held = Progress(done, total, note)
            return
        target = target.future
    channel = _channels.get(target)
    if channel is not None:
        channel.direct(Progress(done, total, note))


def _check(done: object, total: object, note: object) -> None:
    if (type(done) is not int and type(done) is not float) and (
        isinstance(done, bool) or not isinstance(done, (int, float))
    ):
        raise TypeError(f"done must be a number, not {type(done).__name__}")
    if total is not None and (isinstance(total, bool) or not isinstance(total, (int, float))):
        raise TypeError(f"total must be a number or None, not {type(total).__name__}")
    if note is not None and not isinstance(note, str):
        raise TypeError(f"note must be a str or None, not {type(note).__name__}")


def report_progress(
    future: Future[Any], done: float, total: float | None = None, note: str | None = None
) -> None:
    """Report progress on ``future`` itself (the method ``Future.report_progress``)."""
    if not (
        (type(done) is int or type(done) is float)
        and (total is None or type(total) is int or type(total) is float)
        and (note is None or type(note) is str)
    ):
        _check(done, total, note)
    channel = _channels.get(future)
    if channel is not None:
        channel.direct(Progress(done, total, note))


class Tally:
    """The progress of a group of children (a map's calls, a scope's children), counted.

    Each finished child counts 1, out of ``total`` when it is known, else out of the
    children started so far. Nothing is reported until somebody listens.
    """

    __slots__ = ("finished", "key", "lock", "started", "total")

    def __init__(self, total: int | None = None) -> None:
        # Re-entrant: listeners run under it (so reports go out in counting order), and
        # one may start more work in the same group.
        self.lock = threading.RLock()
        self.key: Future[None] | None = None  # what listeners subscribe to, made on demand
        self.started = self.finished = 0
        self.total = total

    def start(self) -> None:
        with self.lock:
            self.started += 1
            if self.key is not None:
                self.tell()

    def finish(self, _: object = None) -> None:
        with self.lock:
            self.finished += 1
            if self.key is not None:
                self.tell()

    def tell(self) -> None:
        """Report the counts (under ``lock``: reports go out in the order counted)."""
        assert self.key is not None
        total = self.total if self.total is not None else self.started
        report_progress(self.key, self.finished, total)

    def listen(self, callback: Callable[[Progress], object]) -> None:
        from ._core import Future

        with self.lock:
            if self.key is None:
                self.key = Future()
            on_progress(self.key, callback)
            self.tell()

    def close(self) -> None:
        """The group is over: its channel leaves the table."""
        key = self.key
        if key is not None:
            key.try_set_result(None)  # a report held back by the throttle goes out first


# -- consuming -------------------------------------------------------------------------


class _Channel:
    """A listened-to future's progress: listeners, throttle, the last report."""

    __slots__ = (
        "delivering",
        "future",
        "held",
        "inputs",
        "last",
        "listeners",
        "lock",
        "sent_at",
        "timer",
    )

    def __init__(self, future: Future[Any]) -> None:
        self.future = future
        self.lock = threading.Lock()
        # Listeners run outside ``lock``, one delivery at a time, and only for the
        # latest report: two threads reporting at once must not deliver out of order.
        self.delivering = threading.RLock()
        self.listeners: list[Callable[[Progress], object]] = []
        self.last: Progress | None = None
        self.held: Progress | None = None
        self.sent_at = -INTERVAL
        self.timer: Future[Any] | None = None
        self.inputs: dict[int, float] | None = None  # aggregation: input id -> fraction

    def direct(self, update: Progress) -> None:
        """A report by the work itself: it overrides counting the inputs."""
        self.inputs = None
        self.report(update)

    def report(self, update: Progress) -> None:
        now = time.monotonic()
        final = update.total is not None and update.done >= update.total
        with self.lock:
            if not final and now - self.sent_at < INTERVAL:
                self.held = update
                if self.timer is None:
                    self.timer = _later(self.sent_at + INTERVAL - now, self.flush)
                return
            self.held = None
            self.sent_at = now
            self.last = update
        self.send(update)

    def send(self, update: Progress) -> None:
        with self.delivering:
            with self.lock:
                if self.last is not update:
                    return  # a later report went out meanwhile: this one is stale
                listeners = list(self.listeners)
            _deliver(listeners, update)

    def flush(self) -> None:
        with self.lock:
            self.timer = None
            update, self.held = self.held, None
            if update is None:
                return
            self.sent_at = time.monotonic()
            self.last = update
        self.send(update)

    def closed(self, future: Future[Any]) -> None:
        """The future is done: deliver what was held, then leave the table."""
        self.flush()
        with _channels_lock:
            if _channels.get(future) is self:
                del _channels[future]
        with self.lock:
            timer, self.timer = self.timer, None
        if timer is not None:
            timer.cancel()

    # -- aggregation: a future that depends on others counts them ----------------------

    def follow_inputs(self, inputs: list[Future[Any]]) -> None:
        self.inputs = dict.fromkeys((id(f) for f in inputs), 0.0)
        self.last = Progress(0.0, len(inputs))  # what a listener is told first
        for f in inputs:
            on_progress(f, partial(self.input_reported, id(f)))
            _when_done(f, partial(self.input_done, id(f)))

    def input_reported(self, key: int, update: Progress) -> None:
        self.input_moved(key, update.fraction)

    def input_done(self, key: int, _: object) -> None:
        self.input_moved(key, 1.0)

    def input_moved(self, key: int, fraction: float | None) -> None:
        with self.lock:
            inputs = self.inputs
            if inputs is None or fraction is None or inputs.get(key, 1.0) >= fraction:
                return
            inputs[key] = fraction
            done, total = sum(inputs.values()), len(inputs)
        self.report(Progress(done, total))


def _deliver(listeners: list[Callable[[Progress], object]], update: Progress) -> None:
    from ._core import report

    for listener in listeners:
        try:
            listener(update)
        except Exception as error:  # one bad listener must not silence the others
            report(error, "a progress listener raised", repr(listener))


def _later(seconds: float, fn: Callable[[], None]) -> Future[Any]:
    from ._timers import later

    return later(max(seconds, 0.0), fn)


def _when_done(future: Future[Any], fn: Callable[[Future[Any]], object]) -> None:
    from ._core import watch

    watch(future, fn)  # a listener is not interest: it must not keep work alive


def _channel(future: Future[Any]) -> _Channel | None:
    """The future's channel, made on first use; None if the future is done."""
    if future.done():
        return None
    with _channels_lock:
        channel = _channels.get(future)
        made = channel is None
        if made:
            channel = _channels[future] = _Channel(future)
    assert channel is not None
    if made:
        _when_done(future, channel.closed)
        # A combinator's inputs, else what a link depends on.
        inputs = getattr(future, "_sources", None) or upstream_of(future)
        if inputs:
            channel.follow_inputs(inputs if isinstance(inputs, list) else [inputs])
    return channel


def on_progress(future: Future[Any], callback: Callable[[Progress], object]) -> None:
    """Call ``callback(Progress)`` on each (throttled) report on ``future``."""
    if not callable(callback):
        raise TypeError(f"callback must be callable, not {type(callback).__name__}")
    channel = _channel(future)
    if channel is None:
        return
    with channel.lock:
        channel.listeners.append(callback)
        last = channel.last
    if last is not None:
        callback(last)


class Updates:
    """``for`` / ``async for`` over a future's progress until it is done."""

    def __init__(self, future: Future[Any]) -> None:
        import queue

        self.future = future
        self.queue: queue.SimpleQueue[Progress | None] = queue.SimpleQueue()
        self.bell: Future[None] | None = None
        on_progress(future, self.put)
        _when_done(future, lambda _: self.put(None))

    def put(self, update: Progress | None) -> None:
        self.queue.put(update)
        bell = self.bell
        if bell is not None:
            bell.try_set_result(None)

    def __iter__(self) -> Iterator[Progress]:
        while True:
            update = self.queue.get()
            if update is None:
                return
            yield update

    async def __aiter__(self) -> AsyncIterator[Progress]:
        import queue

        while True:
            from ._core import Future

            bell: Future[None] = Future()
            self.bell = bell
            try:
                update = self.queue.get_nowait()
            except queue.Empty:
                await bell  # a private bell: cancelling the wait may cancel it, harmlessly
                continue
            if update is None:
                return
            yield update


def updates(future: Future[Any]) -> Updates:
    """The progress reports on ``future`` until it is done: ``for`` or ``async for``."""
    return Updates(future)
