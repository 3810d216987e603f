"""Small synchronisation helpers for tests (no sleeps standing in for ordering)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import shortly


def eventually(
    predicate: Callable[[], object], timeout: float = 10.0, what: str = "the expected state"
) -> None:
    """Return once ``predicate()`` holds: a state another thread or process reaches, which
    the test can only observe. Fails the test after ``timeout`` seconds, naming ``what``.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} was never reached"
        time.sleep(0.0005)  # polling a condition, not standing in for one


def when_waited_on(future: shortly.Future[Any], action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` in a new thread once some thread is blocked on ``future``.

    It watches the future's waiter list (a thread adds itself there before sleeping),
    so the action is guaranteed to land while the wait is in progress.
    """

    def run() -> None:
        eventually(lambda: future._wait_list)
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def blocker(executor: shortly.SerialExecutor) -> threading.Event:
    """Occupy the executor's worker until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def block() -> None:
        started.set()
        release.wait(10)

    executor.put(block)
    assert started.wait(5)
    return release


def worker_thread(executor: shortly.SerialExecutor) -> threading.Thread:
    """The thread that runs the executor's actions right now (starting one if needed)."""
    return executor.submit(threading.current_thread).result(timeout=5)
