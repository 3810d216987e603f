"""The core Future: states, resolution, callbacks, blocking waits, repr."""

from __future__ import annotations

import concurrent.futures
import gc
import threading
from typing import Any

import pytest

import shortly
from shortly._core import _report
from shortly.testing import no_unhandled


def resolve_later(f: shortly.Future[Any], value: Any, go: threading.Event) -> threading.Thread:
    """Resolve ``f`` from another thread once ``go`` is set."""

    def run() -> None:
        go.wait(10)
        f.set_result(value)

    t = threading.Thread(target=run)
    t.start()
    return t


class TestStates:
    def test_new_future_is_pending(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert (f.done(), f.cancelled(), f.running()) == (False, False, False)

    def test_set_result_finishes(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        f.set_result(5)
        assert f.done() and not f.cancelled()
        assert f.result() == 5
        assert f.exception() is None

    def test_set_exception_fails(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        error = ValueError("bad")
        f.set_exception(error)
        assert f.done()
        assert f.exception() is error
        with pytest.raises(ValueError, match="bad"):
            f.result()

    def test_running_state(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert f.set_running_or_notify_cancel() is True
        assert f.running() and not f.done()
        assert f.cancel() is False, "a running future cannot be cancelled (stdlib rule)"
        with pytest.raises(RuntimeError, match="cannot start running"):
            f.set_running_or_notify_cancel()
        f.set_result(1)
        assert f.result() == 1 and not f.running()

    def test_set_running_after_cancel_returns_false(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        f.cancel()
        assert f.set_running_or_notify_cancel() is False

    def test_set_running_after_finish_raises(self) -> None:
        with pytest.raises(RuntimeError):
            shortly.Future.resolved(1).set_running_or_notify_cancel()

    def test_resolved_and_failed_constructors(self) -> None:
        assert shortly.Future.resolved("x").result() == "x"
        f = shortly.Future.failed(KeyError("k"))
        assert isinstance(f.exception(), KeyError)

    def test_is_a_stdlib_future(self) -> None:
        assert isinstance(shortly.Future(), concurrent.futures.Future)


class TestResolution:
    def test_second_set_result_raises_invalid_state(self) -> None:
        f = shortly.Future.resolved(1)
        with pytest.raises(shortly.InvalidStateError):
            f.set_result(2)
        with pytest.raises(concurrent.futures.InvalidStateError):
            f.set_exception(ValueError())
        assert f.result() == 1, "nothing already resolved is lost"

    def test_resolving_a_cancelled_future_is_a_quiet_no_op(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        f.cancel()
        f.set_result(1)
        f.set_exception(ValueError())
        assert f.cancelled()

    def test_try_set_reports_who_won(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert f.try_set_result(1) is True
        assert f.try_set_result(2) is False
        assert f.try_set_exception(ValueError()) is False
        assert f.result() == 1
        g: shortly.Future[int] = shortly.Future()
        assert g.try_set_exception(KeyError()) is True
        assert isinstance(g.exception(), KeyError)

    @pytest.mark.parametrize("bad", [ValueError, "boom", None, 3])
    def test_set_exception_rejects_non_instances(self, bad: Any) -> None:
        f: shortly.Future[int] = shortly.Future()
        with pytest.raises(TypeError, match="exception must be an exception instance"):
            f.set_exception(bad)
        with pytest.raises(TypeError, match="exception must be"):
            f.try_set_exception(bad)
        assert not f.done(), "bad input must not resolve the future"

    def test_set_exception_rejects_stop_iteration(self) -> None:
        with pytest.raises(TypeError, match="StopIteration"):
            shortly.Future().set_exception(StopIteration())


class TestCancel:
    def test_cancel_pending(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert f.cancel() is True
        assert f.cancelled() and f.done()
        assert f.cancel() is True, "cancelling again still reports cancelled"
        with pytest.raises(shortly.CancelledError):
            f.result()
        with pytest.raises(concurrent.futures.CancelledError):
            f.exception()

    def test_cancel_keeps_message(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        f.cancel("no longer needed")
        with pytest.raises(shortly.CancelledError, match="no longer needed"):
            f.result()

    def test_cancel_finished_returns_false(self) -> None:
        assert shortly.Future.resolved(1).cancel() is False
        f = shortly.Future.failed(ValueError())
        assert f.cancel() is False
        f.exception()

    def test_cancel_runs_callbacks_and_wakes_waiters(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        seen: list[bool] = []
        f.add_done_callback(lambda fut: seen.append(fut.cancelled()))
        started = threading.Event()
        outcome: list[BaseException] = []

        def waiter() -> None:
            started.set()
            try:
                f.result(timeout=10)
            except BaseException as e:
                outcome.append(e)

        t = threading.Thread(target=waiter)
        t.start()
        started.wait(5)
        f.cancel()
        t.join(10)
        assert seen == [True]
        assert len(outcome) == 1 and isinstance(outcome[0], shortly.CancelledError)


class TestCallbacks:
    def test_callback_runs_on_resolution_in_order(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        order: list[int] = []
        for i in range(5):
            f.add_done_callback(lambda fut, i=i: order.append(i))
        assert order == []
        f.set_result(0)
        assert order == [0, 1, 2, 3, 4]

    def test_callback_on_done_future_runs_at_once_in_caller_thread(self) -> None:
        f = shortly.Future.resolved(1)
        threads: list[threading.Thread] = []
        f.add_done_callback(lambda fut: threads.append(threading.current_thread()))
        assert threads == [threading.current_thread()]

    def test_callback_runs_in_resolving_thread(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        threads: list[threading.Thread] = []
        f.add_done_callback(lambda fut: threads.append(threading.current_thread()))
        t = threading.Thread(target=f.set_result, args=(1,))
        t.start()
        t.join(10)
        assert threads == [t]

    def test_raising_callback_is_reported_and_others_still_run(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        ran: list[str] = []

        def bad(fut: shortly.Future[int]) -> None:
            ran.append("bad")
            raise RuntimeError("callback broke")

        f.add_done_callback(bad)
        f.add_done_callback(lambda fut: ran.append("good"))
        with pytest.raises(AssertionError, match="callback broke"), no_unhandled():
            f.set_result(1)
        assert ran == ["bad", "good"]
        assert f.result() == 1, "the resolver is not broken by a raising callback"

    def test_non_callable_callback_rejected(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        with pytest.raises(TypeError, match="fn must be callable, not int"):
            f.add_done_callback(3)  # type: ignore[arg-type]

    def test_remove_done_callback_counts(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        calls: list[int] = []

        def cb(fut: shortly.Future[int]) -> None:
            calls.append(1)

        f.add_done_callback(cb)
        f.add_done_callback(cb)
        f.add_done_callback(print)
        assert f.remove_done_callback(cb) == 2
        assert f.remove_done_callback(cb) == 0
        assert f.remove_done_callback(print) == 1
        f.set_result(1)
        assert calls == []
        assert shortly.Future.resolved(1).remove_done_callback(cb) == 0


class TestBlocking:
    @pytest.mark.timeout(10)
    def test_result_blocks_until_another_thread_resolves(self) -> None:
        f: shortly.Future[str] = shortly.Future()
        go = threading.Event()
        t = resolve_later(f, "hi", go)
        go.set()
        assert f.result(timeout=5) == "hi"
        t.join(5)

    def test_result_timeout(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        with pytest.raises(shortly.TimeoutError) as info:
            f.result(timeout=0.01)
        assert isinstance(info.value, TimeoutError)
        assert isinstance(info.value, concurrent.futures.TimeoutError)
        with pytest.raises(shortly.TimeoutError):
            f.exception(timeout=0)

    def test_negative_timeout_is_an_immediate_check(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert f.wait(timeout=-1) is False
        with pytest.raises(shortly.TimeoutError):
            f.result(timeout=-5)

    def test_huge_timeout_is_accepted(self) -> None:
        f = shortly.Future.resolved(1)
        assert f.result(timeout=1e300) == 1
        g: shortly.Future[int] = shortly.Future()
        go = threading.Event()
        t = resolve_later(g, 2, go)
        go.set()
        assert g.result(timeout=1e300) == 2
        t.join(5)

    def test_wait_returns_done(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        assert f.wait(0.001) is False
        f.set_result(1)
        assert f.wait() is True

    @pytest.mark.parametrize("bad", ["1", [], True])
    def test_non_number_timeout_rejected(self, bad: Any) -> None:
        f: shortly.Future[int] = shortly.Future()
        for call in (f.result, f.exception, f.wait):
            with pytest.raises(TypeError, match="timeout must be a number"):
                call(bad)

    def test_nan_timeout_rejected(self) -> None:
        with pytest.raises(ValueError, match="not nan"):
            shortly.Future().wait(float("nan"))

    def test_waiter_registration_is_removed_after_timeout(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        for _ in range(100):
            f.wait(0)
        assert not f._wait_list, "timed-out waiters must not pile up on the future"

    def test_blocking_inside_a_callback_drains_queued_work_first(self) -> None:
        # The inner future is resolved by a callback that the trampoline queued behind
        # the current one, on this same thread: waiting must run it, not hang.
        outer: shortly.Future[int] = shortly.Future()
        middle: shortly.Future[int] = shortly.Future()
        inner: shortly.Future[int] = shortly.Future()
        middle.add_done_callback(lambda m: inner.set_result(m.result() + 1))
        seen: list[int] = []

        def on_outer(o: shortly.Future[int]) -> None:
            middle.set_result(o.result() + 1)  # queued: we are draining
            seen.append(inner.result(timeout=5))

        outer.add_done_callback(on_outer)
        outer.set_result(1)
        assert seen == [3]


class TestUnhandled:
    def test_dropped_failure_is_reported_once(self) -> None:
        reports: list[shortly.Unhandled] = []
        previous = shortly.set_unhandled_handler(reports.append)
        try:
            f: shortly.Future[int] = shortly.Future()
            f.set_exception(ValueError("lost"))
            del f
            gc.collect()
            gc.collect()
        finally:
            shortly.set_unhandled_handler(previous)
        assert len(reports) == 1
        assert isinstance(reports[0].error, ValueError)
        assert "dropped unobserved" in reports[0].context
        assert "raised ValueError" in (reports[0].source or "")

    @pytest.mark.parametrize("observe", ["result", "exception"])
    def test_observed_failure_is_not_reported(self, observe: str) -> None:
        with no_unhandled() as seen:
            f: shortly.Future[int] = shortly.Future()
            f.set_exception(ValueError("seen"))
            if observe == "result":
                with pytest.raises(ValueError):
                    f.result()
            else:
                assert isinstance(f.exception(), ValueError)
            del f
        assert seen == []

    def test_report_is_logged_on_the_shortly_logger(self, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level("ERROR", logger="shortly"):
            f: shortly.Future[int] = shortly.Future()
            f.set_exception(KeyError("logged"))
            del f
            gc.collect()
        assert any("dropped unobserved" in r.getMessage() for r in caplog.records)
        assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)

    def test_failing_handler_does_not_break_reporting(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        def broken(u: shortly.Unhandled) -> None:
            raise RuntimeError("handler broke")

        previous = shortly.set_unhandled_handler(broken)
        try:
            with caplog.at_level("ERROR", logger="shortly"):
                f: shortly.Future[int] = shortly.Future()
                f.add_done_callback(lambda _: 1 / 0)
                f.set_result(1)
        finally:
            shortly.set_unhandled_handler(previous)
        assert any("handler raised" in r.getMessage() for r in caplog.records)

    def test_set_unhandled_handler_rejects_non_callables(self) -> None:
        with pytest.raises(TypeError, match="handler must be callable or None"):
            shortly.set_unhandled_handler(3)  # type: ignore[arg-type]


class TestRepr:
    def test_repr_shows_state_and_owner(self) -> None:
        f: shortly.Future[int] = shortly.Future(owner=threading.main_thread())
        assert "state=pending" in repr(f)
        assert "owner='MainThread'" in repr(f)
        f.set_result(1)
        assert "state=finished returned int" in repr(f)
        g = shortly.Future.failed(KeyError())
        assert "state=finished raised KeyError" in repr(g)
        g.exception()
        c: shortly.Future[int] = shortly.Future()
        c.cancel()
        assert "state=cancelled" in repr(c)

    def test_debug_mode_records_creation_site(self) -> None:
        shortly.set_debug(True)
        try:
            f: shortly.Future[int] = shortly.Future()
        finally:
            shortly.set_debug(False)
        assert "created at" in repr(f) and "test_future.py" in repr(f)
        assert "created at" not in repr(shortly.Future())

    def test_debug_site_reaches_the_unhandled_report(self) -> None:
        reports: list[shortly.Unhandled] = []
        previous = shortly.set_unhandled_handler(reports.append)
        shortly.set_debug(True)
        try:
            f: shortly.Future[int] = shortly.Future()
            f.set_exception(ValueError())
            del f
            gc.collect()
        finally:
            shortly.set_debug(False)
            shortly.set_unhandled_handler(previous)
        assert reports and "test_future.py" in (reports[0].site or "")

    def test_set_debug_rejects_non_bool(self) -> None:
        with pytest.raises(TypeError, match="enabled must be a bool"):
            shortly.set_debug(1)  # type: ignore[arg-type]
        assert shortly.get_debug() is _report._debug


class TestOwner:
    def test_owner_property(self) -> None:
        t = threading.current_thread()
        assert shortly.Future(owner=t).owner is t
        assert shortly.Future().owner is None

    def test_bad_owner_rejected(self) -> None:
        with pytest.raises(TypeError, match=r"owner must be a threading\.Thread"):
            shortly.Future(owner="me")  # type: ignore[arg-type]


@pytest.mark.parametrize("huge", [10**400, 1e300, float("inf")])
def test_huge_timeouts_are_clamped_not_overflow_errors(huge: float) -> None:
    # One rule (shortly._checks): beyond threading.TIMEOUT_MAX means "for ever".
    f: shortly.Future[int] = shortly.Future()
    threading.Timer(0.01, f.set_result, args=(5,)).start()
    assert f.wait(huge)
    assert f.result(huge) == 5
    assert shortly.Future.resolved(1).result(timeout=huge) == 1
