"""Forking while other threads resolve futures: every child can still use shortly.

A child process inherits the parent's locks in whatever state they were in at the
fork. A stripe lock held at that moment by another thread (which does not exist in the
child) would block the child's first state change on that stripe for ever. Each child
here touches every stripe, so one inherited held lock would hang it.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

import shortly

CHILDREN = 50


def _child() -> int:
    futures: list[shortly.Future[int]] = [shortly.Future() for _ in range(300)]
    for i, f in enumerate(futures):
        f.add_done_callback(lambda _: None)
        f.set_result(i)
    return 0 if [f.result(timeout=5) for f in futures] == list(range(300)) else 3


def _wait_for(pid: int, seconds: float) -> int | None:
    """The child's exit status, or None if it is still running after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)  # polling a child process: there is nothing to block on
    return None


@pytest.mark.timeout(120)
def test_children_forked_while_threads_settle_all_finish() -> None:
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            f: shortly.Future[int] = shortly.Future()
            f.add_done_callback(lambda _: None)
            f.set_result(1)

    churners = [threading.Thread(target=churn) for _ in range(2)]
    for thread in churners:
        thread.start()
    statuses: list[int | None] = []
    try:
        for _ in range(CHILDREN):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - runs in the child
                os._exit(_child())
            status = _wait_for(pid, 10)
            if status is None:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
            statuses.append(status)
    finally:
        stop.set()
        for thread in churners:
            thread.join(timeout=10)
    assert statuses == [0] * CHILDREN, f"{statuses.count(None)} children hung"
