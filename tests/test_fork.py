"""Forked children: timers, serial workers and the shared pool work there (issue 12).

Each child reports through its exit status: 0 when every check passed, else the number
of the first check that failed. The parent waits for each child with a deadline, so a
child that hangs fails the test (and is killed) instead of hanging it.
"""

from __future__ import annotations

import concurrent.futures
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial

import pytest

import shortly

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX only"),
    pytest.mark.usefixtures("no_unhandled_failures"),
    pytest.mark.timeout(60),
]

CHILDREN = 50
CHILD_DEADLINE = 5.0  # seconds a child may take before it counts as hung


def wait_for_child(pid: int, deadline: float = CHILD_DEADLINE) -> int:
    """The child's exit code; a child still running at the deadline is killed, -1."""
    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], deadline)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -1
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)
    finally:
        os.close(fd)


def fork_and_run(checks: Callable[[], int], deadline: float = CHILD_DEADLINE) -> int:
    """Run ``checks()`` in a forked child; its exit code (-1 if it hung)."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 99
        try:
            code = checks()
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    return wait_for_child(pid, deadline)


def child_checks(queue: shortly.SerialExecutor, inherited: shortly.Future[None]) -> int:
    """What a child does with the parent's objects and with new ones."""
    f: shortly.Future[int] = shortly.Future()
    chained = f.then(lambda v: v + 1)
    threading.Thread(target=f.set_result, args=(1,)).start()
    if chained.result(timeout=5) != 2:
        return 1
    if shortly.sleep(0.001).result(timeout=5) is not None:
        return 2
    if shortly.later(0.001, lambda: "fired").result(timeout=5) != "fired":
        return 3
    slow: shortly.Future[int] = shortly.Future()
    if not isinstance(slow.with_timeout(0.001).exception(timeout=5), TimeoutError):
        return 4
    if queue.submit(threading.current_thread).result(timeout=5) is threading.main_thread():
        return 5
    seen: list[int] = []
    queue.put(seen.append, 7)
    if queue.submit(lambda: list(seen)).result(timeout=5) != [7]:
        return 6
    if shortly.submit(sum, [1, 2, 3]).result(timeout=5) != 6:
        return 7
    if shortly.submit(str, 8, delay=0.001).result(timeout=5) != "8":
        return 8
    inherited.result(timeout=5)  # armed in the parent: it fires here too
    return 0


@pytest.fixture
def busy_parent() -> Iterator[shortly.SerialExecutor]:
    """A serial executor in use, and a thread settling futures and arming timers,
    so that children are forked in the middle of things."""
    queue = shortly.SerialExecutor(name="forked")
    queue.submit(int).result(timeout=5)  # its worker is now a thread of the parent
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            f: shortly.Future[int] = shortly.Future()
            f.then(lambda v: v).add_done_callback(lambda _: None)
            f.set_result(1)
            shortly.later(0.0005).add_done_callback(lambda _: None)
            queue.put(int)

    thread = threading.Thread(target=churn)
    thread.start()
    yield queue
    stop.set()
    thread.join(10)
    queue.shutdown()


def test_fifty_children_use_timers_workers_and_the_pool(
    busy_parent: shortly.SerialExecutor,
) -> None:
    shortly.submit(int).result(timeout=5)  # the shared pool exists before the forks
    inherited = shortly.sleep(0.01)  # pending at each fork (armed again below)
    codes = []
    for _ in range(CHILDREN):
        if inherited.done():
            inherited = shortly.sleep(0.01)
        codes.append(fork_and_run(partial(child_checks, busy_parent, inherited)))
        if codes[-1] != 0:
            break  # one failure says it all; the rest would each wait out the deadline
    assert codes == [0] * CHILDREN


def test_work_queued_before_the_fork_is_not_done_again_in_the_child() -> None:
    queue = shortly.SerialExecutor(name="queued-at-fork")
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []

    def block() -> None:
        started.set()
        release.wait(10)

    running = queue.submit(block)
    assert started.wait(5)
    queued = queue.submit(ran.append, "queued")

    def checks() -> int:
        if not queued.cancelled():
            return 1
        if not isinstance(running.exception(timeout=5), RuntimeError):
            return 2
        queue.submit(ran.append, "child").result(timeout=5)
        return 0 if ran == ["child"] else 3

    try:
        assert fork_and_run(checks) == 0
    finally:
        release.set()
    queued.result(timeout=5)
    queue.shutdown()
    assert ran == ["queued"]  # the parent did its own work, once


def test_a_hung_child_fails_rather_than_hangs() -> None:
    # The harness itself: without the deadline this would wait for ever.
    started = time.monotonic()
    assert fork_and_run(lambda: int(threading.Event().wait()), deadline=0.2) == -1
    assert time.monotonic() - started < 5


def test_pool_work_of_the_parent_is_settled_in_the_child() -> None:
    pool = concurrent.futures.ThreadPoolExecutor(1)
    started, release = threading.Event(), threading.Event()

    def block() -> str:
        started.set()
        release.wait(10)
        return "parent"

    running = shortly.submit(block, executor=pool)
    assert started.wait(5)
    queued = shortly.submit(str, "queued", executor=pool)

    def checks() -> int:
        if not isinstance(running.exception(timeout=5), RuntimeError):
            return 1
        if not queued.cancelled():
            return 2
        return 0 if shortly.submit(int, "3").result(timeout=5) == 3 else 3

    try:
        assert fork_and_run(checks) == 0
    finally:
        release.set()
    assert running.result(timeout=5) == "parent" and queued.result(timeout=5) == "queued"
    pool.shutdown()


def _settle_on_every_stripe() -> int:
    futures: list[shortly.Future[int]] = [shortly.Future() for _ in range(300)]
    for i, f in enumerate(futures):
        f.add_done_callback(lambda _: None)
        f.set_result(i)
    return 0 if [f.result(timeout=5) for f in futures] == list(range(300)) else 3


def test_children_forked_while_threads_settle_futures_never_inherit_a_held_stripe() -> None:
    # A stripe lock held at the fork by a thread the child does not have would block
    # the child's first state change on that stripe for ever; each child touches all.
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            f: shortly.Future[int] = shortly.Future()
            f.add_done_callback(lambda _: None)
            f.set_result(1)

    churners = [threading.Thread(target=churn) for _ in range(2)]
    for thread in churners:
        thread.start()
    try:
        codes = [fork_and_run(_settle_on_every_stripe) for _ in range(CHILDREN)]
    finally:
        stop.set()
        for thread in churners:
            thread.join(timeout=10)
    assert codes == [0] * CHILDREN, f"{codes.count(-1)} children hung"
