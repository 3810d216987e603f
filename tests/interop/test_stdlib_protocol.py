"""Code that drives the stdlib's internal protocol by hand still wakes shortly's waiters.

Executors and old libraries set ``_state``/``_result``/``_exception`` under ``with
f._condition:`` and call ``notify_all()``, as ``concurrent.futures`` did before
``set_result`` existed. A thread blocked in ``result()`` must wake then, not at its
timeout.
"""

from __future__ import annotations

import threading
from concurrent.futures import _base

import pytest

import shortly


def _block_then_drive(f: shortly.Future[int], drive: threading.Event) -> None:
    def driver() -> None:
        drive.wait(timeout=10)
        with f._condition:
            f._state = _base.FINISHED
            f._result = 7
            f._condition.notify_all()

    threading.Thread(target=driver, daemon=True).start()


@pytest.mark.timeout(10)
@pytest.mark.parametrize("touch_condition_first", [False, True])
def test_hand_driven_notify_all_wakes_result(touch_condition_first: bool) -> None:
    f: shortly.Future[int] = shortly.Future()
    if touch_condition_first:
        f._condition  # noqa: B018  (the waiter list is already the stdlib's)
    drive = threading.Event()
    _block_then_drive(f, drive)
    f.add_done_callback(lambda _: None)
    # Release the driver only once this thread is about to sleep in result().
    threading.Timer(0.0, drive.set).start()
    # No timeout of its own: asleep until a notification that never came, the test
    # would fail by its own timeout.
    assert f.result() == 7


@pytest.mark.timeout(10)
def test_spurious_notify_does_not_end_a_wait_early() -> None:
    f: shortly.Future[int] = shortly.Future()
    woke = threading.Event()

    def nudge_then_resolve() -> None:
        with f._condition:
            f._condition.notify_all()  # nothing changed: the waiter must sleep on
        woke.set()
        f.set_result(3)

    threading.Timer(0.05, nudge_then_resolve).start()
    assert f.result(timeout=8) == 3
    assert woke.is_set()


def test_invalid_state_message_has_the_stdlib_prefix() -> None:
    f: shortly.Future[int] = shortly.Future()
    f.set_result(1)
    with pytest.raises(shortly.InvalidStateError, match=r"^FINISHED: <Future at 0x[0-9a-f]+ "):
        f.set_result(2)


def test_repr_uses_the_stdlib_words() -> None:
    assert "state=pending" in repr(shortly.Future())
    assert "state=finished returned int" in repr(shortly.Future.resolved(1))
    failed = shortly.Future.failed(OSError())
    assert "state=finished raised OSError" in repr(failed)
    failed.exception()
    cancelled: shortly.Future[int] = shortly.Future()
    cancelled.cancel()
    assert "state=cancelled" in repr(cancelled)
    running: shortly.Future[int] = shortly.Future()
    running.set_running_or_notify_cancel()
    assert "state=running" in repr(running)
