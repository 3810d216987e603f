"""shortly.compat.pyro4: each call on a daemon thread of its own (Pyro4's
``Future.__call__`` starts a ``threading.Thread`` with ``daemon = True`` per call), and
the argument-less ``FutureResult()`` whose ``value`` is assigned (Pyro4's
``FutureResult.set_value``: the call chain runs in the assigning thread)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from shortly.compat.pyro4 import Future, FutureResult

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


def test_calls_waiting_on_an_event_do_not_delay_the_call_that_sets_it() -> None:
    event = threading.Event()
    waiting = [Future(event.wait)(10) for _ in range(12)]
    started = time.monotonic()
    setter = Future(event.set)()
    assert all(result.wait(5) for result in waiting)
    assert setter.wait(5)
    assert [result.value for result in waiting] == [True] * 12
    assert time.monotonic() - started < 2


def test_twelve_calls_meet_at_a_barrier_of_twelve() -> None:
    barrier = threading.Barrier(12, timeout=5)
    results = [Future(barrier.wait)() for _ in range(12)]
    assert sorted(result.value for result in results) == list(range(12))


def test_each_running_call_has_its_own_daemon_thread() -> None:
    barrier = threading.Barrier(8, timeout=5)

    def where() -> tuple[int, bool]:
        barrier.wait()  # all eight run at the same time
        thread = threading.current_thread()
        return thread.ident or 0, thread.daemon

    started = [Future(where)() for _ in range(8)]
    seen = [result.value for result in started]
    assert len({ident for ident, _ in seen}) == 8
    assert all(daemon for _, daemon in seen)


def test_a_call_that_never_returns_does_not_keep_the_process_alive() -> None:
    code = textwrap.dedent(
        """
        import threading
        from shortly.compat.pyro4 import Future
        result = Future(threading.Event().wait)()
        print("started", result.ready)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=15, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started False"


def test_a_delayed_call_starts_its_thread_after_the_delay() -> None:
    future = Future(lambda: threading.current_thread().daemon)
    assert future.delay(0.05)
    started = time.monotonic()
    result = future()
    assert result.value is True
    assert time.monotonic() - started >= 0.04


def test_future_result_without_argument_takes_an_assigned_value() -> None:
    result: FutureResult[int] = FutureResult()
    assert not result.ready
    assert result.wait(0.01) is False
    result.value = 5
    assert result.ready and result.value == 5


def test_assigning_the_value_runs_the_chain_in_the_assigning_thread() -> None:
    threads: list[threading.Thread] = []

    def record(value: int, extra: int) -> int:
        threads.append(threading.current_thread())
        return value + extra

    result: FutureResult[int] = FutureResult()
    result.then(record, 1).then(record, 10)
    result.value = 100
    assert threads == [threading.current_thread()] * 2
    assert result.value == 111


def test_assigning_wakes_a_blocked_reader_and_the_handler_hears_chain_failures() -> None:
    result: FutureResult[int] = FutureResult()
    errors: list[BaseException] = []
    result.then(lambda x: 1 // x).iferror(errors.append)
    got: list[object] = []

    def read() -> None:
        try:
            got.append(result.value)
        except ZeroDivisionError as error:
            got.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    result.value = 0
    reader.join(5)
    assert len(errors) == 1 and isinstance(errors[0], ZeroDivisionError)
    assert got == errors


def test_assigning_twice_raises() -> None:
    result: FutureResult[str] = FutureResult()
    result.value = "first"
    with pytest.raises(RuntimeError, match="already set"):
        result.value = "second"
    assert result.value == "first"
    with pytest.raises(TypeError, match="future must be"):
        FutureResult(42)  # type: ignore[arg-type]


def test_the_iferror_handler_has_run_when_the_result_is_ready() -> None:
    # Pyro4 calls the handler before it marks the result ready; a reader woken by
    # wait() must find the handler done, every time.
    for _ in range(200):
        failures: list[BaseException] = []
        result = Future(int).iferror(failures.append)("x")
        assert result.wait(5)
        assert len(failures) == 1
        with pytest.raises(ValueError):
            result.value  # noqa: B018
