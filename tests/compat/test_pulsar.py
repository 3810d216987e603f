"""shortly.compat.pulsar: one test per sentence of the pulsar async API document, plus the
behaviours recorded in the seeds README (multi_async shapes, async_while's last value,
real try-acquire, auto-release, ``async with`` lock errors), with no loop at construction."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

import pytest

import shortly
from shortly.compat import pulsar
from shortly.compat.pulsar import (
    AsyncObject,
    Bench,
    Lock,
    LockBase,
    LockError,
    async_while,
    chain_future,
    maybe_async,
    multi_async,
    run_in_loop,
    task,
)

pytestmark = [
    pytest.mark.timeout(20),
    pytest.mark.usefixtures("no_unhandled_failures"),
]

_names = itertools.count()


def fresh(prefix: str = "pulsar-test") -> str:
    """A lock name no other test uses."""
    return f"{prefix}-{next(_names)}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # pulsar is built on asyncio


async def later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


async def fail(error: BaseException) -> Any:
    await asyncio.sleep(0)
    raise error


# -- the asynchronous API ----------------------------------------------------------------------


def test_the_api_is_built_on_asyncio() -> None:
    assert pulsar.Future is asyncio.Future


# -- AsyncObject ---------------------------------------------------------------------------------


def test_async_object_is_the_default_interface_for_async_objects() -> None:
    class Client(AsyncObject):
        pass

    client = Client()  # no loop needed
    assert client._loop is None and client._logger is None


def test_loop_attribute_is_the_event_loop_associated_with_the_object() -> None:
    class Client(AsyncObject):
        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            self._loop = loop

    loop = asyncio.new_event_loop()
    try:
        assert Client(loop)._loop is loop
    finally:
        loop.close()


def test_logger_is_the_optional_logger_else_the_loop_logger() -> None:
    mine = logging.getLogger("mine")

    class Client(AsyncObject):
        _logger = mine

    assert Client().logger is mine

    class LoopWithLogger:
        logger = logging.getLogger("loop")

    class Other(AsyncObject):
        _loop = LoopWithLogger()  # type: ignore[assignment]

    assert Other().logger.name == "loop"
    assert AsyncObject().logger.name == "pulsar"


def test_debug_is_true_in_debug_mode() -> None:
    loop = asyncio.new_event_loop()
    try:

        class Client(AsyncObject):
            _loop = loop

        loop.set_debug(False)
        assert Client().debug is False
        loop.set_debug(True)
        assert Client().debug is True
        assert AsyncObject().debug is False
    finally:
        loop.close()


@pytest.mark.anyio
async def test_timeit_benchmarks_an_async_method_and_results_in_a_bench() -> None:
    calls: list[tuple[Any, ...]] = []

    class Service(AsyncObject):
        async def asyncmethod(self, *args: Any, **kwargs: Any) -> str:
            calls.append((args, kwargs))
            await asyncio.sleep(0)
            return "ok"

    future = Service().timeit("asyncmethod", 100, 1, key="v")
    assert asyncio.isfuture(future)
    b = await future
    assert isinstance(b, Bench) and b.times == 100
    assert b.result == ("ok",) * 100 and calls == [((1,), {"key": "v"})] * 100
    assert b.taken is not None and 0 <= b.taken < 5


@pytest.mark.anyio
async def test_bench_executes_requests_and_waits_for_every_result() -> None:
    done: list[int] = []

    async def request(i: int) -> int:
        await asyncio.sleep(0.001)
        done.append(i)
        return i

    counter = itertools.count()
    bench = Bench(5)
    assert bench.taken is None
    result = await bench(lambda: request(next(counter)))
    assert result is bench and sorted(done) == [0, 1, 2, 3, 4]
    assert sorted(bench.result) == [0, 1, 2, 3, 4]


def test_bench_taken_is_the_total_time_taken() -> None:
    async def nap() -> None:
        await asyncio.sleep(0.02)

    async def main() -> float | None:
        bench = await Bench(3)(nap)
        return bench.taken

    taken = asyncio.run(main())
    assert taken is not None and 0.02 <= taken < 5


def test_bench_validates_times() -> None:
    with pytest.raises(TypeError, match="times must be an int"):
        Bench(1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times must be >= 0"):
        Bench(-1)


# -- task ----------------------------------------------------------------------------------------


def test_task_is_a_thread_safe_decorator_running_the_function_in_the_loop(
    loop: asyncio.AbstractEventLoop,
) -> None:
    class Worker(AsyncObject):
        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            self._loop = loop

        @task
        def where(self) -> threading.Thread:
            return threading.current_thread()

    # From a thread that is not the loop's: a shortly future it can block on.
    future = Worker(loop).where()
    assert isinstance(future, shortly.Future)
    assert future.result(timeout=5).name == "loop"


@pytest.mark.anyio
async def test_task_function_may_return_coroutines_futures_or_data() -> None:
    loop = asyncio.get_running_loop()

    @task
    def data() -> int:
        return 1

    @task
    def coroutine() -> Any:
        return later(2)

    @task
    async def native() -> int:
        return 3

    @task
    def future() -> asyncio.Future[int]:
        f = loop.create_future()
        loop.call_soon(f.set_result, 4)
        return f

    results = [data(), coroutine(), native(), future()]
    assert all(asyncio.isfuture(r) for r in results)
    assert [await r for r in results] == [1, 2, 3, 4]


def test_task_method_runs_on_the_object_loop(loop: asyncio.AbstractEventLoop) -> None:
    class Worker(AsyncObject):
        def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
            self._loop = loop

        @task
        async def running_loop(self) -> asyncio.AbstractEventLoop:
            return asyncio.get_running_loop()

    assert Worker(loop).running_loop().result(timeout=5) is loop


def test_task_without_any_loop_says_so() -> None:
    @task
    def orphan() -> None:
        pass

    with pytest.raises(RuntimeError, match="has no event loop to run on"):
        orphan()
    with pytest.raises(TypeError, match="decorates a callable"):
        task(3)  # type: ignore[arg-type]


# -- maybe_async ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_maybe_async_returns_a_future_only_for_generators_and_futures() -> None:
    loop = asyncio.get_running_loop()
    f = loop.create_future()
    assert maybe_async(f) is f
    assert maybe_async(3) == 3 and maybe_async("text") == "text"
    coro = maybe_async(later("coroutine"))
    assert asyncio.isfuture(coro) and await coro == "coroutine"

    def old_style() -> Any:
        value = yield shortly.Future.resolved(5)
        return value + 1

    gen = maybe_async(old_style())
    assert asyncio.isfuture(gen) and await gen == 6
    shortly_future = maybe_async(shortly.Future.resolved("s"))
    assert asyncio.isfuture(shortly_future) and await shortly_future == "s"


def test_maybe_async_uses_the_optional_loop(loop: asyncio.AbstractEventLoop) -> None:
    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    future = maybe_async(where(), loop=loop)  # from another thread: a shortly future
    assert future.result(timeout=5) is loop
    with pytest.raises(TypeError, match="loop must be an asyncio event loop"):
        maybe_async(1, loop="loop")  # type: ignore[arg-type]


def test_maybe_async_of_a_coroutine_without_a_loop_is_refused() -> None:
    coro = later(1)
    with pytest.raises(RuntimeError, match="needs an event loop"):
        maybe_async(coro)
    coro.close()


# -- chain_future --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_chain_future_runs_callback_and_sets_its_result_on_next() -> None:
    source = asyncio.get_running_loop().create_future()
    chained = chain_future(source, callback=lambda v: v + 1)
    source.set_result(1)
    assert await chained == 2


@pytest.mark.anyio
async def test_chain_future_runs_errback_on_an_exception() -> None:
    seen: list[BaseException] = []
    error = KeyError("k")

    def errback(exc: BaseException) -> str:
        seen.append(exc)
        return "recovered"

    assert await chain_future(fail(error), errback=errback) == "recovered"
    assert seen == [error]
    with pytest.raises(KeyError):
        await chain_future(fail(KeyError("unhandled")), callback=print)


@pytest.mark.anyio
async def test_chain_future_accepts_a_coroutine_and_waits_for_returned_futures() -> None:
    chained = chain_future(later(2), callback=lambda v: later(v * 10))
    assert await chained == 20


@pytest.mark.anyio
async def test_chain_future_sets_and_returns_the_given_next() -> None:
    loop = asyncio.get_running_loop()
    nxt = loop.create_future()
    assert chain_future(later("x"), callback=str.upper, next=nxt) is nxt
    assert await nxt == "X"
    failed = loop.create_future()
    chain_future(fail(ValueError("v")), next=failed)
    with pytest.raises(ValueError):
        await failed
    with pytest.raises(TypeError, match="next must be an asyncio future"):
        chain_future(loop.create_future(), next=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="future must be a future"):
        chain_future(3)


@pytest.mark.anyio
async def test_chain_future_passes_cancellation_on_without_errback() -> None:
    source = asyncio.get_running_loop().create_future()
    errors: list[BaseException] = []
    chained = chain_future(source, errback=errors.append)
    source.cancel()
    with pytest.raises(asyncio.CancelledError):
        await chained
    assert errors == []


# -- multi_async ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_multi_async_handles_several_futures_keeping_the_container() -> None:
    assert await multi_async([later(1), 2, later(3)]) == [1, 2, 3]
    assert await multi_async((later(1), 2)) == [1, 2]
    assert await multi_async({"a": later(1), "b": "plain"}) == {"a": 1, "b": "plain"}
    ordered = await multi_async(OrderedDict(z=later(1), a=2))
    assert type(ordered) is OrderedDict and list(ordered) == ["z", "a"]
    assert await multi_async({"k": later(1)}, type=OrderedDict) == OrderedDict(k=1)
    assert await multi_async(later(i) for i in range(3)) == [0, 1, 2]
    assert await multi_async() == []


@pytest.mark.anyio
async def test_multi_async_raises_the_first_error_or_puts_errors_in_place() -> None:
    error = ValueError("bad")
    with pytest.raises(ValueError):
        await multi_async([later(1), fail(error)])
    mixed = await multi_async({"ok": later(1), "bad": fail(error)}, raise_on_error=False)
    assert mixed == {"ok": 1, "bad": error}
    with pytest.raises(TypeError, match="data must be a mapping or an iterable"):
        multi_async(3)
    with pytest.raises(TypeError, match="raise_on_error must be a bool"):
        multi_async([], raise_on_error="no")  # type: ignore[arg-type]


def test_multi_async_is_thread_safe(loop: asyncio.AbstractEventLoop) -> None:
    def from_a_thread(i: int) -> Any:
        return multi_async([later(i), i], loop=loop).result(timeout=5)

    results: list[Any] = [None] * 8
    threads = [
        threading.Thread(target=lambda i=i: results.__setitem__(i, from_a_thread(i)))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [[i, i] for i in range(8)]


# -- async_while ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_while_is_the_asynchronous_while_loop() -> None:
    countdown = itertools.count(3, -1)
    calls: list[Any] = []

    def clause(*args: Any) -> int:
        calls.append(args)
        return next(countdown)

    result = async_while(5, clause, "a", 1)
    assert asyncio.isfuture(result)
    assert await result == 0  # the last clause value: falsy, the loop ended
    assert calls == [("a", 1)] * 4


@pytest.mark.anyio
async def test_async_while_stops_after_timeout_with_the_last_truthy_value() -> None:
    start = time.monotonic()
    assert await async_while(0.05, lambda: "still waiting") == "still waiting"
    assert 0.05 <= time.monotonic() - start < 5


def test_async_while_works_outside_a_loop_and_reports_clause_errors() -> None:
    flag = threading.Event()
    threading.Timer(0.01, flag.set).start()
    assert async_while(None, lambda: not flag.is_set()).result(timeout=5) is False
    failing = async_while(1, lambda: 1 / 0)
    assert isinstance(failing.exception(timeout=5), ZeroDivisionError)
    with pytest.raises(TypeError, match="while_clause must be callable"):
        async_while(1, None)  # type: ignore[arg-type]


# -- run_in_loop ---------------------------------------------------------------------------------


def test_run_in_loop_runs_callable_in_the_loop_thread_thread_safe(
    loop: asyncio.AbstractEventLoop,
) -> None:
    future = run_in_loop(loop, lambda a, b=0: (threading.current_thread().name, a + b), 1, b=2)
    assert isinstance(future, shortly.Future)
    assert future.result(timeout=5) == ("loop", 3)
    awaited = run_in_loop(loop, later, "awaited on the loop")
    assert awaited.result(timeout=5) == "awaited on the loop"


@pytest.mark.anyio
async def test_run_in_loop_on_the_loop_thread_returns_an_asyncio_future() -> None:
    future = run_in_loop(asyncio.get_running_loop(), later, 5)
    assert asyncio.isfuture(future) and await future == 5


# -- locks ---------------------------------------------------------------------------------------


def test_locks_are_created_without_a_running_loop() -> None:
    lock = Lock(fresh(), timeout=1, blocking=0.5)
    assert (lock.timeout, lock.blocking, lock._loop) == (1, 0.5, None)
    assert isinstance(lock, LockBase) and not lock.locked()


def test_lock_base_is_an_abstract_primitive_associated_to_a_name() -> None:
    with pytest.raises(TypeError):
        LockBase("abstract")  # type: ignore[abstract]
    assert Lock("named").name == "named"
    with pytest.raises(ValueError, match="name must be a non-empty str"):
        Lock("")
    with pytest.raises(TypeError, match="timeout must be a positive number"):
        Lock("x", timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="blocking must be True, False or a number"):
        Lock("x", blocking=-1)


@pytest.mark.anyio
async def test_a_lock_is_created_unlocked_and_acquire_locks_it_at_once() -> None:
    lock = Lock(fresh())
    assert not lock.locked()
    start = time.monotonic()
    assert await lock.acquire() is True
    assert lock.locked() and time.monotonic() - start < 5
    await lock.release()
    assert not lock.locked()


@pytest.mark.anyio
async def test_acquire_waits_until_release_then_locks_and_returns() -> None:
    name = fresh()
    first, second = Lock(name), Lock(name)
    assert await first.acquire()
    order: list[str] = []

    async def contender() -> None:
        assert await second.acquire()
        order.append("second acquired")

    waiter = asyncio.ensure_future(contender())
    await asyncio.sleep(0.01)  # let it reach the wait; correctness does not depend on it
    order.append("first releases")
    await first.release()
    await waiter
    assert order == ["first releases", "second acquired"] and second.locked()
    await second.release()


@pytest.mark.anyio
async def test_blocking_false_does_not_block_and_is_a_real_try_acquire() -> None:
    name = fresh()
    free = Lock(name, blocking=False)
    assert await free.acquire() is True  # the original never acquired with blocking=False
    busy = Lock(name, blocking=False)
    start = time.monotonic()
    assert await busy.acquire() is False
    assert time.monotonic() - start < 5
    await free.release()


@pytest.mark.anyio
async def test_blocking_a_number_waits_that_many_seconds() -> None:
    name = fresh()
    holder = Lock(name)
    await holder.acquire()
    start = time.monotonic()
    assert await Lock(name, blocking=0.05).acquire() is False
    assert 0.05 <= time.monotonic() - start < 5
    await holder.release()


@pytest.mark.anyio
async def test_timeout_frees_the_lock_after_that_many_seconds() -> None:
    name = fresh()
    holder = Lock(name, timeout=0.05)
    await holder.acquire()
    waiter = Lock(name)
    start = time.monotonic()
    # Freed by the timeout, not by a release. (Waited for in a task of its own: the
    # core refuses a task waiting without limit for a lock it holds itself.)
    assert await asyncio.ensure_future(waiter.acquire()) is True
    assert 0.04 <= time.monotonic() - start < 5
    assert not holder.locked()
    await holder.release()  # late: does nothing, the lock is the waiter's now
    assert waiter.locked() and await Lock(name, blocking=False).acquire() is False
    await waiter.release()


@pytest.mark.anyio
async def test_timeout_none_holds_the_lock_until_release() -> None:
    name = fresh()
    holder = Lock(name)
    await holder.acquire()
    assert await Lock(name, blocking=0.05).acquire() is False
    assert holder.locked()
    await holder.release()


@pytest.mark.anyio
async def test_release_of_a_lock_never_acquired_is_a_lock_error() -> None:
    lock = Lock(fresh())
    with pytest.raises(LockError):
        await lock.release()
    assert await lock.acquire()
    lock.release()  # without await also releases
    with pytest.raises(LockError):
        lock.release()


@pytest.mark.anyio
async def test_async_with_acquires_releases_and_raises_when_it_cannot() -> None:
    name = fresh()
    lock = Lock(name)
    async with lock as held:
        assert held is lock and lock.locked()
        with pytest.raises(LockError, match="could not acquire"):
            async with Lock(name, blocking=False):
                pass
    assert not lock.locked()


def test_locks_exclude_each_other_across_threads_and_loops() -> None:
    name = fresh()
    inside = 0
    most = 0
    guard = threading.Lock()

    async def critical() -> None:
        nonlocal inside, most
        for _ in range(20):
            async with Lock(name):
                with guard:
                    inside += 1
                    most = max(most, inside)
                await asyncio.sleep(0)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=asyncio.run, args=(critical(),)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert most == 1 and inside == 0


@pytest.mark.anyio
async def test_reacquiring_a_held_lock_without_limit_is_refused_not_hung() -> None:
    name = fresh()
    first = Lock(name)
    assert await first.acquire()
    with pytest.raises(shortly.DeadlockError):
        await Lock(name).acquire()  # the same task would wait for itself for ever
    await first.release()
