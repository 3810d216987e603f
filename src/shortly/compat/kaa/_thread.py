"""kaa's ``@threaded()`` decorator and ``MAINTHREAD``: where a function call runs.

``threaded()`` runs each call on a new thread; ``threaded("name")`` on the named
:class:`shortly.SerialExecutor` (one call at a time, in order); ``threaded(MAINTHREAD)``
in the main loop (:mod:`shortly.compat.kaa.main`), at once when called from the main
thread. Every call returns an InProgress of its outcome.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ..._serial import SerialExecutor
from ._inprogress import InProgress
from ._status import InProgressStatus, report_to, status_class_of
from .main import _loop, is_mainthread

__all__ = ["MAINTHREAD", "threaded"]


class _MainThread:
    __slots__ = ()

    def __repr__(self) -> str:
        return "kaa.MAINTHREAD"


#: The ``pool`` of :func:`threaded` that runs calls in the main loop.
MAINTHREAD: Any = _MainThread()

_pools: dict[str, SerialExecutor] = {}
_pools_lock = threading.Lock()


def _pool(name: str) -> SerialExecutor:
    with _pools_lock:
        pool = _pools.get(name)
        if pool is None:
            pool = _pools[name] = SerialExecutor(f"kaa-{name}", idle_timeout=1.0)
        return pool


def _start(pool: Any, wait: bool, ip: InProgress, call: Callable[[], Any]) -> None:
    """Arrange for ``ip.execute(call)`` where ``pool`` says."""
    if pool is MAINTHREAD:
        if is_mainthread():
            ip.execute(call)
        else:
            _loop.queue(ip.execute, call)
    elif pool is None:
        threading.Thread(
            target=ip.execute, args=(call,), name="kaa-threaded", daemon=not wait
        ).start()
    else:
        _pool(pool).submit(ip.execute, call)


def threaded(
    pool: Any = None,
    priority: int = 0,
    progress: bool | type[InProgressStatus] = False,
    wait: bool = False,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a function so that each call runs in a thread and returns an InProgress.

    Args:
        pool: None for a new thread per call; a name for a named pool (one call at a
            time, in order); :data:`MAINTHREAD` for the main loop (a call made in the
            main thread runs at once).
        priority: accepted for kaa's signature; calls of a pool run in order.
        progress: True (or an :class:`InProgressStatus` class) to pass a new status
            as first argument of each call; it is the InProgress's ``progress``.
        wait: True to make a new thread non-daemon, so that it keeps the program alive.
        options: ``async=False`` (spelled ``**{"async": False}``, ``async`` being a
            keyword) makes the call block and return the result.

    Raises:
        TypeError: if ``pool`` is none of those, ``progress`` is neither a bool nor a
            status class, or an unknown option is given.

    >>> from shortly.compat import kaa
    >>> @kaa.threaded()
    ... def add(a, b):
    ...     return a + b
    >>> add(2, 3).wait(timeout=5)
    5
    """
    if not (pool is None or pool is MAINTHREAD or isinstance(pool, str)):
        raise TypeError(f"pool must be None, a name or kaa.MAINTHREAD, not {type(pool).__name__}")
    unknown = set(options) - {"async"}
    if unknown:
        raise TypeError(f"threaded() got unexpected keyword arguments {sorted(unknown)}")
    blocking = options.get("async", True) is False
    status_class = status_class_of(progress)

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            if blocking and pool is MAINTHREAD and is_mainthread():
                return func(*args, **kwargs)
            ip = InProgress()
            if status_class is not None:
                ip.progress = status_class()
                report_to(ip.progress, ip._future)  # shortly's progress listeners see it
                args = (ip.progress, *args)
            _start(pool, wait, ip, functools.partial(func, *args, **kwargs))
            return ip.wait() if blocking else ip

        return call

    return decorate
