"""Pay for what you use: no lock or condition unless someone blocks."""

from __future__ import annotations

import concurrent.futures as cf
import threading

import shortly
from shortly._core import _waiting


def test_resolution_with_callbacks_allocates_no_wait_state() -> None:
    f: shortly.Future[int] = shortly.Future()
    f.add_done_callback(lambda _: None)
    f.set_result(1)
    assert f.result() == 1
    assert f._wait_list is None


def test_condition_is_created_on_first_use_and_kept() -> None:
    f: shortly.Future[int] = shortly.Future()
    assert f._wait_list is None
    cond = f._condition
    assert isinstance(f._wait_list, _waiting.StdlibWaiters)
    assert f._condition is cond
    cf.wait([f], timeout=0)
    f.set_result(1)
    assert cf.wait([f], timeout=1).done == {f}


def test_stripes_are_shared_not_per_future() -> None:
    locks = {id(shortly.Future()._lock) for _ in range(1000)}
    assert len(locks) <= 128


def test_waker_released_by_any_stdlib_waiter_method() -> None:
    for method in ("add_result", "add_exception", "add_cancelled"):
        waker = _waiting.Waker()
        getattr(waker, method)(None)
        waker.sleep(0)  # returns at once: the lock was released
        assert waker._lock.locked()


def test_waker_sleep_times_out() -> None:
    waker = _waiting.Waker()
    waker.sleep(0.001)
    assert waker._lock.locked()
    t = threading.Thread(target=waker.wake, args=(None,))
    t.start()
    waker.sleep(None)
    t.join()
