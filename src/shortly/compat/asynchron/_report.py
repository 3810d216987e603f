"""cs.asynchron's ``report()``: Asynchrons in completion order, on :func:`shortly.as_completed`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from ..._adapt import future_of
from ..._as_completed import as_completed
from ..._core import Future
from ._asynchron import Asynchron

__all__ = ["report"]


def _future_for(item: object) -> Future[Any]:
    """What to wait on for one item of :func:`report`."""
    if isinstance(item, Asynchron):
        return item._future
    notify = getattr(item, "notify", None)
    if callable(notify) and not callable(getattr(item, "__shortly_future__", None)):
        future: Future[Any] = Future()
        notify(lambda _: future.try_set_result(None))
        return future
    return future_of(item)


def report(asynchrons: Iterable[Any]) -> Iterator[Any]:
    """Yield each item as it completes, in completion order.

    Items may be Asynchrons, other objects with a ``notify(fn)`` method, or futures
    :func:`shortly.future_of` adapts. An item listed twice is yielded twice.

    Raises:
        TypeError: if an item is none of those.

    >>> import threading
    >>> from shortly.compat.asynchron import Asynchron, report
    >>> slow, fast = Asynchron(name="slow"), Asynchron(name="fast")
    >>> fast.result = "first"
    >>> threading.Timer(0.01, setattr, [slow, "result", "second"]).start()
    >>> for A in report([slow, fast]):
    ...     print(A(), end=" ")
    first second
    """
    futures: list[Future[Any]] = []
    items_of: dict[int, list[Any]] = {}
    for item in asynchrons:
        future = _future_for(item)
        futures.append(future)  # also keeps each id() below unique while we run
        items_of.setdefault(id(future), []).append(item)
    for future in as_completed(futures):
        yield from items_of.pop(id(future))
