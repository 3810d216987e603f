"""Lock, Lease and LocalBackend: ownership, leases, fencing tokens, FIFO, deadlocks."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import shortly
from shortly import Lease, LocalBackend, Lock, LockError, LockTimeout
from tests.helpers import eventually

pytestmark = [pytest.mark.timeout(30), pytest.mark.usefixtures("no_unhandled_failures")]


@pytest.fixture
def backend() -> Iterator[LocalBackend]:
    """A backend of the test's own; it must hold no name once the test is over."""
    backend = LocalBackend()
    yield backend
    assert backend._names == {}, "a name stayed in use after the test"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def in_thread(fn: Callable[[], Any]) -> shortly.Future[Any]:
    """Run ``fn`` in a new thread; its outcome in a future."""
    future: shortly.Future[Any] = shortly.Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return future


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"name": ""}, ValueError, "name"),
        ({"name": 3}, TypeError, "name must be a non-empty str, not int"),
        ({"name": None}, TypeError, "name"),
        ({"name": "x", "lease": -1}, ValueError, "lease"),
        ({"name": "x", "lease": 0}, ValueError, "lease"),
        ({"name": "x", "lease": math.nan}, ValueError, "lease"),
        ({"name": "x", "lease": "5"}, TypeError, "lease must be a positive number"),
        ({"name": "x", "lease": True}, TypeError, "lease"),
        ({"name": "x", "blocking": -0.5}, ValueError, "blocking"),
        ({"name": "x", "blocking": math.nan}, ValueError, "blocking"),
        ({"name": "x", "blocking": "yes"}, TypeError, "blocking"),
        ({"name": "x", "backend": object()}, TypeError, "backend must be a LockBackend"),
    ],
)
def test_bad_arguments_are_refused_at_construction(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        Lock(**kwargs)


def test_bad_arguments_to_acquire_release_and_extend(backend: LocalBackend) -> None:
    lock = Lock("bad", backend=backend)
    with pytest.raises(ValueError, match="blocking"):
        lock.acquire(blocking=-1)
    with pytest.raises(TypeError, match="lease must be a Lease or None, not str"):
        lock.release("lease")  # type: ignore[arg-type]
    lease = lock.acquire()
    assert lease is not None
    with pytest.raises(ValueError, match="seconds"):
        lease.extend(-1)
    with pytest.raises(TypeError, match="seconds"):
        lease.extend(None)  # type: ignore[arg-type]
    assert lease.live()
    lease.release()


@pytest.mark.parametrize("huge", [float("inf"), 1e300, 10**400], ids=["inf", "1e300", "10**400"])
def test_extend_by_a_huge_number_is_clamped(backend: LocalBackend, huge: float) -> None:
    # Issue 11: inf raised a bare AssertionError, 10**400 an OverflowError.
    lease = Lock("huge", backend=backend, lease=1).acquire()
    lease.extend(huge)
    assert lease.live() and lease.expires_at is not None
    assert lease.expires_at >= time.monotonic() + threading.TIMEOUT_MAX - 60
    lease.release()


@pytest.mark.parametrize("bad", [float("nan"), -1, 0])
def test_extend_by_nan_or_not_positive_is_a_value_error(backend: LocalBackend, bad: float) -> None:
    lease = Lock("bad-extend", backend=backend, lease=1).acquire()
    with pytest.raises(ValueError, match="seconds must be a positive number of seconds"):
        lease.extend(bad)
    assert lease.live()
    lease.release()


def test_infinite_lease_and_blocking_mean_never(backend: LocalBackend) -> None:
    lock = Lock("inf", lease=math.inf, blocking=math.inf, backend=backend)
    with lock as lease:
        assert lease.expires_at is None


# -- one name, one lock ---------------------------------------------------------------


def test_same_name_same_backend_is_the_same_lock(backend: LocalBackend) -> None:
    first = Lock("shared", backend=backend)
    second = Lock("shared", backend=backend)
    other_name = Lock("other", backend=backend)
    other_backend = Lock("shared", backend=LocalBackend())
    with first:
        assert second.locked()
        assert second.acquire(blocking=False) is None
        assert not other_name.locked()
        assert not other_backend.locked()


def test_default_backend_is_shared_by_plain_locks() -> None:
    with Lock("test_lock-default"):
        assert Lock("test_lock-default").locked()
    assert not Lock("test_lock-default").locked()


def test_fencing_tokens_grow_with_every_acquisition(backend: LocalBackend) -> None:
    lock = Lock("tokens", backend=backend)
    tokens = []
    for _ in range(5):
        with lock as lease:
            tokens.append(lease.token)
    with Lock("another-name", backend=backend) as lease:
        tokens.append(lease.token)
    assert tokens == sorted(set(tokens))


def test_try_once_and_timed_acquire_give_none_when_held(backend: LocalBackend) -> None:
    holder = Lock("busy", backend=backend).acquire()
    assert holder is not None
    lock = Lock("busy", backend=backend)
    assert lock.acquire(blocking=False) is None
    assert lock.acquire(blocking=0) is None
    started = time.monotonic()
    assert lock.acquire(blocking=0.05) is None
    assert time.monotonic() - started < 5
    assert lock.statistics() == shortly.LockStatistics(True, holder.token, 0)
    holder.release()


def test_with_raises_lock_timeout_when_not_had_in_time(backend: LocalBackend) -> None:
    holder = Lock("timeout", backend=backend).acquire()
    assert holder is not None
    for blocking in (False, 0.02):
        with (
            pytest.raises(LockTimeout) as caught,
            Lock("timeout", blocking=blocking, backend=backend),
        ):
            pytest.fail("entered a held lock")
        assert isinstance(caught.value, shortly.TimeoutError)
        assert isinstance(caught.value, TimeoutError)
        assert isinstance(caught.value, LockError)
    holder.release()


def test_statistics_name_holder_token_and_waiters(backend: LocalBackend) -> None:
    lock = Lock("stats", backend=backend)
    assert lock.statistics() == shortly.LockStatistics(False, None, 0)
    lease = lock.acquire()
    assert lease is not None
    waiting = in_thread(lambda: Lock("stats", backend=backend).acquire(blocking=10))
    eventually(lambda: lock.statistics().waiters == 1)
    assert lock.statistics() == shortly.LockStatistics(True, lease.token, 1)
    lease.release()
    successor = waiting.result(timeout=10)
    assert lock.statistics() == shortly.LockStatistics(True, successor.token, 0)
    successor.release()


# -- ownership is per acquisition --------------------------------------------------------


def test_the_lease_holder_may_release_from_another_thread(backend: LocalBackend) -> None:
    lock = Lock("handover", backend=backend)
    lease = lock.acquire()
    assert lease is not None
    in_thread(lambda: lock.release(lease)).result(timeout=10)
    assert not lock.locked()
    lease = lock.acquire()
    assert lease is not None
    in_thread(lease.release).result(timeout=10)
    assert not lock.locked()


def test_release_by_a_non_holder_raises_and_changes_nothing(backend: LocalBackend) -> None:
    lock = Lock("owned", backend=backend)
    lease = lock.acquire()
    assert lease is not None
    # Another thread, even through the same handle, acquired nothing.
    error = in_thread(lock.release).exception(timeout=10)
    assert isinstance(error, LockError)
    assert "pass the Lease" in str(error)
    # Another handle of the same lock acquired nothing either.
    with pytest.raises(LockError):
        Lock("owned", backend=backend).release()
    assert lock.statistics().holder_token == lease.token
    lock.release()


def test_release_of_an_unlocked_lock_raises(backend: LocalBackend) -> None:
    with pytest.raises(LockError, match="not locked"):
        Lock("never", backend=backend).release()


def test_a_second_release_raises_and_leaves_the_next_holder_alone(backend: LocalBackend) -> None:
    lock = Lock("twice", backend=backend)
    first = lock.acquire()
    assert first is not None
    first.release()
    second = lock.acquire()
    assert second is not None
    with pytest.raises(LockError, match="already released"):
        first.release()
    with pytest.raises(LockError, match="already released"):
        lock.release(first)
    with pytest.raises(LockError, match="already released"):
        first.extend(10)
    assert lock.statistics().holder_token == second.token
    lock.release()
    with pytest.raises(LockError):
        lock.release()


def test_a_lease_of_another_lock_is_refused(backend: LocalBackend) -> None:
    lease = Lock("mine", backend=backend).acquire()
    assert lease is not None
    with pytest.raises(LockError, match="another lock"):
        Lock("yours", backend=backend).release(lease)
    with pytest.raises(LockError, match="another backend"):
        LocalBackend().release(lease)
    assert Lock("mine", backend=backend).locked()
    lease.release()


def test_release_inside_with_makes_the_exit_raise(backend: LocalBackend) -> None:
    lock = Lock("inside", backend=backend)
    with pytest.raises(LockError, match="released inside its with block"), lock:
        lock.release()
    assert not lock.locked()


def test_handles_shared_by_threads_release_their_own_acquisition(backend: LocalBackend) -> None:
    """A's lease runs out inside `with`; B enters through the same handle; A's exit must
    not release B's hold."""
    lock = Lock("shared-handle", lease=0.05, backend=backend)
    entered, leave = threading.Event(), threading.Event()
    b_inside, b_leave = threading.Event(), threading.Event()

    def a() -> None:
        with lock:
            entered.set()
            assert leave.wait(10)

    def b() -> int:
        with lock as lease:
            b_inside.set()
            assert b_leave.wait(10)
            return lease.token

    a_done = in_thread(a)
    assert entered.wait(10)
    b_done = in_thread(b)
    assert b_inside.wait(10)  # A's lease ran out, so B got in
    b_token = lock.statistics().holder_token
    leave.set()
    assert isinstance(a_done.exception(timeout=10), LockError)
    assert lock.statistics().holder_token == b_token
    b_leave.set()
    assert b_done.result(timeout=10) == b_token


# -- leases ---------------------------------------------------------------------------------


def test_a_holder_that_stops_renewing_loses_the_lock(backend: LocalBackend) -> None:
    lock = Lock("lapse", lease=0.05, backend=backend)
    stalled = lock.acquire()
    assert stalled is not None and stalled.expires_at is not None
    successor = Lock("lapse", backend=backend).acquire(blocking=10)
    assert successor is not None
    assert successor.token > stalled.token
    assert not stalled.live()
    with pytest.raises(LockError, match="ran out"):
        stalled.release()
    with pytest.raises(LockError, match="ran out"):
        stalled.extend(10)
    assert lock.statistics().holder_token == successor.token
    successor.release()


def test_an_expired_lease_frees_the_lock_for_nobody_waiting(backend: LocalBackend) -> None:
    lease = Lock("alone", lease=0.01, backend=backend).acquire()
    assert lease is not None
    eventually(lambda: not backend._names)  # the timer, not a caller, ended it
    assert "ran out" in repr(lease) or "expired" in repr(lease)
    with pytest.raises(LockError, match="ran out"):
        lease.release()


def test_extend_keeps_the_lock(backend: LocalBackend) -> None:
    lease = Lock("renewed", lease=1.0, backend=backend).acquire()
    assert lease is not None
    lease.extend(60)
    assert lease.expires_at is not None and lease.expires_at > time.monotonic() + 30
    assert Lock("renewed", backend=backend).acquire(blocking=1.2) is None
    lease.release()


def test_extend_can_shorten_the_lease(backend: LocalBackend) -> None:
    lease = Lock("shortened", lease=60, backend=backend).acquire()
    assert lease is not None
    lease.extend(0.01)
    successor = Lock("shortened", backend=backend).acquire(blocking=10)
    assert successor is not None
    successor.release()


# -- waiting: FIFO, no polling, withdrawal --------------------------------------------------


def test_waiters_get_the_lock_in_fifo_order(backend: LocalBackend) -> None:
    lock = Lock("queue", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    order: list[int] = []
    done = []
    for i in range(6):

        def take(i: int = i) -> None:
            with lock:
                order.append(i)

        done.append(in_thread(take))
        eventually(lambda i=i: lock.statistics().waiters == i + 1)
    holder.release()
    for future in done:
        future.result(timeout=10)
    assert order == list(range(6))


def test_expiry_hands_over_to_the_first_waiter(backend: LocalBackend) -> None:
    lock = Lock("expiry-fifo", lease=0.05, backend=backend)
    holder = lock.acquire()
    assert holder is not None
    first = in_thread(lambda: Lock("expiry-fifo", backend=backend).acquire(blocking=10))
    eventually(lambda: lock.statistics().waiters == 1)
    lease = first.result(timeout=10)
    assert lease.token > holder.token
    lease.release()


def test_a_timed_out_waiter_leaves_the_queue(backend: LocalBackend) -> None:
    lock = Lock("withdraw", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    assert lock.acquire(blocking=0.01) is None
    assert lock.statistics().waiters == 0
    holder.release()
    assert not lock.locked()


class GivesUpAtHandOff(shortly.Future[Lease]):
    """A waiter cancelled in the instant between being chosen and being handed its lease."""

    def try_set_result(self, result: Lease) -> bool:
        self.cancel()
        return super().try_set_result(result)


def test_a_waiter_cancelled_at_hand_off_passes_the_lock_on(backend: LocalBackend) -> None:
    me = threading.current_thread()
    holder = backend.try_acquire("race", None, thread=me, task=None)
    assert holder is not None
    gone = GivesUpAtHandOff()
    kept: shortly.Future[Lease] = shortly.Future()
    backend.enqueue("race", None, gone, thread=me, task=None)
    backend.enqueue("race", None, kept, thread=me, task=None)
    holder.release()
    assert gone.cancelled()
    lease = kept.result(timeout=10)
    assert lease.token > holder.token + 1  # the abandoned hand-off used one token
    lease.release()


def test_names_are_kept_only_while_in_use(backend: LocalBackend) -> None:
    for i in range(500):
        lock = Lock(f"name-{i}", lease=None if i % 2 else 5, backend=backend)
        with lock:
            assert lock.acquire(blocking=0.0) is None
    lease = Lock("lapsing", lease=0.01, backend=backend).acquire()
    assert lease is not None
    eventually(lambda: not backend._names)


# -- deadlocks ------------------------------------------------------------------------------


def test_reacquiring_without_a_timeout_raises_deadlock_error(backend: LocalBackend) -> None:
    lock = Lock("self", backend=backend)
    with lock:
        with pytest.raises(shortly.DeadlockError, match="already holds"):
            lock.acquire()
        with pytest.raises(shortly.DeadlockError):
            Lock("self", backend=backend).acquire(blocking=True)
        assert lock.acquire(blocking=0.01) is None
        assert lock.acquire(blocking=False) is None
        assert lock.statistics().waiters == 0


def test_a_cycle_of_lock_waits_raises_deadlock_error(backend: LocalBackend) -> None:
    first, second = Lock("first", backend=backend), Lock("second", backend=backend)
    holds_second, may_wait = threading.Event(), threading.Event()

    def other() -> int:
        with second:
            holds_second.set()
            assert may_wait.wait(10)
            lease = first.acquire()  # waits for the main thread to release `first`
            assert lease is not None
            lease.release()
            return lease.token

    with first:
        result = in_thread(other)
        assert holds_second.wait(10)
        may_wait.set()
        eventually(lambda: first.statistics().waiters == 1)
        with pytest.raises(shortly.DeadlockError, match="cycle"):
            second.acquire()
    assert result.result(timeout=10) > 0


# -- a model of one lock ----------------------------------------------------------------------


class LockModel(RuleBasedStateMachine):
    """Random try-acquires, releases and extends on one lock against a plain model."""

    def __init__(self) -> None:
        super().__init__()
        self.backend = LocalBackend()
        self.locks = [Lock("model", backend=self.backend) for _ in range(3)]
        self.leases: list[Lease] = []
        self.holder: Lease | None = None
        self.last_token = 0

    @rule(i=st.integers(0, 2))
    def try_acquire(self, i: int) -> None:
        lease = self.locks[i].acquire(blocking=False)
        assert (lease is None) == (self.holder is not None)
        if lease is not None:
            assert lease.token > self.last_token
            self.last_token = lease.token
            self.holder = lease
            self.leases.append(lease)

    @precondition(lambda self: self.leases)
    @rule(data=st.data(), extend=st.booleans())
    def use_a_lease(self, data: st.DataObject, extend: bool) -> None:
        lease = data.draw(st.sampled_from(self.leases))
        if lease is not self.holder:
            with pytest.raises(LockError):
                lease.extend(60) if extend else lease.release()
        elif extend:
            lease.extend(60)
        else:
            lease.release()
            self.holder = None

    @invariant()
    def statistics_match(self) -> None:
        stats = self.locks[0].statistics()
        assert stats.locked == (self.holder is not None)
        assert stats.holder_token == (self.holder.token if self.holder else None)
        assert (self.backend._names != {}) == (self.holder is not None)

    def teardown(self) -> None:
        if self.holder is not None:
            self.holder.release()


LockModel.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_lock_model = LockModel.TestCase


# -- asyncio and trio ---------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_with_acquires_and_releases(backend: LocalBackend) -> None:
    lock = Lock("async", backend=backend)
    async with lock as lease:
        assert lock.statistics().holder_token == lease.token
    assert not lock.locked()
    lease2 = await lock.acquire_async()
    assert lease2 is not None and lease2.token > lease.token
    lock.release()


@pytest.mark.anyio
async def test_async_waiters_are_served_in_order(backend: LocalBackend) -> None:
    lock = Lock("async-fifo", backend=backend)
    order: list[int] = []
    holder = await lock.acquire_async()
    assert holder is not None

    async def take(i: int) -> None:
        async with lock:
            order.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(take, i)
            while lock.statistics().waiters != i + 1:
                await anyio.sleep(0)
        holder.release()
    assert order == list(range(5))


@pytest.mark.anyio
async def test_async_with_raises_lock_timeout(backend: LocalBackend) -> None:
    holder = Lock("async-timeout", backend=backend).acquire()
    assert holder is not None
    with pytest.raises(LockTimeout):
        async with Lock("async-timeout", blocking=0.02, backend=backend):
            pytest.fail("entered a held lock")
    assert await Lock("async-timeout", backend=backend).acquire_async(blocking=False) is None
    assert Lock("async-timeout", backend=backend).statistics().waiters == 0
    holder.release()


@pytest.mark.anyio
async def test_a_thread_release_wakes_an_async_waiter(backend: LocalBackend) -> None:
    lock = Lock("thread-to-task", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    threading.Thread(
        target=lambda: (eventually(lambda: lock.statistics().waiters == 1), holder.release())
    ).start()
    async with lock as lease:
        assert lease.token > holder.token


@pytest.mark.anyio
async def test_cancelling_an_async_waiter_withdraws_it(backend: LocalBackend) -> None:
    lock = Lock("async-cancel", backend=backend)
    holder = lock.acquire()
    assert holder is not None
    with anyio.move_on_after(0.02):
        async with lock:
            pytest.fail("entered a held lock")
    assert lock.statistics().waiters == 0
    holder.release()
    async with lock:
        assert lock.locked()


@pytest.mark.anyio
async def test_async_reacquire_by_the_holding_task_raises_deadlock_error(
    backend: LocalBackend,
) -> None:
    lock = Lock("async-self", backend=backend)
    async with lock:
        with pytest.raises(shortly.DeadlockError, match="already holds"):
            await lock.acquire_async()
        assert await lock.acquire_async(blocking=0.01) is None
