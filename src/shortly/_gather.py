"""gather(): resolve a nested structure of dicts, lists and tuples whose leaves are futures.

The structure is walked once, without recursion (so depth is limited by memory only):
its containers are copied with a hole for each leaf, the leaves go to the all_of
machinery of :mod:`shortly._combiner`, and the values fill the holes. O(n) in leaves
and containers; failure, cancellation and responsibility rules are all_of's.
"""

from __future__ import annotations

from typing import Any, TypeVar, overload

from ._combine import FutureLike
from ._combiner import AllOf, AllSlot, check_flag, inputs_of
from ._core import Future
from ._limit import check_limit, limited

__all__ = ["gather"]


class _Shape:
    """A copy of a gather() structure's containers, with a hole for each leaf.

    Built and filled without recursion, so depth is limited by memory only. Dicts,
    lists and tuples are walked (namedtuples keep their type; other subclasses come
    back as the plain type); anything else is a leaf.
    """

    __slots__ = ("holes", "root", "tuples")

    def __init__(self, obj: object, leaves: list[Any]) -> None:
        """Copy ``obj``'s containers, appending its leaves to ``leaves`` in order."""
        self.root: list[Any] = [None]
        self.holes: list[tuple[Any, Any]] = []
        self.tuples: list[tuple[list[Any], Any, list[Any], type]] = []
        inside: set[int] = set()  # the containers on the current path, to refuse cycles
        stack: list[tuple[Any, Any, Any]] = [(self.root, 0, obj)]
        while stack:
            parent, key, node = stack.pop()
            if parent is None:  # every child of container `key` is done
                inside.discard(key)
                continue
            if not isinstance(node, (dict, list, tuple)):
                self.holes.append((parent, key))
                leaves.append(node)
                continue
            if id(node) in inside:
                raise ValueError("obj contains itself: gather needs a tree of dicts, lists, tuples")
            inside.add(id(node))
            stack.append((None, id(node), None))
            copy: Any
            if isinstance(node, dict):
                copy = dict.fromkeys(node)
                children = list(node.items())
            else:
                copy = [None] * len(node)
                children = list(enumerate(node))
                if isinstance(node, tuple):
                    self.tuples.append((parent, key, copy, type(node)))
            parent[key] = copy
            stack.extend((copy, k, v) for k, v in reversed(children))

    def fill(self, values: list[Any]) -> Any:
        for (container, key), value in zip(self.holes, values, strict=True):
            container[key] = value
        # Innermost first: a tuple is built after the tuples inside it.
        for parent, key, items, kind in reversed(self.tuples):
            parent[key] = kind._make(items) if hasattr(kind, "_fields") else tuple(items)
        return self.root[0]


K = TypeVar("K")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")


class _Gather(AllOf):
    __slots__ = ("shape",)

    def __init__(self, inputs: list[Future[Any]], cancel_on_error: bool, shape: _Shape) -> None:
        super().__init__("gather", inputs, cancel_on_error, as_tuple=False)
        self.shape = shape

    def succeed(self, future: Future[Any], values: list[Any]) -> None:
        future.try_set_result(self.shape.fill(values))


@overload
def gather(
    obj: FutureLike[T1],
    second: FutureLike[T2],
    /,
    *,
    cancel_on_error: bool = True,
    limit: int | None = None,
) -> Future[tuple[T1, T2]]: ...
@overload
def gather(
    obj: FutureLike[T1],
    second: FutureLike[T2],
    third: FutureLike[T3],
    /,
    *,
    cancel_on_error: bool = True,
    limit: int | None = None,
) -> Future[tuple[T1, T2, T3]]: ...
@overload
def gather(
    obj: list[FutureLike[T1]], /, *, cancel_on_error: bool = True, limit: int | None = None
) -> Future[list[T1]]: ...
@overload
def gather(
    obj: dict[K, FutureLike[T1]], /, *, cancel_on_error: bool = True, limit: int | None = None
) -> Future[dict[K, T1]]: ...
@overload
def gather(
    obj: object, /, *more: object, cancel_on_error: bool = True, limit: int | None = None
) -> Future[Any]: ...
def gather(
    obj: object, /, *more: object, cancel_on_error: bool = True, limit: int | None = None
) -> Future[Any]:
    """Resolve a nested structure of dicts, lists and tuples; leaves become values.

    Leaves may be futures, anything :func:`shortly.future_of` adapts, or plain values.
    The result has the same shape (namedtuples keep their type, other subclasses of
    dict, list and tuple come back as the plain type). It fails like :func:`all_of`:
    with the first failure, cancelling the other pending leaves if
    ``cancel_on_error`` (by the upward rule). An empty structure resolves at once.
    With ``limit``, at most that many of the coroutine leaves run at once, started in
    order as others finish (futures and values stand for work already running); a
    coroutine not started when the gather fails never starts.

    Several positional arguments are gathered as a tuple, as ``asyncio.gather`` is
    called: ``gather(a, b)`` is ``gather((a, b))``.

    Raises:
        ValueError: if the structure contains itself, or ``limit`` is less than 1.
        TypeError: if a leaf cannot be adapted (a coroutine outside a running loop),
            ``cancel_on_error`` is not a bool or ``limit`` not an int.

    >>> import shortly
    >>> user, posts = shortly.Future(), shortly.Future()
    >>> page = shortly.gather({"user": user, "posts": [posts, "pinned"], "n": (1, 2)})
    >>> user.set_result("ada"); posts.set_result("hello")
    >>> page.result()
    {'user': 'ada', 'posts': ['hello', 'pinned'], 'n': (1, 2)}
    >>> shortly.gather(shortly.Future.resolved(1), shortly.Future.resolved("a")).result()
    (1, 'a')
    """
    cancel = check_flag(cancel_on_error, "cancel_on_error")
    if more:  # gather(a, b, c), as asyncio.gather is called: a tuple of them
        obj = (obj, *more)
    leaves: list[Any] = []
    shape = _Shape(obj, leaves)
    if limit is not None:
        leaves = limited(leaves, check_limit(limit))
    inputs = inputs_of(leaves)
    if not inputs:
        return Future.resolved(shape.fill([]))
    return _Gather(inputs, cancel, shape).start(AllSlot)
