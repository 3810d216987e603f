"""dask.distributed futures as shortly futures, and back (extra ``[dask]``).

Work goes to a cluster with :func:`submit` (or ``shortly.submit(fn, executor=client)``,
which comes here); :func:`from_dask` turns any dask future into a shortly future, and
:func:`to_dask` turns a shortly future into a dask future that other dask tasks may
take as an argument. Importing this module registers :func:`from_dask` with
:func:`shortly.register_adapter`, so ``future_of`` and chains use it too.

Cancellation reaches the cluster: cancelling the shortly future (directly, or by the
upward rule when all its dependants lose interest) cancels the dask future. The
request is handed to the client's event loop, so ``cancel()`` never waits on the
network and is safe from any thread, the loop's own included. A dask future cancelled
on the cluster cancels its shortly future.

How :func:`to_dask` works: it submits a small task that secedes from the worker's
thread pool (taking no slot while it waits) and waits on a ``distributed.Variable``
named after its key; when the shortly future settles, its outcome (value, exception or
cancellation) is pickled into that variable, and the task returns the value or raises.
This works with worker threads and worker processes alike; values and exceptions must
be picklable, and cross the scheduler, so keep them small (``client.scatter`` large
data and pass the dask future instead).
"""

# mypy: allow-untyped-calls
# (distributed ships type hints, but leaves many of its functions unannotated)

from __future__ import annotations

import uuid
from functools import partial
from typing import Any

from . import missing_extra

try:
    import distributed
    from distributed.protocol import pickle as dask_pickle
except ImportError as _error:
    raise missing_extra("dask", _error) from _error

from .._adapt import future_of, register_adapter
from .._adapt_dask import from_dask, on_loop
from .._core import Dependant, Future, cancel_message, value_of
from .._errors import CancelledError

__all__ = ["from_dask", "submit", "to_dask"]


def submit(
    fn: Any, /, *args: Any, client: distributed.Client | None = None, **kwargs: Any
) -> Future[Any]:
    """Run ``fn(*args, **kwargs)`` on a dask cluster; return a shortly future of it.

    ``client`` defaults to dask's current client. Keywords that ``Client.submit``
    knows (``key``, ``pure``, ``workers``, ``resources``...) go to it; the rest go to
    ``fn``. Remember dask's default ``pure=True``: the same call submitted twice is
    computed once.

    Raises:
        ValueError: if ``client`` is None and there is no current dask client.

    >>> import shortly.contrib.dask as shortly_dask
    >>> from distributed import Client, LocalCluster
    >>> with LocalCluster(processes=False, n_workers=1, dashboard_address=None) as cluster:
    ...     with Client(cluster) as client:
    ...         shortly_dask.submit(sum, [1, 2, 3], client=client).result(timeout=30)
    6
    """
    if client is None:
        client = distributed.default_client()
    return from_dask(client.submit(fn, *args, **kwargs))


# -- and back ------------------------------------------------------------------------


def _wait_for_outcome(name: str) -> Any:
    """The task behind :func:`to_dask`: runs on a worker, waits for the outcome."""
    variable = distributed.Variable(name)
    distributed.secede()
    try:
        payload = variable.get()
    finally:
        distributed.rejoin()
    variable.delete()
    kind, value = dask_pickle.loads(payload)
    if kind == "ok":
        return value
    if kind == "cancelled":
        raise CancelledError(value) if value is not None else CancelledError()
    raise value


def _pack(done: Future[Any]) -> bytes:
    if done.cancelled():
        outcome: tuple[str, Any] = ("cancelled", cancel_message(done))
    else:
        error = done.exception()
        outcome = ("ok", value_of(done)) if error is None else ("error", error)
    try:
        return bytes(dask_pickle.dumps(outcome))
    except Exception as problem:
        failure = RuntimeError(f"the outcome of a shortly future cannot be pickled: {problem}")
        return bytes(dask_pickle.dumps(("error", failure)))


def to_dask(future: Any, client: distributed.Client | None = None) -> distributed.Future[Any]:
    """A dask future that finishes as ``future`` (anything ``future_of`` adapts) does.

    Pass it to ``client.submit`` like any dask future. A failed or cancelled shortly
    future makes the dask task fail with the same exception (or ``CancelledError``).
    The dask future counts as a dependant of ``future``: once it is cancelled, it no
    longer keeps ``future`` wanted under the upward rule.

    Raises:
        TypeError: if ``future`` cannot be adapted.
        ValueError: if ``client`` is None and there is no current dask client.

    >>> import shortly
    >>> from shortly.contrib.dask import to_dask
    >>> from distributed import Client, LocalCluster
    >>> with LocalCluster(processes=False, n_workers=1, dashboard_address=None) as cluster:
    ...     with Client(cluster) as client:
    ...         later = shortly.later(0.01, lambda: 20)
    ...         client.submit(lambda x: x + 1, to_dask(later)).result(timeout=30)
    21
    """
    source = future_of(future)
    if client is None:
        client = distributed.default_client()
    name = f"shortly-{uuid.uuid4().hex}"
    remote = client.submit(_wait_for_outcome, name, key=name, pure=False)
    variable = distributed.Variable(name, client=client)

    def publish(done: Future[Any]) -> None:
        on_loop(client, partial(variable.set, _pack(done), asynchronous=True))

    source.add_done_callback(Dependant(remote, publish))
    return remote


register_adapter(distributed.Future, from_dask)
