"""The core Future against the stdlib's, asyncio's C Future, and a bare floor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import tracemalloc
from collections.abc import Callable
from typing import Any

import shortly

from ._runner import Report

N = 100_000


class Floor:
    """The least a future can be: a slot for the value and a list of callbacks."""

    __slots__ = ("callbacks", "value")

    def __init__(self) -> None:
        self.value: Any = None
        self.callbacks: list[Callable[[Floor], object]] = []

    def add_done_callback(self, fn: Callable[[Floor], object]) -> None:
        self.callbacks.append(fn)

    def set_result(self, value: Any) -> None:
        self.value = value
        for fn in self.callbacks:
            fn(self)

    def result(self) -> Any:
        return self.value


def _noop(_: object) -> None:
    pass


def _cycle(make: Callable[[], Any], read: bool, n: int) -> Callable[[], None]:
    def run() -> None:
        for i in range(n):
            f = make()
            f.add_done_callback(_noop)
            f.set_result(i)
            if read:
                f.result()

    return run


def _asyncio_cycle(read: bool, n: int) -> Callable[[], None]:
    async def body() -> None:
        loop = asyncio.get_running_loop()
        for i in range(n):
            f = loop.create_future()
            f.add_done_callback(_noop)
            f.set_result(i)
            if read:
                f.result()
        await asyncio.sleep(0)  # let the scheduled callbacks run

    def run() -> None:
        asyncio.run(body())

    return run


def _bytes_per_pending(make: Callable[[], Any], n: int) -> float:
    keep: list[Any] = [None] * n
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(n):
        f = make()
        f.add_done_callback(_noop)
        keep[i] = f
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (after - before) / n


def ping_pong(make: Callable[[threading.Thread | None], Any], n: int) -> Callable[[], None]:
    """Thread A resolves a future B blocks on; B answers with a fresh one, n times.

    ``make(owner)`` makes each future; ``owner`` is the thread that will resolve it
    (``bench_deadlock`` passes it on, to measure the deadlock check).
    """

    def run() -> None:
        main = threading.current_thread()
        responder: threading.Thread | None = None

        def respond() -> None:
            for i in range(n):
                box[0].result()
                box[0] = make(main)
                reply, answers[0] = answers[0], make(responder)
                reply.set_result(i)

        responder = threading.Thread(target=respond)
        box, answers = [make(main)], [make(responder)]
        responder.start()
        for i in range(n):
            reply = answers[0]
            box[0].set_result(i)
            reply.result()
        responder.join()

    return run


def _ping_pong_locks(n: int) -> Callable[[], None]:
    """The floor: two pre-acquired locks handed back and forth."""

    def run() -> None:
        ping, pong = threading.Lock(), threading.Lock()
        ping.acquire()
        pong.acquire()

        def responder() -> None:
            for _ in range(n):
                ping.acquire()
                pong.release()

        t = threading.Thread(target=responder)
        t.start()
        for _ in range(n):
            ping.release()
            pong.acquire()
        t.join()

    return run


def run(report: Report) -> None:
    n = N // 10 if report.quick else N
    for read in (False, True):
        title = "create + callback + resolve" + (" + result()" if read else "")
        report.compare(
            title,
            {
                "shortly.Future": _cycle(shortly.Future, read, n),
                "concurrent.futures.Future": _cycle(concurrent.futures.Future, read, n),
                "asyncio Future (C, in loop)": _asyncio_cycle(read, n),
                "floor (__slots__ + list)": _cycle(Floor, read, n),
            },
            per=n,
            baseline="concurrent.futures.Future",
            target="shortly <= 0.4x concurrent.futures, <= 0.7x asyncio's C Future",
            limits=[
                ("shortly.Future", "concurrent.futures.Future", 0.4),
                ("shortly.Future", "asyncio Future (C, in loop)", 0.7),
            ],
        )
    m = 20_000
    report.record(
        "bytes per pending future with one callback",
        {
            "shortly.Future": _bytes_per_pending(shortly.Future, m),
            "concurrent.futures.Future": _bytes_per_pending(concurrent.futures.Future, m),
            "floor (__slots__ + list)": _bytes_per_pending(Floor, m),
        },
        unit="bytes",
        baseline="concurrent.futures.Future",
        target="shortly <= 220 bytes (stdlib about 1,600)",
        limits=[("shortly.Future", None, 220)],
    )
    p = 2_000 if report.quick else 20_000
    report.compare(
        "cross-thread ping-pong (one round trip)",
        {
            "shortly.Future": ping_pong(lambda _owner: shortly.Future(), p),
            "concurrent.futures.Future": ping_pong(lambda _owner: concurrent.futures.Future(), p),
            "floor (bare threading.Lock hand-off)": _ping_pong_locks(p),
        },
        per=p,
        baseline="floor (bare threading.Lock hand-off)",
        target="shortly <= 1.5x the bare lock hand-off",
        limits=[("shortly.Future", "floor (bare threading.Lock hand-off)", 1.5)],
    )
