"""Named locks: uncontended cost, locally and on Redis, and hand-off between processes.

The Redis scenarios need ``redis-server`` (``make services``); when it is missing they
are skipped with a note. The hand-off players are this file run as a script
(``python bench_lock.py player ...``), so nothing has to be pickled across processes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import shortly

if TYPE_CHECKING:  # the players run this file as a script, outside the package
    from ._runner import Report

N = 20_000
N_REDIS = 2_000
HOLD = 0.005  # how long a holder keeps the lock, so the other player is surely waiting


def _loop_of(body: Callable[[], None], n: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(n):
            body()

    return run


def _local(bench: Report) -> None:
    n = N // 10 if bench.quick else N
    lock = shortly.Lock("bench-local")
    leased = shortly.Lock("bench-local-leased", lease=60)
    plain = threading.Lock()

    def shortly_with() -> None:
        with lock:
            pass

    def shortly_leased() -> None:
        with leased:
            pass

    def threading_with() -> None:
        with plain:
            pass

    loop = asyncio.new_event_loop()
    alock = asyncio.Lock()

    async def asyncio_body() -> None:
        for _ in range(n):
            async with alock:
                pass

    async def shortly_async_body() -> None:
        for _ in range(n):
            async with lock:
                pass

    try:
        bench.compare(
            "uncontended acquire + release, one thread (LocalBackend)",
            {
                "shortly Lock (with)": _loop_of(shortly_with, n),
                "shortly Lock, lease=60 (with)": _loop_of(shortly_leased, n),
                "shortly Lock (async with, asyncio)": lambda: loop.run_until_complete(
                    shortly_async_body()
                ),
                "asyncio.Lock (async with)": lambda: loop.run_until_complete(asyncio_body()),
                "threading.Lock (with)": _loop_of(threading_with, n),
            },
            per=n,
            baseline="threading.Lock (with)",
        )
    finally:
        loop.close()


@contextmanager
def _redis_server() -> Iterator[str | None]:
    """A throwaway redis-server (the test suite's launcher): its URL, or None if absent."""
    if shutil.which("redis-server") is None:
        yield None
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.redis_server import RedisServer

    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(shutil.which("redis-server") or "", directory)
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def _redis_uncontended(bench: Report, url: str) -> None:
    import redis

    from shortly.contrib.redis import RedisBackend

    n = N_REDIS // 10 if bench.quick else N_REDIS
    client = redis.Redis.from_url(url)
    backend = RedisBackend(client)
    watched = shortly.Lock("bench-redis", backend=backend)
    fixed = shortly.Lock("bench-redis-fixed", lease=60, backend=backend)
    theirs = client.lock("bench-redis-py", timeout=60)

    def shortly_watched() -> None:
        with watched:
            pass

    def shortly_fixed() -> None:
        with fixed:
            pass

    def redis_py_with() -> None:
        with theirs:
            pass

    bench.compare(
        "uncontended acquire + release on Redis (loopback)",
        {
            "shortly RedisBackend, watchdog lease (with)": _loop_of(shortly_watched, n),
            "shortly RedisBackend, lease=60 (with)": _loop_of(shortly_fixed, n),
            "redis-py Lock, timeout=60 (with)": _loop_of(redis_py_with, n),
        },
        per=n,
        baseline="redis-py Lock, timeout=60 (with)",
        target="shortly <= 1.3x redis-py",
        limits=[
            (f"shortly RedisBackend, {lease} (with)", "redis-py Lock, timeout=60 (with)", 1.3)
            for lease in ("watchdog lease", "lease=60")
        ],
    )
    backend.close()
    client.close()


def _handoff(url: str, implementation: str, rounds: int) -> list[float]:
    """Run two player processes; the release-to-acquire latencies in seconds."""
    run = uuid.uuid4().hex
    players = [
        subprocess.Popen(
            [sys.executable, __file__, "player", url, implementation, run, role, str(rounds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for role in ("first", "second")
    ]
    events: list[tuple[float, str]] = []
    for player in players:
        out, _ = player.communicate(timeout=300)
        if player.returncode != 0:
            raise RuntimeError(f"a hand-off player failed with exit code {player.returncode}")
        times = json.loads(out)
        events += [(t, "acquired") for t in times["acquired"]]
        events += [(t, "released") for t in times["released"]]
    events.sort()
    return [
        later - earlier
        for (earlier, what), (later, then) in itertools.pairwise(events)
        if what == "released" and then == "acquired"
    ]


def _player(url: str, implementation: str, run: str, role: str, rounds: int) -> None:
    """One side of the hand-off: hold, tell the other to wait, release, wait for it."""
    import redis

    from shortly.contrib.redis import RedisBackend

    client = redis.Redis.from_url(url)
    if implementation == "shortly":
        lock = shortly.Lock(f"handoff-{run}", backend=RedisBackend(client))
        acquire, release = lock.acquire, lock.release
    else:
        theirs = client.lock(f"handoff-{run}")  # redis-py's default: polls every 0.1 s
        acquire, release = theirs.acquire, theirs.release
    me, other = (f"bench:{run}:{role}", f"bench:{run}:{'second' if role == 'first' else 'first'}")
    acquired: list[float] = []
    released: list[float] = []
    if role == "second":
        client.blpop([me])  # the first player holds the lock now
    for i in range(rounds):
        acquire()
        acquired.append(time.perf_counter())
        client.rpush(other, "hold")  # the other player starts waiting
        time.sleep(HOLD)
        released.append(time.perf_counter())
        release()
        if role == "first" or i < rounds - 1:
            client.blpop([me])  # the other player holds it now
    print(json.dumps({"acquired": acquired, "released": released}))


def _redis_handoff(bench: Report, url: str) -> None:
    values = {}
    notes = []
    for implementation, rounds in (("shortly", 200), ("redis-py", 15)):
        if bench.quick:
            rounds = max(5, rounds // 10)
        latencies = sorted(_handoff(url, implementation, rounds))
        name = "shortly RedisBackend" if implementation == "shortly" else "redis-py Lock"
        values[name] = statistics.median(latencies) * 1e3
        notes.append(
            f"{name}: {len(latencies)} hand-offs, p90 "
            f"{latencies[int(len(latencies) * 0.9)] * 1e3:.2f} ms"
        )
    scenario = bench.record(
        "release-to-next-acquire hand-off between two processes on Redis (median)",
        values,
        unit="ms",
        baseline="redis-py Lock",
        target="shortly <= 5 ms",
        limits=[("shortly RedisBackend", None, 5)],
    )
    scenario.notes.extend(notes)
    if bench.echo:
        print("   " + "\n   ".join(notes))


CONTENDERS = 8
# Each holder's work: well under a millisecond, spent asleep (as on I/O), so that on a
# machine with fewer cores than players the waits measure the lock, not the CPU.
WORK = 0.0002


def _contender(url: str, mode: str, run: str, start: float, seconds: float) -> None:
    """Acquire, work briefly, release, again at once; print every wait."""
    from shortly.contrib.redis import RedisBackend

    backend = RedisBackend(url, fair=mode == "fair")
    lock = shortly.Lock(f"contend-{run}", backend=backend)
    waits = []
    pause = threading.Event()
    pause.wait(max(0.0, start - time.time()))  # all start together
    end = time.perf_counter() + seconds
    while (asked := time.perf_counter()) < end:
        lease = lock.acquire()
        assert lease is not None
        waits.append(time.perf_counter() - asked)
        pause.wait(WORK)
        lease.release()
    backend.close()
    print(json.dumps(waits))


def _fairness(bench: Report, url: str) -> None:
    seconds = 1.0 if bench.quick else 4.0
    waits: dict[str, list[float]] = {}
    spread: dict[str, list[int]] = {}
    for mode in ("default", "fair"):
        start = time.time() + 2.0  # time for the interpreters to start
        run = uuid.uuid4().hex  # one lock for all players
        players = [
            subprocess.Popen(
                [sys.executable, __file__, "contend", url, mode, run, str(start), str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(CONTENDERS)
        ]
        per_process = [json.loads(p.communicate(timeout=120)[0]) for p in players]
        waits[mode] = sorted(w for each in per_process for w in each)
        spread[mode] = sorted(len(each) for each in per_process)
    values = {}
    for mode, measured in waits.items():
        values[f"{mode}: p50"] = statistics.median(measured) * 1e3
        values[f"{mode}: p99"] = measured[int(len(measured) * 0.99)] * 1e3
        values[f"{mode}: max"] = measured[-1] * 1e3
    scenario = bench.record(
        f"wait for a Redis lock, {CONTENDERS} processes contending, work {WORK * 1e3:.1f} ms",
        values,
        unit="ms",
    )
    for mode, counts in spread.items():
        scenario.notes.append(
            f"{mode}: acquisitions per process min {counts[0]}, max {counts[-1]} "
            f"(total {sum(counts)} in {seconds:.0f} s)"
        )
    if bench.echo:
        print("   " + "\n   ".join(scenario.notes))


def run(bench: Report) -> None:
    _local(bench)
    with _redis_server() as url:
        if url is None:
            print("redis-server is not installed: Redis scenarios skipped (make services)")
            return
        _redis_uncontended(bench, url)
        _redis_handoff(bench, url)
        _fairness(bench, url)


if __name__ == "__main__" and sys.argv[1:2] == ["player"]:
    _player(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
elif __name__ == "__main__" and sys.argv[1:2] == ["contend"]:
    _contender(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
elif __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks._runner import main

    sys.exit(main([str(Path(__file__)), *sys.argv[1:]]))
