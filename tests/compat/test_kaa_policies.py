"""shortly.compat.kaa: ``coroutine(policy=, progress=, group=)`` as kaa-base's
coroutine.py behaves (SYNCHRONIZED chains a call onto the last unfinished one,
SINGLETON returns it, PASS_LAST passes it as ``last=``; the calls are stored on the
instance for methods, under the group name), and ``InProgressStatus``."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import pytest

from shortly.compat import kaa

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


def test_the_policy_constants_are_kaas_strings() -> None:
    assert (kaa.POLICY_SYNCHRONIZED, kaa.POLICY_SINGLETON, kaa.POLICY_PASS_LAST) == (
        "synchronized",
        "singleton",
        "passlast",
    )
    with pytest.raises(ValueError, match="policy"):
        kaa.coroutine(policy="sometimes")


def test_synchronized_calls_run_one_after_the_other_in_order() -> None:
    log: list[str] = []
    gates = [kaa.InProgress() for _ in range(3)]

    @kaa.coroutine(policy=kaa.POLICY_SYNCHRONIZED)
    def job(n: int) -> Generator[Any, Any, int]:
        log.append(f"start {n}")
        yield gates[n]
        log.append(f"end {n}")
        return n

    calls = [job(n) for n in range(3)]
    assert log == ["start 0"]  # the others wait, not even entered
    gates[2].finish(None)
    gates[1].finish(None)
    assert log == ["start 0"]
    gates[0].finish(None)
    assert log == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]
    assert [ip.result for ip in calls] == [0, 1, 2]


def test_synchronized_continues_after_a_failed_call() -> None:
    gate = kaa.InProgress()

    @kaa.coroutine(policy=kaa.POLICY_SYNCHRONIZED)
    def job(fail: bool) -> Generator[Any, Any, str]:
        yield gate
        if fail:
            raise KeyError("first")
        return "second"

    first, second = job(True), job(False)
    first.exception.connect(lambda tp, exc, tb: None)
    gate.finish(None)
    assert first.failed and second.result == "second"


def test_aborting_a_queued_synchronized_call_never_enters_it() -> None:
    entered: list[int] = []
    gate = kaa.InProgress()

    @kaa.coroutine(policy=kaa.POLICY_SYNCHRONIZED)
    def job(n: int) -> Generator[Any, Any, int]:
        entered.append(n)
        yield gate
        return n

    first, queued, third = job(1), job(2), job(3)
    queued.abort()
    gate.finish(None)
    assert entered == [1, 3] and first.result == 1 and third.result == 3
    with pytest.raises(kaa.InProgressAborted):
        queued.result  # noqa: B018


def test_synchronized_from_many_threads_never_overlaps() -> None:
    running = [0]
    overlaps: list[int] = []
    lock = threading.Lock()

    @kaa.coroutine(policy=kaa.POLICY_SYNCHRONIZED)
    def job() -> Generator[Any, Any, None]:
        with lock:
            running[0] += 1
            overlaps.append(running[0])
        yield kaa.delay(0)
        with lock:
            running[0] -= 1

    started: list[kaa.InProgress] = []
    start_lock = threading.Lock()

    def caller() -> None:
        for _ in range(10):
            ip = job()
            with start_lock:
                started.append(ip)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    for ip in started:
        ip.wait(timeout=10)
    assert len(started) == 80 and max(overlaps) == 1


def test_singleton_returns_the_unfinished_call_then_starts_anew() -> None:
    runs: list[int] = []
    gate = kaa.InProgress()

    @kaa.coroutine(policy=kaa.POLICY_SINGLETON)
    def refresh() -> Generator[Any, Any, int]:
        runs.append(1)
        yield gate
        return len(runs)

    first = refresh()
    assert refresh() is first and runs == [1]
    gate.finish(None)
    assert first.result == 1
    again = refresh()
    assert again is not first and again.result == 2


def test_singleton_called_from_many_threads_at_once_starts_once() -> None:
    gate = kaa.InProgress()
    runs: list[int] = []

    @kaa.coroutine(policy=kaa.POLICY_SINGLETON)
    def fetch() -> Generator[Any, Any, str]:
        runs.append(1)
        yield gate
        return "one"

    barrier = threading.Barrier(16, timeout=5)
    got: list[kaa.InProgress] = []

    def call() -> None:
        barrier.wait()
        got.append(fetch())

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    gate.finish(None)
    assert runs == [1] and len({id(ip) for ip in got}) == 1 and got[0].result == "one"


def test_pass_last_passes_the_latest_unfinished_call_or_none() -> None:
    seen: list[Any] = []
    gate = kaa.InProgress()

    @kaa.coroutine(policy=kaa.POLICY_PASS_LAST)
    def step(n: int, last: kaa.InProgress | None = None) -> Generator[Any, Any, int]:
        seen.append(last)
        yield gate
        return n

    first = step(1)
    second = step(2)
    assert seen == [None, first]
    gate.finish(None)
    step(3)
    assert seen[2] is None and first.result == 1 and second.result == 2


def test_methods_keep_their_calls_per_instance_and_groups_share_them() -> None:
    class Player:
        def __init__(self) -> None:
            self.gate = kaa.InProgress()

        @kaa.coroutine(policy=kaa.POLICY_SINGLETON, group="io")
        def play(self) -> Generator[Any, Any, str]:
            yield self.gate
            return "play"

        @kaa.coroutine(policy=kaa.POLICY_SINGLETON, group="io")
        def stop(self) -> Generator[Any, Any, str]:
            yield self.gate
            return "stop"

    a, b = Player(), Player()
    playing = a.play()
    assert a.stop() is playing  # same group: the unfinished call is shared
    assert b.play() is not playing  # another instance has its own
    a.gate.finish(None)
    b.gate.finish(None)
    assert playing.result == "play"


def test_progress_passes_a_status_that_is_the_inprogress_progress() -> None:
    reports: list[float] = []

    @kaa.coroutine(progress=True)
    def copy(status: kaa.InProgressStatus, files: int) -> Generator[Any, Any, str]:
        status.set(0, files)
        for _ in range(files):
            yield kaa.delay(0)
            status.update()
        return "copied"

    ip = copy(4)
    assert isinstance(ip.progress, kaa.InProgressStatus)
    ip.progress.changed.connect(lambda s: reports.append(s.percentage))
    assert ip.wait(timeout=5) == "copied"
    assert reports == [25.0, 50.0, 75.0, 100.0]
    assert ip.progress.pos == ip.progress.max == 4
    assert kaa.InProgress().progress is None


def test_progress_accepts_a_status_class() -> None:
    class Bytes(kaa.InProgressStatus):
        pass

    @kaa.coroutine(progress=Bytes)
    def task(status: Bytes) -> Generator[Any, Any, int]:
        status.update(10)
        yield kaa.NotFinished
        return status.pos

    ip = task()
    assert type(ip.progress) is Bytes and ip.wait(timeout=5) == 10


def test_status_set_update_percentage_and_eta() -> None:
    status = kaa.InProgressStatus()
    emitted: list[tuple[float, float]] = []
    status.connect(lambda s: emitted.append((s.pos, s.max)))
    assert status.percentage == 0 and status.eta == 0
    status.set(max=10)
    status.update(4, speed=2)
    status.set(pos=12)
    assert emitted == [(0, 10), (4, 10), (12, 12)]
    assert status.percentage == 100.0 and status.speed is None
    assert status.eta == 0  # pos == max: nothing left
    assert status.get_progressbar(10).startswith("|=======>")


def test_progress_must_be_a_bool_or_a_status_class() -> None:
    with pytest.raises(TypeError, match="progress"):
        kaa.coroutine(progress="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="progress"):
        kaa.threaded(progress=dict)  # type: ignore[arg-type]
