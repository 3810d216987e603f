"""Test helpers: fail a test on any unhandled failure.

Use :func:`no_unhandled` as a context manager, or the ``no_unhandled_failures`` pytest
fixture (enable it with ``pytest_plugins = ["shortly.testing"]`` in a ``conftest.py``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ._core import Unhandled, flush_reports, set_unhandled_handler

__all__ = [
    "UnhandledFailures",
    "no_unhandled",
    "no_unhandled_failures",
    "recording_unhandled",
    "unhandled_reports",
]


class UnhandledFailures(AssertionError):
    """Raised by :func:`no_unhandled` when failures went unhandled inside its block.

    ``failures`` holds the :class:`~shortly.Unhandled` records.

    >>> from shortly.testing import UnhandledFailures
    >>> issubclass(UnhandledFailures, AssertionError)
    True
    """

    def __init__(self, failures: list[Unhandled]) -> None:
        self.failures = failures
        lines = [f"{len(failures)} unhandled failure(s):"]
        lines += [
            f"  {u.context}: {type(u.error).__name__}: {_text(u.error)} ({u.source})"
            for u in failures
        ]
        super().__init__("\n".join(lines))


def _text(error: BaseException) -> str:
    """``str(error)``, or a placeholder when the error's own ``__str__`` raises."""
    try:
        return str(error)
    except Exception as broken:
        return f"<str() raised {type(broken).__name__}>"


@contextmanager
def no_unhandled() -> Iterator[list[Unhandled]]:
    """Collect unhandled failures inside the block; raise if there were any.

    Futures dropped inside the block are collected (``gc.collect()``) on exit, and the
    deferred thread's queue is flushed, so their reports arrive in time. The yielded list
    shows what was collected so far.

    Raises:
        UnhandledFailures: on exit, if anything went unhandled.

    >>> import shortly
    >>> from shortly.testing import no_unhandled, UnhandledFailures
    >>> try:
    ...     with no_unhandled():
    ...         shortly.Future().set_exception(ValueError("lost"))
    ... except UnhandledFailures as e:
    ...     print(type(e.failures[0].error).__name__)
    ValueError
    """
    with _collecting(forward=True) as seen:
        yield seen
    if seen:
        raise UnhandledFailures(seen)


@contextmanager
def recording_unhandled() -> Iterator[list[Unhandled]]:
    """Record unhandled failures inside the block in a list, for tests that expect some.

    Unlike :func:`no_unhandled` it never raises: the test checks the list. On exit
    futures dropped inside the block are collected and the deferred thread's queue is
    flushed, so the list is complete after the block; inside it, call
    :func:`shortly.flush_reports` before checking.

    >>> import shortly
    >>> from shortly.testing import recording_unhandled
    >>> with recording_unhandled() as seen:
    ...     shortly.Future().set_exception(KeyError("lost"))
    >>> [type(u.error).__name__ for u in seen]
    ['KeyError']
    """
    with _collecting(forward=False) as seen:
        yield seen


@contextmanager
def _collecting(*, forward: bool) -> Iterator[list[Unhandled]]:
    """Handle unhandled failures by listing them (and, with ``forward``, passing them on
    to the handler that was installed); on exit collect garbage and flush the queue."""
    seen: list[Unhandled] = []
    previous: Callable[[Unhandled], object] | None = None

    def collect(unhandled: Unhandled) -> None:
        seen.append(unhandled)  # list.append is atomic: reports come from two threads
        if forward and previous is not None:
            previous(unhandled)

    previous = set_unhandled_handler(collect)
    try:
        yield seen
        gc.collect()
        flush_reports()
    finally:
        set_unhandled_handler(previous)


try:
    import pytest
except ImportError:  # pragma: no cover - pytest is only needed for the fixture
    pass
else:

    @pytest.fixture
    def no_unhandled_failures() -> Iterator[list[Unhandled]]:
        """Pytest fixture: the test fails if any failure goes unhandled during it."""
        with no_unhandled() as seen:
            yield seen

    @pytest.fixture
    def unhandled_reports() -> Iterator[list[Unhandled]]:
        """Pytest fixture: the unhandled failures reported during the test, to check."""
        with recording_unhandled() as seen:
            yield seen
