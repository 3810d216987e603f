"""``spawn()``: drive coroutines and generators without an event loop.

A spawned coroutine runs in the calling thread until it awaits a future that is not
done yet; it is then parked on that future and resumed by the thread that settles it,
always in a copy of the spawner's :mod:`contextvars` context (as an asyncio task).
No loop, no scheduler thread: the futures themselves carry the code along. Awaiting a
future that is already done resumes at once, in a loop rather than by recursion, so
any number of such awaits in a row keeps the stack flat.

What the driver understands when the code yields (``await`` yields under the hood):

* a shortly future (what ``await future`` yields under spawn: while the driver steps
  the code, :mod:`sniffio` reports the library ``"shortly"``);
* anything :func:`~shortly.future_of` adapts (stdlib and dask futures, Twisted
  Deferreds, asyncio futures of a loop running elsewhere...);
* a coroutine or generator object: it is spawned too, and awaited;
* ``None`` (a bare ``yield``, as in ``asyncio.sleep(0)``): resume at once.

A generator is resumed with the awaited value (``value = yield future``) or has the
failure thrown in, which is how kaa's coroutines read. Anything else yielded is
answered by throwing a ``TypeError`` into the code.

Code spawned while other code is being stepped on the same thread (nested spawns, spawns
from handlers) starts through the thread's trampoline, once that code parks or returns:
nesting to any depth keeps the stack flat.

Cancellation follows asyncio's ``Task``: ``cancel()`` on a parked task throws
:class:`~shortly.CancelledError` into the code at once, in the cancelling thread, then
cancels the awaited future by the upward rule (only if nobody else wants it), in a loop
that walks any chain of tasks with a flat stack. Code
that is running when ``cancel()`` comes gets it at its next await. The task ends
cancelled if the code lets the error out (or returns after a request it could not
yet receive); code that catches it and goes on keeps the task alive.
"""

from __future__ import annotations

import contextvars
import inspect
import sys
import threading
import types
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar, overload

import sniffio

from ._adapt import future_of
from ._checks import check_name
from ._core import (
    CANCELLED_STATES,
    Dependant,
    Future,
    Raised,
    cancel_upstream,
    capture,
    detach,
    dispatch,
    error_of,
    fail,
    value_of,
)
from ._errors import CancelledError
from ._progress import bind_here

__all__ = ["spawn"]

T = TypeVar("T")


_NO_REQUEST: Any = object()  # no cancel request pending (None is a valid message)
_ENDED = contextvars.Context()  # what an ended task holds instead of its code's context


class SpawnedCode:
    """The owner of a task's future: whichever thread steps the code right now.

    A separate object, not the task itself, so that the task holds no reference to
    itself. (Deadlock messages name an owner by its class, hence this class's name.)
    """

    __slots__ = ("thread",)

    def __init__(self) -> None:
        self.thread: threading.Thread | None = None

    def __shortly_owner_thread__(self) -> threading.Thread | None:
        return self.thread


def _advance(run: Callable[..., Any], step: Callable[[Any], Any], value: Any) -> tuple[int, Any]:
    """Step the code once: ``(0, yielded)``, ``(1, returned)`` or ``(2, raised)``.

    Through :func:`~shortly._core._outcome.capture`, so that a failure of the code holds no
    frame of its driver, and dropping the failed task reports it at once.
    """
    out = capture(run, step, value)
    if type(out) is not Raised:
        return 0, out
    error = out.error
    if isinstance(error, StopIteration):
        return 1, error.value
    return 2, error


class Task(Future[T]):
    """The future :func:`spawn` returns: it settles as the spawned code ends.

    >>> import shortly
    >>> async def answer():
    ...     return 42
    >>> task = shortly.spawn(answer())
    >>> type(task).__name__, task.result()
    ('Task', 42)
    """

    __slots__ = ("_code", "_code_name", "_context", "_driver", "_parked", "_request")

    def __init__(self, code: Coroutine[Any, Any, T] | Generator[Any, Any, T]) -> None:
        self._driver = SpawnedCode()
        super().__init__(owner=self._driver)
        self._driver.thread = threading.current_thread()  # spawn() steps it first
        self._code: Any = code
        # Like an asyncio task, every step runs in a copy of the spawner's context,
        # whichever thread resumes it.
        self._context = contextvars.copy_context()
        self._context.run(bind_here, self)  # shortly.progress() in the code reports here
        self._code_name: str = getattr(code, "__qualname__", type(code).__qualname__)
        # Under self._lock: the future the code is parked on, and the callback
        # registered there; whoever takes it away resumes the code.
        self._parked: tuple[Future[Any], Dependant] | None = None
        self._request: Any = _NO_REQUEST

    def _describe(self, failing_with: BaseException | None = None) -> str:
        return f"{super()._describe(failing_with)[:-1]} code={self._code_name}>"

    # -- stepping -------------------------------------------------------------------

    def _run(self, throw: bool, value: Any) -> None:
        """Step the code until it parks or ends; this thread is its driver meanwhile."""
        code = self._code
        run = self._context.run
        local = sniffio.thread_local
        previous = local.name
        local.name = "shortly"
        try:
            while True:
                kind, payload = _advance(run, code.throw if throw else code.send, value)
                if kind:
                    self._end(kind == 2, payload)
                    if isinstance(payload, (KeyboardInterrupt, SystemExit)):
                        # As asyncio does: the task fails, and this thread hears of it
                        # (which counts as seeing the failure).
                        self._observe()
                        raise payload
                    return
                next_input = self._next_input(payload)
                if next_input is None:
                    return  # parked
                throw, value = next_input
        finally:
            local.name = previous

    def _next_input(self, yielded: Any) -> tuple[bool, Any] | None:
        """What to resume the code with at once, or None once it is parked."""
        if yielded is None:
            future = None
        elif isinstance(yielded, Future):
            future = yielded
        else:
            # Inside the code's context: a coroutine yielded here is spawned in it.
            future, error = self._context.run(_future_for, yielded)
            if error is not None:
                return True, error
        if future is self:
            return True, RuntimeError("a spawned task cannot await its own future")
        request = self._request
        if request is not _NO_REQUEST:
            return self._deliver(future)
        if future is None:
            return False, None
        if future.done():
            return _outcome(future)
        dependant = Dependant(self, self._resume)
        # Registered before being published as parked: if the future settles in
        # between, the callback finds nothing to resume and the check below sees it
        # done, so the code is never resumed twice nor nested in this frame.
        future.add_done_callback(dependant)
        with self._lock:
            requested = self._request is not _NO_REQUEST
            if not requested and not future.done():
                self._parked = future, dependant
                self._driver.thread = None
                return None
        if requested:
            detach(future, dependant)
            return self._deliver(future)
        return _outcome(future)

    def _deliver(self, future: Future[Any] | None) -> tuple[bool, Any]:
        """Hand the pending cancel request to the code, cancelling what it awaits.

        Only the driving thread clears a request, so one seen pending is still there.
        """
        with self._lock:
            msg, self._request = self._request, _NO_REQUEST
        if future is not None:
            cancel_upstream(future, msg)  # the upward rule, walked in a loop
        return True, CancelledError() if msg is None else CancelledError(msg)

    def _resume(self, future: Future[Any]) -> None:
        """Done-callback of the awaited future: resume the code in this thread."""
        with self._lock:
            parked = self._parked
            if parked is None or parked[0] is not future:
                return  # cancel() took over, or this is a stale registration
            self._parked = None
            self._driver.thread = threading.current_thread()
        self._run(*_outcome(future))

    def _end(self, raised: bool, payload: Any) -> None:
        with self._lock:
            self._code = None
            # The code's context is done with too; it may hold this task (a context
            # variable set by the code), and a cycle would delay the failure's report.
            self._context = _ENDED
            self._driver.thread = None
            msg, self._request = self._request, _NO_REQUEST
        if raised and _is_cancellation(payload):
            self._end_cancelled(payload.args[0] if payload.args else None)
        elif raised:
            fail(self, payload)
        elif msg is not _NO_REQUEST:
            self._end_cancelled(msg)  # asyncio's rule: the request still wins
        else:
            self.try_set_result(payload)

    def _end_cancelled(self, msg: Any) -> None:
        # Past our own _cancel_one, which refuses once the code has ended.
        _, upstream = Future._cancel_one(self, msg, None)
        if upstream is not None:
            cancel_upstream(upstream, msg)

    # -- cancelling -------------------------------------------------------------------

    def _cancel_one(
        self, msg: Any, only_if: Callable[[Future[T]], bool] | None
    ) -> tuple[bool, Any]:
        # The one place every cancellation passes: cancel(), and the upward rule.
        with self._lock:
            if self._code is None:
                # The code has ended: its outcome stands (or is being set right now).
                return self._state in CANCELLED_STATES, None
            if only_if is not None and not only_if(self):
                return False, None
            parked = self._parked
            if parked is None:
                # Running (maybe in this very thread): it gets it at its next await.
                self._request = msg
                return False, None
            self._parked = None
            self._driver.thread = threading.current_thread()
        future, dependant = parked
        detach(future, dependant)
        self._run(True, CancelledError() if msg is None else CancelledError(msg))
        # The awaited future is handed back as this task's upstream: the caller's loop
        # cancels it if nobody else wants it, so that cancelling the last of a chain of
        # a thousand tasks, each awaiting the one before, walks the chain with a flat
        # stack instead of one nested cancel per task.
        return self.cancelled(), future


def _is_cancellation(error: BaseException) -> bool:
    """Tell whether ``error`` is a CancelledError, the stdlib's or asyncio's."""
    if isinstance(error, CancelledError):
        return True
    asyncio = sys.modules.get("asyncio")  # never imported: not one of its errors
    return asyncio is not None and isinstance(error, asyncio.CancelledError)


def _outcome(future: Future[Any]) -> tuple[bool, Any]:
    """How to resume code that awaited ``future`` (done): send its value or throw."""
    if future.cancelled():
        return True, error_of(future)
    error = future.exception()  # marks the failure as seen: the code gets it
    if error is not None:
        return True, error
    return False, value_of(future)


def _future_for(obj: Any) -> tuple[Future[Any] | None, BaseException | None]:
    if inspect.iscoroutine(obj) or isinstance(obj, types.GeneratorType):
        return spawn(obj), None
    try:
        return future_of(obj), None
    except TypeError as error:
        problem = TypeError(
            f"spawned code may only await futures (or what shortly.future_of adapts), "
            f"coroutines and generators; it yielded {type(obj).__qualname__}"
        )
        problem.__cause__ = error
        return None, problem


@overload
def spawn(code: Coroutine[Any, Any, T], *, name: str | None = None) -> Future[T]: ...
@overload
def spawn(code: Generator[Any, Any, T], *, name: str | None = None) -> Future[T]: ...
def spawn(code: Any, *, name: str | None = None) -> Future[Any]:
    """Run ``async def`` code, or a generator yielding futures, without an event loop.

    The code starts at once in this thread (spawned from inside spawned code or a
    handler: as soon as that parks or returns) and runs until it awaits a future that
    is not done; from then on it is resumed by whichever thread settles what it awaits.
    Its return value resolves the returned future, its exception fails it, and
    ``cancel()`` throws :class:`~shortly.CancelledError` into it (see the module
    notes). A generator receives awaited values from ``yield`` (kaa's style).
    ``name`` labels the task's future (its ``repr`` and the messages naming it).

    Raises:
        TypeError: if ``code`` is not a coroutine or generator object (a coroutine
            *function* must be called first: ``spawn(main())``), or ``name`` is not a
            str.
        ValueError: if ``name`` is empty.

    >>> import shortly, threading
    >>> async def add_later(a, b):
    ...     x = await shortly.later(0.01, lambda: a)
    ...     return x + b
    >>> shortly.spawn(add_later(1, 2)).result(timeout=5)
    3
    >>> def old_style(future):
    ...     value = yield future
    ...     return value * 2
    >>> f = shortly.Future()
    >>> task = shortly.spawn(old_style(f))
    >>> threading.Thread(target=f.set_result, args=(21,)).start()
    >>> task.result(timeout=5)
    42
    """
    if not (inspect.iscoroutine(code) or isinstance(code, types.GeneratorType)):
        name = getattr(code, "__name__", None)
        hint = f"; call it first: spawn({name}())" if callable(code) and name else ""
        raise TypeError(
            f"code must be a coroutine or generator object, not {type(code).__name__}{hint}"
        )
    if name is not None:
        check_name(name)
    task: Task[Any] = Task(code)
    if name is not None:
        task._name = name
    # Through the trampoline: at top level the code starts right here; spawned from
    # inside spawned code (or a handler) it starts as soon as that returns or parks, so
    # spawns nested to any depth keep a flat stack.
    dispatch(task, _start)
    return task


def _start(task: Task[Any]) -> None:
    task._run(False, None)
