"""A worker process of the fault tests: takes a Redis lock again and again, or holds it.

``python -m tests.faults.worker '<json>'`` from the repository's root. In ``count`` mode
it acquires the lock ``count`` times and, each time, increments a counter in a shared
file that behaves like *fenced storage*: on reading, the file remembers the largest
token it has seen and refuses anyone with a smaller one; on writing, it refuses a
stale token again, and a count that changed since the read means two holders
overlapped unnoticed: a violation. Each line the worker prints is one event:

    ok <token> <count>     an acquisition that incremented the counter to <count>
    fenced <token>         an acquisition the storage refused (a lock Redis lost)
    violation <token> ...  two holders overlapped and neither was refused
    error <text>           an acquire or release that failed (the test may allow it)

In ``hold`` mode it acquires once, prints ``held <token>`` and waits to be killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO

import shortly
from shortly.contrib.redis import RedisBackend


@contextlib.contextmanager
def _storage(path: str) -> Iterator[tuple[TextIO, int, int]]:
    with open(path, "r+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        count, newest = map(int, file.read().split())
        yield file, count, newest


def _store(file: TextIO, count: int, newest: int) -> None:
    file.seek(0)
    file.write(f"{count} {newest}\n")
    file.truncate()


def _critical(path: str, lease: shortly.Lease, hold: float, extend: float | None) -> str:
    token = lease.token
    with _storage(path) as (file, count, newest):
        if token < newest:
            return f"fenced {token}"
        _store(file, count, token)  # the storage has seen this token now
    # The lock is what keeps others out from here on: hold it a while.
    threading.Event().wait(hold)
    if extend is not None:
        lease.extend(extend)
    with _storage(path) as (file, now, newest):
        if token < newest:
            return f"fenced {token}"
        if now != count:
            return f"violation {token} read {count} found {now}"
        _store(file, count + 1, token)
        return f"ok {token} {count + 1}"


def _say(line: str) -> None:
    print(line, flush=True)


def main(config: dict[str, Any]) -> None:
    backend = RedisBackend(
        config["url"], prefix=config["prefix"], poll=config.get("poll", 0.05),
        watchdog=config.get("watchdog", 30.0),
    )  # fmt: skip
    lock = shortly.Lock(config["name"], lease=config.get("lease"), backend=backend)
    if config["mode"] == "hold":
        lease = lock.acquire(timeout=30)
        assert lease is not None
        _say(f"held {lease.token}")
        threading.Event().wait()
    done = 0
    retry = threading.Event()
    while done < config["count"]:
        try:
            lease = lock.acquire(timeout=20)
        except shortly.LockError as error:
            _say(f"error acquire {type(error.__cause__).__name__}")
            retry.wait(0.02)  # the server is away: try again shortly
            continue
        if lease is None:
            _say("error acquire timed out")
            continue
        try:
            outcome = _critical(config["counter"], lease, config["hold"], config.get("extend"))
        except shortly.LockError as error:
            outcome = f"error extend {error}".replace("\n", " ")
        _say(outcome)
        if outcome.startswith("ok"):
            done += 1
        try:
            lease.release()
        except shortly.LockError as error:
            _say(f"error release {error}".replace("\n", " "))
    backend.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
