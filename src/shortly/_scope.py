"""Scopes: structured concurrency whose cancellation reaches thread code.

A thread cannot be interrupted, so a scope cancels the next best thing: every shortly
*wait point*. The current scope travels in a :mod:`contextvars` variable, which
``submit``, ``later``, ``then`` handlers and :class:`~shortly.SerialExecutor` actions
already carry. ``Future._block`` (under ``result()``, ``wait()``, ``Lock.acquire()``...)
looks it up once, only when about to sleep, and inside a scope registers its one-shot
waker here: cancelling the scope wakes it, to raise :class:`~shortly.CancelledError`.

Why waking is safe. The scope wakes a waker only after taking it out of the pending
future's waiter list under the future's lock, under which the future settles too.

The tree. A scope knows its parent (current when it was entered) and nested scopes. It
is *effectively* cancelled when it, or an ancestor below the nearest shielded scope, is;
cancelling walks down the same way. One lock guards the tree: scopes are no hot path.

:mod:`shortly._core._future` imports this module, so the parts that start work import theirs
when called.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from ._checks import check_name, check_timeout
from ._core import take_failure
from ._errors import TimeoutError
from ._progress import Progress, Tally

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - 3.10
    from exceptiongroup import BaseExceptionGroup

from ._core import TREE as _tree
from ._core import because, swallowed_by
from ._core import cancelled_by as _cancelled_by
from ._core import interrupt as _interrupt
from ._core import is_cancel as _is_cancel
from ._core import scope_var as _var

if TYPE_CHECKING:
    from ._core import Future
    from ._scope_async import AsyncBody

__all__ = ["Scope", "current_scope", "scope", "set_current"]

T = TypeVar("T")

#: The current scope or None: the one lookup ``Future._block`` pays before sleeping.
current_scope = _var.get
set_current = _var.set  # (run in a copied context) for work owning a private scope


class Scope:
    """A block that owns the work started through it; see :func:`scope`.

    >>> import shortly
    >>> with shortly.scope() as s:
    ...     f = s.submit(sum, [1, 2, 3])
    >>> f.result()
    6
    """

    def __init__(self, timeout: float | None, shield: bool) -> None:
        self._timeout = timeout
        self._shield = shield
        self._parent: Scope | None = None
        self._nested: set[Scope] = set()
        self._sleepers: dict[Any, Future[Any]] = {}  # waker -> the future it waits on
        self._children: set[Future[Any]] = set()
        self._errors: list[BaseException] = []
        self._cancel_called = False
        self._timed_out = False
        self._entered = False
        self._used = False  # a scope is entered once
        self._all_done = threading.Condition(threading.Lock())
        self._token: contextvars.Token[Scope | None] | None = None
        self._timer: Future[Any] | None = None
        self._idle: list[Future[None]] = []  # resolved when the last child is done
        self._async: AsyncBody | None = None  # the async block's task, if any
        self._tally = Tally()  # progress: children finished, of those started

    def __repr__(self) -> str:
        state = "cancelled" if self._cancel_called else "active" if self._entered else "closed"
        return f"<shortly.Scope {state} children={len(self._children)}>"

    # -- cancellation ---------------------------------------------------------------

    @property
    def cancel_called(self) -> bool:
        """Whether this scope was cancelled (by ``cancel()``, a failure or its timeout).

        >>> import shortly
        >>> shortly.scope().cancel_called
        False
        """
        return self._cancel_called

    def _origin(self) -> Scope | None:
        """Under the tree lock: the scope whose cancellation applies here, if any."""
        scope: Scope | None = self
        while scope is not None:
            if scope._cancel_called:
                return scope
            if scope._shield:
                return None
            scope = scope._parent
        return None

    def cancel(self) -> None:
        """Cancel the work of this scope and of the scopes nested in it.

        Children not started never start; running ones raise
        :class:`~shortly.CancelledError` at their next shortly wait point. Leaving the
        block still waits for every child. Calling it again does nothing.

        >>> import shortly
        >>> with shortly.scope() as s:
        ...     s.cancel()
        ...     shortly.cancelled()
        True
        """
        self._cancel(timed_out=False)

    def _cancel(self, timed_out: bool) -> None:
        wake: list[tuple[Any, Future[Any]]] = []
        with _tree:
            if self._cancel_called:
                return
            self._cancel_called = True
            self._timed_out = timed_out
            stack = [self]
            while stack:
                scope = stack.pop()
                wake.extend(scope._sleepers.items())
                stack.extend(s for s in scope._nested if not s._shield)
            children = list(self._children)
        for waker, future in wake:
            _interrupt(waker, future)
        for child in children:
            child.cancel()
        if self._async is not None:
            self._async.cancel_body()

    # -- the wait-point hooks, called by Future._block ---------------------------------

    def watch(self, future: Future[Any], waker: Any) -> None:
        """Register a sleeper, or raise at once if the scope is cancelled."""
        with _tree:
            self._sleepers[waker] = future  # unwatch() sees to it either way
            origin = self._origin()
        if origin is not None:
            raise _cancelled_by(origin)

    def unwatch(self, waker: Any) -> None:
        """The sleeper is done; one that cancellation woke gives up on its future."""
        with _tree:
            future = self._sleepers.pop(waker, None)
            origin = self._origin()
        if origin is not None and future is not None and not future.done():
            from ._core import cancel_if_unwanted

            # As a cancelled task's await does: by the upward rule (a timer of
            # sleep() nobody else waits for is disarmed, queued work dropped).
            cancel_if_unwanted(future, because(origin))

    def check(self) -> None:
        """Raise :class:`~shortly.CancelledError` if this scope is effectively cancelled."""
        with _tree:
            origin = self._origin()
        if origin is not None:
            raise _cancelled_by(origin)

    # -- starting work ------------------------------------------------------------------

    def _run_here(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call ``fn`` in a copy of this context with this scope current."""
        ctx = contextvars.copy_context()
        ctx.run(_var.set, self)
        return ctx.run(fn, *args, **kwargs)

    def _adopt(self, future: Future[T]) -> Future[T]:
        from ._core import watch

        with _tree:
            opened = self._entered
            if opened:
                self._children.add(future)
            cancelled = self._origin() is not None
        if cancelled or not opened:
            future.cancel()
        if not opened:
            raise RuntimeError(f"{self!r} is not open: start work inside its block")
        self._tally.start()
        watch(future, self._child_done)  # at once if done: it leaves _children then
        return future

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Start ``fn(*args, **kwargs)`` like :func:`shortly.submit`, owned by this scope.

        Keywords are :func:`shortly.submit`'s (``executor``, ``delay``, ``name``).

        Raises:
            RuntimeError: if the scope's block has ended.
            TypeError: as :func:`shortly.submit`.

        >>> import shortly
        >>> with shortly.scope() as s:
        ...     f = s.submit(pow, 2, 8)
        >>> f.result()
        256
        """
        from ._submit import submit

        self._check_open()
        return self._adopt(self._run_here(submit, fn, *args, **kwargs))

    def later(
        self, seconds: float, fn: Callable[..., T], /, *args: Any, name: str | None = None
    ) -> Future[T]:
        """Run ``fn(*args)`` after ``seconds`` like :func:`shortly.later`, owned here.

        Raises:
            RuntimeError: if the scope's block has ended.
            TypeError: if ``fn`` is not callable, ``seconds`` not a number or ``name``
                not a str.
            ValueError: if ``seconds`` is negative or NaN, or ``name`` empty.

        >>> import shortly
        >>> with shortly.scope() as s:
        ...     f = s.later(0.01, str.upper, "tick")
        >>> f.result()
        'TICK'
        """
        from ._timers import later

        self._check_open()
        return self._adopt(self._run_here(later, seconds, fn, *args, name=name))

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> Future[T]:
        """Run a coroutine owned by this scope; return its future (labelled ``name``).

        Under asyncio it becomes a task of the running loop; under trio, a task of a
        nursery the scope opened; with no loop, it runs as :func:`shortly.spawn`.

        Raises:
            RuntimeError: if the scope's block has ended.
            TypeError: if ``coro`` is not a coroutine object, or ``name`` not a str.
            ValueError: if ``name`` is empty.

        >>> import shortly
        >>> async def answer():
        ...     return 42
        >>> with shortly.scope() as s:
        ...     f = s.spawn(answer())
        >>> f.result()
        42
        """
        from ._spawn import spawn

        if name is not None:
            check_name(name)
        self._check_open()
        start: Callable[[Coroutine[Any, Any, T]], Future[T]] = (
            spawn if self._async is None else self._async.spawn
        )
        future = self._run_here(start, coro)
        if name is not None:
            future._name = name
        return self._adopt(future)

    def on_progress(self, callback: Callable[[Progress], object]) -> None:
        """Call ``callback(progress)`` as children finish: how many, of those started.

        Raises:
            TypeError: if ``callback`` is not callable.

        >>> import shortly; seen = []
        >>> with shortly.scope() as s:
        ...     s.on_progress(seen.append)
        ...     children = [s.submit(abs, -n) for n in range(3)]
        >>> seen[-1]
        Progress(done=3, total=3, note=None)
        """
        self._tally.listen(callback)

    def _check_open(self) -> None:
        if not self._entered:
            raise RuntimeError(f"{self!r} is not open: start work inside its block")

    def _child_done(self, future: Future[Any]) -> None:
        self._tally.finish()  # before the block may end, below
        error = None
        if not future.cancelled():
            error = take_failure(future)  # the scope raises it: nothing left to report
            if error is not None and _is_cancel(error):
                error = None
        idle: list[Future[None]] = []
        with self._all_done:
            with _tree:
                self._children.discard(future)
                if error is not None:
                    self._errors.append(error)
                if not self._children:
                    idle, self._idle = self._idle, idle
            self._all_done.notify_all()
        for waiter in idle:
            waiter.try_set_result(None)
        if error is not None:
            self._cancel(timed_out=False)

    # -- the block ---------------------------------------------------------------------

    def _open(self) -> None:
        from ._timers import later

        if self._used:
            raise RuntimeError(f"{self!r} cannot be entered twice")
        self._attach(_var.get())
        self._token = _var.set(self)
        if self._timeout is not None:
            self._timer = later(self._timeout, self._cancel, True)

    def _attach(self, parent: Scope | None) -> None:
        """Open without a block, under ``parent``: for work that owns a private scope."""
        with _tree:
            self._used = self._entered = True
            self._parent = parent
            if parent is not None:
                parent._nested.add(self)

    def _detach(self) -> None:
        with _tree:
            self._entered = False
            if self._parent is not None:
                self._parent._nested.discard(self)

    def _shut(self) -> bool:
        """Close the scope to new work if it has no child left; tell if it did."""
        with _tree:
            if self._children:
                return False
            self._entered = False
            return True

    def _when_idle(self) -> Future[None]:
        """A future resolved once no child is left (the scope is then closed)."""
        from ._core import Future

        waiter: Future[None] = Future()
        with self._all_done:
            if self._shut():
                waiter.set_result(None)
            else:
                self._idle.append(waiter)
        return waiter

    def _swallows(self, error: BaseException) -> bool:
        return swallowed_by(error, self)

    def _finish(self, error: BaseException | None) -> BaseException | None:
        if self._timer is not None:
            self._timer.cancel()
        self._detach()
        self._tally.close()
        if self._token is not None:
            _var.reset(self._token)
            self._token = None
        errors = list(self._errors)
        if error is not None and not self._swallows(error) and not _is_cancel(error):
            if all(error is not e for e in errors):
                errors.insert(0, error)
        elif error is not None and not self._swallows(error):
            return error  # an outer scope's cancellation goes on outward
        if self._timed_out and not errors:
            return TimeoutError(f"the scope's block did not finish within {self._timeout} seconds")
        if errors:
            # An ExceptionGroup when every error is an Exception (BaseExceptionGroup's rule).
            return BaseExceptionGroup("errors in a shortly scope", errors)
        return None

    def __enter__(self) -> Scope:
        self._open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        if exc is not None:
            self._cancel(timed_out=False)
        with self._all_done:  # every child is waited for, whatever happened
            self._all_done.wait_for(self._shut)
        raised = self._finish(exc)
        if raised is not None and raised is not exc:
            raise raised
        return raised is None

    async def __aenter__(self) -> Scope:
        from ._scope_async import enter

        return await enter(self)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> bool:
        from ._scope_async import leave

        return await leave(self, exc)


def scope(timeout: float | None = None, *, shield: bool = False) -> Scope:
    """A block that owns the work started in it, and can cancel thread code too.

    ``with shortly.scope() as s:`` (or ``async with`` under asyncio and trio) starts
    work with ``s.submit``, ``s.spawn`` and ``s.later``. The first child to fail
    cancels the others; leaving the block waits for every child; failures come out
    together as an :class:`ExceptionGroup` (always a group, even of one). With
    ``timeout``, the whole block has that many seconds: then the scope is cancelled
    and, once every child is done, :class:`~shortly.TimeoutError` is raised (trio's
    ``fail_after``).

    Cancelling reaches running thread code at its next shortly wait point: inside a
    cancelled scope, ``Future.result()``, ``wait()``, ``shortly.sleep(...).result()``
    and ``Lock.acquire()`` raise :class:`~shortly.CancelledError` instead of
    waiting, and :func:`shortly.cancelled` / :func:`shortly.checkpoint` let a CPU loop
    ask. The scope follows the code through :mod:`contextvars`: work started inside the
    block by ``shortly.submit``, ``then`` handlers and ``SerialExecutor`` actions is
    reached too. Scopes nest; a scope with ``shield=True`` is not reached by the
    cancellation of the scopes around it.

    Raises:
        TypeError: if ``timeout`` is not a number or None.
        ValueError: if ``timeout`` is NaN.

    >>> import shortly
    >>> def slow():
    ...     shortly.sleep(60).result()
    >>> with shortly.scope() as s:
    ...     f = s.submit(slow)
    ...     s.cancel()
    >>> f.cancelled() or isinstance(f.exception(), shortly.CancelledError)  # either way
    True
    """
    return Scope(check_timeout(timeout), bool(shield))
