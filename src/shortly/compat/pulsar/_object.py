"""pulsar's ``AsyncObject`` (a loop, a logger, ``timeit``) and the ``Bench`` it times with."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ._async import _check_loop, _multi, _out

__all__ = ["AsyncObject", "Bench"]

LOGGER = logging.getLogger("pulsar")


class Bench:
    """Run an asynchronous function a number of times and wait for all the results.

    Call it with the function and its arguments: the calls are started together, and
    the future it returns resolves with the Bench itself, whose ``taken`` is the time
    from the start to the last result and ``result`` the tuple of results.

    Raises:
        TypeError: if ``times`` is not an int.
        ValueError: if ``times`` is negative.

    >>> import asyncio
    >>> from shortly.compat.pulsar import Bench
    >>> async def ping():
    ...     await asyncio.sleep(0)
    ...     return "pong"
    >>> async def main():
    ...     bench = await Bench(3)(ping)
    ...     return bench.result, bench.taken >= 0
    >>> asyncio.run(main())
    (('pong', 'pong', 'pong'), True)
    """

    def __init__(self, times: int, loop: asyncio.AbstractEventLoop | None = None) -> None:
        if isinstance(times, bool) or not isinstance(times, int):
            raise TypeError(f"times must be an int, not {type(times).__name__}")
        if times < 0:
            raise ValueError(f"times must be >= 0, not {times}")
        self.times = times
        self._loop = _check_loop(loop)
        self.start: float | None = None
        self.finish: float | None = None
        self.result: tuple[Any, ...] = ()

    @property
    def taken(self) -> float | None:
        """The total time taken for execution, in seconds (None until finished).

        >>> from shortly.compat.pulsar import Bench
        >>> print(Bench(1).taken)
        None
        """
        if self.finish is None or self.start is None:
            return None
        return self.finish - self.start

    def __call__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``func(*args, **kwargs)`` ``times`` times; a future of this Bench.

        >>> import asyncio
        >>> from shortly.compat.pulsar import Bench
        >>> async def main():
        ...     bench = Bench(2)
        ...     return await bench(asyncio.sleep, 0, "slept") is bench, bench.result
        >>> asyncio.run(main())
        (True, ('slept', 'slept'))
        """
        self.start = time.monotonic()
        calls = [func(*args, **kwargs) for _ in range(self.times)]
        return _out(_multi(calls, self._loop, None, True).then(self._done), self._loop)

    def _done(self, results: list[Any]) -> Bench:
        self.finish = time.monotonic()
        self.result = tuple(results)
        return self


class AsyncObject:
    """Interface for asynchronous objects: a loop, a logger, and ``timeit``.

    >>> from shortly.compat.pulsar import AsyncObject
    >>> class Client(AsyncObject):
    ...     pass
    >>> Client().logger.name, Client().debug
    ('pulsar', False)
    """

    #: The event loop associated with this object (None: the running one, when needed).
    _loop: asyncio.AbstractEventLoop | None = None
    #: Optional logger instance, used by the ``logger`` attribute.
    _logger: logging.Logger | None = None

    @property
    def logger(self) -> logging.Logger:
        """This object's ``_logger``, else its loop's ``logger``, else pulsar's logger.

        >>> import logging
        >>> from shortly.compat.pulsar import AsyncObject
        >>> class Quiet(AsyncObject):
        ...     _logger = logging.getLogger("quiet")
        >>> Quiet().logger.name
        'quiet'
        """
        if self._logger is not None:
            return self._logger
        found: logging.Logger = getattr(self._loop, "logger", LOGGER)
        return found

    @property
    def debug(self) -> bool:
        """True when in debug mode (the loop's debug mode).

        >>> import asyncio
        >>> from shortly.compat.pulsar import AsyncObject
        >>> obj = AsyncObject(); obj._loop = asyncio.new_event_loop()
        >>> obj._loop.set_debug(True); obj.debug
        True
        >>> obj._loop.close()
        """
        return bool(self._loop is not None and self._loop.get_debug())

    def timeit(self, method: str, times: int, *args: Any, **kwargs: Any) -> Any:
        """Benchmark the asynchronous method named ``method``: a future of a :class:`Bench`.

        The method is called ``times`` times with ``args`` and ``kwargs``.

        >>> import asyncio
        >>> from shortly.compat.pulsar import AsyncObject
        >>> class Echo(AsyncObject):
        ...     async def echo(self, x):
        ...         return x
        >>> async def main():
        ...     bench = await Echo().timeit("echo", 10, "hi")
        ...     return len(bench.result), bench.taken is not None
        >>> asyncio.run(main())
        (10, True)
        """
        return Bench(times, loop=self._loop)(getattr(self, method), *args, **kwargs)
