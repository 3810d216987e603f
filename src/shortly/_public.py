"""Public names keep the public module as their ``__module__``.

``shortly`` itself, and kaa and pulsar (one module each, originally), define their names
in private submodules and re-export them. A name's ``__module__`` is what users see of where it
lives: its repr, the first line of a traceback (``shortly.compat.kaa.InProgressAborted:
...``), its pickles, and the bases the API reference shows (``docs/conf.py`` hides bases
from private modules). :func:`adopt_classes` gives them back the package's name. The
methods follow their class, because doctest collects a method's examples only from the
module the method names, and the class is now collected from the package.

The price is paid in docs and introspection: Sphinx finds a class's source through
``__module__``, so the API reference lists such a class's members alphabetically and
without [source] links, and ``inspect.getsource`` cannot find the class.
"""

from __future__ import annotations

import types

# Not typing.TYPE_CHECKING: the package does not import typing at run time (see
# _core._erased); type checkers take any `if TYPE_CHECKING:` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["adopt", "adopt_classes"]


def adopt(obj: object, package: str) -> None:
    """Make ``package`` the module of ``obj`` if a private submodule of it defined ``obj``.

    A class's own methods (and property getters) follow it; anything else is left alone
    (a re-exported stdlib class, a value).

    >>> import shortly
    >>> shortly.Future.__module__, shortly.Future.result.__module__
    ('shortly', 'shortly')
    >>> shortly.Future.result.__qualname__  # defined in a private mixin of Future
    'Future.result'
    """
    if not getattr(obj, "__module__", "").startswith(f"{package}._"):
        return
    obj.__module__ = package
    if not isinstance(obj, type):
        return
    _claim_functions(obj, obj, package)
    # A private mixin (by convention a ``...Methods`` class of a private submodule, such
    # as the future's blocking waits) is a piece of this class: its methods show as the
    # class's own. Other private bases may be public classes of their own: left alone.
    for base in obj.__mro__[1:]:
        if base.__module__.startswith(f"{package}._") and base.__name__.endswith("Methods"):
            _claim_functions(base, obj, package)


def _claim_functions(cls: type, owner: type, package: str) -> None:
    """Give the functions defined in ``cls`` the module ``package``, named as ``owner``'s."""
    own = cls.__qualname__ + "."
    for name, member in vars(cls).items():
        function = getattr(member, "__func__", member)  # inside staticmethod/classmethod
        if isinstance(function, property):
            function = function.fget
        # Only functions defined in that class: a bound implementation from elsewhere
        # (a mixin's method cached on the class) keeps its own module.
        if isinstance(function, types.FunctionType) and function.__qualname__.startswith(own):
            function.__module__ = package
            function.__qualname__ = f"{owner.__qualname__}.{name}"


def adopt_classes(namespace: dict[str, Any]) -> None:
    """Make the package owning ``namespace`` the module of the classes in its ``__all__``.

    Only classes defined in the package's own submodules change: a class it merely
    re-exports (pulsar's ``Future`` is asyncio's) keeps its module.

    >>> from shortly.compat import kaa
    >>> kaa.InProgress.__module__, kaa.InProgress.finish.__module__
    ('shortly.compat.kaa', 'shortly.compat.kaa')
    >>> import asyncio
    >>> from shortly.compat import pulsar
    >>> pulsar.Lock.__module__, pulsar.Future.__module__ == asyncio.Future.__module__
    ('shortly.compat.pulsar', True)
    """
    package = namespace["__name__"]
    for name in namespace["__all__"]:
        if isinstance(namespace[name], type):
            adopt(namespace[name], package)
