"""Progress on futures: reports, listeners, throttling, aggregation, the tqdm bridge."""

from __future__ import annotations

import asyncio
import io
import sys
import threading
from typing import Any

import pytest
import trio

import shortly
from shortly import _progress

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]


def gated(n: int, gate: threading.Event) -> Any:
    """Work that waits for ``gate`` (so a listener can subscribe), then reports n steps."""

    def work() -> int:
        assert gate.wait(5)
        for i in range(1, n + 1):
            shortly.progress(i, n, f"step {i}")
        return n

    return work


class TestReporting:
    def test_submit_binds_the_work_to_its_future(self) -> None:
        gate = threading.Event()
        f = shortly.submit(gated(1000, gate))
        seen: list[shortly.Progress] = []
        f.on_progress(seen.append)
        gate.set()
        assert f.result(timeout=5) == 1000
        # Throttled: the first and the final report always pass, a flood does not.
        assert seen[0] == shortly.Progress(1, 1000, "step 1")
        assert seen[-1] == shortly.Progress(1000, 1000, "step 1000")
        assert len(seen) < 100

    def test_serial_executor_actions_report_on_their_future(self) -> None:
        queue = shortly.SerialExecutor()
        gate = threading.Event()
        f = queue.submit(gated(10, gate))

        def unheard() -> int:
            for i in range(3):
                shortly.progress(i, 3)
            return 3

        other = queue.submit(unheard)
        seen: list[float] = []
        f.on_progress(lambda p: seen.append(p.done))
        gate.set()
        assert f.result(timeout=5) == 10
        assert seen[0] == 1 and seen[-1] == 10
        assert other.result(timeout=5) == 3
        queue.shutdown()

    def test_spawned_code_reports_on_its_task(self) -> None:
        gate: shortly.Future[None] = shortly.Future()

        async def code() -> str:
            await gate
            for i in range(3):
                shortly.progress(i + 1, 3)
            return "done"

        task = shortly.spawn(code())
        updates = task.progress_updates()
        gate.set_result(None)
        assert [p.done for p in updates][-1] == 3
        assert task.result() == "done"

    def test_scope_children_report_too(self) -> None:
        gate = threading.Event()
        seen: list[float] = []
        with shortly.scope() as s:
            f = s.submit(gated(5, gate))
            f.on_progress(lambda p: seen.append(p.done))
            gate.set()
        assert seen[-1] == 5

    def test_report_before_the_future_exists_is_kept(self) -> None:
        slot = _progress.Slot()
        ctx = __import__("contextvars").copy_context()
        ctx.run(_progress.bind_here, slot)
        ctx.run(shortly.progress, 2, 4)
        f: shortly.Future[None] = shortly.Future()
        seen: list[shortly.Progress] = []
        f.on_progress(seen.append)
        slot.attach(f)
        f.set_result(None)
        assert seen == [shortly.Progress(2, 4)]

    def test_outside_any_work_it_does_nothing(self) -> None:
        g: shortly.Future[None] = shortly.Future()
        seen: list[shortly.Progress] = []
        g.on_progress(seen.append)
        shortly.progress(1, 2, "nobody's")  # nothing bound here: no error, no report
        g.set_result(None)
        assert seen == []

    def test_arguments_are_checked(self) -> None:
        with pytest.raises(TypeError, match="done"):
            shortly.progress("1")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="total"):
            shortly.progress(1, "2")  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="note"):
            shortly.progress(1, 2, 3)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="callback"):
            shortly.Future().on_progress(3)  # type: ignore[arg-type]


class TestListening:
    def test_report_progress_and_late_listeners_get_the_last_report(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        first: list[shortly.Progress] = []
        f.on_progress(first.append)
        f.report_progress(1, 2)
        late: list[shortly.Progress] = []
        f.on_progress(late.append)
        assert first == [shortly.Progress(1, 2)] and late == [shortly.Progress(1, 2)]

    def test_held_report_is_delivered_when_the_interval_ends(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        seen: list[float] = []
        delivered = threading.Event()

        def listen(p: shortly.Progress) -> None:
            seen.append(p.done)
            if p.done == 3:
                delivered.set()

        f.on_progress(listen)
        for done in (1, 2, 3):
            f.report_progress(done, 10)
        assert seen == [1]
        assert delivered.wait(5)
        assert seen == [1, 3]
        f.set_result(0)

    def test_the_channel_goes_when_the_future_is_done(self) -> None:
        f: shortly.Future[int] = shortly.Future()
        f.on_progress(lambda p: None)
        assert f in _progress._channels
        f.set_result(1)
        assert f not in _progress._channels

    def test_a_raising_listener_is_reported_and_the_others_still_run(self) -> None:
        reports: list[shortly.Unhandled] = []
        previous = shortly.set_unhandled_handler(reports.append)
        try:
            f: shortly.Future[int] = shortly.Future()
            f.on_progress(lambda p: 1 / 0)
            seen: list[shortly.Progress] = []
            f.on_progress(seen.append)
            f.report_progress(1)
            shortly.flush_reports()
        finally:
            shortly.set_unhandled_handler(previous)
        assert seen == [shortly.Progress(1)]
        assert [type(r.error) for r in reports] == [ZeroDivisionError]

    def test_many_threads_reporting_at_once(self) -> None:
        f: shortly.Future[None] = shortly.Future()
        seen: list[shortly.Progress] = []
        lock = threading.Lock()

        def listen(p: shortly.Progress) -> None:
            with lock:
                seen.append(p)

        f.on_progress(listen)

        def report() -> None:
            for i in range(1000):
                f.report_progress(i, 1000)

        threads = [threading.Thread(target=report) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        f.report_progress(1000, 1000)
        f.set_result(None)
        assert seen[-1] == shortly.Progress(1000, 1000)
        assert len(seen) < 8000  # throttled

    def test_async_for_under_asyncio_and_trio(self) -> None:
        async def consume() -> list[float]:
            f: shortly.Future[None] = shortly.Future()

            def produce() -> None:
                for i in range(1, 4):
                    f.report_progress(i, 3)
                f.set_result(None)

            updates = f.progress_updates()
            threading.Thread(target=produce).start()
            return [p.done async for p in updates]

        assert asyncio.run(consume())[-1] == 3
        assert trio.run(consume)[-1] == 3


class TestAggregation:
    def test_a_combinator_counts_its_inputs(self) -> None:
        a, b, c = (shortly.Future[int]() for _ in range(3))
        both = shortly.all_of([a, b, c])
        seen: list[shortly.Progress] = []
        both.on_progress(seen.append)
        a.set_result(1)
        b.report_progress(1, 2)  # half of b
        assert seen[0] == shortly.Progress(0.0, 3)
        updates = [p.done for p in seen]
        # b's half may be held by the throttle; c's finishing is final and flushes.
        b.set_result(2)
        c.set_result(3)
        assert [p.done for p in seen][-1] == 3
        assert updates[:2] == [0.0, 1.0]

    def test_a_then_link_follows_its_parent(self) -> None:
        parent: shortly.Future[int] = shortly.Future()
        link = parent.then(lambda x: x)
        seen: list[float | None] = []
        link.on_progress(lambda p: seen.append(p.fraction))
        parent.report_progress(5, 10)
        assert seen == [0.0, 0.5]
        parent.set_result(1)

    def test_work_that_reports_itself_is_not_counted(self) -> None:
        gate = threading.Event()
        f = shortly.submit(gated(4, gate))
        seen: list[shortly.Progress] = []
        f.on_progress(seen.append)
        gate.set()
        f.result(timeout=5)
        assert seen[-1] == shortly.Progress(4, 4, "step 4")


class TestProgressBar:
    def test_plain_text_without_tqdm(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "tqdm", None)
        out = io.StringIO()
        fs = [shortly.Future[int]() for _ in range(4)]
        for i, f in enumerate(fs):
            threading.Timer(0.01 * i, f.set_result, [i]).start()
        assert shortly.progress_bar(shortly.all_of(fs), desc="four", file=out) == [0, 1, 2, 3]
        assert "four: 4/4" in out.getvalue()

    def test_tqdm_for_an_iterable(self) -> None:
        out = io.StringIO()
        results = shortly.progress_bar(shortly.map(abs, [-1, -2, -3]), total=3, file=out)
        assert list(results) == [1, 2, 3]
        assert "3/3" in out.getvalue() and "100%" in out.getvalue()

    def test_a_failed_future_raises(self) -> None:
        with pytest.raises(ValueError):
            shortly.progress_bar(shortly.submit(int, "x"), file=io.StringIO())

    def test_source_is_checked(self) -> None:
        with pytest.raises(TypeError, match="source"):
            shortly.progress_bar(3, file=io.StringIO())  # type: ignore[call-overload]


class TestGroups:
    def test_map_counts_results_taken_of_the_input_length(self) -> None:
        seen: list[shortly.Progress] = []
        results = shortly.map(abs, range(-200, 0), limit=4)
        results.on_progress(seen.append)
        assert sum(results) == sum(range(1, 201))
        assert seen[0] == shortly.Progress(0, 200) and seen[-1] == shortly.Progress(200, 200)
        assert [p.done for p in seen] == sorted(p.done for p in seen)  # in order
        assert len(seen) < 200  # throttled

    def test_map_over_an_endless_input_counts_calls_started(self) -> None:
        seen: list[shortly.Progress] = []
        with shortly.map(abs, iter(int, 1), limit=2) as results:
            results.on_progress(seen.append)
            for _ in range(5):
                next(results)
        assert seen[-1].total is not None and seen[-1].done <= seen[-1].total

    def test_a_scope_counts_its_children_from_many_threads(self) -> None:
        seen: list[shortly.Progress] = []
        with shortly.scope() as s:
            s.on_progress(seen.append)
            for n in range(50):
                s.submit(abs, -n)
        assert seen[-1] == shortly.Progress(50, 50)
        assert [p.done for p in seen] == sorted(p.done for p in seen)

    def test_async_scope_children(self) -> None:
        async def main() -> shortly.Progress:
            seen: list[shortly.Progress] = []
            async with shortly.scope() as s:
                s.on_progress(seen.append)
                for _ in range(3):
                    s.spawn(asyncio.sleep(0))
            return seen[-1]

        assert asyncio.run(main()) == shortly.Progress(3, 3)


class TestKaaStatus:
    def test_a_kaa_task_status_is_reported_on_its_future(self) -> None:
        from shortly.compat import kaa

        gate = threading.Event()

        @kaa.threaded(progress=True)
        def copy(status: Any, files: int) -> int:
            assert gate.wait(5)
            status.set(max=files)
            for _ in range(files):
                status.update()
            return files

        ip = copy(3)
        seen: list[shortly.Progress] = []
        ip._future.on_progress(seen.append)
        gate.set()
        assert ip.wait(timeout=5) == 3
        assert seen[-1] == shortly.Progress(3, 3)


def test_a_listener_may_start_more_work_in_its_scope() -> None:
    started: list[shortly.Future[int]] = []
    with shortly.scope() as s:

        def more(p: shortly.Progress) -> None:
            if p.done == 1 and len(started) < 2:
                started.append(s.submit(abs, -1))

        s.on_progress(more)
        started.append(s.submit(abs, -1))
    assert len(started) == 2 and all(f.result() == 1 for f in started)
