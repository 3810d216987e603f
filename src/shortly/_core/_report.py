"""Unhandled-failure reporting, debug mode and creation sites.

A failure nobody looked at is a bug nobody will find. Two kinds reach this module:

* a future that failed and was dropped while nobody had retrieved its exception;
* a callback (or fire-and-forget action) that raised.

Each is logged on the ``shortly`` logger with its traceback and handed to the handler
installed with :func:`set_unhandled_handler`. In debug mode (``set_debug(True)`` or the
environment variable ``SHORTLY_DEBUG=1``) futures also remember where they were
created, and the report says so.

When a report runs. A dropped future is found by ``FailureGuard.__del__``, which runs
whenever the last reference goes or the garbage collector runs: possibly in the middle
of one of shortly's own locked sections. A handler run there could re-enter shortly
(``executor.put(ship, unhandled)``) and deadlock on a lock its own thread holds. So a
report found during a collection, or while shortly code is on the stack, is queued and
delivered by the *deferred thread*, outside every shortly lock; one found when user code
drops the last reference (``del future``, a local going out of scope) is delivered at
once, in that thread. :func:`flush_reports` waits until the queue is empty (call it
after ``gc.collect()`` to see what the collection found), and exit delivers what is
left.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys
import threading
import traceback

# The C queue itself (what queue.SimpleQueue is): the queue module costs ~0.3 ms to
# import, which every program using shortly would pay for one empty queue.
from _queue import Empty, SimpleQueue
from collections.abc import Callable
from functools import partial
from types import FrameType

from ._erased import Any

__all__ = [
    "NOTE_PREFIX",
    "FailureGuard",
    "Unhandled",
    "defer",
    "ensure_deferred",
    "flush_reports",
    "future_label",
    "get_debug",
    "note_site",
    "report",
    "set_debug",
    "set_unhandled_handler",
]

logger = logging.getLogger("shortly")

_debug = os.environ.get("SHORTLY_DEBUG", "") not in ("", "0")
_handler: Callable[[Unhandled], object] | None = None
_handler_lock = threading.Lock()


class Unhandled:
    """One failure that nobody handled, as passed to the unhandled handler.

    Attributes:
        error: the exception.
        context: what went unhandled, in words (for example
            ``"future failed and was dropped unobserved"``).
        source: ``repr`` of the future or callback involved, or ``None``.
        site: where the future was created (formatted stack lines), only in debug mode.

    >>> import shortly
    >>> seen = []
    >>> old = shortly.set_unhandled_handler(seen.append)
    >>> f = shortly.Future()
    >>> f.add_done_callback(lambda _: 1 / 0)
    >>> f.set_result(None)
    >>> type(seen[0].error).__name__
    'ZeroDivisionError'
    >>> _ = shortly.set_unhandled_handler(old)
    """

    # A plain class, not a dataclass: importing dataclasses costs ``import inspect``,
    # a third of ``import shortly`` (see benchmarks/bench_import.py).
    __slots__ = ("context", "error", "site", "source")

    error: BaseException
    context: str
    source: str | None
    site: str | None

    def __init__(
        self, error: BaseException, context: str, source: str | None = None, site: str | None = None
    ) -> None:
        set_field = object.__setattr__  # read-only to everyone else
        set_field(self, "error", error)
        set_field(self, "context", context)
        set_field(self, "source", source)
        set_field(self, "site", site)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Unhandled is read-only: cannot assign to {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Unhandled is read-only: cannot delete {name!r}")

    def _fields(self) -> tuple[BaseException, str, str | None, str | None]:
        return (self.error, self.context, self.source, self.site)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Unhandled:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (
            f"Unhandled(error={self.error!r}, context={self.context!r}, "
            f"source={self.source!r}, site={self.site!r})"
        )


def set_debug(enabled: bool) -> None:
    """Turn debug mode on or off: futures created afterwards record their creation site.

    The site shows in ``repr(future)`` and in unhandled-failure reports. It costs a
    stack walk per future, so it is off by default; ``SHORTLY_DEBUG=1`` turns it on
    at import.

    >>> import shortly
    >>> shortly.set_debug(True)
    >>> "created at" in repr(shortly.Future())
    True
    >>> shortly.set_debug(False)
    """
    global _debug
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled must be a bool, not {type(enabled).__name__}")
    _debug = enabled


def get_debug() -> bool:
    """Tell whether debug mode is on.

    >>> import shortly
    >>> shortly.get_debug() in (True, False)
    True
    """
    return _debug


def set_unhandled_handler(
    handler: Callable[[Unhandled], object] | None,
) -> Callable[[Unhandled], object] | None:
    """Install ``handler(unhandled)`` for unhandled failures; return the previous one.

    The failure is logged on the ``shortly`` logger either way; the handler is an
    additional place to send it (a test that must fail, an error tracker). ``None``
    removes the handler. A handler that raises is logged and otherwise ignored: the
    reporting path never raises into the code that triggered it.

    Raises:
        TypeError: if ``handler`` is neither callable nor ``None``.

    >>> import shortly
    >>> previous = shortly.set_unhandled_handler(print)
    >>> shortly.set_unhandled_handler(previous) is print
    True
    """
    global _handler
    if handler is not None and not callable(handler):
        raise TypeError(f"handler must be callable or None, not {type(handler).__name__}")
    with _handler_lock:
        previous, _handler = _handler, handler
    return previous


# The shortly package's directory (this file is in its _core): its frames are left out
# of creation sites. By path, not by a "/shortly/" substring, which a user's own project
# folder may contain.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def creation_site() -> str:
    """Return the caller's stack, formatted, with shortly's own frames removed."""
    frames = [
        frame
        for frame in traceback.extract_stack()[:-1]
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR)
    ]
    return "".join(traceback.format_list(frames[-8:]))


def site_line(site: str | None) -> str:
    """The innermost ``file:line`` of a creation site, for a one-line repr."""
    if not site:
        return ""
    lines = [line.strip() for line in site.splitlines() if line.strip().startswith("File ")]
    return lines[-1][5:] if lines else ""


def report(
    error: BaseException, context: str, source: str | None = None, site: str | None = None
) -> None:
    """Log an unhandled failure and hand it to the installed handler; never raises."""
    try:
        message = f"shortly: {context}"
        if source:
            message += f": {source}"
        if site:
            message += f"\nCreated at (most recent call last):\n{site}"
        logger.error(message, exc_info=(type(error), error, error.__traceback__))
        handler = _handler
        if handler is not None:
            handler(Unhandled(error, context, source, site))
    except BaseException:
        # The reporter must not become a new source of lost errors or crashes, nor let a
        # handler's SystemExit or KeyboardInterrupt escape from an unrelated set_result().
        try:
            logger.exception("shortly: the unhandled-failure handler raised")
        except Exception:  # pragma: no cover - logging itself is broken
            if sys.__stderr__ is not None:
                sys.__stderr__.write("shortly: could not report an unhandled failure\n")


class FailureGuard:
    """Reports a future's failure when dropped, unless it was observed first.

    Only failed futures carry one, so success pays nothing for the check. The future
    disarms it (``error = None``) when someone retrieves the exception.
    """

    __slots__ = ("error", "site", "source")

    def __init__(self, error: BaseException, source: str, site: str | None) -> None:
        self.error: BaseException | None = error
        self.source = source
        self.site = site

    def __del__(self) -> None:
        error = self.error
        if error is not None:
            self.error = None
            args = (error, "a future failed and was dropped unobserved", self.source, self.site)
            try:
                caller: FrameType | None = sys._getframe(1)
            except ValueError:  # no Python caller: a collection at shutdown
                caller = None
            if _collecting or caller is None or _inside_shortly(caller):
                defer(partial(report, *args))
            else:
                report(*args)


def _inside_shortly(frame: FrameType | None) -> bool:
    """Whether shortly's code is on the stack (so one of its locks may be held)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
            return True
        frame = frame.f_back
    return False


# True while the cycle collector runs. A report then could run anywhere a collection
# can start: inside one of shortly's locks, or inside CPython's compiler (building an
# AST while formatting a traceback there raises SystemError), so it waits its turn.
_collecting = False


def _on_collection(phase: str, info: dict[str, int]) -> None:
    global _collecting
    _collecting = phase == "start"


gc.callbacks.append(_on_collection)

# The deferred thread: what a finalizer or a collection found but must not do where it
# runs (a report, closing a dropped ``shortly.map``), because a lock it would take may
# be held by the very code it interrupted. SimpleQueue.put takes no Python-level lock,
# so it is safe there; the thread is started by ``ensure_deferred``, never from a
# finalizer.
_pending: SimpleQueue[Callable[[], object]] = SimpleQueue()
_deferred: threading.Thread | None = None
_deferred_lock = threading.Lock()


def defer(job: Callable[[], object]) -> None:
    """Have the deferred thread run ``job()`` (safe from ``__del__`` and collections)."""
    work = _pending  # None once the interpreter tears the module down
    if work is not None:
        work.put(job)


def ensure_deferred() -> None:
    """Start the deferred thread if it is not running (call only outside any lock)."""
    global _deferred
    if _deferred is not None:
        return
    with _deferred_lock:
        if _deferred is None:
            thread = threading.Thread(target=_deliver, name="shortly-deferred", daemon=True)
            thread.start()
            _deferred = thread


def _deliver() -> None:
    while True:
        _run(_pending.get())


def _run(job: Callable[[], object]) -> None:
    try:
        job()
    except Exception as error:  # the thread must outlive any one job
        report(error, "a deferred job raised", repr(job))


def flush_reports(timeout: float = 5.0) -> bool:
    """Deliver every queued unhandled-failure report; tell whether the queue emptied.

    Reports found while shortly's own code was running are delivered by a thread of
    shortly's, a moment later; a test that checks its handler right after such a drop
    calls this first. :func:`shortly.testing.no_unhandled` does.

    >>> import shortly
    >>> shortly.flush_reports()
    True
    """
    if _deferred is None:
        _drain_here()
        return True
    done = threading.Event()
    _pending.put(done.set)
    return done.wait(timeout)


def _drain_here() -> None:
    while True:
        try:
            job = _pending.get_nowait()
        except Empty:
            return
        _run(job)


def _after_fork_in_child() -> None:
    # The parent's deferred thread does not exist here; queued jobs stay queued until
    # the child starts one of its own.
    global _deferred, _deferred_lock, _handler_lock
    _deferred = None
    _deferred_lock = threading.Lock()
    _handler_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
# What is still queued at exit is delivered, not lost.
atexit.register(_drain_here)


# -- traced chains (debug mode) -----------------------------------------------------------

#: How every note of a traced chain starts, so they can be told from others.
NOTE_PREFIX = "shortly: via "


def future_label(future: Any) -> str:
    """``Future`` or ``Future 'name'``: how a traced note names a link."""
    name = future._name
    kind = type(future).__name__
    return f"{kind} {name!r}" if name is not None else kind


def note_site(error: BaseException, future: Any) -> None:
    """Note on ``error`` that it passed through ``future`` (if its site is known)."""
    site = site_line(getattr(future, "_site", None))
    if not site:
        return
    text = f"{NOTE_PREFIX}{future_label(future)} created at {site}"
    add = getattr(error, "add_note", None)
    if add is not None:
        add(text)
        return
    notes = getattr(error, "__notes__", None)  # 3.10: the same list, by hand
    if notes is None:
        try:
            error.__notes__ = notes = []  # type: ignore[attr-defined]
        except AttributeError:
            return  # an exception type that takes no attributes: nothing to trace
    notes.append(text)
