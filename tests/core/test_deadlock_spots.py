"""Waits the deadlock check used to miss: derived futures, loops, timers and pools.

Each refused wait must be refused at once (well under a second) with the cycle named in
the message; each wait that some other party will end must go ahead.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import shortly
from shortly import _submit

pytestmark = pytest.mark.timeout(20)

QUICK = 1.0  # a refusal must come well under this many seconds


@pytest.fixture
def writer() -> Iterator[shortly.SerialExecutor]:
    queue = shortly.SerialExecutor(name="writer")
    yield queue
    queue.shutdown()


def refused_on(queue: shortly.SerialExecutor, wait: Callable[[], object]) -> str:
    """Run ``wait`` as an action on ``queue``; return the DeadlockError message."""
    started = time.monotonic()
    error = queue.submit(wait).exception(timeout=10)
    assert time.monotonic() - started < QUICK
    assert isinstance(error, shortly.DeadlockError), error
    return str(error)


# -- derived futures on a serial worker ------------------------------------------------------


def test_an_action_blocking_on_a_then_of_queued_work_is_refused(
    writer: shortly.SerialExecutor,
) -> None:
    seen: dict[str, str] = {}

    def action() -> object:
        queued = writer.submit(int, "1")
        derived = queued.then(lambda v: v + 1)
        seen["queued"], seen["derived"] = repr(queued), repr(derived)  # while pending
        return derived.result(timeout=5)

    message = refused_on(writer, action)
    assert message.startswith("thread 'writer' would wait for ever on ")
    # In order: the derived future, the queued one, its owner.
    assert (
        message.index(seen["derived"])
        < message.index(seen["queued"])
        < message.index("owned by Serial")
    )
    assert writer.submit(lambda: "still serving").result(timeout=5) == "still serving"


@pytest.mark.parametrize(
    "derive",
    [
        lambda a, b: shortly.all_of([a, b]),
        lambda a, b: shortly.gather({"a": a, "b": [b]}),
        lambda a, b: shortly.race([a, b]),
        lambda a, b: shortly.any_of([a, b]),
        lambda a, b: shortly.shield(a),
        lambda a, b: a.catch(lambda e: 0).finally_(lambda: None),
        lambda a, b: a.then(lambda v: b),
    ],
    ids=["all_of", "gather", "race", "any_of", "shield", "catch-finally", "then-adopt"],
)
def test_every_derivation_of_queued_work_is_followed(
    writer: shortly.SerialExecutor,
    derive: Callable[[shortly.Future[int], shortly.Future[int]], shortly.Future[Any]],
) -> None:
    def action() -> object:
        return derive(writer.submit(int, "1"), writer.submit(int, "2")).result(timeout=5)

    assert "owned by SerialExecutor on 'writer'" in refused_on(writer, action)


def test_a_derivation_with_one_free_input_is_not_refused(writer: shortly.SerialExecutor) -> None:
    elsewhere: shortly.Future[int] = shortly.Future()

    def action() -> object:
        # race settles as soon as either input does: the other thread will settle one.
        return shortly.race([writer.submit(int, "1"), elsewhere]).result(timeout=5)

    result = writer.submit(action)
    threading.Thread(target=elsewhere.set_result, args=(7,)).start()
    assert result.result(timeout=10) == 7


def test_with_timeout_of_queued_work_times_out_rather_than_being_refused(
    writer: shortly.SerialExecutor,
) -> None:
    # The timer thread will settle it: a wait that ends is not a deadlock.
    error = writer.submit(lambda: writer.submit(int, "1").with_timeout(0.05).exception()).result(
        timeout=10
    )
    assert isinstance(error, shortly.TimeoutError)


# -- the timer thread ------------------------------------------------------------------------


def test_a_timer_callback_blocking_on_a_later_timer_s_derived_future_is_refused() -> None:
    punctual = shortly.later(0.2)
    started = time.monotonic()

    def callback() -> object:
        return shortly.sleep(0.1).then(lambda _: "late").result(timeout=5)

    error = shortly.later(0, callback).exception(timeout=10)
    assert isinstance(error, shortly.DeadlockError)
    assert time.monotonic() - started < QUICK
    assert "thread 'shortly-timers' would wait for ever" in str(error)
    assert "owned by TimerThread on 'shortly-timers'" in str(error)
    punctual.result(timeout=5)
    assert time.monotonic() - started < 0.2 + QUICK  # other timers were not held up


def test_a_timer_callback_may_wait_with_a_timeout_on_work_another_thread_settles() -> None:
    source: shortly.Future[int] = shortly.Future()
    waited = shortly.later(0, lambda: source.with_timeout(5).result())
    threading.Thread(target=source.set_result, args=(3,)).start()
    assert waited.result(timeout=10) == 3


# -- event loops -----------------------------------------------------------------------------


def test_future_of_a_task_blocked_on_in_its_own_loop_is_refused() -> None:
    async def main() -> str:
        task = asyncio.ensure_future(asyncio.sleep(0.5, "never read"))
        started = time.monotonic()
        with pytest.raises(shortly.DeadlockError) as info:
            shortly.future_of(task).then(str.upper).result(timeout=5)
        assert time.monotonic() - started < QUICK
        task.cancel()
        return str(info.value)

    message = asyncio.run(main())
    assert message.startswith("thread 'MainThread' would wait for ever on ")
    assert "owned by EventLoopOwner on 'MainThread'" in message


def test_future_of_a_task_blocked_on_from_another_thread_is_fine() -> None:
    async def main() -> str:
        task = asyncio.ensure_future(asyncio.sleep(0.01, "done"))
        adapted = shortly.future_of(task)
        return await asyncio.to_thread(adapted.result, 5)

    assert asyncio.run(main()) == "done"


def test_a_blocking_wait_inside_a_running_loop_warns_in_debug_mode() -> None:
    elsewhere: shortly.Future[int] = shortly.Future()

    async def main() -> int:
        threading.Timer(0.01, elsewhere.set_result, (5,)).start()
        return elsewhere.result(timeout=5)

    with pytest.warns(RuntimeWarning, match="freezes the loop") as record:
        assert asyncio.run(main(), debug=True) == 5
    assert record[0].filename == __file__  # it points at the blocking call
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        other: shortly.Future[int] = shortly.Future()
        threading.Timer(0.01, other.set_result, (6,)).start()

        async def quiet() -> int:
            return other.result(timeout=5)

        assert asyncio.run(quiet()) == 6  # not in debug mode: no warning


# -- thread pools ----------------------------------------------------------------------------


def test_a_one_worker_pool_waiting_on_work_queued_behind_it_is_refused() -> None:
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="solo") as pool:

        def outer() -> object:
            return shortly.submit(int, "2", executor=pool).result(timeout=5)

        started = time.monotonic()
        error = shortly.submit(outer, executor=pool).exception(timeout=10)
        assert time.monotonic() - started < QUICK
    assert isinstance(error, shortly.DeadlockError)
    message = str(error)
    assert message.startswith("thread 'solo_0' would wait for ever on ")
    assert "pool 'solo' (1 worker)" in message
    assert "every worker waits ('solo_0' on this very future)" in message


def test_a_pool_whose_every_worker_waits_on_queued_work_is_refused_once() -> None:
    size = 3
    with concurrent.futures.ThreadPoolExecutor(size, thread_name_prefix="fan") as pool:
        all_blocked = threading.Barrier(size)
        errors: list[BaseException] = []

        def inner() -> int:
            return 1

        def outer() -> int:
            all_blocked.wait(5)  # every worker is busy: inner work stays queued
            queued = shortly.submit(inner, executor=pool)
            try:
                return queued.result(timeout=5)
            except shortly.DeadlockError as error:
                errors.append(error)
                raise

        futures = [shortly.submit(outer, executor=pool) for _ in range(size)]
        done, _ = concurrent.futures.wait(futures, timeout=10)
    assert len(done) == size
    assert len(errors) == 1, errors  # the last to wait; the others are served after it
    assert sum(f.exception() is None for f in futures) == size - 1
    message = str(errors[0])
    assert f"pool 'fan' ({size} workers)" in message
    for i in range(size):
        assert f"'fan_{i}' on " in message


def drain(everything: list[shortly.Future[int]]) -> None:
    """Leave the shared pool idle: what is left of the work goes on once a worker is
    free. Each outcome is read, so that no failure is reported as dropped unseen."""
    seen = -1
    while seen != len(everything):
        seen = len(everything)
        concurrent.futures.wait(everything[:seen], timeout=10)
    for future in everything:
        future.exception()


def test_recursion_on_the_default_pool_is_refused_instead_of_starving_it() -> None:
    pool = _submit.shared_pool()
    size = pool._max_workers
    everything: list[shortly.Future[int]] = []

    def depth(n: int) -> int:
        if n == 0:
            return 0
        child = shortly.submit(depth, n - 1)
        everything.append(child)
        return child.result(timeout=5) + 1

    started = time.monotonic()
    root = shortly.submit(depth, size + 2)
    error = root.exception(timeout=10)
    assert time.monotonic() - started < QUICK
    assert isinstance(error, shortly.DeadlockError)
    assert f"pool 'shortly-submit' ({size} workers)" in str(error)
    drain(everything)


def test_a_recursive_fan_out_on_the_default_pool_is_refused() -> None:
    size = _submit.shared_pool()._max_workers
    everything: list[shortly.Future[int]] = []

    def fan(depth: int) -> int:
        if depth == 0:
            return 1
        kids = [shortly.submit(fan, depth - 1) for _ in range(2)]
        everything.extend(kids)
        # Every child is read, so that no failure is dropped unseen.
        errors = [kid.exception(timeout=5) for kid in kids]
        for error in errors:
            if error is not None:
                raise error
        return sum(kid.result() for kid in kids)

    started = time.monotonic()
    # More waiting parents than workers: the upper levels alone fill the pool.
    error = shortly.submit(fan, size.bit_length() + 1).exception(timeout=10)
    assert time.monotonic() - started < QUICK
    assert isinstance(error, shortly.DeadlockError)
    assert "every worker waits" in str(error)
    drain(everything)


def test_a_pool_with_a_free_worker_is_not_refused() -> None:
    with concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="pair") as pool:
        release = threading.Event()

        def outer() -> int:
            # The second worker is free to run it.
            return shortly.submit(lambda: release.wait(5) and 4, executor=pool).result(timeout=5)

        result = shortly.submit(outer, executor=pool)
        threading.Timer(0.05, release.set).start()
        assert result.result(timeout=10) == 4


def test_run_in_loop_adopting_a_future_another_thread_settles_is_not_refused() -> None:
    elsewhere: shortly.Future[int] = shortly.Future()

    async def main() -> int:
        loop = asyncio.get_running_loop()
        adopted: shortly.Future[Any] = shortly.run_in_loop(loop, lambda: elsewhere)
        await asyncio.sleep(0)  # fn has run: the loop handed the outcome to `elsewhere`
        threading.Timer(0.01, elsewhere.set_result, (9,)).start()
        return int(adopted.result(timeout=5))  # freezes the loop briefly, but ends

    assert asyncio.run(main()) == 9
