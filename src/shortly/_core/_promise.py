"""The promise face of a future: ``then``, ``catch``, ``finally_``, timeouts, ``await``.

These methods live on :class:`~shortly.Future` but their machinery belongs to the
modules that own each idea (``_chain``, ``_timers``, ``_aio``), which themselves build
on Future. So this mixin declares each method with its full signature (type checkers
and IDEs follow ``f.then`` here) and calls an implementation found on first use
through the finder the package's face installs: the core never imports upward.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import Executor
from concurrent.futures import Future as StdFuture

from ._erased import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:
    from typing import ClassVar

    from ._future import Future

__all__ = ["PromiseMethods"]

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")


class _Finder:
    """The implementations above the core, found on first use, then plain attributes.

    The core cannot import the layers its methods' machinery lives in (``_chain``,
    ``_aio``, ``_timers``, ``_progress``): they build on the core. So the package's face,
    ``shortly/__init__``, which runs before any of its modules, installs a function that
    finds an implementation by method name (:func:`install_finder`); the core only calls
    it. After the first call each name is an instance attribute, so a method call costs
    one attribute lookup more than calling the implementation directly. ``then``, which
    runs once per link of every chain, goes further: its implementation (same signature,
    the future as first argument) replaces the forwarding method on the class itself.
    """

    _direct: ClassVar[frozenset[str]] = frozenset({"then"})
    find: Callable[[str], Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or self.find is None:
            raise AttributeError(name)
        value = self.find(name)
        setattr(self, name, value)
        if name in self._direct:
            setattr(PromiseMethods, name, value)
        return value


def install_finder(find: Callable[[str], Any]) -> None:
    """Tell the core where the methods implemented above it live (the face calls this).

    ``find(name)`` returns the implementation of ``name``: ``then``, ``catch``,
    ``finally_``, ``with_timeout``, ``await_future``, ``report_progress``,
    ``on_progress``, ``updates``; each takes the future as its first argument.

    >>> import shortly
    >>> from shortly._core import _promise
    >>> _promise.implementations.find is not None  # installed by ``import shortly``
    True
    """
    implementations.find = find


implementations = _Finder()


class PromiseMethods(Generic[T]):
    """Mixin of :class:`~shortly.Future` holding its promise-style methods."""

    __slots__ = ()

    @overload
    def then(
        self,
        on_result: Callable[[T], StdFuture[U]],
        on_error: Callable[[BaseException], U | Awaitable[U]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[U]: ...
    @overload
    def then(
        self,
        on_result: Callable[[T], Awaitable[U]],
        on_error: Callable[[BaseException], U | Awaitable[U]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[U]: ...
    @overload
    def then(
        self,
        on_result: Callable[[T], U],
        on_error: Callable[[BaseException], U | Awaitable[U]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[U]: ...
    @overload
    def then(
        self,
        on_result: None = None,
        on_error: Callable[[BaseException], T | Awaitable[T]] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[T]: ...
    def then(
        self,
        on_result: Callable[[T], Any] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
        *,
        executor: Executor | None = None,
        loop: Any = None,
    ) -> Future[Any]:
        """Chain handlers: a new future settled by ``on_result`` or ``on_error``.

        A handler's return value resolves the new future, its exception fails it, and a
        returned future or awaitable is adopted. A missing handler passes the outcome
        through. See :mod:`shortly` "Chains" for ordering and cancellation rules.

        >>> import shortly
        >>> shortly.Future.resolved(2).then(lambda x: x * 10).result()
        20
        """
        return implementations.then(self, on_result, on_error, executor=executor, loop=loop)  # type: ignore[no-any-return]

    @overload
    def catch(
        self,
        on_error: Callable[[BaseException], StdFuture[R]],
        *exception_types: type[BaseException],
    ) -> Future[T | R]: ...

    @overload
    def catch(
        self,
        on_error: Callable[[BaseException], Awaitable[R]],
        *exception_types: type[BaseException],
    ) -> Future[T | R]: ...

    @overload
    def catch(
        self, on_error: Callable[[BaseException], R], *exception_types: type[BaseException]
    ) -> Future[T | R]: ...

    def catch(
        self, on_error: Callable[[BaseException], Any], *exception_types: type[BaseException]
    ) -> Future[Any]:
        """Handle a failure of the given types (all exceptions if none are given).

        The result is typed ``Future[T | R]``: this future's value, or what the handler
        returns (a value, or a future or awaitable it adopts).

        >>> import shortly
        >>> shortly.Future.failed(KeyError("k")).catch(lambda e: "default", KeyError).result()
        'default'
        """
        return implementations.catch(self, on_error, *exception_types)  # type: ignore[no-any-return]

    def finally_(self, fn: Callable[[], object]) -> Future[T]:
        """Run ``fn()`` when done and pass the outcome through (its own failure wins).

        >>> import shortly
        >>> shortly.Future.resolved(1).finally_(lambda: print("cleanup")).result()
        cleanup
        1
        """
        return implementations.finally_(self, fn)  # type: ignore[no-any-return]

    def with_timeout(self, seconds: float, *, cancel: bool = False) -> Future[T]:
        """A future that settles like this one, or fails with TimeoutError after ``seconds``.

        >>> import shortly
        >>> shortly.Future().with_timeout(0.01).exception(timeout=5)
        TimeoutError(...)
        """
        return implementations.with_timeout(self, seconds, cancel=cancel)  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, T]:
        return (yield from implementations.await_future(self))  # type: ignore[no-any-return]
