"""kaa's ``InProgressStatus``: a Signal emitted with itself each time the progress changes.

Self-contained: the progress of a kaa InProgress is this object, its ``progress``
attribute, and nothing in shortly's core needs to know about it.
"""

from __future__ import annotations

import time
from typing import Any

from ._signal import Signal

__all__ = ["InProgressStatus", "report_to"]


class InProgressStatus(Signal):
    """Progress of a task: ``pos`` of ``max`` steps; emitted with itself on every change.

    Connect to it (or to its ``changed`` attribute, the same signal) to follow a
    task; the task calls :meth:`set` or :meth:`update`.

    >>> from shortly.compat import kaa
    >>> status = kaa.InProgressStatus(max=4)
    >>> status.connect(lambda s: print(f"{s.pos}/{s.max} = {s.percentage:.0f}%"))
    >>> status.update(); status.set(pos=3)
    1/4 = 25%
    3/4 = 75%
    """

    __slots__ = ("_speed", "max", "pos", "start_time")

    def __init__(self, max: float = 0) -> None:
        super().__init__()
        self.start_time = time.time()
        self.pos: float = 0
        self.max = max
        self._speed: Any = None

    @property
    def changed(self) -> InProgressStatus:
        """The signal emitted (with this status) on each change: the status itself.

        >>> from shortly.compat import kaa
        >>> status = kaa.InProgressStatus()
        >>> status.changed is status
        True
        """
        return self

    def set(self, pos: float | None = None, max: float | None = None, speed: Any = None) -> None:
        """Set the position and/or the total, then emit; ``max`` grows to fit ``pos``.

        >>> from shortly.compat import kaa
        >>> status = kaa.InProgressStatus(max=2); status.set(pos=5)
        >>> status.pos, status.max
        (5, 5)
        """
        if max is not None:
            self.max = max
        if pos is not None:
            self.pos = pos
        if self.pos > self.max:
            self.max = self.pos
        self._speed = speed
        self.emit(self)

    def update(self, diff: float = 1, speed: Any = None) -> None:
        """Move the position by ``diff`` (default one step), then emit.

        >>> from shortly.compat import kaa
        >>> status = kaa.InProgressStatus(max=10); status.update(3); status.pos
        3
        """
        self.set(self.pos + diff, speed=speed)

    @property
    def percentage(self) -> float:
        """How much is done, in percent (0 while ``max`` is 0).

        >>> from shortly.compat import kaa
        >>> status = kaa.InProgressStatus(max=8); status.set(2); status.percentage
        25.0
        """
        return (self.pos * 100.0) / self.max if self.max else 0

    @property
    def speed(self) -> Any:
        """The speed last given to :meth:`set` or :meth:`update` (units are the task's).

        >>> from shortly.compat import kaa
        >>> status = kaa.InProgressStatus(); status.update(speed="3 MB/s"); status.speed
        '3 MB/s'
        """
        return self._speed

    @property
    def elapsed(self) -> float:
        """Seconds since the status was created.

        >>> from shortly.compat import kaa
        >>> kaa.InProgressStatus().elapsed >= 0
        True
        """
        return time.time() - self.start_time

    @property
    def eta(self) -> float:
        """Estimated seconds left, assuming every step takes as long as the average so far.

        >>> from shortly.compat import kaa
        >>> kaa.InProgressStatus(max=5).eta
        0
        """
        if not self.pos:
            return 0
        return (self.elapsed / self.pos) * (self.max - self.pos)

    def get_progressbar(self, width: int = 70) -> str:
        """A small ASCII progress bar ``width`` characters wide.

        >>> from shortly.compat import kaa
        >>> status = kaa.InProgressStatus(max=2); status.set(1)
        >>> status.get_progressbar(12)
        '|====>     |'
        """
        done = int((self.pos / float(self.max)) * (width - 3)) if self.max else 0
        return "|" + ("=" * done + ">").ljust(width - 2) + "|"


def status_class_of(progress: object) -> type[InProgressStatus] | None:
    """The status class a ``progress=`` argument asks for (True: :class:`InProgressStatus`).

    Raises:
        TypeError: if ``progress`` is neither a bool nor an InProgressStatus subclass.

    >>> from shortly.compat.kaa._status import status_class_of
    >>> status_class_of(True).__name__, status_class_of(False)
    ('InProgressStatus', None)
    """
    if isinstance(progress, bool):
        return InProgressStatus if progress else None
    if isinstance(progress, type) and issubclass(progress, InProgressStatus):
        return progress
    raise TypeError(
        f"progress must be a bool or an InProgressStatus subclass, not {type(progress).__name__}"
    )


def report_to(status: InProgressStatus, future: Any) -> None:
    """Mirror ``status`` on a shortly future: each change is a progress report on it.

    So the future's ``on_progress`` listeners, ``progress_updates()`` and
    :func:`shortly.progress_bar` follow a kaa task as they follow any future.

    >>> import shortly
    >>> from shortly.compat import kaa
    >>> from shortly.compat.kaa._status import report_to
    >>> future, status = shortly.Future(), kaa.InProgressStatus(max=4)
    >>> report_to(status, future)
    >>> future.on_progress(print)
    >>> status.set(pos=1)
    Progress(done=1, total=4, note=None)
    """
    status.connect(lambda changed: future.report_progress(changed.pos, changed.max or None))
