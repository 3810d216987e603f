"""Dependants and the upward cancellation rule (Bluebird's)."""

from __future__ import annotations

import threading

import pytest

import shortly
from shortly._core._cancel import cancel_if_unwanted, depend, wanted


def pair() -> tuple[shortly.Future[int], shortly.Future[int]]:
    parent: shortly.Future[int] = shortly.Future()
    child: shortly.Future[int] = shortly.Future()
    depend(parent, child, lambda p: child.try_set_result(p.result()))
    return parent, child


def test_dependant_is_settled_by_its_parent() -> None:
    parent, child = pair()
    parent.set_result(4)
    assert child.result() == 4


def test_sole_dependant_cancelled_cancels_parent_with_its_message() -> None:
    parent, child = pair()
    child.cancel("lost interest")
    assert parent.cancelled()
    with pytest.raises(shortly.CancelledError, match="lost interest"):
        parent.result()


def test_parent_survives_while_another_dependant_wants_it() -> None:
    parent, first = pair()
    second: shortly.Future[int] = shortly.Future()
    depend(parent, second, lambda p: second.try_set_result(p.result()))
    first.cancel()
    assert not parent.cancelled()
    second.cancel()
    assert parent.cancelled()


def test_plain_callback_counts_as_interest() -> None:
    parent, child = pair()
    parent.add_done_callback(lambda _: None)
    child.cancel()
    assert not parent.cancelled()


@pytest.mark.timeout(10)
def test_blocked_waiter_counts_as_interest() -> None:
    parent, child = pair()
    waiting = threading.Event()
    out: list[int] = []

    def wait() -> None:
        waiting.set()
        out.append(parent.result(timeout=5))

    t = threading.Thread(target=wait)
    t.start()
    waiting.wait(5)
    while not parent._wait_list:  # until the waiter is registered
        threading.Event().wait(0.001)
    child.cancel()
    assert not parent.cancelled()
    parent.set_result(1)
    t.join(5)
    assert out == [1]


def test_upward_rule_travels_up_a_line_of_dependants() -> None:
    root: shortly.Future[int] = shortly.Future()
    middle: shortly.Future[int] = shortly.Future()
    leaf: shortly.Future[int] = shortly.Future()
    depend(root, middle, lambda p: middle.try_set_result(p.result()))
    depend(middle, leaf, lambda p: leaf.try_set_result(p.result()))
    leaf.cancel()
    assert middle.cancelled() and root.cancelled()


def test_wanted_and_cancel_if_unwanted_on_a_bare_future() -> None:
    f: shortly.Future[int] = shortly.Future()
    assert not wanted(f)
    assert cancel_if_unwanted(f) is True
    g = shortly.Future.resolved(1)
    assert cancel_if_unwanted(g) is False


def test_depend_on_a_settled_parent_runs_at_once() -> None:
    parent = shortly.Future.resolved(2)
    child: shortly.Future[int] = shortly.Future()
    depend(parent, child, lambda p: child.try_set_result(p.result()))
    assert child.result() == 2
