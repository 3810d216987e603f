"""Chains: ``then``, ``catch``, ``finally_``, adoption of returned futures, ``shield``.

Each link is a new future that depends on its parent (see :mod:`shortly._core._cancel`): a
done-callback on the parent runs the link's handler and settles the child with what
it returns or raises. This follows Promises/A+ 2.1 to 2.3, with shortly futures and
everything :func:`~shortly.future_of` adapts in the role of thenables.

Where and when handlers run:

* A handler runs where ``add_done_callback`` callbacks run: in the thread that settles
  the parent, right after it is settled; or, if the parent is settled already when
  ``then`` is called, at once in the calling thread, before ``then`` returns.
* Handlers attached to one future run in the order they were attached. A future
  settled *by* a handler has its own handlers queued on the thread's trampoline and
  run after the current ones (breadth first), so a chain of any length resolves with
  a flat stack, whether it was built before or after its root settled.
* ``executor=`` or ``loop=`` instead submits the handler to that executor or asyncio
  loop when the parent settles.
* The handler runs in the :mod:`contextvars` context current when ``then`` (or
  ``catch`` or ``finally_``) was called.

The one deliberate difference from Promises/A+ is 2.2.4: handlers of an already
settled future run synchronously, as Twisted's ``Deferred`` does, rather than on a
fresh stack later. There is no event loop to defer to in a plain thread, and a
deferred hop would cost every link of every chain; the trampoline gives the stack
safety 2.2.4 is there for.

Failures and cancellation:

* A failure is owned by exactly one future at a time. A link that passes a failure
  on, or hands it to its ``on_error``, takes it over from its parent, so a failing
  chain whose end nobody looks at is reported once, for its end, and a chain whose
  end is observed reports nothing.
* Cancelling a future cancels its links (downward), with the same message; their
  ``on_result``/``on_error`` handlers do not run, ``finally_`` handlers do.
  Cancelling a link cancels its parent only when every dependant of the parent has
  been cancelled and nobody else waits on it (upward, Bluebird's rule).
  :func:`shield` stops the upward direction.
* A handler that raises ``CancelledError`` cancels its link rather than failing it.
"""

from __future__ import annotations

import contextvars
import inspect
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from ._adapt import adapter_for, future_of
from ._core import (
    ADAPTER_CACHE,
    Dependant,
    Future,
    Link,
    Raised,
    Runner,
    capture,
    depend,
    derive,
    detach,
    error_of,
    fail,
    failure_of,
    follow,
    observe,
    succeeded,
    value_of,
    when_cancelled,
)
from ._spawn import spawn

if TYPE_CHECKING:
    from concurrent.futures import Executor

__all__ = ["catch", "finally_", "resolve", "shield", "then"]

T = TypeVar("T")

_UNKNOWN: Any = object()
_copy_context = contextvars.copy_context
_new_link = object.__new__


def then(
    parent: Future[Any],
    on_result: Callable[[Any], Any] | None = None,
    on_error: Callable[[BaseException], Any] | None = None,
    *,
    executor: Executor | None = None,
    loop: Any = None,
) -> Future[Any]:
    """Chain handlers on ``parent``; the new future settles with what they produce.

    ``on_result(value)`` runs if ``parent`` finishes, ``on_error(exception)`` if it
    fails; a missing handler passes the outcome through. The handler's return value
    resolves the new future; a returned shortly, stdlib or asyncio future, or anything
    :func:`~shortly.future_of` adapts, is adopted (the new future settles as it does);
    an exception the handler raises fails it. If ``parent`` is cancelled neither
    handler runs and the new future is cancelled with the same message.

    Handlers run where done-callbacks run: in the thread that settles ``parent``, or
    at once if it is settled already (unlike Promises/A+ 2.2.4, as in Twisted), with
    nested settlements queued on the thread's trampoline so any length of chain keeps
    a flat stack. Handlers of one future run in the order they were attached. The
    handler sees the :mod:`contextvars` context current when ``then`` was called.

    Args:
        parent: the future to chain on.
        on_result: called with the value.
        on_error: called with the exception.
        executor: run the handler on this :class:`concurrent.futures.Executor`.
        loop: run the handler on this asyncio event loop (from any thread).

    Raises:
        TypeError: if a handler is not callable or ``None``, if ``executor`` has no
            ``submit`` method, or if ``loop`` is not an asyncio event loop.
        ValueError: if both ``executor`` and ``loop`` are given.

    >>> import shortly
    >>> f = shortly.Future()
    >>> g = f.then(lambda x: x + 1).then(lambda x: x * 10)
    >>> f.set_result(1)
    >>> g.result()
    20
    >>> shortly.Future.failed(KeyError("k")).then(None, lambda e: f"no {e}").result()
    "no 'k'"
    """
    # Typed for callers, checked at run time all the same (inline: once per link).
    result_handler: object = on_result
    if result_handler is not None and not callable(result_handler):
        _check_handler(result_handler, "on_result")
    error_handler: object = on_error
    if error_handler is not None and not callable(error_handler):
        _check_handler(error_handler, "on_error")
    runner = None if executor is None and loop is None else _runner(executor, loop)
    # _Link(...) without a call to __init__, which would cost as much as the stores.
    link = _new_link(_Link)
    link.on_result = on_result
    link.on_error = on_error
    link.types = None
    link.ctx = _copy_context()
    link.runner = runner
    return derive(parent, link)


def catch(
    parent: Future[Any],
    on_error: Callable[[BaseException], Any],
    *exception_types: type[BaseException],
) -> Future[Any]:
    """Handle a failure of ``parent`` whose exception is one of ``exception_types``.

    With no types, every failure is handled. Other failures, and values, pass through
    unchanged. ``on_error`` is treated exactly as in :func:`then`.

    Raises:
        TypeError: if ``on_error`` is not callable, or a type is not an exception class.

    >>> import shortly
    >>> f = shortly.Future.failed(KeyError("k"))
    >>> f.catch(lambda e: "default", KeyError).result()
    'default'
    >>> f.catch(lambda e: "default", ValueError).exception()
    KeyError('k')
    """
    if not callable(on_error):
        raise TypeError(f"on_error must be callable, not {type(on_error).__name__}")
    for cls in exception_types:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError(f"exception_types must be exception classes, not {cls!r}")
    return derive(parent, _Link(None, on_error, exception_types or None, _copy_context(), None))


def finally_(parent: Future[T], fn: Callable[[], object]) -> Future[T]:
    """Run ``fn()`` when ``parent`` settles, however it settles, then pass its outcome on.

    ``fn`` also runs when ``parent`` is cancelled. If ``fn`` returns a future or
    anything :func:`~shortly.future_of` adapts, the outcome is passed on once that
    settles. If ``fn`` (or what it returned) fails, that failure wins, with the original
    failure, if any, as its ``__context__`` (as in a Python ``finally`` block).

    Raises:
        TypeError: if ``fn`` is not callable.

    >>> import shortly
    >>> f = shortly.Future.failed(ValueError("boom"))
    >>> f.finally_(lambda: print("cleanup")).exception()
    cleanup
    ValueError('boom')
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    child: Future[T] = Future()
    depend(parent, child, partial(_finally, child, fn, _copy_context()))
    return child


def shield(future: Future[T]) -> Future[T]:
    """A future that settles as ``future`` does, but whose cancellation stays its own.

    Cancelling the shield (or a task awaiting it) never cancels ``future``. A cancelled
    shield stops counting as interested in ``future``, so other dependants losing
    interest may still cancel it by the upward rule. Accepts anything
    :func:`~shortly.future_of` adapts.

    Raises:
        TypeError: if ``future`` cannot be adapted.

    >>> import shortly
    >>> work = shortly.Future()
    >>> guard = shortly.shield(work)
    >>> guard.cancel()
    True
    >>> work.cancelled()
    False
    >>> work.set_result("done")
    >>> shortly.shield(work).result()
    'done'
    """
    source = future_of(future)
    guard: Future[T] = Future()
    guard._sources = source  # for the deadlock check: it settles from source
    dependant = Dependant(guard, partial(follow, guard))
    source.add_done_callback(dependant)
    # Leave nothing behind on a long-lived future for every shield given up.
    when_cancelled(guard, lambda _msg: detach(source, dependant))
    return guard


# -- settling a link ------------------------------------------------------------------


def resolve(target: Future[Any], value: Any) -> None:
    """Settle ``target`` with a handler's return value (Promises/A+ 2.3).

    Futures and anything :func:`~shortly.future_of` adapts are adopted: ``target``
    settles as they do, and their values are resolved in turn. Anything else is the
    value. A settled future whose value is a future is unwrapped in a loop, so any
    depth keeps a flat stack; a value met twice on the way (``target`` itself, or a
    future that is, through its value, its own value) is a cycle, and ``target``
    fails with ``TypeError`` (Promises/A+ 2.3.1).
    """
    seen: dict[int, Any] | None = None  # id -> value: holding them keeps the ids unique
    while True:
        adapter = ADAPTER_CACHE.get(type(value), _UNKNOWN)
        if adapter is None or (adapter is _UNKNOWN and adapter_for(type(value)) is None):
            target.try_set_result(value)
            return
        source = capture(future_of, value)
        if type(source) is Raised:
            fail(target, source.error)
            return
        if source is target:
            target.try_set_exception(TypeError("a future cannot adopt itself: an adoption cycle"))
            return
        if not succeeded(source):
            depend(source, target, partial(_adopted, target))
            return
        if seen is None:
            seen = {}
        for item in (value,) if value is source else (value, source):
            if id(item) in seen:
                target.try_set_exception(
                    TypeError(f"adoption cycle: {source!r} resolves, through its value, to itself")
                )
                return
            seen[id(item)] = item
        value = value_of(source)


def _started(value: Any, ctx: contextvars.Context) -> Any:
    """A handler's return value, with a coroutine started the way coroutines run.

    On a thread running an asyncio loop, the coroutine is left to :func:`resolve`, which
    makes it a task of that loop; anywhere else :func:`~shortly.spawn` drives it, in the
    handler's context. Either way it runs: no coroutine object becomes a result, and
    none is left unawaited.
    """
    if not inspect.iscoroutine(value):
        return value
    asyncio = sys.modules.get("asyncio")
    if asyncio is not None and asyncio._get_running_loop() is not None:
        return value
    return ctx.run(spawn, value)


def _ran(target: Future[Any], ctx: contextvars.Context, source: Future[Any]) -> None:
    """Settle ``target`` from a handler run on an executor: ``source`` is its outcome."""
    if succeeded(source):
        resolve(target, _started(value_of(source), ctx))
    else:
        follow(target, source)


def _adopted(target: Future[Any], source: Future[Any]) -> None:
    if succeeded(source):
        resolve(target, value_of(source))
    else:
        follow(target, source)


class _Link(Link):
    """A ``then`` or ``catch`` link: the core's :class:`~shortly._core.Link`, which
    adopts what a handler returns and settles from a handler run elsewhere."""

    __slots__ = ()

    def adopt(self, value: Any) -> None:
        resolve(self.child, _started(value, self.ctx))

    def ran(self, future: Future[Any]) -> None:
        depend(future, self.child, partial(_ran, self.child, self.ctx))


def _finally(
    child: Future[Any], fn: Callable[[], object], ctx: contextvars.Context, parent: Future[Any]
) -> None:
    """The done-callback of a ``finally_`` link: runs even for a cancelled parent."""
    value = capture(ctx.run, fn)
    if value is not None and type(value) is not Raised and adapter_for(type(value)) is not None:
        value = capture(future_of, _started(value, ctx))
        if type(value) is not Raised:
            depend(value, child, partial(_cleaned_up, child, parent))
            return
    if type(value) is Raised:
        _cleanup_failed(child, parent, value.error)
    else:
        follow(child, parent)


def _cleaned_up(child: Future[Any], parent: Future[Any], cleanup: Future[Any]) -> None:
    if succeeded(cleanup):
        follow(child, parent)
    else:
        observe(cleanup)
        _cleanup_failed(child, parent, error_of(cleanup))


def _cleanup_failed(child: Future[Any], parent: Future[Any], error: BaseException) -> None:
    original = failure_of(parent)
    if original is not None and error.__context__ is None and error is not original:
        error.__context__ = original  # what a failing Python ``finally:`` block records
    if fail(child, error) and original is not None:
        observe(parent)
    if isinstance(error, (KeyboardInterrupt, SystemExit)):
        raise error


# -- validation -------------------------------------------------------------------------


def _check_handler(handler: object, name: str) -> None:
    if handler is not None and not callable(handler):
        raise TypeError(f"{name} must be callable or None, not {type(handler).__name__}")


def _runner(executor: Executor | None, loop: Any) -> Runner:
    if executor is not None and loop is not None:
        raise ValueError("pass executor or loop, not both")
    if executor is not None:
        submit = getattr(executor, "submit", None)
        if not callable(submit):
            raise TypeError(
                "executor must be a concurrent.futures.Executor (have a submit() method), "
                f"not {type(executor).__name__}"
            )

        def on_executor(
            ctx: contextvars.Context, handler: Callable[[Any], Any], arg: Any
        ) -> Future[Any]:
            return future_of(submit(ctx.run, handler, arg))

        return on_executor
    from . import _aio

    _aio.check_loop(loop)

    def on_loop(ctx: contextvars.Context, handler: Callable[[Any], Any], arg: Any) -> Future[Any]:
        return _aio.call_in_loop(loop, ctx, handler, (arg,), {})

    return on_loop
