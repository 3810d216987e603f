"""as_completed: completion order, timeouts, threads, asyncio and trio."""

from __future__ import annotations

import concurrent.futures
import gc
import threading
from typing import Any

import anyio
import pytest

import shortly
from shortly import Future, as_completed

pytestmark = [pytest.mark.timeout(10), pytest.mark.usefixtures("no_unhandled_failures")]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def resolve_later(fs: list[Future[int]], order: list[int], go: threading.Event) -> threading.Thread:
    """A thread that, once ``go`` is set, resolves ``fs`` in ``order``."""

    def run() -> None:
        go.wait(5)
        for i in order:
            fs[i].set_result(i)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_yields_in_completion_order() -> None:
    fs: list[Future[int]] = [Future() for _ in range(4)]
    it = as_completed(fs)
    seen = []
    for i in (3, 1, 0, 2):
        fs[i].set_result(i)
        seen.append(next(it))
    assert seen == [fs[3], fs[1], fs[0], fs[2]]
    assert next(it, None) is None


def test_finished_inputs_come_first_in_input_order() -> None:
    pending: Future[int] = Future()
    a, b = Future.resolved(1), Future.resolved(2)
    it = as_completed([pending, b, a])
    assert next(it) is b
    assert next(it) is a
    pending.set_result(0)
    assert next(it) is pending


def test_a_future_listed_twice_is_yielded_once() -> None:
    f = Future.resolved(1)
    assert list(as_completed([f, f, f])) == [f]


def test_stdlib_futures_are_yielded_themselves_for_the_dict_idiom() -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        jobs = {pool.submit(pow, 2, n): n for n in range(5)}
        answers = {jobs[f]: f.result() for f in as_completed(jobs, timeout=5)}
    assert answers == {n: 2**n for n in range(5)}


def test_plain_values_are_yielded_as_resolved_shortly_futures() -> None:
    (only,) = list(as_completed(["value"]))
    assert isinstance(only, Future)
    assert only.result() == "value"


def test_empty_input_yields_nothing() -> None:
    assert list(as_completed([])) == []


def test_a_blocked_iteration_wakes_when_another_thread_resolves() -> None:
    fs: list[Future[int]] = [Future() for _ in range(50)]
    go = threading.Event()
    order = list(reversed(range(50)))
    thread = resolve_later(fs, order, go)
    it = as_completed(fs, timeout=5)
    go.set()
    assert [f.result() for f in it] == order
    thread.join()


def test_timeout_names_how_many_are_left_and_ends_the_iteration() -> None:
    fs: list[Future[int]] = [Future.resolved(0), Future(), Future()]
    it = as_completed(fs, timeout=0.05)
    assert next(it) is fs[0]
    with pytest.raises(
        shortly.TimeoutError, match=r"2 \(of 3\) futures unfinished after 0.05"
    ) as e:
        next(it)
    assert isinstance(e.value, TimeoutError)
    assert isinstance(e.value, concurrent.futures.TimeoutError)
    fs[1].set_result(1)
    assert list(it) == []  # finished, as the stdlib's is


def test_a_zero_timeout_still_yields_what_is_finished() -> None:
    fs = [Future.resolved(i) for i in range(3)]
    assert [f.result() for f in as_completed(fs, timeout=0)] == [0, 1, 2]


@pytest.mark.parametrize(
    ("timeout", "error", "message"),
    [
        ("1", TypeError, "timeout must be a number of seconds or None, not str"),
        (float("nan"), ValueError, "timeout must be a number of seconds or None, not nan"),
    ],
)
def test_a_bad_timeout_is_refused_at_the_call(timeout: Any, error: type, message: str) -> None:
    f: Future[int] = Future()
    with pytest.raises(error, match=message):
        as_completed([f], timeout=timeout)
    assert f._callbacks is None


def test_an_unadaptable_item_leaves_the_inputs_before_it_unwanted() -> None:
    async def job() -> int:
        return 1

    f: Future[int] = Future()
    child = f.then(lambda x: x)
    coro = job()
    with pytest.raises(TypeError, match="spawn"):
        as_completed([f, coro])
    coro.close()
    child.cancel()
    assert f.cancelled()


def test_close_ends_the_iteration_and_the_inputs_are_no_longer_wanted_by_it() -> None:
    f: Future[int] = Future()
    child = f.then(lambda x: x)
    it = as_completed([f])
    child.cancel()
    assert not f.cancelled()  # the open iterator still wants f
    it.close()
    assert list(it) == []
    other_child = f.then(lambda x: x)
    other_child.cancel()
    assert f.cancelled()


def test_a_dropped_iterator_no_longer_wants_its_inputs() -> None:
    f: Future[int] = Future()
    it = as_completed([f])
    child = f.then(lambda x: x)
    del it
    gc.collect()
    child.cancel()
    assert f.cancelled()


def test_many_threads_iterating_one_iterator_share_the_futures_exactly_once() -> None:
    n = 2_000
    fs: list[Future[int]] = [Future() for _ in range(n)]
    it = as_completed(fs, timeout=5)
    got: list[list[int]] = [[] for _ in range(4)]

    def consume(k: int) -> None:
        for f in it:
            got[k].append(f.result())

    consumers = [threading.Thread(target=consume, args=(k,)) for k in range(4)]
    for t in consumers:
        t.start()
    for i, f in enumerate(fs):
        f.set_result(i)
    for t in consumers:
        t.join()
    assert sorted(v for part in got for v in part) == list(range(n))


def test_a_blocking_iteration_first_runs_callbacks_queued_on_its_thread() -> None:
    root: Future[None] = Future()
    trigger: Future[None] = Future()
    target: Future[str] = Future()
    trigger.add_done_callback(lambda _: target.set_result("from the queue"))
    results = []

    def inside_a_callback(_: object) -> None:
        trigger.set_result(None)  # its callbacks are queued behind this one
        results.extend(f.result() for f in as_completed([target], timeout=5))

    root.add_done_callback(inside_a_callback)
    root.set_result(None)
    assert results == ["from the queue"]


def test_repr_says_how_far_it_got() -> None:
    it = as_completed([Future.resolved(1), Future()])
    next(it)
    assert "1 of 2 yielded" in repr(it)


# -- async iteration ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_iteration_resolved_from_another_thread(anyio_backend: str) -> None:
    fs: list[Future[int]] = [Future() for _ in range(20)]
    go = threading.Event()
    order = [7, 3, 19, *[i for i in range(20) if i not in (7, 3, 19)]]
    thread = resolve_later(fs, order, go)
    seen = []

    async def consume() -> None:
        async for f in as_completed(fs, timeout=5):
            seen.append(f.result())

    async def release() -> None:
        go.set()  # runs once the consumer is parked (or about to be): both must work

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        tg.start_soon(release)
    assert seen == order
    thread.join()


@pytest.mark.anyio
async def test_async_iteration_does_not_block_the_loop(anyio_backend: str) -> None:
    f: Future[str] = Future()
    ticks = []

    async def ticker() -> None:
        for i in range(3):
            ticks.append(i)
            await anyio.sleep(0)
        f.set_result("after the ticks")  # resolved on the loop's own thread

    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        results = [g.result() async for g in as_completed([f], timeout=5)]
    assert ticks == [0, 1, 2]
    assert results == ["after the ticks"]


@pytest.mark.anyio
async def test_async_iteration_times_out_naming_how_many_are_left(anyio_backend: str) -> None:
    fs: list[Future[int]] = [Future.resolved(0), Future(), Future(), Future()]
    seen = []
    with pytest.raises(shortly.TimeoutError, match=r"3 \(of 4\) futures unfinished"):
        async for f in as_completed(fs, timeout=0.05):
            seen.append(f)
    assert seen == [fs[0]]


@pytest.mark.anyio
async def test_a_cancelled_async_iteration_gives_its_place_back(anyio_backend: str) -> None:
    f: Future[int] = Future()
    it = as_completed([f])
    with anyio.move_on_after(0.05) as scope:
        await it.__anext__()
    assert scope.cancelled_caught
    f.set_result(1)
    assert [g async for g in it] == [f]


def test_len_counts_what_is_still_to_come() -> None:
    fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(3)]
    it = shortly.as_completed(fs, timeout=5)
    assert len(it) == 3
    fs[1].set_result(1)
    assert next(it) is fs[1]
    assert len(it) == 2
    for f in fs:
        f.try_set_result(0)
    assert sorted(f.result() for f in it) == [0, 0]
    assert len(it) == 0
