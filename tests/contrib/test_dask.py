"""shortly.contrib.dask against a real dask.distributed LocalCluster."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import distributed  # a test dependency: missing, it must fail, not skip
import pytest

import shortly
from shortly.contrib import dask as shortly_dask

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            processes=False, n_workers=1, threads_per_worker=4, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


def wait_for_status(future: Any, status: str) -> None:
    """Block until the dask future is done (its callbacks run then) and check its status."""
    done = threading.Event()
    future.add_done_callback(lambda _: done.set())
    assert done.wait(30)
    assert future.status == status


# Tasks reach in-process workers pickled, so they find their event by name here.
RELEASE: dict[str, threading.Event] = {}


def blocking(name: str) -> str:
    RELEASE[name].wait(30)
    return "released"


@pytest.fixture
def release(request: pytest.FixtureRequest) -> Iterator[str]:
    """The name of an event that ``blocking`` tasks wait on; set after the test."""
    name = request.node.name
    RELEASE[name] = threading.Event()
    yield name
    RELEASE.pop(name).set()


class TestIntoShortly:
    def test_submit_returns_a_shortly_future(self, client: Any) -> None:
        f = shortly_dask.submit(sum, [1, 2, 3], client=client)
        assert isinstance(f, shortly.Future)
        assert f.result(timeout=30) == 6

    def test_shortly_submit_takes_a_client_as_executor(self, client: Any) -> None:
        f = shortly.submit(pow, 2, 5, executor=client, pure=False)
        assert isinstance(f, shortly.Future)
        assert f.result(timeout=30) == 32

    def test_failure_passes_through(self, client: Any) -> None:
        f = shortly_dask.submit(int, "x", client=client)
        assert isinstance(f.exception(timeout=30), ValueError)

    def test_future_of_uses_the_adapter(self, client: Any) -> None:
        remote = client.submit(str.upper, "dask")
        adapted = shortly.future_of(remote)
        assert adapted.result(timeout=30) == "DASK"
        assert adapted.then(len).result(timeout=30) == 4

    def test_cancelling_reaches_the_dask_future(self, client: Any, release: str) -> None:
        remote = client.submit(blocking, release, pure=False)
        local = shortly_dask.from_dask(remote)
        assert local.cancel("not needed")
        wait_for_status(remote, "cancelled")

    def test_upward_cancellation_reaches_the_dask_future(self, client: Any, release: str) -> None:
        remote = client.submit(blocking, release, pure=False)
        chained = shortly_dask.from_dask(remote).then(str.upper)
        assert chained.cancel()
        wait_for_status(remote, "cancelled")

    def test_cancelled_on_the_cluster_cancels_the_shortly_future(
        self, client: Any, release: str
    ) -> None:
        remote = client.submit(blocking, release, pure=False)
        local = shortly_dask.from_dask(remote)
        remote.cancel()
        with pytest.raises(shortly.CancelledError):
            local.result(timeout=30)

    def test_from_dask_refuses_other_objects(self) -> None:
        with pytest.raises(TypeError, match=r"future must be a distributed\.Future, not int"):
            shortly_dask.from_dask(3)


class TestBackToDask:
    def test_a_pending_shortly_future_feeds_a_dask_task(self, client: Any) -> None:
        local: shortly.Future[int] = shortly.Future()
        remote = client.submit(lambda x: x * 2, shortly_dask.to_dask(local, client), pure=False)
        local.set_result(21)
        assert remote.result(timeout=30) == 42

    def test_a_failure_reaches_the_dask_task(self, client: Any) -> None:
        local: shortly.Future[int] = shortly.Future()
        remote = shortly_dask.to_dask(local, client)
        local.set_exception(KeyError("k"))
        with pytest.raises(KeyError):
            remote.result(timeout=30)

    def test_a_cancellation_reaches_the_dask_task(self, client: Any) -> None:
        local: shortly.Future[int] = shortly.Future()
        remote = shortly_dask.to_dask(local, client)
        local.cancel("changed my mind")
        error = remote.exception(timeout=30)
        assert isinstance(error, shortly.CancelledError)

    def test_the_dask_future_counts_as_a_dependant(self, client: Any) -> None:
        local: shortly.Future[int] = shortly.Future()
        remote = shortly_dask.to_dask(local, client)
        other = local.then(lambda x: x)
        remote.cancel()
        wait_for_status(remote, "cancelled")
        # Once the dask side lost interest, the upward rule may cancel `local`.
        assert other.cancel()
        assert local.cancelled()


# The module's cluster holds the scheduler's default HTTP port: this one moves on.
@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")
def test_with_worker_processes() -> None:
    with (
        distributed.LocalCluster(
            processes=True, n_workers=1, threads_per_worker=2, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        assert shortly_dask.submit(pow, 3, 4, client=dask_client).result(timeout=60) == 81
        local = shortly.later(0.01, lambda: 5)
        remote = dask_client.submit(
            lambda x: x + 1, shortly_dask.to_dask(local, dask_client), pure=False
        )
        assert shortly_dask.from_dask(remote).result(timeout=60) == 6


def test_future_of_recognises_a_dask_future_by_name_without_the_import() -> None:
    # In a fresh interpreter that never imported shortly.contrib.dask: future_of must
    # still take the dask adapter (whose cancel never blocks), not the duck-typed one.
    code = """
import sys, distributed, shortly
with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                        dashboard_address=None) as client:
    assert "shortly.contrib.dask" not in sys.modules
    assert "shortly._adapt_dask" not in sys.modules
    f = shortly.future_of(client.submit(sum, [1, 2, 3]))
    print("dask adapter loaded:", "shortly._adapt_dask" in sys.modules)
    print("result:", f.result(timeout=30))
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    assert "dask adapter loaded: True" in out, out
    assert "result: 6" in out, out
