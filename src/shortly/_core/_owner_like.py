"""Who resolves a future: a thread, or an :class:`OwnerLike` that names the thread.

The deadlock check (``_deadlock``) only calls ``__shortly_owner_thread__``; nothing
checks the protocol at run time. So it lives here, loaded when somebody names it
(``shortly.OwnerLike``) or by a type checker: a run-time protocol costs typing's import.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

__all__ = ["Owner", "OwnerLike"]


@runtime_checkable
class OwnerLike(Protocol):
    """An owner that is not a thread: it says which thread resolves its futures now.

    An owner that any of several threads may act for (a thread pool) also defines
    ``__shortly_owner_threads__()``, returning those threads, or ``None`` when it
    cannot tell (the pool may still start a new one).

    >>> import threading
    >>> class Worker:
    ...     def __shortly_owner_thread__(self):
    ...         return threading.main_thread()
    >>> isinstance(Worker(), OwnerLike)
    True
    """

    def __shortly_owner_thread__(self) -> threading.Thread | None: ...


Owner = threading.Thread | OwnerLike
