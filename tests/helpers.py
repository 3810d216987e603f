"""Small synchronisation helpers for tests (no sleeps standing in for ordering)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import shortly


def when_waited_on(future: shortly.Future[Any], action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` in a new thread once some thread is blocked on ``future``.

    It watches the future's waiter list (a thread adds itself there before sleeping),
    so the action is guaranteed to land while the wait is in progress.
    """

    def run() -> None:
        deadline = time.monotonic() + 10
        while not future._wait_list and time.monotonic() < deadline:
            time.sleep(0.0005)  # polling a condition, not standing in for one
        action()

    thread = threading.Thread(target=run)
    thread.start()
    return thread
