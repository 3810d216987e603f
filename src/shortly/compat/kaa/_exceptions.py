"""kaa's two exceptions, and the report of a failure nobody handled.

An abort travels through the core as a cancellation whose message is the
:class:`InProgressAborted`; ``_aborted`` turns a cancelled future back into one.
``_report_unhandled`` runs when an InProgress whose failure nobody handled is dropped.
None of this needs the rest of the package, so every other module may import it.
"""

from __future__ import annotations

from typing import Any

from ..._core import Future, cancel_message, report, take_unobserved

__all__ = ["InProgressAborted", "TimeoutException"]


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


def _aborted(future: Future[Any]) -> InProgressAborted:
    """The InProgressAborted a cancelled future stands for (its cancel message, if one)."""
    msg = cancel_message(future)
    if isinstance(msg, InProgressAborted):
        return msg
    return InProgressAborted("aborted" if msg is None else str(msg))


def _report_unhandled(future: Future[Any], source: str) -> None:
    """At drop time: report ``future``'s failure if it is still unobserved."""
    error = take_unobserved(future)
    if error is not None:
        report(error, "Unhandled asynchronous exception.", source)
