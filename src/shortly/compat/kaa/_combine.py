"""kaa's InProgressAny and InProgressAll, on :func:`shortly.race` and :func:`shortly.settled`."""

from __future__ import annotations

import functools
import types
from collections.abc import Iterable, Iterator
from typing import Any

from ..._cancel import depend
from ..._combine import race, settled
from ..._future import Future
from ._exceptions import _aborted
from ._inprogress import InProgress
from ._signal import inprogress

__all__ = ["InProgressAll", "InProgressAny"]

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


def _indexed(index: int, link: Future[Any], child: Future[Any]) -> None:
    """InProgressAny's view of a child: ``(index, result)`` or ``(index, exc_info)``."""
    if child.cancelled():
        error: BaseException | None = _aborted(child)
    else:
        error = child._exception
    if error is None:
        link.try_set_result((index, child._result))
        return
    child._observe()  # passed on as a value: InProgressAny's caller sees it
    link.try_set_result((index, (type(error), error, error.__traceback__)))


class InProgressAny(InProgress):
    """Finishes when any of the given InProgress objects finishes: ``(index, result)``.

    Arguments (and lists, tuples or generators of them) go through :func:`inprogress`,
    so Signals work too. A child that fails finishes it with ``(index, (tp, exc, tb))``.

    Raises:
        ValueError: if no InProgress is given.

    >>> from shortly.compat import kaa
    >>> slow, fast = kaa.InProgress(), kaa.InProgress()
    >>> first = kaa.InProgressAny(slow, fast)
    >>> _ = fast.finish("fast one")
    >>> first.result
    (1, 'fast one')
    """

    __slots__ = ()

    def __init__(self, *objects: Any) -> None:
        links: list[Future[Any]] = []
        for index, child in enumerate(inprogress(o) for o in _flatten(objects)):
            link: Future[Any] = Future()
            depend(child._future, link, functools.partial(_indexed, index, link))
            links.append(link)
        if not links:
            raise ValueError("InProgressAny needs at least one InProgress: nothing could finish it")
        self._setup(race(links, cancel_losers=False), None)


class InProgressAll(InProgress):
    """Finishes, with itself, once every given InProgress has finished or failed.

    Iterate it, or index it, for the children (their results or exceptions are theirs).
    With no children it finishes at once.

    >>> from shortly.compat import kaa
    >>> a, b = kaa.InProgress(), kaa.InProgress()
    >>> both = kaa.InProgressAll(a, b)
    >>> _ = a.finish(1); _ = b.throw(ValueError, ValueError("b broke"), None)
    >>> both.result is both, [ip.failed for ip in both], both[0].result
    (True, [False, True], 1)
    """

    __slots__ = ("_objects",)

    def __init__(self, *objects: Any) -> None:
        self._objects = [inprogress(o) for o in _flatten(objects)]
        future: Future[Any] = Future()
        done = settled([child._future for child in self._objects])
        depend(done, future, lambda _: future.try_set_result(self))
        self._setup(future, None)

    def __iter__(self) -> Iterator[InProgress]:
        return iter(self._objects)

    def __getitem__(self, index: int) -> InProgress:
        return self._objects[index]
