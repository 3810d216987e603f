"""shortly.compat.kaa: ``kaa.main.run()``/``stop()``, ``MAINTHREAD`` and ``threaded()``
dispatch (kaa-base's thread.py: MAINTHREAD calls from other threads are queued for the
main loop, from the main thread they run at once; ``threaded()`` runs each call on its
own thread; ``async=False`` blocks), and the minimal ``Socket`` of the seed example."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from shortly.compat import kaa

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


@pytest.fixture
def loop_thread() -> Iterator[None]:
    """A main loop running in a thread of its own for the test."""
    kaa.main.run(threaded=True)
    try:
        yield
    finally:
        kaa.main.stop()
    assert not kaa.main.is_running()


def test_run_returns_after_stop_from_a_queued_call() -> None:
    order: list[str] = []

    @kaa.threaded(kaa.MAINTHREAD)
    def first() -> None:
        order.append("first")

    @kaa.threaded(kaa.MAINTHREAD)
    def last() -> None:
        order.append("last")
        kaa.main.stop()

    caller = threading.Thread(target=lambda: (first(), last()))
    caller.start()
    caller.join(5)
    kaa.main.run()
    assert order == ["first", "last"]
    assert not kaa.main.is_running()


def test_mainthread_call_from_the_main_thread_runs_at_once() -> None:
    @kaa.threaded(kaa.MAINTHREAD)
    def where() -> threading.Thread:
        return threading.current_thread()

    ip = where()
    assert ip.finished and ip.result is threading.current_thread()


def test_mainthread_calls_from_many_threads_run_on_the_loop_thread_in_order(
    loop_thread: None,
) -> None:
    ran_on: list[threading.Thread] = []
    per_caller: dict[int, list[int]] = {}

    @kaa.threaded(kaa.MAINTHREAD)
    def record(caller: int, n: int) -> int:
        ran_on.append(threading.current_thread())
        per_caller.setdefault(caller, []).append(n)
        return n

    results: list[kaa.InProgress] = []
    lock = threading.Lock()

    def caller(index: int) -> None:
        for n in range(25):
            ip = record(index, n)
            with lock:
                results.append(ip)

    callers = [threading.Thread(target=caller, args=(i,)) for i in range(8)]
    for thread in callers:
        thread.start()
    for thread in callers:
        thread.join(5)
    assert all(ip.wait(timeout=5) is not None for ip in results)
    assert len(results) == 200 and len(set(ran_on)) == 1
    assert ran_on[0].name == "kaa-main"
    assert all(numbers == list(range(25)) for numbers in per_caller.values())


def test_is_mainthread_follows_the_loop(loop_thread: None) -> None:
    assert not kaa.is_mainthread()

    @kaa.threaded(kaa.MAINTHREAD)
    def ask() -> bool:
        return kaa.is_mainthread()

    assert ask().wait(timeout=5) is True
    with pytest.raises(RuntimeError, match="already running"):
        kaa.main.run()


def test_wait_in_the_main_thread_runs_the_queued_calls() -> None:
    @kaa.threaded(kaa.MAINTHREAD)
    def on_main() -> str:
        return threading.current_thread().name

    # Another thread asks the main thread; the main thread waits for the answer.
    outer: list[kaa.InProgress] = []
    asker = threading.Thread(target=lambda: outer.append(on_main()))
    asker.start()
    asker.join(5)
    assert outer[0].wait(timeout=5) == threading.current_thread().name


def test_a_failing_main_thread_call_throws_into_its_inprogress(loop_thread: None) -> None:
    @kaa.threaded(kaa.MAINTHREAD)
    def broken() -> None:
        raise KeyError("main")

    with pytest.raises(KeyError):
        broken().wait(timeout=5)


def test_threaded_runs_each_call_on_a_new_daemon_thread() -> None:
    barrier = threading.Barrier(6, timeout=5)

    @kaa.threaded()
    def meet() -> tuple[int | None, bool]:
        barrier.wait()
        thread = threading.current_thread()
        return thread.ident, thread.daemon

    calls = [meet() for _ in range(6)]
    seen = [ip.wait(timeout=5) for ip in calls]
    assert len({ident for ident, _ in seen}) == 6 and all(daemon for _, daemon in seen)


def test_threaded_named_pool_runs_calls_one_at_a_time_in_order() -> None:
    log: list[int] = []
    running = [0]
    overlap: list[int] = []

    @kaa.threaded("kaa-test-pool")
    def job(n: int) -> int:
        running[0] += 1
        overlap.append(running[0])
        log.append(n)
        running[0] -= 1
        return n

    calls = [job(n) for n in range(30)]
    assert [ip.wait(timeout=5) for ip in calls] == list(range(30))
    assert log == list(range(30)) and max(overlap) == 1


def test_threaded_async_false_blocks_and_progress_is_passed() -> None:
    @kaa.threaded(**{"async": False})
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3) == 5

    @kaa.threaded(progress=True)
    def work(status: kaa.InProgressStatus) -> float:
        status.set(1, 2)
        return status.percentage

    ip = work()
    assert ip.wait(timeout=5) == 50.0 and ip.progress.pos == 1
    with pytest.raises(TypeError, match="pool"):
        kaa.threaded(3.5)
    with pytest.raises(TypeError, match="unexpected"):
        kaa.threaded(sync=True)


def test_stop_from_another_thread_returns_once_stopped() -> None:
    kaa.main.run(threaded=True)
    assert kaa.main.is_running()
    kaa.main.stop()
    assert not kaa.main.is_running()
    kaa.main.stop()  # not running: nothing to do


def test_shutdown_signal_is_emitted_when_run_returns() -> None:
    heard: list[str] = []
    kaa.main.signals["shutdown"].connect_once(lambda: heard.append("shutdown"))
    kaa.main.run(threaded=True)
    kaa.main.stop()
    assert heard == ["shutdown"]


def test_socket_connects_writes_and_reads_on_loopback(loop_thread: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def echo() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(conn.recv(100).upper())

        threading.Thread(target=echo, daemon=True).start()
        sock = kaa.Socket()
        assert sock.connect(("127.0.0.1", port)).wait(timeout=5) is None
        assert sock.connected
        sock.write(b"ping").wait(timeout=5)
        assert sock.read().wait(timeout=5) == b"PING"
        sock.close()
        assert not sock.connected


def test_socket_connect_failure_throws_into_the_inprogress(loop_thread: None) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    errors: list[Any] = []
    ip = kaa.Socket().connect(f"127.0.0.1:{port}")
    ip.exception.connect(lambda tp, exc, tb: errors.append(tp))
    with pytest.raises(ConnectionRefusedError):
        ip.wait(timeout=5)
    assert errors == [ConnectionRefusedError]
    with pytest.raises(ValueError, match="addr"):
        kaa.Socket().connect("no-port")
