"""Unhandled-failure reporting, debug mode and creation sites.

A failure nobody looked at is a bug nobody will find. Two kinds reach this module:

* a future that failed and was dropped while nobody had retrieved its exception;
* a callback (or fire-and-forget action) that raised.

Each is logged on the ``shortly`` logger with its traceback and handed to the handler
installed with :func:`set_unhandled_handler`. In debug mode (``set_debug(True)`` or the
environment variable ``SHORTLY_DEBUG=1``) futures also remember where they were
created, and the report says so.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "FailureGuard",
    "Unhandled",
    "get_debug",
    "report",
    "set_debug",
    "set_unhandled_handler",
]

logger = logging.getLogger("shortly")

_debug = os.environ.get("SHORTLY_DEBUG", "") not in ("", "0")
_handler: Callable[[Unhandled], object] | None = None
_handler_lock = threading.Lock()


@dataclass(frozen=True)
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

    error: BaseException
    context: str
    source: str | None = None
    site: str | None = None


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


def creation_site() -> str:
    """Return the caller's stack, formatted, with shortly's own frames removed."""
    frames = [
        frame
        for frame in traceback.extract_stack()[:-1]
        if os.sep + "shortly" + os.sep not in frame.filename
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
    except Exception:
        # The reporter must not become a new source of lost errors or crashes.
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
            report(error, "a future failed and was dropped unobserved", self.source, self.site)
