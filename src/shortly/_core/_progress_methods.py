"""A future's progress methods: the producer reports, consumers subscribe.

The progress channel (throttling, aggregation over inputs, the async iterator) lives
above the core in ``shortly._progress``, which builds on futures and timers; these
methods reach it through the finder the package's face installs (see ``_promise``).
Nothing is stored on the future: a report nobody listens to is a context lookup and
one dictionary miss.
"""

from __future__ import annotations

from collections.abc import Callable

from ._erased import TYPE_CHECKING
from ._promise import implementations

if TYPE_CHECKING:
    from .._progress import Progress, Updates

__all__ = ["ProgressMethods"]


class ProgressMethods:
    """Mixin of :class:`~shortly.Future` holding its progress methods."""

    __slots__ = ()

    def report_progress(
        self, done: float, total: float | None = None, note: str | None = None
    ) -> None:
        """Tell this future's progress listeners that ``done`` of ``total`` is done.

        Cheap when nobody listens; throttled when somebody does (see
        :func:`shortly.progress`, which reports on the future of the running work).

        Raises:
            TypeError: if ``done`` or ``total`` is not a number, or ``note`` not a str.

        >>> import shortly
        >>> f = shortly.Future()
        >>> f.on_progress(print)
        >>> f.report_progress(1, 4, "started")
        Progress(done=1, total=4, note='started')
        """
        implementations.report_progress(self, done, total, note)

    def on_progress(self, callback: Callable[[Progress], object]) -> None:
        """Call ``callback(progress)`` on each report until the future is done.

        Reports are throttled (the first and the final one always pass); a future that
        depends on others (a combinator, a ``then`` link) counts its inputs when the
        work does not report itself. A listener that raises is reported as unhandled.

        Raises:
            TypeError: if ``callback`` is not callable.

        >>> import shortly
        >>> a, b = shortly.Future(), shortly.Future()
        >>> both = shortly.all_of([a, b])
        >>> both.on_progress(lambda p: print(p.done, "of", p.total))
        0.0 of 2
        >>> a.set_result(1)
        1.0 of 2
        """
        implementations.on_progress(self, callback)

    def progress_updates(self) -> Updates:
        """The progress reports until the future is done, for ``for`` or ``async for``.

        >>> import shortly, threading
        >>> f = shortly.Future()
        >>> updates = f.progress_updates()
        >>> f.report_progress(1, 1); f.set_result(None)
        >>> [p.done for p in updates]
        [1]
        """
        return implementations.updates(self)  # type: ignore[no-any-return]
