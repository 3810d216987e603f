"""Chains and the asyncio bridge, against asyncio, Twisted, ``promise`` and bare floors.

Per-link cost of a 1,000-link ``then`` chain: build the chain on a pending root, then
resolve the root so every handler runs. Each entry does the same work per link: one
new future-like object, one handler registered, one handler run passing ``x + 1`` on.
The floor is the least machinery that can do this stack-safely: a ``__slots__`` node
with a callback list per link and a ``deque`` trampoline draining the callbacks.

Asyncio bridge round trip: a coroutine awaits something a worker thread completes,
then hands the worker the next job; one operation is one round trip.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

import shortly

from ._runner import Report

LINKS = 1_000
ROUND_TRIPS = 2_000


def _inc(x: int) -> int:
    return x + 1


# -- then-chains ------------------------------------------------------------------------


def _shortly_chain() -> None:
    root: shortly.Future[int] = shortly.Future()
    f: shortly.Future[int] = root
    for _ in range(LINKS):
        f = f.then(_inc)
    root.set_result(0)
    assert f.result() == LINKS


def _asyncio_chain() -> Callable[[], None]:
    """The same chain emulated on asyncio's C Future, inside a running loop."""

    def link(child: asyncio.Future[int], parent: asyncio.Future[int]) -> None:
        child.set_result(_inc(parent.result()))

    async def body() -> None:
        loop = asyncio.get_running_loop()
        root: asyncio.Future[int] = loop.create_future()
        f = root
        for _ in range(LINKS):
            child: asyncio.Future[int] = loop.create_future()
            f.add_done_callback(partial(link, child))
            f = child
        root.set_result(0)
        assert await f == LINKS

    loop = asyncio.new_event_loop()

    def run() -> None:
        loop.run_until_complete(body())

    return run


class _Node:
    """The floor's future: a value and a callback list."""

    __slots__ = ("callbacks", "value")

    def __init__(self) -> None:
        self.value: Any = None
        self.callbacks: list[Callable[[_Node], None]] = []


def _floor_chain() -> None:
    queue: deque[tuple[_Node, list[Callable[[_Node], None]]]] = deque()

    def settle(node: _Node, value: Any) -> None:
        node.value = value
        queue.append((node, node.callbacks))

    def then(node: _Node, fn: Callable[[Any], Any]) -> _Node:
        child = _Node()
        node.callbacks.append(lambda parent: settle(child, fn(parent.value)))
        return child

    root = _Node()
    f = root
    for _ in range(LINKS):
        f = then(f, _inc)
    settle(root, 0)
    while queue:
        node, callbacks = queue.popleft()
        for callback in callbacks:
            callback(node)
    assert f.value == LINKS


def _twisted_chain() -> Callable[[], None] | None:
    try:
        from twisted.internet import defer
    except ImportError:
        return None

    def run() -> None:
        d: defer.Deferred[int] = defer.Deferred()
        for _ in range(LINKS):
            d.addCallback(_inc)
        out: list[int] = []
        d.addCallback(out.append)
        d.callback(0)
        assert out == [LINKS]

    return run


def _promise_chain() -> Callable[[], None] | None:
    try:
        from promise import Promise
    except ImportError:
        return None

    def run() -> None:
        box: list[Callable[[int], None]] = []
        root = Promise(lambda resolve, _reject: box.append(resolve))
        p = root
        for _ in range(LINKS):
            p = p.then(_inc)
        box[0](0)
        assert p.get() == LINKS

    return run


# -- the asyncio bridge -----------------------------------------------------------------


class _Worker:
    """A thread that completes whatever job it is handed, through ``complete``."""

    def __init__(self, complete: Callable[[Any], None]) -> None:
        self.jobs: deque[Any] = deque()
        self.ready = threading.Semaphore(0)
        self.complete = complete
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.ready.acquire()
            job = self.jobs.popleft()
            if job is None:
                return
            self.complete(job)

    def submit(self, job: Any) -> None:
        self.jobs.append(job)
        self.ready.release()

    def stop(self) -> None:
        self.submit(None)
        self.thread.join()


def _bridge(
    make: Callable[[asyncio.AbstractEventLoop], Any],
    complete: Callable[[Any], None],
    awaitable: Callable[[Any], Any],
) -> Callable[[], None]:
    loop = asyncio.new_event_loop()

    async def body(worker: _Worker) -> None:
        for _ in range(ROUND_TRIPS):
            job = make(loop)
            worker.submit(job)
            await awaitable(job)

    def run() -> None:
        worker = _Worker(complete)
        try:
            loop.run_until_complete(body(worker))
        finally:
            worker.stop()

    return run


def _shortly_bridge() -> Callable[[], None]:
    return _bridge(lambda _loop: shortly.Future(), lambda f: f.set_result(None), lambda f: f)


def _wrap_future_bridge() -> Callable[[], None]:
    return _bridge(
        lambda _loop: concurrent.futures.Future(),
        lambda f: f.set_result(None),
        asyncio.wrap_future,
    )


def _bare_bridge() -> Callable[[], None]:
    def complete(job: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]) -> None:
        loop, future = job
        loop.call_soon_threadsafe(future.set_result, None)

    return _bridge(
        lambda loop: (loop, loop.create_future()),
        complete,
        lambda job: job[1],
    )


def run(bench: Report) -> None:
    chains: dict[str, Callable[[], object]] = {
        "shortly then": _shortly_chain,
        "asyncio C Future emulation": _asyncio_chain(),
    }
    twisted = _twisted_chain()
    if twisted is not None:
        chains["Twisted Deferred.addCallback"] = twisted
    promise = _promise_chain()
    if promise is not None:
        chains["promise package"] = promise
    chains["floor (deque trampoline)"] = _floor_chain
    bench.compare(
        "then-chain of 1,000 links, per link",
        chains,
        per=LINKS,
        baseline="asyncio C Future emulation",
        target="shortly <= 0.5x asyncio emulation and <= 2x the floor",
        limits=[
            ("shortly then", "asyncio C Future emulation", 0.5),
            ("shortly then", "floor (deque trampoline)", 2),
        ],
    )
    bench.compare(
        "asyncio bridge round trip (worker thread resolves, coroutine awaits)",
        {
            "shortly await": _shortly_bridge(),
            "asyncio.wrap_future": _wrap_future_bridge(),
            "bare asyncio Future + call_soon_threadsafe": _bare_bridge(),
        },
        per=ROUND_TRIPS,
        baseline="bare asyncio Future + call_soon_threadsafe",
        target="shortly <= 1.2x bare",
        limits=[("shortly await", "bare asyncio Future + call_soon_threadsafe", 1.2)],
    )
