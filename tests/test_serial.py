"""SerialExecutor (ActionQueue): order, outcomes, its worker thread, shutdown, idling."""

from __future__ import annotations

import concurrent.futures
import contextvars
import gc
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import shortly
from shortly import _serial
from tests.helpers import blocker, when_waited_on, worker_thread

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]

user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="nobody")


class TestOrderAndOutcomes:
    def test_put_passes_keyword_arguments_as_submit_does(
        self, queue: shortly.SerialExecutor
    ) -> None:
        seen: list[tuple[int, int]] = []
        queue.put(lambda a, b=0: seen.append((a, b)), 1, b=2)
        queue.put(lambda a, b=0: seen.append((a, b)), 3, name="labelled", b=4)
        queue.shutdown()
        assert seen == [(1, 2), (3, 4)]

    def test_actions_run_in_order(self, queue: shortly.SerialExecutor) -> None:
        seen: list[int] = []
        for i in range(1000):
            queue.put(seen.append, i)
        queue.shutdown()
        assert seen == list(range(1000))

    def test_submit_returns_a_shortly_future(self, queue: shortly.SerialExecutor) -> None:
        f = queue.submit(lambda a, b=0: a + b, 40, b=2)
        assert isinstance(f, shortly.Future)
        assert f.result(timeout=5) == 42
        assert f.owner is queue

    def test_put_and_submit_share_one_order(self, queue: shortly.SerialExecutor) -> None:
        seen: list[str] = []
        queue.put(seen.append, "put 1")
        f = queue.submit(seen.append, "submit")
        queue.put(seen.append, "put 2")
        f.result(timeout=5)
        queue.shutdown()
        assert seen == ["put 1", "submit", "put 2"]

    def test_one_action_at_a_time(self, queue: shortly.SerialExecutor) -> None:
        active = 0
        overlaps = 0
        lock = threading.Lock()

        def action() -> None:
            nonlocal active, overlaps
            with lock:
                active += 1
                overlaps += active > 1
            time.sleep(0)
            with lock:
                active -= 1

        threads = [
            threading.Thread(target=lambda: [queue.put(action) for _ in range(200)])
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        queue.shutdown()
        assert overlaps == 0

    def test_failing_put_is_reported_and_the_queue_goes_on(
        self, queue: shortly.SerialExecutor, reports: list[shortly.Unhandled]
    ) -> None:
        def boom() -> None:
            raise KeyError("lost")

        queue.put(boom)
        assert queue.submit(lambda: "next").result(timeout=5) == "next"
        assert len(reports) == 1
        assert isinstance(reports[0].error, KeyError)
        assert "test-queue" in reports[0].context
        assert "boom" in (reports[0].source or "")

    def test_a_dropped_failed_future_is_reported_without_the_gc(
        self, queue: shortly.SerialExecutor, reports: list[shortly.Unhandled]
    ) -> None:
        gc.disable()  # no reference cycle may hold the failed future
        try:
            queue.submit(int, "x")
            queue.shutdown()  # the worker lets go of it
            shortly.flush_reports()  # dropped inside shortly code: the reporter delivers
        finally:
            gc.enable()
        assert [type(u.error) for u in reports] == [ValueError]

    def test_even_system_exit_does_not_stop_the_queue(
        self, queue: shortly.SerialExecutor, reports: list[shortly.Unhandled]
    ) -> None:
        queue.put(sys.exit, 3)
        assert queue.submit(lambda: "alive").result(timeout=5) == "alive"
        assert [type(u.error) for u in reports] == [SystemExit]

    def test_failing_submit_fails_its_future(self, queue: shortly.SerialExecutor) -> None:
        f = queue.submit(int, "x")
        assert isinstance(f.exception(timeout=5), ValueError)
        assert queue.submit(int, "7").result(timeout=5) == 7

    def test_an_action_raising_cancelled_error_fails_its_future(
        self, queue: shortly.SerialExecutor
    ) -> None:
        def gives_up() -> None:
            raise shortly.CancelledError("inner")

        f = queue.submit(gives_up)
        assert isinstance(f.exception(timeout=5), shortly.CancelledError)
        assert not f.cancelled(), "it ran, so it failed rather than being cancelled"

    def test_cancelled_before_it_starts_is_skipped(self, queue: shortly.SerialExecutor) -> None:
        ran: list[str] = []
        release = blocker(queue)
        f = queue.submit(ran.append, "skipped")
        assert f.cancel()
        release.set()
        queue.submit(ran.append, "ran").result(timeout=5)
        assert ran == ["ran"]

    def test_map_keeps_order(self, queue: shortly.SerialExecutor) -> None:
        assert list(queue.map(pow, range(5), [2] * 5)) == [0, 1, 4, 9, 16]

    def test_futures_work_with_the_stdlib(self, queue: shortly.SerialExecutor) -> None:
        fs = [queue.submit(pow, 2, i) for i in range(10)]
        _, pending = concurrent.futures.wait(fs, timeout=5)
        assert not pending
        assert sorted(f.result() for f in concurrent.futures.as_completed(fs)) == [
            2**i for i in range(10)
        ]

    def test_action_queue_is_the_same_class(self) -> None:
        assert shortly.ActionQueue is shortly.SerialExecutor
        assert issubclass(shortly.ActionQueue, concurrent.futures.Executor)


class TestTheWorkerThread:
    def test_starts_on_demand_and_exits_when_idle(self, queue: shortly.SerialExecutor) -> None:
        assert not queue.statistics().worker_alive
        thread = worker_thread(queue)
        assert thread.name == "test-queue" and not thread.daemon
        thread.join(5)
        assert not thread.is_alive()
        assert not queue.statistics().worker_alive
        again = worker_thread(queue)
        assert again is not thread
        assert queue.statistics().threads_started == 2

    def test_idle_timeout_keeps_the_worker_for_the_next_put(self) -> None:
        executor = shortly.SerialExecutor(idle_timeout=10)
        first = worker_thread(executor)
        assert worker_thread(executor) is first
        assert executor.statistics().worker_alive
        executor.shutdown()  # wakes the idle worker: it must not wait 10 s
        first.join(5)
        assert not first.is_alive()

    def test_idle_timeout_expires(self) -> None:
        executor = shortly.SerialExecutor(idle_timeout=0.01)
        thread = worker_thread(executor)
        thread.join(5)
        assert not thread.is_alive()
        assert executor.statistics() == _serial.SerialStatistics(0, False, 1, False)

    def test_default_names_differ(self) -> None:
        a, b = shortly.SerialExecutor(), shortly.SerialExecutor()
        assert a.name != b.name and a.name.startswith("SerialExecutor-")

    def test_thread_start_failure_refuses_only_that_put(
        self, queue: shortly.SerialExecutor, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class Unstartable(threading.Thread):
            def start(self) -> None:
                raise RuntimeError("can't start new thread")

        monkeypatch.setattr(_serial.threading, "Thread", Unstartable)
        ran: list[str] = []
        with pytest.raises(RuntimeError, match="can't start new thread"):
            queue.put(ran.append, "refused")
        assert queue.statistics() == _serial.SerialStatistics(0, False, 1, False)
        monkeypatch.undo()
        queue.submit(ran.append, "accepted").result(timeout=5)
        assert ran == ["accepted"]

    @pytest.mark.parametrize("idle", ["60", "None"])
    def test_an_idle_worker_does_not_delay_interpreter_exit(self, idle: str) -> None:
        code = (
            f"import shortly\nq = shortly.SerialExecutor(idle_timeout={idle})\n"
            "q.put(print, 'ran')\n"
        )
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
        assert done.stdout == "ran\n" and done.returncode == 0, done.stderr
        assert time.monotonic() - started < 20, "the idle worker kept the interpreter alive"

    def test_queued_work_still_runs_at_interpreter_exit(self) -> None:
        code = (
            "import shortly, time\n"
            "q = shortly.SerialExecutor()\n"
            "q.put(time.sleep, 0.05)\n"
            "q.put(print, 'last')\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=30
        )
        assert done.stdout == "last\n", done.stderr


class TestContext:
    def test_action_runs_in_the_callers_context(self, queue: shortly.SerialExecutor) -> None:
        token = user.set("ada")
        try:
            f = queue.submit(user.get)
            queue.put(lambda: None)
        finally:
            user.reset(token)
        assert f.result(timeout=5) == "ada"
        assert queue.submit(user.get).result(timeout=5) == "nobody"

    @pytest.mark.parametrize("caller_value", [None, "grace"])
    def test_what_an_action_sets_does_not_leak(
        self, queue: shortly.SerialExecutor, caller_value: str | None
    ) -> None:
        def in_context(fn: Callable[[], Any]) -> Any:
            if caller_value is None:
                return queue.submit(fn)
            token = user.set(caller_value)
            try:
                return queue.submit(fn)
            finally:
                user.reset(token)

        in_context(lambda: user.set("intruder")).result(timeout=5)
        assert in_context(user.get).result(timeout=5) == (caller_value or "nobody")


class TestDeadlocks:
    def test_waiting_on_an_action_queued_behind_is_refused(
        self, queue: shortly.SerialExecutor
    ) -> None:
        def waits_for_the_next() -> Any:
            return queue.submit(lambda: "never").result(timeout=5)

        f = queue.submit(waits_for_the_next)
        error = f.exception(timeout=5)
        assert isinstance(error, shortly.DeadlockError)
        assert "test-queue" in str(error)

    def test_owner_thread_is_the_current_worker(self, queue: shortly.SerialExecutor) -> None:
        assert queue.__shortly_owner_thread__() is None
        release = blocker(queue)
        thread = queue.__shortly_owner_thread__()
        assert thread is not None and thread.name == "test-queue"
        release.set()

    def test_waiting_from_outside_is_fine(self, queue: shortly.SerialExecutor) -> None:
        release = blocker(queue)
        f = queue.submit(lambda: "ok")
        releaser = when_waited_on(f, release.set)
        assert f.result(timeout=5) == "ok"
        releaser.join(5)

    def test_shutdown_wait_from_an_action_is_refused(self, queue: shortly.SerialExecutor) -> None:
        f = queue.submit(queue.shutdown)
        assert isinstance(f.exception(timeout=5), shortly.DeadlockError)
        g = queue.submit(queue.shutdown, wait=False)
        assert g.result(timeout=5) is None
        with pytest.raises(RuntimeError, match="shut down"):
            queue.put(print)


class TestShutdown:
    def test_put_and_submit_after_shutdown_are_refused(self) -> None:
        executor = shortly.SerialExecutor(name="closed")
        executor.shutdown()
        with pytest.raises(RuntimeError, match="cannot queue work on 'closed'"):
            executor.put(print)
        with pytest.raises(RuntimeError, match="cannot queue work on 'closed'"):
            executor.submit(print)
        executor.shutdown()  # again: harmless

    def test_shutdown_waits_for_queued_work(self) -> None:
        executor = shortly.SerialExecutor()
        seen: list[int] = []
        release = blocker(executor)
        for i in range(100):
            executor.put(seen.append, i)
        threading.Timer(0.01, release.set).start()
        executor.shutdown(wait=True)
        assert seen == list(range(100))
        assert not executor.statistics().worker_alive

    def test_cancel_futures_drops_what_has_not_started(self) -> None:
        executor = shortly.SerialExecutor()
        ran: list[int] = []
        release = blocker(executor)
        futures = [executor.submit(ran.append, i) for i in range(10)]
        for i in range(10):
            executor.put(ran.append, 100 + i)
        executor.shutdown(wait=False, cancel_futures=True)
        release.set()
        executor.shutdown(wait=True)
        assert ran == []
        assert all(f.cancelled() for f in futures)

    def test_cancel_futures_drops_a_batch_already_taken(self) -> None:
        executor = shortly.SerialExecutor()
        ran: list[str] = []
        started, release = threading.Event(), threading.Event()

        def first() -> None:
            started.set()
            release.wait(10)

        # Queued together before the worker starts, so the worker takes them as one batch.
        gate = blocker(executor)
        executor.put(first)
        later = executor.submit(ran.append, "later")
        gate.set()
        assert started.wait(5)
        executor.shutdown(wait=False, cancel_futures=True)
        release.set()
        executor.shutdown()
        assert ran == [] and later.cancelled()

    def test_context_manager_shuts_down(self) -> None:
        with shortly.SerialExecutor() as executor:
            f = executor.submit(lambda: 1)
        assert f.result() == 1
        with pytest.raises(RuntimeError):
            executor.put(print)


class TestBadInput:
    def test_action_must_be_callable(self, queue: shortly.SerialExecutor) -> None:
        with pytest.raises(TypeError, match="action must be callable, not int"):
            queue.put(3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="fn must be callable, not str"):
            queue.submit("print")  # type: ignore[arg-type]
        assert queue.statistics().queued == 0

    def test_constructor_arguments(self) -> None:
        with pytest.raises(TypeError, match="name must be a str or None, not int"):
            shortly.SerialExecutor(name=3)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="idle_timeout must be a number of seconds >= 0"):
            shortly.SerialExecutor(idle_timeout=-1)
        with pytest.raises(TypeError, match="idle_timeout must be a number"):
            shortly.SerialExecutor(idle_timeout="1")  # type: ignore[arg-type]

    def test_repr(self, queue: shortly.SerialExecutor) -> None:
        assert repr(queue) == "<SerialExecutor 'test-queue' idle queued=0>"


class TestBadNumbers:
    """Issue 11 item 5: one rule for durations (shortly._checks)."""

    @pytest.mark.parametrize("huge", [math.inf, 1e300, 10**400], ids=["inf", "1e300", "10**400"])
    def test_huge_idle_timeout_keeps_the_worker(self, huge: float) -> None:
        executor = shortly.SerialExecutor(idle_timeout=huge)
        first = worker_thread(executor)
        assert worker_thread(executor) is first
        executor.shutdown()
        first.join(5)
        assert not first.is_alive()

    @pytest.mark.parametrize("bad", [math.nan, -1])
    def test_nan_or_negative_idle_timeout(self, bad: float) -> None:
        with pytest.raises(ValueError, match="idle_timeout must be a number of seconds >= 0"):
            shortly.SerialExecutor(idle_timeout=bad)

    @pytest.mark.parametrize("huge", [math.inf, 1e300, 10**400], ids=["inf", "1e300", "10**400"])
    def test_huge_submit_delay_is_clamped(self, huge: float) -> None:
        ran: list[int] = []
        f = shortly.submit(ran.append, 1, delay=huge)
        assert not f.done() and f.cancel()
        assert ran == []

    @pytest.mark.parametrize("bad", [math.nan, -1])
    def test_nan_or_negative_submit_delay(self, bad: float) -> None:
        with pytest.raises(ValueError, match="delay must be a number of seconds >= 0"):
            shortly.submit(print, delay=bad)


class TestTheIdleWorker:
    """Issue 18: a grace period, a thread for life, and an initializer per thread."""

    def test_a_put_after_a_short_gap_reuses_the_parked_worker(self) -> None:
        executor = shortly.SerialExecutor(name="grace")
        first = worker_thread(executor)
        shortly.sleep(0.05).result(timeout=5)  # the gap under test, not a synchronisation
        assert worker_thread(executor) is first
        assert executor.statistics().threads_started == 1
        executor.shutdown()

    def test_after_the_grace_the_worker_goes(self) -> None:
        executor = shortly.SerialExecutor(name="grace-ends")
        thread = worker_thread(executor)
        thread.join(5)  # the default grace is a fraction of a second
        assert not thread.is_alive() and not executor.statistics().worker_alive
        assert _serial.IDLE_GRACE <= 1

    def test_idle_timeout_none_keeps_one_thread_until_shutdown(self) -> None:
        executor = shortly.SerialExecutor(name="for-life", idle_timeout=None)
        first = worker_thread(executor)
        shortly.sleep(0.3).result(timeout=5)  # longer than the default grace
        threads = {worker_thread(executor) for _ in range(20)}
        assert threads == {first} and executor.statistics().threads_started == 1
        executor.shutdown()
        first.join(5)
        assert not first.is_alive()

    def test_a_thread_bound_object_made_on_the_worker_keeps_working(self) -> None:
        import sqlite3

        executor = shortly.SerialExecutor(name="db", idle_timeout=None)
        db = executor.submit(sqlite3.connect, ":memory:").result(timeout=5)
        shortly.sleep(0.3).result(timeout=5)
        assert executor.submit(lambda: db.execute("select 1").fetchone()).result(5) == (1,)
        executor.submit(db.close).result(timeout=5)
        executor.shutdown()

    def test_initializer_runs_once_per_worker_thread_before_its_actions(self) -> None:
        seen: list[tuple[str, int]] = []
        executor = shortly.SerialExecutor(
            name="init",
            idle_timeout=0,
            initializer=lambda tag: seen.append((tag, threading.get_ident())),
            initargs=("ready",),
        )
        for _ in range(3):
            worker = executor.submit(threading.current_thread).result(timeout=5)
            assert seen[-1] == ("ready", worker.ident)
            worker.join(5)  # idle_timeout=0: the next submit starts a new worker
        assert len(seen) == executor.statistics().threads_started == 3
        executor.shutdown()

    def test_a_raising_initializer_breaks_the_executor(
        self, reports: list[shortly.Unhandled]
    ) -> None:
        def fail() -> None:
            raise OSError("no database")

        executor = shortly.SerialExecutor(name="broken", initializer=fail)
        f = executor.submit(int)
        error = f.exception(timeout=5)
        assert isinstance(error, concurrent.futures.BrokenExecutor)
        assert isinstance(error.__cause__, OSError) and "broken" in str(error)
        with pytest.raises(concurrent.futures.BrokenExecutor, match="no database"):
            executor.put(print)
        executor.shutdown()
        assert [type(u.error) for u in reports] == [OSError]

    def test_bad_initializer_arguments(self) -> None:
        with pytest.raises(TypeError, match="initializer must be callable or None, not int"):
            shortly.SerialExecutor(initializer=3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="initargs must be a tuple, not list"):
            shortly.SerialExecutor(initializer=print, initargs=[1])  # type: ignore[arg-type]
