"""The trampoline: cascades stay flat, order is breadth first, errors are contained."""

from __future__ import annotations

import sys

import pytest

import shortly
from shortly._core import _trampoline
from shortly.testing import no_unhandled, recording_unhandled


@pytest.mark.timeout(30)
def test_cascade_of_100000_resolutions_does_not_recurse() -> None:
    n = 100_000
    futures: list[shortly.Future[int]] = [shortly.Future() for _ in range(n)]
    for i in range(n - 1):
        futures[i].add_done_callback(lambda f, nxt=futures[i + 1]: nxt.set_result(f.result() + 1))
    assert n > sys.getrecursionlimit()
    futures[0].set_result(0)
    assert futures[-1].result() == n - 1


def test_order_is_breadth_first() -> None:
    a: shortly.Future[None] = shortly.Future()
    b: shortly.Future[None] = shortly.Future()
    order: list[str] = []
    a.add_done_callback(lambda _: (order.append("a1"), b.set_result(None)))
    a.add_done_callback(lambda _: order.append("a2"))
    b.add_done_callback(lambda _: order.append("b1"))
    a.set_result(None)
    assert order == ["a1", "a2", "b1"]


def test_a_raising_callback_in_a_queued_batch_does_not_stop_the_drain() -> None:
    a: shortly.Future[None] = shortly.Future()
    b: shortly.Future[None] = shortly.Future()
    c: shortly.Future[None] = shortly.Future()
    a.add_done_callback(lambda _: (b.set_result(None), c.set_result(None)))
    b.add_done_callback(lambda _: 1 / 0)
    ran: list[str] = []
    c.add_done_callback(lambda _: ran.append("c"))
    with pytest.raises(AssertionError, match="ZeroDivisionError"), no_unhandled():
        a.set_result(None)
    assert ran == ["c"]
    assert not _trampoline._state().draining and not _trampoline._state().queue


def test_keyboard_interrupt_is_not_swallowed() -> None:
    f: shortly.Future[None] = shortly.Future()

    def interrupt(_: object) -> None:
        raise KeyboardInterrupt

    f.add_done_callback(interrupt)
    with pytest.raises(KeyboardInterrupt):
        f.set_result(None)
    assert not _trampoline._state().draining, "the drain flag is reset on the way out"


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_does_not_drop_the_other_callbacks(interrupt: type[BaseException]) -> None:
    f: shortly.Future[int] = shortly.Future()
    ran: list[str] = []

    def raising(_: object) -> None:
        ran.append("raising")
        raise interrupt

    f.add_done_callback(raising)
    f.add_done_callback(lambda _: ran.append("second"))
    child = f.then(lambda x: x + 1)
    with pytest.raises(interrupt):
        f.set_result(1)
    assert ran == ["raising", "second"]
    assert child.result(timeout=0) == 2, "the then-child still settles"


def test_an_interrupt_in_a_cascade_runs_queued_links_before_propagating_once() -> None:
    a: shortly.Future[None] = shortly.Future()
    b: shortly.Future[None] = shortly.Future()
    c: shortly.Future[None] = shortly.Future()
    ran: list[str] = []

    def interrupt(_: object) -> None:
        raise KeyboardInterrupt

    a.add_done_callback(lambda _: (b.set_result(None), c.set_result(None)))
    b.add_done_callback(interrupt)
    c.add_done_callback(lambda _: ran.append("c"))
    raised = 0
    try:
        a.set_result(None)
    except KeyboardInterrupt:
        raised += 1
    assert raised == 1
    assert ran == ["c"], "a link queued behind the interrupt ran in the same call"
    state = _trampoline._state()
    assert not state.draining and not state.queue, "nothing left for an unrelated call"


def test_a_second_interrupt_is_reported_not_lost() -> None:
    f: shortly.Future[None] = shortly.Future()

    def first(_: object) -> None:
        raise KeyboardInterrupt("first")

    def second(_: object) -> None:
        raise KeyboardInterrupt("second")

    f.add_done_callback(first)
    f.add_done_callback(second)
    with recording_unhandled() as seen, pytest.raises(KeyboardInterrupt, match="first"):
        f.set_result(None)
    assert [str(u.error) for u in seen] == ["second"]


def test_a_raising_callback_is_reported_in_the_stdlib_words() -> None:
    f: shortly.Future[None] = shortly.Future()
    f.add_done_callback(lambda _: 1 / 0)
    with recording_unhandled() as seen:
        f.set_result(None)
    assert len(seen) == 1
    assert seen[0].context.startswith("exception calling callback for <Future at 0x")
