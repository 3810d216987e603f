"""The few names of :mod:`typing` the core needs at run time, erased: typing is not imported.

``import typing`` costs about 2.5 ms, a fifth of ``import concurrent.futures``, and
everything else a script pays for a future is less than that. The core needs typing
for the type checker only, so under ``TYPE_CHECKING`` these are typing's own names and
at run time they are stand-ins that do what a class statement or a decorator needs:

- ``Generic[T]`` is a plain base whose subscript gives a :class:`types.GenericAlias`,
  so ``Future[int]`` is what ``concurrent.futures.Future[int]`` is;
- ``TypeVar("T")`` is the string ``"T"``; ``overload`` returns the function (the last
  definition, the implementation, wins as it does with typing's);
- ``Any`` is :class:`object`, for the few run-time expressions that name it
  (``list[Any]`` as a base class).

``TYPE_CHECKING`` is False; type checkers take any ``if TYPE_CHECKING:`` as true.

>>> from shortly._core._erased import Generic, TypeVar
>>> T = TypeVar("T")
>>> class Box(Generic[T]):
...     pass
>>> Box[int]
shortly._core._erased.Box[int]
"""

from __future__ import annotations

import types

TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any, Generic, TypeVar, overload
else:

    class _Parametrised:
        """What ``Generic[...]`` is at run time: subscripting a subclass gives an alias."""

        __slots__ = ()
        __class_getitem__ = classmethod(types.GenericAlias)

    class _Generic:
        def __getitem__(self, params: object) -> type:
            return _Parametrised

    Generic = _Generic()
    Any = object

    def TypeVar(name: str, *constraints: object, **options: object) -> str:
        return name

    def overload(fn: object) -> object:
        return fn


__all__ = ["TYPE_CHECKING", "Any", "Generic", "TypeVar", "overload"]
