"""Timers: later, sleep, with_timeout, wait_until, and the shared timer thread."""

from __future__ import annotations

import contextvars
import gc
import math
import threading
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

import shortly
from shortly import _timers
from shortly.testing import recording_unhandled

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


@pytest.fixture
def scheduler() -> Iterator[_timers.TimerThread]:
    """A private timer scheduler, so that timers of other tests cannot interfere."""
    sched = _timers.TimerThread()
    yield sched
    thread = sched._thread
    if thread is not None:
        thread.join(5)


def arm(sched: _timers.TimerThread, delay: float) -> _timers.Timer[None]:
    timer: _timers.Timer[None] = _timers.Timer(sched)
    sched.arm(timer, delay)
    return timer


class TestLater:
    def test_resolves_with_the_return_value(self) -> None:
        assert shortly.later(0.001, lambda a, b: a * b, 6, 7).result(timeout=5) == 42

    def test_without_fn_resolves_with_none(self) -> None:
        assert shortly.later(0).result(timeout=5) is None

    def test_fn_runs_on_the_timer_thread_in_the_callers_context(self) -> None:
        token = request_id.set("r-17")
        try:
            f = shortly.later(0, lambda: (threading.current_thread().name, request_id.get()))
        finally:
            request_id.reset(token)
        assert f.result(timeout=5) == ("shortly-timers", "r-17")

    def test_fn_that_raises_fails_the_future(self) -> None:
        f = shortly.later(0, int, "not a number")
        assert isinstance(f.exception(timeout=5), ValueError)

    def test_a_dropped_failed_timer_is_reported_without_the_gc(self) -> None:
        reported = threading.Event()
        seen: list[shortly.Unhandled] = []

        def handler(unhandled: shortly.Unhandled) -> None:
            seen.append(unhandled)
            reported.set()

        previous = shortly.set_unhandled_handler(handler)
        gc.disable()  # no reference cycle may hold the failed timer
        try:
            shortly.later(0, int, "x")
            assert reported.wait(5)
        finally:
            gc.enable()
            shortly.set_unhandled_handler(previous)
        assert isinstance(seen[0].error, ValueError)

    def test_fn_raising_cancelled_error_fails_the_future(self) -> None:
        def gives_up() -> None:
            raise shortly.CancelledError("inner")

        f = shortly.later(0, gives_up)
        assert isinstance(f.exception(timeout=5), shortly.CancelledError)

    def test_stop_iteration_arrives_wrapped(self) -> None:
        f = shortly.later(0, next, iter([]))
        error = f.exception(timeout=5)
        assert isinstance(error, RuntimeError)
        assert isinstance(error.__cause__, StopIteration)

    def test_cancel_before_firing_removes_it(self) -> None:
        ran: list[str] = []
        doomed = shortly.later(0.05, ran.append, "doomed")
        assert doomed.cancel() is True
        # Timers fire in deadline order: once this one has, the cancelled one would have.
        shortly.later(0.1).result(timeout=5)
        assert ran == []
        assert doomed.cancelled()

    def test_cancelling_its_last_dependant_disarms_it(self) -> None:
        timer = shortly.later(3600)
        assert timer.then(str).cancel()
        assert timer.cancelled()
        assert isinstance(timer, _timers.Timer) and timer._entry is None

    def test_cancel_after_firing_is_refused(self) -> None:
        f = shortly.later(0, lambda: "done")
        f.result(timeout=5)
        assert f.cancel() is False

    def test_fire_in_deadline_order_and_ties_in_arming_order(self) -> None:
        order: list[str] = []
        lock = threading.Lock()

        def record(name: str) -> None:
            with lock:
                order.append(name)

        fs = [shortly.later(0.03, record, "late"), shortly.later(0.01, record, "early")]
        fs += [shortly.later(0, record, f"now-{i}") for i in range(5)]
        for f in fs:
            f.result(timeout=5)
        assert order == [f"now-{i}" for i in range(5)] + ["early", "late"]

    @pytest.mark.parametrize("bad", [-1, -0.001, math.nan])
    def test_bad_delay_is_a_value_error(self, bad: float) -> None:
        with pytest.raises(ValueError, match="seconds must be a number of seconds >= 0"):
            shortly.later(bad)

    @pytest.mark.parametrize("huge", [math.inf, 1e300, 10**400])
    def test_huge_delay_is_clamped_not_an_overflow(self, huge: float) -> None:
        # One rule for every duration (shortly._checks): beyond TIMEOUT_MAX means never.
        timer = shortly.later(huge)
        assert not timer.done()
        assert timer.cancel()

    @pytest.mark.parametrize("bad", ["1", None, True, [1]])
    def test_non_number_delay_is_a_type_error(self, bad: Any) -> None:
        with pytest.raises(TypeError, match="seconds must be a number of seconds"):
            shortly.later(bad)

    def test_fn_must_be_callable(self) -> None:
        with pytest.raises(TypeError, match="fn must be callable or None, not int"):
            shortly.later(1, 5)  # type: ignore[call-overload]

    def test_arguments_without_fn_are_refused(self) -> None:
        with pytest.raises(TypeError, match="arguments for fn but no fn"):
            shortly.later(1, None, 2)  # type: ignore[call-overload]

    def test_blocking_on_a_timer_from_the_timer_thread_is_a_deadlock(self) -> None:
        f = shortly.later(0, lambda: shortly.sleep(0).result())
        assert isinstance(f.exception(timeout=5), shortly.DeadlockError)


class TestTheTimerThread:
    def test_started_on_demand_and_gone_when_none_is_left(
        self, scheduler: _timers.TimerThread
    ) -> None:
        assert scheduler.statistics() == _timers.TimerStatistics(0, 0, False)
        timer = arm(scheduler, 0.001)
        thread = scheduler._thread
        assert thread is not None and thread.name == "shortly-timers" and thread.daemon
        timer.result(timeout=5)
        thread.join(5)
        assert not thread.is_alive()
        assert scheduler.statistics() == _timers.TimerStatistics(0, 0, False)

    def test_many_timers_set_and_cancelled_leave_nothing(
        self, scheduler: _timers.TimerThread
    ) -> None:
        timers = [arm(scheduler, 3600) for _ in range(100_000)]
        assert scheduler.statistics().armed == 100_000
        thread = scheduler._thread
        assert thread is not None
        assert all(t.cancel() for t in timers)
        thread.join(5)
        assert not thread.is_alive()
        assert scheduler.statistics() == _timers.TimerStatistics(0, 0, False)
        assert scheduler._heap == []
        # A cancelled timer drops its action, so nothing it referred to stays alive.
        assert all(t._action is None and t._args is None and t._entry is None for t in timers)

    def test_dead_entries_never_outnumber_live_ones_for_long(
        self, scheduler: _timers.TimerThread
    ) -> None:
        keep = [arm(scheduler, 3600) for _ in range(100)]
        for t in [arm(scheduler, 3600) for _ in range(1000)]:
            t.cancel()
        assert scheduler.statistics().armed == 100
        assert len(scheduler._heap) <= 2 * 100 + _timers._COMPACT_MIN
        for t in keep:
            t.cancel()
        assert scheduler._heap == []

    @hypothesis.settings(max_examples=60, deadline=None)
    @hypothesis.given(
        st.lists(st.tuples(st.booleans(), st.integers(min_value=0, max_value=10_000)), max_size=400)
    )
    def test_bookkeeping_under_any_arm_and_cancel_sequence(
        self, operations: list[tuple[bool, int]]
    ) -> None:
        sched = _timers.TimerThread()
        live: list[_timers.Timer[None]] = []
        for arm_one, pick in operations:
            if arm_one or not live:
                live.append(arm(sched, 3600))
            else:
                assert live.pop(pick % len(live)).cancel()
            stats = sched.statistics()
            assert stats.armed == len(live)
            # Dead entries are swept before they outnumber live ones (past a minimum).
            assert len(sched._heap) <= 2 * len(live) + _timers._COMPACT_MIN
        thread = sched._thread
        for timer in live:
            timer.cancel()
        assert sched._heap == [] and sched.statistics().armed == 0
        if thread is not None:
            thread.join(5)
            assert not thread.is_alive()

    def test_settling_a_timer_by_hand_disarms_it(self, scheduler: _timers.TimerThread) -> None:
        timer = arm(scheduler, 3600)
        timer.set_result(None)
        assert scheduler.statistics().armed == 0

    def test_a_timer_belongs_to_its_scheduler(self, scheduler: _timers.TimerThread) -> None:
        with pytest.raises(ValueError, match="scheduler it was made for"):
            scheduler.arm(_timers.Timer(), 1)

    def test_a_callback_raising_system_exit_does_not_kill_the_thread(self) -> None:
        with recording_unhandled() as seen:
            first = shortly.later(0)
            first.add_done_callback(lambda _: (_ for _ in ()).throw(SystemExit(3)))
            first.result(timeout=5)
            still = shortly.later(0.001, lambda: "still ticking")
            assert still.result(timeout=5) == "still ticking"
        assert [type(u.error) for u in seen] == [SystemExit]

    def test_timers_from_many_threads(self) -> None:
        results: list[shortly.Future[int]] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def arm(n: int) -> None:
            barrier.wait()
            mine = [shortly.later(0.001 * (i % 3), lambda x=n * 100 + i: x) for i in range(100)]
            doomed = [shortly.later(60) for _ in range(100)]
            for t in doomed:
                t.cancel()
            with lock:
                results.extend(mine)

        threads = [threading.Thread(target=arm, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(f.result(timeout=5) for f in results) == sorted(
            n * 100 + i for n in range(8) for i in range(100)
        )


class TestSleep:
    def test_resolves_with_none(self) -> None:
        assert shortly.sleep(0.001).result(timeout=5) is None

    def test_bad_seconds(self) -> None:
        with pytest.raises(ValueError):
            shortly.sleep(-1)
        with pytest.raises(TypeError):
            shortly.sleep("soon")  # type: ignore[arg-type]

    @pytest.mark.anyio
    async def test_awaitable(self, anyio_backend: str) -> None:
        assert await shortly.sleep(0.001) is None


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestWithTimeout:
    def test_times_out_and_leaves_the_future_alone(self) -> None:
        slow: shortly.Future[int] = shortly.Future()
        error = slow.with_timeout(0.001).exception(timeout=5)
        assert isinstance(error, shortly.TimeoutError)
        assert isinstance(error, TimeoutError)
        assert not slow.done()
        slow.set_result(1)

    def test_cancels_the_future_when_asked(self) -> None:
        slow: shortly.Future[int] = shortly.Future()
        out = slow.with_timeout(0.001, cancel=True)
        with pytest.raises(shortly.TimeoutError):
            out.result(timeout=5)
        assert slow.cancelled()

    def test_passes_the_outcome_through_and_disarms(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        out = f.with_timeout(3600)
        assert isinstance(out, _timers.Timer) and out._entry is not None
        f.set_result("in time")
        assert out.result(timeout=5) == "in time"
        assert out._entry is None

    def test_failure_passes_through_and_is_owned_by_the_result(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        out = f.with_timeout(3600)
        f.set_exception(KeyError("k"))
        assert isinstance(out.exception(timeout=5), KeyError)
        # f's failure went to `out`, which was observed: nothing is reported for f.

    def test_already_done_sets_no_timer(self) -> None:
        out = shortly.Future.resolved(3).with_timeout(3600)
        assert out.result() == 3
        assert isinstance(out, _timers.Timer) and out._entry is None

    def test_cancelling_the_result_cancels_an_unwanted_future(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        out = f.with_timeout(3600)
        assert out.cancel("no longer needed")
        assert f.cancelled()
        assert isinstance(out, _timers.Timer) and out._entry is None

    def test_cancelling_the_result_spares_a_future_others_want(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        other = f.then(lambda x: x + 1)
        out = f.with_timeout(3600)
        assert out.cancel()
        assert not f.cancelled()
        f.set_result(1)
        assert other.result(timeout=5) == 2

    def test_cancelled_future_cancels_the_result(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        out = f.with_timeout(3600)
        f.cancel("gone")
        with pytest.raises(shortly.CancelledError, match="gone"):
            out.result(timeout=5)

    def test_bad_arguments(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        with pytest.raises(ValueError):
            f.with_timeout(-1)
        with pytest.raises(TypeError, match="seconds must be a number"):
            f.with_timeout("1")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="cancel must be a bool"):
            f.with_timeout(1, cancel="yes")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"future must be a shortly\.Future"):
            _timers.with_timeout(object(), 1)  # type: ignore[arg-type]


class TestWaitUntil:
    def test_resolves_with_the_first_truthy_value_on_the_timer_thread(self) -> None:
        calls: list[str] = []

        def ready() -> str | None:
            calls.append(threading.current_thread().name)
            return "ready" if len(calls) == 3 else None

        assert shortly.wait_until(ready, interval=0.001).result(timeout=5) == "ready"
        assert calls == ["shortly-timers"] * 3

    def test_times_out(self) -> None:
        f = shortly.wait_until(lambda: 0, timeout=0.01, interval=0.002)
        assert isinstance(f.exception(timeout=5), shortly.TimeoutError)

    def test_zero_timeout_polls_once(self) -> None:
        assert shortly.wait_until(lambda: 5, timeout=0).result(timeout=5) == 5

    def test_predicate_error_fails_it(self) -> None:
        f = shortly.wait_until(lambda: 1 / 0, interval=0.001)
        assert isinstance(f.exception(timeout=5), ZeroDivisionError)

    def test_cancel_stops_polling(self) -> None:
        count = 0
        box: list[shortly.Future[Any]] = []
        started = threading.Event()

        def poll() -> bool:
            nonlocal count
            started.wait(5)
            count += 1
            if count == 3:
                box[0].cancel()
            return False

        box.append(shortly.wait_until(poll, interval=0.001))
        started.set()
        with pytest.raises(shortly.CancelledError):
            box[0].result(timeout=5)
        # A timer armed now fires after any poll that could still be due.
        shortly.later(0.01).result(timeout=5)
        assert count == 3
        assert isinstance(box[0], _timers.Timer) and box[0]._entry is None

    def test_runs_in_the_callers_context(self) -> None:
        token = request_id.set("r-9")
        try:
            f = shortly.wait_until(request_id.get)
        finally:
            request_id.reset(token)
        assert f.result(timeout=5) == "r-9"

    def test_bad_arguments(self) -> None:
        with pytest.raises(TypeError, match="predicate must be callable"):
            shortly.wait_until(3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="interval must be > 0"):
            shortly.wait_until(bool, interval=0)
        with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0"):
            shortly.wait_until(bool, timeout=-1)


async def _async_ping() -> str:
    return "pong"


@pytest.mark.filterwarnings("error")
class TestCoroutineFunctions:
    """Issue 11 item 4: later() refuses async functions and never yields a coroutine."""

    def test_later_refuses_an_async_function_at_the_call(self) -> None:
        with pytest.raises(TypeError, match=r"_async_ping is an async function.*shortly\.spawn"):
            shortly.later(0, _async_ping)

    def test_a_returned_coroutine_is_closed_and_fails_the_timer(self) -> None:
        timer = shortly.later(0, lambda: _async_ping())
        error = timer.exception(timeout=5)
        assert isinstance(error, TypeError) and "returned a coroutine" in str(error)
        gc.collect()  # an unclosed coroutine would warn here, an error under this mark


BAD = [math.nan, -1]
HUGE = [
    pytest.param(x, id=name)
    for x, name in [(math.inf, "inf"), (1e300, "1e300"), (10**400, "10**400")]
]


class TestBadNumbers:
    """Issue 11 item 5: every duration goes through shortly._checks."""

    @pytest.mark.parametrize("huge", HUGE)
    def test_sleep_clamps(self, huge: float) -> None:
        timer = shortly.sleep(huge)
        assert not timer.done() and timer.cancel()

    @pytest.mark.parametrize("bad", BAD)
    def test_sleep_refuses(self, bad: float) -> None:
        with pytest.raises(ValueError, match="seconds must be a number of seconds >= 0"):
            shortly.sleep(bad)

    @pytest.mark.parametrize("huge", HUGE)
    def test_with_timeout_clamps(self, huge: float) -> None:
        source: shortly.Future[int] = shortly.Future()
        guarded = source.with_timeout(huge, cancel=True)
        source.set_result(1)
        assert guarded.result(timeout=5) == 1

    @pytest.mark.parametrize("bad", BAD)
    def test_with_timeout_refuses(self, bad: float) -> None:
        with pytest.raises(ValueError, match="seconds must be a number of seconds >= 0"):
            shortly.Future().with_timeout(bad)

    @pytest.mark.parametrize("huge", HUGE)
    def test_wait_until_clamps_timeout_and_interval(self, huge: float) -> None:
        calls: list[int] = []

        def second_call_true() -> bool:
            calls.append(1)
            return len(calls) >= 2

        # A huge interval: polled at once, and then only "never" (we cancel).
        polled = shortly.wait_until(second_call_true, timeout=huge, interval=huge)
        shortly.wait_until(lambda: calls, timeout=5, interval=0.001).result()
        assert not polled.done() and polled.cancel()
        assert calls == [1]
        assert shortly.wait_until(lambda: True, timeout=huge).result(timeout=5) is True

    @pytest.mark.parametrize("bad", BAD)
    def test_wait_until_refuses(self, bad: float) -> None:
        with pytest.raises(ValueError, match="timeout must be a number of seconds >= 0"):
            shortly.wait_until(lambda: True, timeout=bad)
        with pytest.raises(ValueError, match="interval must be a number of seconds >= 0"):
            shortly.wait_until(lambda: True, interval=bad)


def test_with_timeout_cancel_has_cancelled_the_source_when_the_timeout_is_seen() -> None:
    # Whoever sees the TimeoutError finds the source cancelled (it was a race before).
    for _ in range(300):
        slow: shortly.Future[int] = shortly.Future()
        error = slow.with_timeout(0, cancel=True).exception(timeout=5)
        assert isinstance(error, TimeoutError)
        assert slow.cancelled()
