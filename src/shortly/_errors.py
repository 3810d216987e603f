"""The exception hierarchy.

Every exception shortly raises on its own account derives from :class:`Error`, and
also from the stdlib class a caller of ``concurrent.futures`` or asyncio would already
be catching, so moving to shortly never breaks an ``except`` clause.
"""

from __future__ import annotations

import builtins
import concurrent.futures

__all__ = [
    "CancelledError",
    "DeadlockError",
    "Error",
    "InvalidStateError",
    "TimeoutError",
]

#: Raised by a blocking wait on a cancelled future. It *is* the stdlib's
#: :class:`concurrent.futures.CancelledError` (so ``except`` clauses written for the
#: stdlib keep working); an asyncio awaiter gets :class:`asyncio.CancelledError` instead.
#:
#: >>> import shortly
#: >>> f = shortly.Future()
#: >>> f.cancel("not needed")
#: True
#: >>> try:
#: ...     f.result()
#: ... except shortly.CancelledError as e:
#: ...     print(e)
#: not needed
CancelledError = concurrent.futures.CancelledError


class Error(Exception):
    """Base class of the errors shortly raises on its own account.

    >>> import shortly
    >>> issubclass(shortly.DeadlockError, shortly.Error)
    True
    """


class InvalidStateError(Error, concurrent.futures.InvalidStateError):
    """An operation is not allowed in the future's current state.

    Raised by ``set_result``/``set_exception`` on a future that already finished.
    It is also the stdlib's :class:`concurrent.futures.InvalidStateError`.

    >>> import shortly
    >>> f = shortly.Future.resolved(1)
    >>> try:
    ...     f.set_result(2)
    ... except shortly.InvalidStateError as e:
    ...     print(type(e).__name__)
    InvalidStateError
    """


def _timeout_bases() -> tuple[type[BaseException], ...]:
    # On 3.11+ the stdlib's TimeoutError *is* the builtin; listing it twice is an error.
    bases: list[type[BaseException]] = [Error, builtins.TimeoutError]
    stdlib_timeout: type[BaseException] = concurrent.futures.TimeoutError
    if stdlib_timeout is not builtins.TimeoutError:
        bases.append(stdlib_timeout)
    return tuple(bases)


class TimeoutError(*_timeout_bases()):  # type: ignore[misc]
    """A wait or an operation did not finish in time.

    Subclasses both the builtin :class:`TimeoutError` and
    :class:`concurrent.futures.TimeoutError`, so either ``except`` catches it.

    >>> import shortly
    >>> try:
    ...     shortly.Future().result(timeout=0)
    ... except TimeoutError:
    ...     print("timed out")
    timed out
    """


class DeadlockError(Error, RuntimeError):
    """A blocking wait could never finish, so it was refused.

    Raised at once, instead of hanging, when the waiting thread is the future's owner
    (the party that must resolve it), or when the wait would close a cycle of threads
    each waiting on a future the next one owns. The message names the threads and
    futures involved.

    >>> import shortly, threading
    >>> f = shortly.Future(owner=threading.current_thread())
    >>> try:
    ...     f.result()
    ... except shortly.DeadlockError:
    ...     print("refused")
    refused
    """
