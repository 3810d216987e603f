"""A chain link: the done-callback that settles a child from its parent through a handler.

Every ``then`` and ``catch`` of every chain makes one :class:`Link` and runs it once,
so the link lives here, beside the fields it reads, and :func:`derive` makes a link's
child and hangs the link on its parent in one step (one lock round trip).

What a link does when its parent settles:

- cancelled parent: the child is cancelled with the same message (downward);
- cancelled child: nothing (its consumer lost interest; the handler is skipped);
- no handler for the outcome (or an error handler for other exception types): the
  child takes the outcome over;
- a handler: it runs in the context captured when the link was made, through
  :func:`~shortly._core._outcome.capture_in` (so a failure keeps no caller's frame);
  its exception fails the child, its return value resolves it.

The core does not know how to adopt what a handler may return (a future of another
library, a coroutine, an awaitable: ``_chain``'s job, built on ``_adapt``) or how to
run a handler elsewhere (an executor, a loop). A link therefore settles the child
directly only with a value whose type :data:`ADAPTER_CACHE` knows to be plain, and
hands everything else to :meth:`Link.adopt`; a handler run elsewhere comes back
through :meth:`Link.ran`. ``_chain`` subclasses the link to provide both.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from functools import partial
from typing import Any

from ._cancel import Sweepable, depend, fail, follow
from ._future import Future, cancel_message
from ._outcome import Raised, capture, capture_in
from ._states import FINISHED, PENDING

__all__ = ["ADAPTER_CACHE", "Link", "derive"]

#: type -> its adapter, or None for a type that is not a future of any kind: filled by
#: ``shortly._adapt`` as it classifies types, read here once per link.
ADAPTER_CACHE: dict[type, Any] = {}

_UNKNOWN: Any = object()

# How a link hands its handler elsewhere: (context, handler, argument) -> a future of
# the handler's return value.
Runner = Callable[[contextvars.Context, Callable[[Any], Any], Any], Future[Any]]


class Link(Sweepable):
    """The done-callback of a ``then`` or ``catch`` link: one object per link.

    Being the :class:`~shortly._core._cancel.Dependant` itself (rather than wrapping a
    ``partial``) saves two allocations on every link of every chain.
    """

    __slots__ = ("ctx", "on_error", "on_result", "runner", "types")

    child: Future[Any]
    on_result: Callable[[Any], Any] | None
    on_error: Callable[[BaseException], Any] | None
    types: tuple[type[BaseException], ...] | None
    ctx: contextvars.Context
    runner: Runner | None

    def __init__(
        self,
        on_result: Callable[[Any], Any] | None,
        on_error: Callable[[BaseException], Any] | None,
        types: tuple[type[BaseException], ...] | None,
        ctx: contextvars.Context,
        runner: Runner | None,
    ) -> None:
        # No child yet: derive() makes it. (``then`` skips this call and stores the
        # fields itself: once per link of every chain, the call costs as much as they.)
        self.on_result = on_result
        self.on_error = on_error
        self.types = types
        self.ctx = ctx
        self.runner = runner

    def adopt(self, value: Any) -> None:
        """Settle the child with a handler's return value that may be a future of some kind.

        Here, the value is the value; ``_chain``'s links adopt futures and awaitables.
        """
        self.child.try_set_result(value)

    def ran(self, future: Future[Any]) -> None:
        """Settle the child as ``future`` (the handler run by ``runner``) settles."""
        depend(future, self.child, partial(_follow_into, self.child))

    def __repr__(self) -> str:
        return f"<link to {self.child!r} on_result={self.on_result!r} on_error={self.on_error!r}>"

    def __call__(self, parent: Future[Any]) -> None:
        child = self.child
        if parent._state != FINISHED:
            child.cancel(cancel_message(parent))  # downward: the message travels
            return
        if child._state != PENDING:
            return  # cancelled: its consumer lost interest; skip the handler, leave the failure
        error = parent._exception
        handler: Callable[[Any], Any] | None
        if error is None:
            handler, arg = self.on_result, parent._result
            if handler is None:
                child._settle(arg, None)
                return
        else:
            handler, arg = self.on_error, error
            types = self.types
            if handler is None or (types is not None and not isinstance(error, types)):
                if fail(child, error):
                    parent._observe()
                return
            parent._observe()
        runner = self.runner
        if runner is None:
            value = capture_in(self.ctx, handler, arg)
        else:
            value = capture(runner, self.ctx, handler, arg)
        if type(value) is Raised:
            error = value.error
            fail(child, error)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise error
        elif runner is not None:
            self.ran(value)
        elif ADAPTER_CACHE.get(type(value), _UNKNOWN) is None:
            # The common case, straight to the settling step: the child is a plain
            # Future made by derive(), so nothing overrides try_set_result.
            child._settle(value, None)
        else:
            self.adopt(value)


def _follow_into(target: Future[Any], source: Future[Any]) -> None:
    """``follow(target, source)``, with the arguments in done-callback order."""
    follow(target, source)


def derive(parent: Future[Any], link: Link) -> Future[Any]:
    """Make ``link``'s child, a new future depending on ``parent``, and hang ``link`` on it.

    ``depend()`` and ``add_done_callback()`` unrolled for the case that runs once per
    link of every chain: the child is new and nobody else holds it, so its upstream is
    set without its lock, before the link can run and settle it.

    >>> import contextvars, shortly
    >>> from shortly._core import Link, derive
    >>> double = Link(lambda x: x * 2, None, None, contextvars.copy_context(), None)
    >>> parent = shortly.Future()
    >>> child = derive(parent, double)
    >>> parent.set_result(3); child.result()
    6
    """
    child: Future[Any] = Future._plain()
    child._upstream = parent
    link.child = child
    if type(parent) is Future:
        # add_done_callback, inlined for a plain pending parent (the link is callable
        # by construction); anything else, a subclass that may override it included,
        # takes the method.
        lock = parent._lock
        lock.acquire()
        if parent._state == PENDING:
            callbacks = parent._callbacks
            if callbacks is None:
                parent._callbacks = link
            elif type(callbacks) is list:
                callbacks.append(link)
            else:
                parent._callbacks = [callbacks, link]  # type: ignore[list-item]
            lock.release()
            return child
        lock.release()
    parent.add_done_callback(link)
    return child
