"""Reading a future's outcome from outside the core, without its private fields.

The layers above (chains, combinators, bridges, compat) read an outcome once a
callback tells them the future is done, often once per input of a combinator of
100,000 futures, so these are plain functions over the fields: no locks, no
checks. They are safe without the stripe lock because a settled future never
changes again; on a pending future they answer "not settled" (``is_settled``,
``succeeded``, ``failure_of``), which a caller must treat as "not yet".

A failure read here is not marked as seen: call :func:`observe` (or use
:func:`take_failure`) once the failure has been passed on, so a future dropped
with a failure nobody took is still reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._states import DONE, FINISHED

if TYPE_CHECKING:
    from ._future import Future

__all__ = [
    "error_of",
    "failure_of",
    "is_settled",
    "observe",
    "succeeded",
    "take_failure",
    "take_unobserved",
    "value_of",
]


def is_settled(future: Future[Any]) -> bool:
    """Whether ``future`` is done (finished or cancelled): ``future.done()`` without the call.

    >>> import shortly
    >>> from shortly._core import is_settled
    >>> is_settled(shortly.Future.resolved(1)), is_settled(shortly.Future())
    (True, False)
    """
    return future._state in DONE


def succeeded(future: Future[Any]) -> bool:
    """Whether ``future`` finished with a value (not pending, failed or cancelled).

    >>> import shortly
    >>> from shortly._core import succeeded
    >>> succeeded(shortly.Future.resolved(None)), succeeded(shortly.Future())
    (True, False)
    """
    # The exception is written before the state: a racing reader that sees FINISHED
    # also sees the exception, never a failure taken for a value.
    return future._state == FINISHED and future._exception is None


def value_of(future: Future[Any]) -> Any:
    """The value of a future that :func:`succeeded` (anything else: undefined).

    >>> import shortly
    >>> from shortly._core import value_of
    >>> value_of(shortly.Future.resolved(7))
    7
    """
    return future._result


def failure_of(future: Future[Any]) -> BaseException | None:
    """The exception ``future`` failed with; None if it is pending, succeeded or cancelled.

    The failure is not marked as seen (see :func:`take_failure`).

    >>> import shortly
    >>> from shortly._core import failure_of, observe
    >>> f = shortly.Future.failed(KeyError("k"))
    >>> failure_of(f)
    KeyError('k')
    >>> observe(f)
    """
    return future._exception if future._state == FINISHED else None


def observe(future: Future[Any]) -> None:
    """Mark ``future``'s failure as seen: dropping the future reports nothing.

    >>> import shortly
    >>> from shortly._core import observe
    >>> observe(shortly.Future.failed(ValueError("handled elsewhere")))
    """
    future._observe()


def take_failure(future: Future[Any]) -> BaseException | None:
    """:func:`failure_of`, and the failure is marked as seen: the caller passes it on.

    >>> import shortly
    >>> from shortly._core import take_failure
    >>> take_failure(shortly.Future.failed(KeyError("k")))
    KeyError('k')
    """
    error = failure_of(future)
    if error is not None:
        future._observe()
    return error


def error_of(future: Future[Any]) -> BaseException:
    """What ``result()`` raises for a done future that did not succeed (not marked seen).

    Its failure, or a :class:`~shortly.CancelledError` carrying the cancel message.

    >>> import shortly
    >>> from shortly._core import error_of
    >>> f = shortly.Future()
    >>> f.cancel("stop")
    True
    >>> error_of(f)
    CancelledError('stop')
    """
    error = future._exception
    if error is not None and future._state == FINISHED:
        return error
    return future._cancelled_error()


def take_unobserved(future: Future[Any]) -> BaseException | None:
    """The failure nobody has seen, if any, now disarmed: the caller reports it its own way.

    For a wrapper that reports a dropped failure in its own words (kaa's "Unhandled
    asynchronous exception"); the future itself will then report nothing.

    >>> import shortly
    >>> from shortly._core import take_unobserved
    >>> f = shortly.Future.failed(KeyError("k"))
    >>> take_unobserved(f), take_unobserved(f)
    (KeyError('k'), None)
    """
    return future._observe()
