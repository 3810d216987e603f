"""Unhandled-failure reports: delivered outside shortly's locks, never escaping.

The first tests pin down *where* a report runs: a failed future dropped while shortly's
own code is on the stack (a callback run by the trampoline, a collection inside a locked
section) is reported by the deferred thread, so a handler that re-enters shortly can
never deadlock on a lock its own thread holds.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import shortly
from shortly._core import _report
from shortly.testing import UnhandledFailures, no_unhandled


@pytest.fixture
def reports() -> Iterator[list[tuple[shortly.Unhandled, str]]]:
    seen: list[tuple[shortly.Unhandled, str]] = []
    previous = shortly.set_unhandled_handler(
        lambda u: seen.append((u, threading.current_thread().name))
    )
    try:
        yield seen
    finally:
        shortly.set_unhandled_handler(previous)


def test_a_drop_from_user_code_is_reported_at_once_in_that_thread(
    reports: list[tuple[shortly.Unhandled, str]],
) -> None:
    f: shortly.Future[int] = shortly.Future()
    f.set_exception(ValueError("dropped"))
    del f
    assert [(type(u.error), thread) for u, thread in reports] == [
        (ValueError, threading.current_thread().name)
    ]


def test_a_drop_inside_shortly_code_goes_to_the_deferred_thread(
    reports: list[tuple[shortly.Unhandled, str]],
) -> None:
    holder = [shortly.Future.failed(KeyError("inner"))]
    trigger: shortly.Future[None] = shortly.Future()
    # The callback runs under the trampoline: shortly code is on the stack.
    trigger.add_done_callback(lambda _: holder.clear())
    trigger.set_result(None)
    assert shortly.flush_reports(timeout=10)
    assert [(type(u.error), thread) for u, thread in reports] == [(KeyError, "shortly-deferred")]


@pytest.mark.timeout(60)
def test_handler_reentering_an_executor_during_collections_never_deadlocks() -> None:
    # Collections on nearly every allocation, with failed futures in reference cycles:
    # some collections happen inside the executor's own locked sections.
    executor = shortly.SerialExecutor()
    shipped: list[BaseException] = []
    previous = shortly.set_unhandled_handler(lambda u: executor.put(shipped.append, u.error))
    thresholds = gc.get_threshold()
    finished = threading.Event()

    def scenario() -> None:
        gc.set_threshold(1, 1, 1)
        try:
            for i in range(300):
                cycle: list[object] = [shortly.Future.failed(ValueError(i))]
                cycle.append(cycle)
                del cycle
                executor.put(lambda: None)
        finally:
            gc.set_threshold(*thresholds)
            finished.set()

    try:
        threading.Thread(target=scenario, daemon=True).start()
        assert finished.wait(timeout=45), "the reporting path deadlocked"
        gc.collect()
        assert shortly.flush_reports(timeout=10)
        executor.submit(lambda: None).result(timeout=10)
        assert len(shipped) == 300
    finally:
        shortly.set_unhandled_handler(previous)
        gc.set_threshold(*thresholds)


@pytest.mark.parametrize("interrupt", [SystemExit, KeyboardInterrupt, RuntimeError])
def test_a_raising_handler_never_escapes_nor_skips_callbacks(
    interrupt: type[BaseException],
) -> None:
    def handler(_: shortly.Unhandled) -> None:
        raise interrupt("from the handler")

    previous = shortly.set_unhandled_handler(handler)
    try:
        f: shortly.Future[None] = shortly.Future()
        ran: list[str] = []
        f.add_done_callback(lambda _: 1 / 0)  # reported: the handler raises
        f.add_done_callback(lambda _: ran.append("after"))
        f.set_result(None)  # must not raise
        assert ran == ["after"]
    finally:
        shortly.set_unhandled_handler(previous)


def test_no_unhandled_raises_its_own_error_when_str_of_a_failure_raises() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no str for you")

    with (
        pytest.raises(UnhandledFailures, match="1 unhandled failure") as caught,
        no_unhandled(),
    ):
        shortly.Future().set_exception(Unprintable())
    assert type(caught.value.failures[0].error) is Unprintable


def test_creation_sites_keep_user_frames_in_a_folder_named_shortly(tmp_path: Path) -> None:
    # A clone of this repository is a folder named "shortly": its files are user code.
    project = tmp_path / "shortly" / "app"
    project.mkdir(parents=True)
    (project / "make_future.py").write_text(
        textwrap.dedent(
            """
            import shortly
            shortly.set_debug(True)
            f = shortly.Future()
            print(repr(f))
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(project / "make_future.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(shortly.__file__).parent.parent)},
        check=True,
    ).stdout
    assert "make_future.py" in out, out


def test_creation_sites_leave_out_shortly_own_frames() -> None:
    assert _report._PACKAGE_DIR.endswith(os.sep)
    shortly.set_debug(True)
    try:
        site = shortly.Future()._site  # type: ignore[attr-defined]
    finally:
        shortly.set_debug(False)
    assert "test_report.py" in site
    assert _report._PACKAGE_DIR not in site
