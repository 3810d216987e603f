"""cs.asynchron's ``OnDemandFunction``: an Asynchron computed by whoever first calls it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ._asynchron import Asynchron

__all__ = ["OnDemandFunction"]

T = TypeVar("T")


class OnDemandFunction(Asynchron[T]):
    """Wrap ``func(*a, **kw)``; the first call runs it, in the calling thread.

    Its value (or exception) is recorded as for :meth:`Asynchron.call`, and every
    call, the first and later ones, returns that value or raises that exception. A
    call made while the first one runs waits for it. ``final=`` may be passed as a
    keyword, as for :class:`Asynchron`.

    Raises:
        TypeError: if ``func`` is not callable.

    >>> from shortly.compat.asynchron import OnDemandFunction
    >>> runs = []
    >>> F = OnDemandFunction(lambda x: runs.append(x) or x * 2, 21)
    >>> F.pending, F(), F(), runs
    (True, 42, 42, [21])
    """

    __slots__ = ("func",)

    def __init__(self, func: Callable[..., T], *a: Any, **kw: Any) -> None:
        final = kw.pop("final", None)
        if not callable(func):
            raise TypeError(f"func must be callable, not {type(func).__name__}")
        super().__init__(final=final)
        self.func: Callable[[], T] = functools.partial(func, *a, **kw) if a or kw else func

    def __call__(self) -> T:
        """Run the function if nobody has yet, then return its value or raise its exception.

        Raises:
            CancellationError: if it was cancelled before it ran.
            Exception: what the function raised.

        >>> from shortly.compat.asynchron import OnDemandFunction
        >>> F = OnDemandFunction(int, "x")
        >>> F()
        Traceback (most recent call last):
        ...
        ValueError: invalid literal for int() with base 10: 'x'
        """
        with self._lock:
            mine = not (self._running or self._future.done())
            self._running = True
        if mine:
            # call() completes through the setters, which take the lock again.
            self.call(self.func)
        return super().__call__()
