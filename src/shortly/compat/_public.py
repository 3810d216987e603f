"""The classes of a split compat module keep the public module as their ``__module__``.

kaa and pulsar were one module each; as packages they define their classes in private
submodules and re-export them. A class's ``__module__`` is what users see of where it
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
from typing import Any

__all__ = ["adopt_classes"]


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
        cls = namespace[name]
        if not (isinstance(cls, type) and cls.__module__.startswith(f"{package}._")):
            continue
        cls.__module__ = package
        for member in vars(cls).values():
            function = getattr(member, "__func__", member)  # inside staticmethod/classmethod
            if isinstance(function, types.FunctionType):
                function.__module__ = package
