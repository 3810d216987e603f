"""Chains, upward cancellation and awaiting under many threads, checked with exact counts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

import shortly

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("no_unhandled_failures")]


def run_threads(n: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


def test_links_attached_while_the_root_resolves_each_run_exactly_once() -> None:
    roots: list[shortly.Future[int]] = [shortly.Future() for _ in range(400)]
    calls = [0] * (8 * len(roots))
    lock = threading.Lock()
    links: list[shortly.Future[int]] = []
    start = threading.Barrier(9)

    def count(slot: int) -> Callable[[int], int]:
        def handler(x: int) -> int:
            with lock:
                calls[slot] += 1
            return x + 1

        return handler

    def attach(i: int) -> None:
        start.wait()
        mine = [root.then(count(i * len(roots) + k)) for k, root in enumerate(roots)]
        with lock:
            links.extend(mine)

    resolver = threading.Thread(
        target=lambda: (start.wait(), [root.set_result(k) for k, root in enumerate(roots)])
    )
    resolver.start()
    run_threads(8, attach)
    resolver.join(30)
    assert calls == [1] * len(calls)
    assert sorted(link.result(timeout=5) for link in links) == sorted(
        k + 1 for k in range(len(roots)) for _ in range(8)
    )


def test_two_dependants_cancelled_at_once_cancel_their_parent_exactly_when_both_are() -> None:
    trials = 1500
    outcomes: list[bool] = []
    for _ in range(trials):
        root: shortly.Future[int] = shortly.Future()
        first, second = root.then(lambda x: x), root.then(lambda x: x)
        barrier = threading.Barrier(2)

        def cancel(link: shortly.Future[int], barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            link.cancel()

        t = threading.Thread(target=cancel, args=(first,))
        t.start()
        cancel(second)
        t.join(5)
        outcomes.append(root.cancelled())
    assert outcomes == [True] * trials


def test_a_cancel_racing_a_resolution_never_costs_the_other_dependant_its_value() -> None:
    trials = 1500
    values: list[Any] = []
    for i in range(trials):
        root: shortly.Future[int] = shortly.Future()
        lost, kept = root.then(lambda x: x), root.then(lambda x: x * 2)
        barrier = threading.Barrier(2)

        def resolve(
            root: shortly.Future[int] = root, barrier: threading.Barrier = barrier, i: int = i
        ) -> None:
            barrier.wait()
            root.set_result(i)

        t = threading.Thread(target=resolve)
        t.start()
        barrier.wait()
        lost.cancel()
        t.join(5)
        values.append(kept.result(timeout=5))
        assert not root.cancelled()
    assert values == [2 * i for i in range(trials)]


def test_long_chains_built_while_their_roots_resolve_elsewhere() -> None:
    length = 2000
    results: list[int] = []
    lock = threading.Lock()

    def build(_: int) -> None:
        root: shortly.Future[int] = shortly.Future()
        resolver = threading.Thread(target=root.set_result, args=(0,))
        end: shortly.Future[int] = root
        for k in range(length):
            if k == length // 2:
                resolver.start()  # resolves somewhere in the middle of the building
            end = end.then(lambda x: x + 1)
        resolver.join(10)
        with lock:
            results.append(end.result(timeout=10))

    run_threads(6, build)
    assert results == [length] * 6


def test_many_loops_in_many_threads_await_one_future() -> None:
    loops, tasks_per_loop = 4, 100
    f: shortly.Future[str] = shortly.Future()
    got: list[str] = []
    lock = threading.Lock()
    parked = threading.Barrier(loops + 1)

    def loop_thread(_: int) -> None:
        async def main() -> None:
            async def wait() -> None:
                value = await f
                with lock:
                    got.append(value)

            tasks = [asyncio.ensure_future(wait()) for _ in range(tasks_per_loop)]
            await asyncio.sleep(0)  # one step: every task is now parked on f
            await asyncio.get_running_loop().run_in_executor(None, parked.wait)
            await asyncio.gather(*tasks)

        asyncio.run(main())

    threads = threading.Thread(target=run_threads, args=(loops, loop_thread))
    threads.start()
    parked.wait(10)
    f.set_result("for everyone")
    threads.join(30)
    assert got == ["for everyone"] * (loops * tasks_per_loop)
