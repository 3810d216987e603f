"""``submit``: run a call on any executor and get a shortly future of it.

On a thread pool of this process (the shared one by default) the call is queued as a
plain function that marks the future running and settles it itself, in the caller's
:mod:`contextvars` context, so ``running()`` and ``cancel()`` tell the truth to the
instant the call starts; the pool's workers own the future, so a pool whose every
worker waits on work queued behind it raises :class:`~shortly.DeadlockError`. On a
:class:`~shortly.SerialExecutor` it is queued like any action. Any other executor
(processes, a dask client) gets ``submit``, and its future is adopted.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import os
import threading
import types
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from ._adapt import Mirror, future_of, refuse_coroutine, refuse_coroutine_function
from ._checks import check_delay, check_name
from ._core import Future, PoolJob, attempt, depend, fail, fail_running, when_cancelled
from ._progress import bind as bind_progress
from ._serial import ASYNC_HINT, FORKED, SerialExecutor
from ._timers import later

__all__ = ["shared_pool", "submit"]

T = TypeVar("T")

_Coroutine = types.CoroutineType

_pool_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None
# The futures of work handed to thread pools and not yet finished: in a forked child,
# whose pool threads are the parent's, they are settled rather than left pending.
_in_pools: set[Future[Any]] = set()


def _after_fork_in_child() -> None:
    global _pool_lock, _pool
    _pool_lock = threading.Lock()  # one another thread held at the fork stays held
    # The shared pool's threads are the parent's, and a stdlib pool never replaces
    # them: the child makes its own on first use.
    _pool = None
    pooled = list(_in_pools)
    _in_pools.clear()
    for future in pooled:  # the parent's work, done there (as a SerialExecutor's is)
        if not future.cancel(FORKED):
            future.try_set_exception(RuntimeError(FORKED))


os.register_at_fork(after_in_child=_after_fork_in_child)


def shared_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The thread pool ``submit`` and ``map`` use by default, created on first use."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="shortly-submit")
        return _pool


def _adopt(obj: Any) -> Future[Any]:
    """A shortly future for what an executor's ``submit`` returned (dask's included)."""
    return obj if isinstance(obj, Future) else future_of(obj)


def _start(
    executor: Any,
    ctx: contextvars.Context,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    out: Future[Any] | None = None,
) -> Future[Any]:
    """Submit the call; return the future it settles (``out`` itself if one is given
    and the executor runs threads of this process, else a future ``out`` must follow).
    """
    if executor is None:
        executor = shared_pool()
    if isinstance(executor, SerialExecutor):
        if out is None:
            return ctx.run(executor.submit, fn, *args, **kwargs)
        executor._enqueue(ctx, partial(fn, *args, **kwargs), out)
        return out
    if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
        # Threads of this process can run the caller's context and mark the future
        # running themselves; other executors (processes, clusters) can do neither.
        # Owned by the pool's workers, so that a pool whose every worker waits on work
        # queued behind it raises DeadlockError (see _deadlock.PoolJob).
        job = PoolJob(executor)
        if out is None:
            out = Future(owner=job)
        elif out._owner is None:
            out._owner = job
        call = partial(fn, *args, **kwargs) if kwargs else fn
        _in_pools.add(out)
        inner = executor.submit(job.run, _claim_and_run, out, ctx, call, args if not kwargs else ())
        inner.add_done_callback(partial(_cancelled_by_pool, out))
        when_cancelled(out, partial(_cancel_in_pool, inner))
        return out
    return _adopt(executor.submit(fn, *args, **kwargs))


def _claim_and_run(
    out: Future[Any], ctx: contextvars.Context, fn: Callable[..., Any], args: tuple[Any, ...]
) -> None:
    """On a pool thread: run ``fn`` unless ``out`` was cancelled; settle ``out``.

    ``out`` is marked running by the thread that runs the work, so ``running()`` is
    true exactly while it runs, and a ``cancel()`` that returns True was in time.
    """
    try:
        if not out.set_running_or_notify_cancel():
            _in_pools.discard(out)
            return
    except RuntimeError:
        _in_pools.discard(out)
        return  # somebody settled it by hand before it started
    ok, value = attempt(ctx.run, fn, *args)
    if ok and type(value) is _Coroutine:
        ok, value = False, refuse_coroutine(value, "submit()", ASYNC_HINT)
    if ok:
        out.try_set_result(value)
        _in_pools.discard(out)
    else:
        fail_running(out, value)
        _in_pools.discard(out)
        del out, value  # no cycle through the traceback (see _timers.attempt)


def _cancelled_by_pool(out: Future[Any], inner: concurrent.futures.Future[None]) -> None:
    # shutdown(cancel_futures=True) drops work without running it.
    if inner.cancelled():
        _in_pools.discard(out)
        out.cancel("the executor was shut down")


def _cancel_in_pool(inner: concurrent.futures.Future[None], _msg: Any) -> None:
    inner.cancel()  # frees the pool's slot; if it already started it skips fn anyway


def submit(
    fn: Callable[..., T],
    /,
    *args: Any,
    executor: Any = None,
    delay: float | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> Future[T]:
    """Run ``fn(*args, **kwargs)`` on ``executor``; return a shortly future of it.

    ``executor`` may be any :class:`concurrent.futures.Executor`, or any object with a
    ``submit`` returning something :func:`shortly.future_of` adapts (a dask
    ``distributed.Client`` works). ``None`` means a shared thread pool created on first
    use, of the stdlib's default size (``min(32, os.cpu_count() + 4)`` threads); pass
    ``executor=ThreadPoolExecutor(n)`` for another. A task on a thread pool that would
    make every worker wait on work still queued there raises
    :class:`~shortly.DeadlockError` (see the deadlocks guide). On thread executors
    ``fn`` runs in this call's :mod:`contextvars` context.
    With ``delay``, ``fn`` is submitted after that many seconds (the timer thread only
    starts it); cancelling the future before then means it is never submitted.

    The future tells the truth about the work: ``running()`` while ``fn`` runs, and
    ``cancel()`` (or a timeout with ``cancel=True``, or the upward rule) succeeds only
    while ``fn`` has not started, which it then never does; once it runs, ``cancel()``
    returns False. On thread executors (this process's threads) that holds to the
    instant ``fn`` starts; on other executors ``cancel()`` succeeds when the executor's
    own ``cancel()`` does (a process pool refuses once the call is handed to a process).

    ``name`` labels the future (see :class:`shortly.Future`): it shows in its ``repr``,
    in timeout and deadlock messages and in unhandled-failure reports.

    ``executor``, ``delay`` and ``name`` are this function's own keywords; to pass
    keywords of those names to ``fn``, use :func:`functools.partial`.

    Raises:
        TypeError: if ``fn`` is not callable or is an ``async def`` function (the
            message names :func:`shortly.spawn`), ``executor`` has no ``submit``,
            ``delay`` is not a number or ``name`` not a str.
        ValueError: if ``delay`` is negative or NaN (infinity and huge numbers are
            clamped to ``threading.TIMEOUT_MAX``), or ``name`` is empty.
        RuntimeError: if the executor was shut down (without ``delay``; with it,
            the future fails with that error).

    >>> import shortly
    >>> shortly.submit(sum, [1, 2, 3]).result(timeout=5)
    6
    >>> shortly.submit(str.upper, "late", delay=0.01).result(timeout=5)
    'LATE'
    >>> async def fetch():
    ...     return 1
    >>> shortly.submit(fetch)
    Traceback (most recent call last):
    ...
    TypeError: shortly.submit() runs plain functions, and fetch is an async function: ...
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    refuse_coroutine_function(fn, "shortly.submit()", ASYNC_HINT)
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(
            f"executor must be an Executor (an object with submit()) or None, "
            f"not {type(executor).__name__}"
        )
    if name is not None:
        check_name(name)
    ctx = contextvars.copy_context()
    slot = bind_progress(ctx)  # shortly.progress() in fn reports on the future
    if delay is None:
        future = _start(executor, ctx, fn, args, kwargs)
        if name is not None:
            future._name = name
        return slot.attach(future)
    seconds = check_delay(delay, "delay")
    # A SerialExecutor owns it: its actions must not block on it (see DeadlockError).
    # Work handed to another process cannot mark it running: it mirrors that work's
    # future once it has one.
    out: Mirror[T] = Mirror(owner=executor if isinstance(executor, SerialExecutor) else None)
    out._name = name
    timer = later(seconds)

    # Work on this process's threads marks ``out`` running itself; elsewhere, ``out``
    # mirrors the executor's future, and a cancel waits while the work is handed over.
    foreign = executor is not None and not isinstance(
        executor, (SerialExecutor, concurrent.futures.ThreadPoolExecutor)
    )

    def started(_: Future[None]) -> None:
        # Runs on the timer thread, or here if the timer was cancelled already.
        if foreign:
            if not out.hand_over():
                return  # cancelled during the delay
        elif out.done():
            return
        try:
            inner = _start(executor, ctx, fn, args, kwargs, out)
        except BaseException as error:
            if foreign:
                out.handed_over()
            fail(out, error)
            return
        if inner is not out:
            out.mirror(inner)

    depend(timer, out, started)
    return slot.attach(out)
