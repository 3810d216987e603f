"""Deadlock detection: owners, 2- and 3-cycles, and no false positives."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

import shortly
from tests.helpers import when_waited_on

pytestmark = pytest.mark.timeout(10)


def test_owner_waiting_on_its_own_future_raises_at_once() -> None:
    f: shortly.Future[int] = shortly.Future(owner=threading.current_thread())
    with pytest.raises(shortly.DeadlockError, match="MainThread") as info:
        f.result()
    assert isinstance(info.value, RuntimeError)
    assert repr(f) in str(info.value)
    with pytest.raises(shortly.DeadlockError):
        f.wait(timeout=30)
    assert not f._wait_list, "a refused wait leaves no registration behind"


def test_owner_waiting_on_done_future_is_fine() -> None:
    f = shortly.Future.resolved(3)
    f._owner = threading.current_thread()
    assert f.result() == 3


def test_owner_like_object_names_its_thread() -> None:
    class Worker:
        def __shortly_owner_thread__(self) -> threading.Thread | None:
            return threading.current_thread()

    f: shortly.Future[int] = shortly.Future(owner=Worker())
    with pytest.raises(shortly.DeadlockError):
        f.result()


def _run_cycle(n: int) -> list[BaseException]:
    """n threads; thread i waits on a future owned by thread i+1 (mod n).

    They start together: whichever registers its wait last closes the cycle and must
    be the only one to raise. It then resolves its own future, which unwinds the rest.
    """
    futures: list[shortly.Future[int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def body(i: int) -> None:
        barrier.wait(5)
        try:
            futures[(i + 1) % n].result(timeout=5)
        except shortly.DeadlockError as e:
            errors.append(e)
        except BaseException as e:  # a timeout would mean the detector missed it
            errors.append(e)
        futures[i].try_set_result(i)

    threads = [threading.Thread(target=body, args=(i,), name=f"cycle-{i}") for i in range(n)]
    futures.extend(shortly.Future(owner=t) for t in threads)
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return errors


@pytest.mark.parametrize("n", [2, 3])
def test_cycle_is_refused_in_the_thread_that_closes_it(n: int) -> None:
    errors = _run_cycle(n)
    assert len(errors) == 1, errors
    error = errors[0]
    assert isinstance(error, shortly.DeadlockError)
    assert "cycle" in str(error)
    for i in range(n):
        assert f"cycle-{i}" in str(error)


def test_no_false_positive_when_another_thread_resolves() -> None:
    # A waits on a future owned by B; B is busy (not waiting on A's futures) and
    # resolves it. No error.
    ready = threading.Event()
    b_may_finish = threading.Event()
    result: list[int] = []

    def b_body() -> None:
        ready.wait(5)
        b_may_finish.wait(5)
        f_b.set_result(7)

    b = threading.Thread(target=b_body)
    f_b: shortly.Future[int] = shortly.Future(owner=b)
    b.start()

    def a_body() -> None:
        ready.set()
        result.append(f_b.result(timeout=5))

    a = threading.Thread(target=a_body)
    a.start()
    b_may_finish.set()
    a.join(10)
    b.join(10)
    assert result == [7]


def test_no_false_positive_for_ownerless_futures_in_a_ring() -> None:
    # Two threads each wait on an ownerless future the other resolves: fine.
    f1: shortly.Future[int] = shortly.Future()
    f2: shortly.Future[int] = shortly.Future()
    out: list[int] = []

    def one() -> None:
        f2.set_result(2)
        out.append(f1.result(timeout=5))

    t = threading.Thread(target=one)
    t.start()
    out.append(f2.result(timeout=5))
    f1.set_result(1)
    t.join(10)
    assert sorted(out) == [1, 2]


def test_waiting_on_owned_future_of_a_waiting_thread_outside_cycle() -> None:
    # C waits on B's future while B waits on an ownerless future: not a deadlock.
    gate: shortly.Future[None] = shortly.Future()
    b_waiting = threading.Event()

    def b_body() -> None:
        b_waiting.set()
        gate.result(timeout=5)
        f_b.set_result(1)

    b = threading.Thread(target=b_body)
    f_b: shortly.Future[int] = shortly.Future(owner=b)
    b.start()
    b_waiting.wait(5)
    releaser = when_waited_on(f_b, lambda: gate.set_result(None))
    assert f_b.result(timeout=5) == 1
    b.join(5)
    releaser.join(5)


_DERIVE: list[Callable[[shortly.Future[int]], shortly.Future[Any]]] = [
    lambda f: f.then(lambda v: v),
    shortly.shield,
    lambda f: shortly.all_of([f, f.then(lambda v: v)]),
]


def _ring_of_derived_waits(n: int) -> tuple[list[str], list[BaseException]]:
    """Thread i waits on a future derived from thread i+1's own; who was refused."""
    barrier = threading.Barrier(n)
    refused: list[str] = []
    other: list[BaseException] = []

    def body(i: int) -> None:
        target = _DERIVE[i % len(_DERIVE)](futures[(i + 1) % n])
        barrier.wait(5)
        try:
            target.result(timeout=5)
        except shortly.DeadlockError:
            refused.append(threading.current_thread().name)
        except BaseException as error:
            other.append(error)
        futures[i].try_set_result(i)

    threads = [threading.Thread(target=body, args=(i,), name=f"ring-{i}") for i in range(n)]
    futures: list[shortly.Future[int]] = [shortly.Future(owner=t) for t in threads]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return refused, other


def test_rings_of_derived_waits_are_refused_exactly_once_under_stress() -> None:
    # Whichever registers last closes the ring and is the only one refused.
    for _ in range(20):
        refused, other = _ring_of_derived_waits(8)
        assert len(refused) == 1, refused
        assert other == []


def test_a_refused_cycle_message_names_every_party_in_order() -> None:
    from_b: shortly.Future[int] = shortly.Future(owner=threading.current_thread(), name="from-b")
    derived = from_b.then(str)
    a = threading.Thread(target=lambda: derived.result(timeout=5), name="alpha")
    from_a: shortly.Future[int] = shortly.Future(owner=a, name="from-alpha")
    a.start()
    when_waited_on(derived, lambda: None).join(5)  # alpha is registered as waiting
    with pytest.raises(shortly.DeadlockError) as info:
        from_a.result(timeout=5)
    message = str(info.value)
    assert message.startswith("waiting would close a cycle: thread 'MainThread' waits on ")
    steps = [
        "thread 'MainThread' waits on",
        "from-alpha",
        "owned by 'alpha'",
        "thread 'alpha' waits on",
        "which settles from",
        "from-b",
        "owned by 'MainThread'",
        "that is thread 'MainThread' again",
    ]
    positions = [message.index(step) for step in steps]
    assert positions == sorted(positions), message
    from_b.set_result(1)
    a.join(5)


def test_a_chain_too_long_to_walk_is_let_through_and_a_shorter_one_is_not() -> None:
    writer = shortly.SerialExecutor(name="chains")

    def wait_on_chain(links: int) -> BaseException | None:
        end = writer.submit(int)
        for _ in range(links):
            end = end.then(lambda v: v)
        return end.exception(timeout=0.05)

    refused = writer.submit(wait_on_chain, 2_000).exception(5)
    assert isinstance(refused, shortly.DeadlockError)
    assert "which settles from 1,994 more derived futures" in str(refused)
    assert len(str(refused)) < 2_000  # the ends of the chain, not all of it
    # Past 10,000 futures the check gives up (see the deadlocks guide): the wait times out.
    error = writer.submit(wait_on_chain, 12_000).exception(5)
    assert isinstance(error, shortly.TimeoutError), error
    writer.shutdown()
