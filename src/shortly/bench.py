"""Timing helpers: :func:`timeit` and the :class:`Bench` it returns.

They time a callable ``times`` times and say how long it took, synchronously
(:mod:`shortly.compat.pulsar` keeps pulsar's own future-returning ``timeit`` and
``Bench``). The benchmark suite that compares shortly with the stdlib and its peers is
not part of the installed package: it lives in the repository's ``benchmarks/``
(``make bench``, or ``python -m benchmarks``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Bench", "timeit"]


@dataclass
class Bench:
    """The outcome of :func:`timeit`: how many calls and how long they took.

    Attributes:
        times: how many calls were made.
        taken: total seconds for all of them.
        result: what the last call returned.

    Raises:
        TypeError: if ``times`` or ``taken`` is missing (the fields are not checked:
            it is a plain record of what :func:`timeit` measured).

    >>> from shortly.bench import Bench
    >>> b = Bench(times=4, taken=2.0)
    >>> b.mean
    0.5
    """

    times: int
    taken: float
    result: Any = None

    @property
    def mean(self) -> float:
        """Seconds per call."""
        return self.taken / self.times if self.times else 0.0


def timeit(fn: Callable[..., Any], times: int, *args: Any, **kwargs: Any) -> Bench:
    """Call ``fn(*args, **kwargs)`` ``times`` times and return a :class:`Bench`.

    Raises:
        TypeError: if ``fn`` is not callable or ``times`` is not an int.
        ValueError: if ``times`` is negative.

    >>> from shortly.bench import timeit
    >>> b = timeit(sum, 10, [1, 2, 3])
    >>> b.times, b.result
    (10, 6)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    if isinstance(times, bool) or not isinstance(times, int):
        raise TypeError(f"times must be an int, not {type(times).__name__}")
    if times < 0:
        raise ValueError(f"times must be >= 0, not {times}")
    result = None
    start = time.perf_counter()
    for _ in range(times):
        result = fn(*args, **kwargs)
    return Bench(times, time.perf_counter() - start, result)
