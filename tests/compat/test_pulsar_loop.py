"""shortly.compat.pulsar: ``async_while`` runs its clause on the event loop with pulsar's
back-off (``interval = min(interval + 0.1, MAX_ASYNC_WHILE)``, MAX_ASYNC_WHILE = 1, the
timeout checked after each pause), and ``Lock`` is an ``AsyncObject`` whose ``_loop`` is
the given loop or the running one (pulsar's ``LockBase.__init__``)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from typing import Any

import pytest

from shortly.compat.pulsar import AsyncObject, Lock, LockBase, async_while
from shortly.compat.pulsar._async import _while

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(round(seconds, 6))
        self.now += seconds

    def clock(self) -> float:
        return self.now


def test_pauses_grow_by_a_tenth_up_to_one_second() -> None:
    fake = FakeTime()
    checks = itertools.count(13, -1)
    result = asyncio.run(_while(None, lambda: next(checks), (), fake.sleep, fake.clock))
    assert result == 0
    assert fake.pauses == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.0, 1.0, 1.0]


def test_timeout_is_checked_after_each_pause_and_keeps_the_last_value() -> None:
    fake = FakeTime()
    values = itertools.count(1)
    result = asyncio.run(_while(1.0, lambda: next(values), (), fake.sleep, fake.clock))
    # pauses 0.1 + 0.2 + 0.3 = 0.6, + 0.4 = 1.0 >= 1.0: stop without a fifth check
    assert fake.pauses == [0.1, 0.2, 0.3, 0.4]
    assert result == 4


def test_a_false_clause_never_sleeps() -> None:
    fake = FakeTime()
    assert asyncio.run(_while(5, lambda: "", (), fake.sleep, fake.clock)) == ""
    assert fake.pauses == []


def test_on_a_loop_the_clause_runs_on_the_loop_thread_and_a_task_comes_back() -> None:
    threads: set[threading.Thread] = set()
    countdown = itertools.count(2, -1)

    def clause(step: int) -> int:
        threads.add(threading.current_thread())
        return max(next(countdown) * step, 0)

    async def main() -> tuple[Any, Any]:
        waiting = async_while(5, clause, 1)
        return waiting, await waiting

    waiting, result = asyncio.run(main())
    assert isinstance(waiting, asyncio.Task)
    assert result == 0
    assert threads == {threading.current_thread()}


def test_a_clause_that_is_not_thread_safe_is_safe_on_the_loop() -> None:
    # asyncio.Queue is not thread-safe: reading it from the timer thread would race.
    async def main() -> int:
        queue: asyncio.Queue[int] = asyncio.Queue()

        async def feed() -> None:
            for n in range(3):
                await asyncio.sleep(0.01)
                queue.put_nowait(n)

        feeder = asyncio.get_running_loop().create_task(feed())
        await async_while(5, lambda: queue.qsize() < 3)
        await feeder
        return queue.qsize()

    assert asyncio.run(main()) == 3


def test_the_clause_exception_fails_the_task() -> None:
    async def main() -> None:
        await async_while(5, lambda: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        asyncio.run(main())


def test_without_a_loop_a_shortly_future_comes_back() -> None:
    values = iter([3, 2, 0])
    assert async_while(5, lambda: next(values)).result(timeout=5) == 0
    with pytest.raises(ValueError, match="timeout"):
        async_while(-1, lambda: False)


def test_lock_is_an_async_object_of_the_running_loop() -> None:
    async def main() -> tuple[Any, Any]:
        return Lock("pulsar-loop-running")._loop, asyncio.get_running_loop()

    lock_loop, running = asyncio.run(main())
    assert lock_loop is running
    assert issubclass(LockBase, AsyncObject) and issubclass(Lock, AsyncObject)


def test_lock_honours_the_given_loop_and_its_logger() -> None:
    loop = asyncio.new_event_loop()
    try:
        loop.logger = logging.getLogger("pulsar-test-loop")  # type: ignore[attr-defined]
        lock = Lock("pulsar-loop-given", loop=loop)
        assert lock._loop is loop
        assert lock.logger.name == "pulsar-test-loop"
        loop.set_debug(True)
        assert lock.debug is True
    finally:
        loop.close()


def test_lock_created_outside_a_loop_has_no_loop_and_still_works() -> None:
    lock = Lock("pulsar-loop-none")
    assert lock._loop is None

    async def main() -> bool:
        got = await lock.acquire()
        await lock.release()
        return got

    assert asyncio.run(main()) is True
