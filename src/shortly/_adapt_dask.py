"""Adapting a dask ``distributed.Future``: what ``future_of`` does with one.

:mod:`shortly._adapt` recognises a dask future by its type's name and loads this
module only then, so ``distributed`` is imported by programs that use dask and by no
other. :mod:`shortly.contrib.dask` (submitting to a cluster, and back with
``to_dask``) re-exports :func:`from_dask`.

Cancelling goes through the client's event loop (:func:`on_loop`): dask's own
``Future.cancel()`` blocks on the network, which a ``cancel()`` called under a lock,
or on the loop's own thread, must never do.
"""

# mypy: allow-untyped-calls
# (distributed ships type hints, but leaves many of its functions unannotated)

from __future__ import annotations

from functools import partial
from typing import Any

import distributed

from ._core import Future, attempt, fail, when_cancelled

__all__ = ["from_dask", "on_loop"]


def on_loop(client: distributed.Client, call: Any) -> None:
    """Run ``call()`` (a coroutine function) on the client's event loop, later.

    Never blocks, and unlike a sync call it may come from the loop's own thread. A
    closed client has nothing left to tell, so the call is dropped.
    """
    loop = client.loop
    if loop is not None:
        loop.add_callback(call)


def _cancel_remote(remote: distributed.Future[Any], msg: Any) -> None:
    if remote.done():
        return
    client = remote.client
    text = None if msg is None else str(msg)
    on_loop(client, partial(client.cancel, [remote], asynchronous=True, reason="shortly", msg=text))


def _copy(target: Future[Any], done: distributed.Future[Any]) -> None:
    """Settle ``target`` as the finished dask future ``done`` (on dask's callback thread)."""
    status = done.status
    if status == "finished":
        ok, value = attempt(done.result)  # fetches the data
        if ok:
            target.try_set_result(value)
        else:
            fail(target, value)
    elif status == "cancelled":
        target.cancel(f"the dask future {done.key!r} was cancelled")
    else:
        ok, error = attempt(done.exception)
        if ok and error is None:
            error = RuntimeError(f"the dask future {done.key!r} ended as {status!r}")
        fail(target, error)


def from_dask(future: distributed.Future[Any]) -> Future[Any]:
    """A shortly future that settles as the dask ``future`` does.

    The result is fetched from the cluster when the task finishes. Cancelling the
    shortly future cancels the dask future; a dask future cancelled on the cluster
    cancels the shortly future.

    Raises:
        TypeError: if ``future`` is not a ``distributed.Future``.

    >>> from shortly.contrib.dask import from_dask
    >>> from_dask("not a dask future")
    Traceback (most recent call last):
    ...
    TypeError: future must be a distributed.Future, not str
    """
    if not isinstance(future, distributed.Future):
        raise TypeError(f"future must be a distributed.Future, not {type(future).__name__}")
    target: Future[Any] = Future()
    when_cancelled(target, partial(_cancel_remote, future))
    future.add_done_callback(partial(_copy, target))
    return target
