"""kaa's InProgressAny and InProgressAll, with their ``finish=`` and ``filter=`` options.

Each child is a dependency of the collection's future (:func:`shortly._core._cancel.depend`):
aborting the collection aborts the children nobody else waits for, as the core's
combinators do. A locked count of the children still running decides when it finishes.
"""

from __future__ import annotations

import functools
import threading
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..._core import Future, depend, take_failure, value_of
from ._exceptions import _aborted
from ._inprogress import InProgress, inprogress

__all__ = [
    "FINISH_IDX",
    "FINISH_IDX_RESULT",
    "FINISH_RESULT",
    "FINISH_SELF",
    "InProgressAll",
    "InProgressAny",
]

#: Finish with the index of the child (InProgressAll: the list of indexes).
FINISH_IDX = "FINISH_IDX"
#: Finish with the child's result (InProgressAll: the list of results).
FINISH_RESULT = "FINISH_RESULT"
#: Finish with the collection itself (InProgressAll's default).
FINISH_SELF = "FINISH_SELF"
#: Finish with ``(index, result)`` (InProgressAny's default; InProgressAll: a list of them).
FINISH_IDX_RESULT = "FINISH_IDX_RESULT"

_MODES = (FINISH_IDX, FINISH_RESULT, FINISH_SELF, FINISH_IDX_RESULT)
_END: Any = object()  # next()'s default at the end: any item, None included, is real


def _flatten(objects: Iterable[Any]) -> Iterator[Any]:
    """Items of nested lists, tuples and generators (kaa's idiom), without recursion."""
    stack = [iter(objects)]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, (list, tuple, types.GeneratorType)):
            stack.append(iter(item))
        else:
            yield item


def _outcome(child: InProgress) -> Any:
    """A finished child's result, or its ``(tp, exc, tb)`` (handed on, so seen)."""
    future = child._future
    if future.cancelled():
        error: BaseException | None = _aborted(future)
    else:
        error = take_failure(future)
    if error is None:
        return value_of(future)
    return type(error), error, error.__traceback__


class InProgressAny(InProgress):
    """Finishes when any of the given InProgress objects finishes.

    Arguments (and lists, tuples or generators of them) go through :func:`inprogress`,
    so Signals work too. What it finishes with depends on ``finish``:
    ``FINISH_IDX_RESULT`` (default) ``(index, result)``, ``FINISH_RESULT`` the result,
    ``FINISH_IDX`` the index, ``FINISH_SELF`` itself. A child that fails counts as
    finishing with ``(tp, exc, tb)``. ``filter(result)``, if given, is called as each
    child finishes; a true answer skips that child while others may still finish.

    Raises:
        ValueError: if no InProgress is given, or ``finish`` is not a ``FINISH_*``.
        TypeError: if ``filter`` is not callable.

    >>> from shortly.compat import kaa
    >>> slow, fast = kaa.InProgress(), kaa.InProgress()
    >>> first = kaa.InProgressAny(slow, fast)
    >>> _ = fast.finish("fast one")
    >>> first.result
    (1, 'fast one')
    >>> a, b = kaa.InProgress(), kaa.InProgress()
    >>> big = kaa.InProgressAny(a, b, finish=kaa.FINISH_RESULT, filter=lambda r: r < 10)
    >>> _ = a.finish(3); big.finished      # filtered out: b may still finish
    False
    >>> _ = b.finish(5); big.result        # the last one is never filtered
    5
    """

    __slots__ = ("_count_lock", "_filter", "_finish_mode", "_objects", "_remaining")

    _default_finish = FINISH_IDX_RESULT

    def __init__(
        self, *objects: Any, finish: str | None = None, filter: Callable[[Any], Any] | None = None
    ) -> None:
        mode = finish or self._default_finish
        if mode not in _MODES:
            raise ValueError(f"finish must be one of the kaa.FINISH_* constants, not {finish!r}")
        if filter is not None and not callable(filter):
            raise TypeError(f"filter must be callable or None, not {type(filter).__name__}")
        children = [inprogress(o) for o in _flatten(objects)]
        self._check_children(children)
        self._objects = children
        self._finish_mode = mode
        self._filter = filter
        self._remaining = len(children)
        self._count_lock = threading.Lock()
        future: Future[Any] = Future()
        self._setup(future, None)
        if not children:
            future.try_set_result(self._all_results())
        for index, child in enumerate(children):
            depend(child._future, future, functools.partial(self._child_done, index, child))

    def _check_children(self, children: list[InProgress]) -> None:
        if not children:
            raise ValueError("InProgressAny needs at least one InProgress: nothing could finish it")

    def _child_done(self, index: int, child: InProgress, _: Future[Any]) -> None:
        with self._count_lock:
            self._remaining -= 1
            remaining = self._remaining
        if self._future.done():
            return
        value = _outcome(child)
        if remaining and self._filter is not None and self._filter(value):
            return
        mode = self._finish_mode
        finished: Any = {
            FINISH_IDX_RESULT: (index, value),
            FINISH_RESULT: value,
            FINISH_IDX: index,
            FINISH_SELF: self,
        }[mode]
        self._future.try_set_result(finished)

    def _all_results(self) -> Any:
        return None  # only InProgressAll finishes with no child


class InProgressAll(InProgressAny):
    """Finishes once every given InProgress has finished or failed (at once if none).

    ``finish`` says with what: ``FINISH_SELF`` (default) itself, ``FINISH_IDX_RESULT``
    a list of ``(index, result)``, ``FINISH_RESULT`` the list of results, ``FINISH_IDX``
    the list of indexes; a failed child's result is its ``(tp, exc, tb)``. Iterate it,
    or index it, for the children. ``filter`` is accepted and ignored, as in kaa.

    Raises:
        ValueError: if ``finish`` is not a ``FINISH_*`` constant.

    >>> from shortly.compat import kaa
    >>> a, b = kaa.InProgress(), kaa.InProgress()
    >>> both = kaa.InProgressAll(a, b)
    >>> _ = a.finish(1); _ = b.throw(ValueError, ValueError("b broke"), None)
    >>> both.result is both, [ip.failed for ip in both], both[0].result
    (True, [False, True], 1)
    >>> x, y = kaa.InProgress().finish("x"), kaa.InProgress().finish("y")
    >>> kaa.InProgressAll(x, y, finish=kaa.FINISH_RESULT).result
    ['x', 'y']
    """

    __slots__ = ()

    _default_finish = FINISH_SELF

    def _check_children(self, children: list[InProgress]) -> None:
        pass  # an empty InProgressAll is finished at once

    def _child_done(self, index: int, child: InProgress, _: Future[Any]) -> None:
        with self._count_lock:
            self._remaining -= 1
            if self._remaining:
                return
        self._future.try_set_result(self._all_results())

    def _all_results(self) -> Any:
        mode = self._finish_mode
        if mode == FINISH_SELF:
            for child in self._objects:
                if child.failed:
                    _outcome(child)  # passed on, as before: the caller iterates them
            return self
        pairs = [(index, _outcome(child)) for index, child in enumerate(self._objects)]
        if mode == FINISH_IDX_RESULT:
            return pairs
        if mode == FINISH_RESULT:
            return [value for _, value in pairs]
        return [index for index, _ in pairs]

    def __iter__(self) -> Iterator[InProgress]:
        return iter(self._objects)

    def __getitem__(self, index: int) -> InProgress:
        return self._objects[index]
