"""shortly.map: bounded, lazy, cancelling; threads, asyncio and trio."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trio

import shortly
from tests.helpers import eventually

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]


class Gauge:
    """Counts calls running at once, and the most ever seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.calls = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.calls += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


class TestThreads:
    def test_results_in_order(self) -> None:
        assert list(shortly.map(lambda x: x * x, range(50), limit=3)) == [x * x for x in range(50)]

    def test_unordered_yields_each_result_once(self) -> None:
        out = list(shortly.map(lambda x: x, range(200), limit=5, ordered=False))
        assert sorted(out) == list(range(200))

    def test_never_more_than_limit_in_flight(self) -> None:
        gauge = Gauge()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)

        def work(x: int) -> int:
            with gauge:
                shortly.sleep(0.001).result(timeout=5)
            return x

        assert list(shortly.map(work, range(100), limit=4, executor=pool)) == list(range(100))
        pool.shutdown()
        assert gauge.calls == 100
        assert 1 <= gauge.peak <= 4

    def test_input_is_read_lazily(self) -> None:
        taken: list[int] = []

        def endless() -> Iterator[int]:
            for n in itertools.count():
                taken.append(n)
                yield n

        with shortly.map(lambda x: x + 1, endless(), limit=4) as results:
            first = [next(results) for _ in range(3)]
        assert first == [1, 2, 3]
        assert len(taken) <= 3 + 2 * 4  # read, in flight, and buffered behind a slow one

    def test_first_failure_cancels_in_flight_and_is_raised(self) -> None:
        started = threading.Barrier(3, timeout=5)
        stopped: list[int] = []

        def work(x: int) -> int:
            if x == 0:
                started.wait()
                raise ValueError("item 0")
            started.wait()
            try:
                shortly.sleep(60).result()
            except shortly.CancelledError:
                stopped.append(x)
                raise
            return x

        before = time.monotonic()
        with pytest.raises(ValueError, match="item 0"):
            list(shortly.map(work, range(1000), limit=3))
        assert time.monotonic() - before < 5
        eventually(lambda: len(stopped) >= 2)  # the cancelled calls unwinding
        assert sorted(stopped) == [1, 2]

    def test_close_cancels_running_calls_mid_way(self) -> None:
        running = threading.Event()
        outcome: list[str] = []

        def work(x: int) -> int:
            if x == 0:
                return 0
            running.set()
            try:
                shortly.sleep(60).result()
            except shortly.CancelledError:
                outcome.append("cancelled")
                raise
            return x

        results = shortly.map(work, range(10), limit=2)
        assert next(results) == 0
        assert running.wait(5)
        results.close()
        assert next(results, "done") == "done"
        eventually(lambda: outcome)
        # With limit=2, one or two calls were running at close(): each was cancelled.
        assert outcome and set(outcome) == {"cancelled"} and len(outcome) <= 2, outcome

    def test_break_out_of_a_plain_for_loop_cancels_running_calls(self) -> None:
        running = threading.Barrier(3, timeout=5)
        stopped: list[int] = []

        def work(x: int) -> int:
            if x in (1, 2):
                running.wait()
            if x > 0:
                try:
                    shortly.sleep(60).result()
                except shortly.CancelledError:
                    stopped.append(x)
                    raise
            return x

        firsts = []
        for first in shortly.map(work, range(100), limit=3):
            firsts.append(first)
            running.wait()  # 1 and 2 are running (0 is read, 3 started): stop early
            break
        assert firsts == [0]
        eventually(lambda: {1, 2} <= set(stopped))  # the deferred thread closing the map
        # 3 is stopped too if it had started, else it never does.
        assert {1, 2} <= set(stopped) <= {1, 2, 3}

    def test_other_executors(self) -> None:
        queue = shortly.SerialExecutor()
        assert list(shortly.map(str, range(5), executor=queue)) == ["0", "1", "2", "3", "4"]
        queue.shutdown()

    def test_inside_a_cancelled_scope_nothing_runs_on(self) -> None:
        with shortly.scope() as s:
            results = shortly.map(lambda x: shortly.sleep(60).result(), range(4), limit=2)
            s.cancel()
            with pytest.raises(shortly.CancelledError):
                next(results)

    def test_stress_many_maps_at_once(self) -> None:
        totals: list[int] = []

        def one(k: int) -> None:
            totals.append(sum(shortly.map(lambda x: x, range(k * 50), limit=3)))

        threads = [threading.Thread(target=one, args=(k,)) for k in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert sorted(totals) == sorted(sum(range(k * 50)) for k in range(12))

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"limit": 0}, ValueError),
            ({"limit": 1.5}, TypeError),
            ({"limit": True}, TypeError),
            ({"ordered": 1}, TypeError),
            ({"executor": object()}, TypeError),
        ],
    )
    def test_arguments_are_checked(self, kwargs: dict[str, Any], error: type) -> None:
        with pytest.raises(error, match=next(iter(kwargs))):
            shortly.map(str, [], **kwargs)

    def test_fn_and_iterable_are_checked(self) -> None:
        with pytest.raises(TypeError, match="fn"):
            shortly.map(3, [])  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="iterable"):
            shortly.map(str, 3)  # type: ignore[call-overload]


class Reader:
    """An input that records which threads read it, and how far ahead of the results.

    The loop counts ``taken`` after ``next()`` returns, and the map reads the next item
    while handing a result out: so ``read - taken`` may reach ``2 * limit + 1``.
    """

    def __init__(self, n: int) -> None:
        self.items = iter(range(n))
        self.threads: set[int] = set()
        self.read = 0
        self.taken = 0
        self.most_ahead = 0

    def __iter__(self) -> Reader:
        return self

    def __next__(self) -> int:
        self.threads.add(threading.get_ident())
        item = next(self.items)
        self.read += 1
        self.most_ahead = max(self.most_ahead, self.read - self.taken)
        return item


class CountingPool(concurrent.futures.ThreadPoolExecutor):
    """A pool subclass (so every call is submitted) counting calls submitted and not
    returned: what "in flight" means."""

    def __init__(self, workers: int) -> None:
        super().__init__(max_workers=workers)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        return super().submit(fn, *args, **kwargs)

    def returned(self) -> None:
        with self.lock:
            self.in_flight -= 1


class TestReadAhead:
    """Pool threads start the calls read ahead; the input stays on the consumer's thread."""

    @pytest.mark.parametrize("ordered", [True, False])
    @pytest.mark.parametrize("pool", ["shared", "plain", "subclass"])
    def test_input_is_read_only_in_the_consumers_thread(self, ordered: bool, pool: str) -> None:
        executor = {
            "shared": None,
            "plain": concurrent.futures.ThreadPoolExecutor(max_workers=8),
            "subclass": CountingPool(8),
        }[pool]
        reader = Reader(3000)
        results = []
        for result in shortly.map(abs, reader, limit=4, executor=executor, ordered=ordered):
            reader.taken += 1
            results.append(result)
        assert sorted(results) == list(range(3000))
        assert reader.threads == {threading.get_ident()}
        assert reader.most_ahead <= 2 * 4 + 1
        if executor is not None:
            executor.shutdown()

    def test_input_is_read_in_the_loops_thread_under_async_for(self) -> None:
        reader = Reader(500)

        async def main() -> list[int]:
            return [x async for x in shortly.map(abs, reader, limit=3, ordered=False)]

        assert sorted(asyncio.run(main())) == list(range(500))
        assert reader.threads == {threading.get_ident()}

    @pytest.mark.parametrize("limit", [1, 3, 8])
    def test_never_more_than_limit_running_under_stress(self, limit: int) -> None:
        gauge = Gauge()
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=16)

        def work(x: int) -> int:
            with gauge:
                return x

        for executor in (None, pool):
            out = list(shortly.map(work, range(5000), limit=limit, executor=executor))
            assert out == list(range(5000))
        pool.shutdown()
        assert gauge.calls == 10_000
        assert 1 <= gauge.peak <= limit

    def test_never_more_than_limit_submitted_and_not_returned(self) -> None:
        pool = CountingPool(16)

        def work(x: int) -> int:
            pool.returned()  # the call is over: what follows settles its future
            return x

        out = list(shortly.map(work, range(3000), limit=5, executor=pool, ordered=False))
        pool.shutdown()
        assert sorted(out) == list(range(3000))
        assert pool.in_flight == 0
        assert 1 <= pool.peak <= 5

    def test_waiting_calls_start_while_the_consumer_waits_on_a_slow_one(self) -> None:
        limit = 3
        reader = Reader(40)
        others_done = threading.Event()
        lock, done, read_meanwhile = threading.Lock(), [0], []

        def work(x: int) -> int:
            if x == 0:
                assert others_done.wait(10)  # until every other call read ahead is over
                read_meanwhile.append(reader.read)
            elif x < 2 * limit:
                with lock:
                    done[0] += 1
                    if done[0] == 2 * limit - 1:
                        others_done.set()
            return x

        results = []
        for result in shortly.map(work, reader, limit=limit):
            reader.taken += 1
            results.append(result)
        assert results == list(range(40))
        # While the consumer waited on call 0, the 2 * limit - 1 calls read after it ran
        # (limit at a time), and no more input was read.
        assert read_meanwhile == [2 * limit]
        assert reader.most_ahead <= 2 * limit + 1

    def test_a_map_does_not_keep_a_pool_thread_from_other_work(self) -> None:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        order: list[object] = []

        def work(x: int) -> int:
            if x == 0:
                pool.submit(order.append, "other")  # queued behind the map's call 0
            order.append(x)
            return x

        assert list(shortly.map(work, range(6), limit=1, executor=pool)) == list(range(6))
        pool.shutdown()
        # Call 1 waited for a slot; it went to the back of the pool's queue, behind
        # the other work, rather than being run at once by the thread that ran 0.
        assert order == [0, "other", 1, 2, 3, 4, 5]

    def test_an_input_that_raises_still_maps_what_it_gave(self) -> None:
        def items() -> Iterator[int]:
            yield from range(3)
            raise KeyError("input")

        results = shortly.map(lambda x: -x, items(), limit=2)
        with pytest.raises(KeyError, match="input"):
            next(results)  # raised while reading ahead, before any result
        assert list(results) == [0, -1, -2]  # the items read before it still ran

    def test_a_failure_means_the_waiting_calls_never_start(self) -> None:
        started: list[int] = []

        def work(x: int) -> int:
            started.append(x)
            if x == 0:
                raise ValueError("zero")
            return x

        with pytest.raises(ValueError, match="zero"):
            list(shortly.map(work, range(100), limit=1))
        assert started == [0]

    def test_close_means_the_waiting_calls_never_start(self) -> None:
        started: list[int] = []
        running, ended = threading.Event(), threading.Event()

        def work(x: int) -> int:
            started.append(x)
            if x == 1:
                running.set()
                try:
                    shortly.sleep(60).result()
                finally:
                    ended.set()
            return x

        results = shortly.map(work, range(100), limit=1)
        assert next(results) == 0
        assert running.wait(5)  # 1 holds the only slot; 2, read ahead, waits for it
        results.close()
        assert ended.wait(5)
        assert started == [0, 1]


class TestAsyncio:
    def test_coroutine_function_runs_as_tasks(self) -> None:
        gauge = Gauge()

        async def work(x: int) -> int:
            with gauge:
                await asyncio.sleep(0.001)
            return x * 2

        async def main() -> list[int]:
            return [x async for x in shortly.map(work, range(30), limit=4)]

        assert asyncio.run(main()) == [x * 2 for x in range(30)]
        assert gauge.peak <= 4

    def test_thread_function_under_async_for(self) -> None:
        async def main() -> list[int]:
            return [x async for x in shortly.map(abs, range(-5, 0), ordered=False)]

        assert sorted(asyncio.run(main())) == [1, 2, 3, 4, 5]

    def test_failure_cancels_tasks(self) -> None:
        started: list[int] = []
        cancelled: list[int] = []

        async def work(x: int) -> int:
            if x == 0:
                await asyncio.wait_for(_until(lambda: len(started) == 2), 5)
                raise KeyError("zero")  # once the other two are running
            started.append(x)
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.append(x)
                raise
            return x

        async def main() -> None:
            with pytest.raises(KeyError):
                async for _ in shortly.map(work, range(100), limit=3):
                    pass
            # Before asyncio.run cancels what is left: the map did it.
            await asyncio.wait_for(_until(lambda: len(cancelled) == 2), 5)

        asyncio.run(main())
        assert sorted(cancelled) == [1, 2]

    def test_break_out_of_async_for_cancels_tasks(self) -> None:
        cancelled: list[int] = []

        async def work(x: int) -> int:
            if x > 0:
                try:
                    await asyncio.sleep(60)
                except asyncio.CancelledError:
                    cancelled.append(x)
                    raise
            return x

        async def main() -> None:
            async for _ in shortly.map(work, range(100), limit=3):
                break
            await asyncio.wait_for(_until(lambda: len(cancelled) == 3), 5)

        asyncio.run(main())
        assert sorted(cancelled) == [1, 2, 3]


async def _until(predicate: Callable[[], bool]) -> None:
    """Let the loop's other tasks run until ``predicate()`` holds (the caller bounds it)."""
    while not predicate():
        await asyncio.sleep(0)


class TestTrio:
    def test_coroutine_function_runs_as_tasks(self) -> None:
        async def work(x: int) -> int:
            await trio.sleep(0.001)
            return x + 1

        async def main() -> list[int]:
            async with shortly.map(work, range(20), limit=3, ordered=False) as results:
                return [x async for x in results]

        assert sorted(trio.run(main)) == list(range(1, 21))

    def test_early_stop_cancels_tasks(self) -> None:
        cancelled: list[int] = []

        async def work(x: int) -> int:
            if x == 0:
                return 0
            try:
                await trio.sleep(60)
            except trio.Cancelled:
                cancelled.append(x)
                raise
            return x

        async def main() -> int:
            async with shortly.map(work, range(100), limit=3) as results:
                first = await anext(results)
            # Before trio.run cancels what is left: the map did it.
            with trio.fail_after(5):
                while len(cancelled) < 3:
                    await trio.sleep(0.001)
            return first

        assert trio.run(main) == 0
        assert sorted(cancelled) == [1, 2, 3]  # 0 was read, so 3 had started


class TestGatherLimit:
    def test_at_most_limit_coroutines_at_once_asyncio(self) -> None:
        gauge = Gauge()

        async def work(x: int) -> int:
            with gauge:
                await asyncio.sleep(0.001)
            return x

        async def main() -> Any:
            return await shortly.gather(
                {"many": [work(i) for i in range(20)], "plain": "value"}, limit=3
            )

        assert asyncio.run(main()) == {"many": list(range(20)), "plain": "value"}
        assert gauge.calls == 20 and gauge.peak == 3

    def test_trio_and_no_loop(self) -> None:
        gauge = Gauge()

        async def on_trio(x: int) -> int:
            with gauge:
                await trio.sleep(0.001)
            return x

        async def main() -> Any:
            return await shortly.gather([on_trio(i) for i in range(10)], limit=2)

        assert trio.run(main) == list(range(10))
        assert gauge.peak == 2
        spawned = Gauge()

        async def on_spawn(x: int) -> int:
            with spawned:
                await shortly.sleep(0.001)
            return x

        assert shortly.gather([on_spawn(i) for i in range(10)], limit=4).result(timeout=5) == list(
            range(10)
        )
        assert spawned.peak == 4

    def test_a_failure_means_the_rest_never_start(self) -> None:
        started: list[int] = []

        async def work(x: int) -> int:
            started.append(x)
            await shortly.sleep(0.001)
            if x == 1:
                raise ValueError("one")
            return x

        with pytest.raises(ValueError, match="one"):
            shortly.gather([work(i) for i in range(50)], limit=2).result(timeout=5)
        assert len(started) < 50

    def test_limit_is_checked(self) -> None:
        with pytest.raises(ValueError, match="limit"):
            shortly.gather([], limit=0)
        with pytest.raises(TypeError, match="limit"):
            shortly.gather([], limit="2")  # type: ignore[arg-type]


class TestAsCompletedCancelPending:
    def test_close_cancels_the_inputs_left(self) -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(5)]
        fs[3].set_result(3)
        it = shortly.as_completed(fs, cancel_pending=True)
        assert next(it) is fs[3]
        it.close()
        assert [f.cancelled() for f in fs] == [True, True, True, False, True]

    def test_timeout_cancels_the_inputs_left(self) -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(3)]
        with pytest.raises(shortly.TimeoutError):
            for _ in shortly.as_completed(fs, timeout=0.01, cancel_pending=True):
                pass
        assert all(f.cancelled() for f in fs)

    def test_break_out_of_the_loop_cancels_the_inputs_left(self) -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(4)]
        fs[2].set_result(2)
        for first in shortly.as_completed(fs, cancel_pending=True):
            assert first is fs[2]
            break
        eventually(lambda: all(f.done() for f in fs))  # the deferred thread cancels them
        assert [f.cancelled() for f in fs] == [True, True, False, True]

    def test_default_leaves_them_running(self) -> None:
        fs: list[shortly.Future[int]] = [shortly.Future() for _ in range(3)]
        shortly.as_completed(fs).close()
        assert not any(f.cancelled() for f in fs)

    def test_async_timeout_and_stdlib_inputs(self) -> None:
        stdlib: concurrent.futures.Future[int] = concurrent.futures.Future()

        async def main() -> None:
            with pytest.raises(shortly.TimeoutError):
                async for _ in shortly.as_completed([stdlib], timeout=0.01, cancel_pending=True):
                    pass

        asyncio.run(main())
        assert stdlib.cancelled()

    def test_flag_is_checked(self) -> None:
        with pytest.raises(TypeError, match="cancel_pending"):
            shortly.as_completed([], cancel_pending=1)  # type: ignore[call-overload]
