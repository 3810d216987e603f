"""kaa's ``InProgressCallable``: an InProgress finished by calling it, to pass as a callback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._inprogress import InProgress

__all__ = ["InProgressCallable"]


class InProgressCallable(InProgress):
    """An InProgress that finishes when called: hand it to callback-style APIs.

    Calling it finishes it with what it was called with: one argument (positional or
    named) as itself, several positional ones as a tuple, several named ones as a
    dict, both kinds as ``(args, kwargs)``, nothing as None. With ``throwable`` (the
    default), a call with an exception triple ``(tp, exc, tb)`` throws it instead.

    Args:
        func: if given, called at once with the new InProgressCallable (to connect it
            somewhere as a callback).
        abortable: as for :class:`InProgress`.
        frame: accepted for kaa's signature (it located the creator for debugging).
        throwable: whether an exception triple is thrown rather than the result.

    Raises:
        TypeError: if ``func`` is given and is not callable.

    >>> from shortly.compat import kaa
    >>> done = kaa.InProgressCallable()
    >>> _ = done("a", "b")
    >>> done.result
    ('a', 'b')
    >>> kaa.InProgressCallable()(size=3).result
    3
    """

    __slots__ = ("_throwable",)

    def __init__(
        self,
        func: Callable[[InProgressCallable], object] | None = None,
        abortable: bool | None = None,
        frame: int = 0,
        throwable: bool = True,
    ) -> None:
        if func is not None and not callable(func):
            raise TypeError(f"func must be callable or None, not {type(func).__name__}")
        super().__init__(abortable)
        self._throwable = throwable
        if func is not None:
            func(self)

    def __call__(self, *args: Any, **kwargs: Any) -> InProgress:
        """Finish (or, given an exception triple, throw) with the call's arguments.

        Raises:
            RuntimeError: if it is already finished.

        >>> import sys
        >>> from shortly.compat import kaa
        >>> ip = kaa.InProgressCallable()
        >>> try:
        ...     1 / 0
        ... except ZeroDivisionError:
        ...     _ = ip(*sys.exc_info())
        >>> ip.failed
        True
        >>> ip.exception.connect(lambda tp, exc, tb: None)  # handled
        """
        if (
            self._throwable
            and len(args) == 3
            and not kwargs
            and isinstance(args[0], type)
            and issubclass(args[0], BaseException)
        ):
            return self.throw(*args)
        if args and kwargs:
            return self.finish((args, kwargs))
        if kwargs:
            return self.finish(next(iter(kwargs.values())) if len(kwargs) == 1 else kwargs)
        if len(args) == 1:
            return self.finish(args[0])
        return self.finish(args if args else None)
