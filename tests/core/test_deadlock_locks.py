"""Lock ownership for the deadlock check: a lease handed off is somebody else's to release."""

from __future__ import annotations

import asyncio
import threading

import pytest

import shortly
from shortly import LocalBackend, Lock
from tests.helpers import eventually

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def backend() -> LocalBackend:
    return LocalBackend()


def test_a_handed_off_lease_lets_its_acquirer_wait_for_the_worker(backend: LocalBackend) -> None:
    lock = Lock("jobs", backend=backend)
    lease = lock.acquire()
    assert lease is not None

    def worker(held: shortly.Lease) -> None:
        eventually(lambda: lock.statistics().waiters == 1)  # the acquirer is waiting now
        held.release()

    threading.Thread(target=worker, args=(lease.hand_off(),)).start()
    mine = lock.acquire()  # the thread that acquired `lease`: it waits, it is not refused
    assert mine is not None and mine.token > lease.token
    lock.release()


def test_without_hand_off_the_acquirer_is_refused_and_told_how_to_hand_off(
    backend: LocalBackend,
) -> None:
    lock = Lock("mine", backend=backend)
    lease = lock.acquire()
    assert lease is not None
    with pytest.raises(shortly.DeadlockError, match=r"already holds.*lease\.hand_off\(\)"):
        lock.acquire()
    lease.release()


def test_hand_off_to_a_thread_keeps_the_cycle_check(backend: LocalBackend) -> None:
    lock = Lock("handed", backend=backend)
    lease = lock.acquire()
    assert lease is not None
    mine: shortly.Future[None] = shortly.Future(owner=threading.current_thread())

    def keep() -> None:
        mine.result(timeout=10)  # waits for the main thread before releasing
        held.release()

    keeper = threading.Thread(target=keep, name="keeper")
    held = lease.hand_off(to=keeper)
    assert held is lease
    keeper.start()
    eventually(lambda: mine._wait_list)  # the keeper is registered as waiting
    # Main waiting for the lock would close the cycle main -> keeper -> main.
    with pytest.raises(shortly.DeadlockError, match="cycle") as info:
        lock.acquire()
    assert "'keeper'" in str(info.value) and "'MainThread'" in str(info.value)
    mine.set_result(None)
    keeper.join(10)
    assert not lock.locked()


def test_hand_off_refuses_what_is_not_an_owner(backend: LocalBackend) -> None:
    lease = Lock("typed", backend=backend).acquire()
    assert lease is not None
    with pytest.raises(TypeError, match=r"^to must be"):
        lease.hand_off(to=3)  # type: ignore[arg-type]
    lease.release()


def test_a_task_that_handed_off_its_lease_waits_for_the_release(backend: LocalBackend) -> None:
    lock = Lock("async-jobs", backend=backend)

    async def main() -> int:
        lease = await lock.acquire_async()
        assert lease is not None
        loop = asyncio.get_running_loop()
        loop.call_later(0.02, lease.hand_off().release)
        again = await lock.acquire_async()  # the same task: waits, not refused
        assert again is not None
        again.release()
        return again.token - lease.token

    assert asyncio.run(main()) > 0


def test_many_handlers_hand_off_to_many_workers_without_a_refusal(backend: LocalBackend) -> None:
    lock = Lock("busy", backend=backend)
    n = 60
    order: list[int] = []
    workers: list[threading.Thread] = []
    refusals: list[BaseException] = []

    def handler(i: int) -> None:
        try:
            lease = lock.acquire()
        except shortly.DeadlockError as error:
            refusals.append(error)
            return
        assert lease is not None
        order.append(lease.token)
        worker = threading.Thread(target=lease.hand_off().release)
        workers.append(worker)
        worker.start()

    def twice(i: int) -> None:
        handler(i)
        handler(i)

    handlers = [threading.Thread(target=twice, args=(i,)) for i in range(n)]
    for t in handlers:
        t.start()
    for t in handlers:
        t.join(10)
    for w in list(workers):
        w.join(10)
    assert refusals == []
    assert len(order) == 2 * n and order == sorted(order)
    assert not lock.locked()
