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

import shortly
from shortly.bench import Report

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
    """A throwaway redis-server on a free loopback port: its URL, or None if absent."""
    executable = shutil.which("redis-server")
    if executable is None:
        yield None
        return
    import socket

    import redis

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [executable, *args, "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.01)
            client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.kill()
            process.wait()


def _redis_uncontended(bench: Report, url: str) -> None:
    import redis

    from shortly.contrib.redis import RedisBackend

    n = N_REDIS // 10 if bench.quick else N_REDIS
    client = redis.Redis.from_url(url)
    lock = shortly.Lock("bench-redis", lease=60, backend=RedisBackend(client))
    theirs = client.lock("bench-redis-py", timeout=60)

    def shortly_with() -> None:
        with lock:
            pass

    def redis_py_with() -> None:
        with theirs:
            pass

    bench.compare(
        "uncontended acquire + release on Redis (loopback)",
        {
            "shortly RedisBackend (with)": _loop_of(shortly_with, n),
            "redis-py Lock (with)": _loop_of(redis_py_with, n),
        },
        per=n,
        baseline="redis-py Lock (with)",
    )
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
    )
    scenario.notes.extend(notes)
    if bench.echo:
        print("   " + "\n   ".join(notes))


def run(bench: Report) -> None:
    _local(bench)
    with _redis_server() as url:
        if url is None:
            print("redis-server is not installed: Redis scenarios skipped (make services)")
            return
        _redis_uncontended(bench, url)
        _redis_handoff(bench, url)


if __name__ == "__main__" and sys.argv[1:2] == ["player"]:
    _player(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
elif __name__ == "__main__":
    from shortly.bench import main

    sys.exit(main([str(Path(__file__)), *sys.argv[1:]]))
