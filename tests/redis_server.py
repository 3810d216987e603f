"""A real ``redis-server`` for the tests: loopback, a free port, chosen persistence.

``tests/conftest.py`` loads this module as a plugin, so one server serves the session.
``redis_server`` is one server for the whole session; ``fresh_redis_server`` is a
server of the test's own, for tests that stop and restart it; ``redis_servers`` makes
servers of the test's own with persistence (RDB snapshots or an AOF), which the fault
tests kill, stop and restart by PID. This is the one launcher of the test suite.

When ``redis-server`` is missing, tests that need it are skipped, except under
``CI=true``, where they fail: CI must run them (``make services`` installs it).

Why not ``pytest-redis``. It was evaluated (issue 17) and not taken: its process
fixture is one server per session, through ``mirakuru``, while the fault tests need
servers of their own that they kill -9, SIGSTOP and restart on the same data directory
with RDB or AOF persistence, in the middle of a test, and the benchmarks
(``benchmarks/bench_lock.py``) need the same launcher outside pytest. Covering that
would mean this module's per-test servers on top of the plugin, plus three more test
dependencies (``mirakuru``, ``port-for``, ``psutil``), for the one session fixture it
would replace.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the core suite runs without the redis client installed
    import redis

_START_TIMEOUT = 10.0

# How each kind of server keeps its data: the stock RDB snapshot schedule, an AOF
# synced every second (the usual production choice), or nothing at all.
PERSISTENCE = {
    "none": ["--save", "", "--appendonly", "no"],
    "rdb": ["--save", "3600 1 300 100 60 10000", "--appendonly", "no"],
    "aof": ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pings(port: int) -> bool:
    """Whether a server on ``port`` answers PING (raw RESP: no client library needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _executable() -> str:
    path = shutil.which("redis-server")
    if path is None:
        message = "redis-server is not installed (run `make services`)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true the Redis tests must run")
        pytest.skip(message)
    return path


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 that can be killed, paused and restarted.

    Restarting keeps the port and the data directory: without persistence every key
    is lost, as when a crashed server without persistence comes back; with RDB the
    last snapshot comes back, with an AOF what was written to it.
    """

    def __init__(self, executable: str, directory: str, persistence: str = "none") -> None:
        self.executable = executable
        self.directory = directory
        self.persistence = PERSISTENCE[persistence]
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None, "not running"
        return self.process.pid

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs: object) -> redis.Redis:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)  # type: ignore[arg-type]

    def start(self) -> None:
        assert self.process is None, "already running"
        # The port may be taken between choosing and binding it; try a few more.
        for _ in range(5):
            self.process = subprocess.Popen(
                [
                    self.executable,
                    "--bind", "127.0.0.1",
                    "--port", str(self.port),
                    *self.persistence,
                    "--dir", self.directory,
                    "--daemonize", "no",
                    "--loglevel", "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._answers():
                return
            self.stop()
            self.port = _free_port()
        raise RuntimeError("redis-server did not start")

    def _answers(self) -> bool:
        """Wait until the server answers PING; False if it died or stayed silent."""
        assert self.process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if _pings(self.port):
                return True
            time.sleep(0.01)  # an external process starting up: nothing to wait on
        return False

    def stop(self) -> None:
        """Stop the server by its pid (SIGKILL: no goodbye, as in a crash) and reap it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=_START_TIMEOUT)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """SIGSTOP: the server keeps its connections but answers nothing, as if stalled."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)


def _server() -> Iterator[RedisServer]:
    executable = _executable()
    with tempfile.TemporaryDirectory(prefix="shortly-redis-") as directory:
        server = RedisServer(executable, directory)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A redis-server shared by the session's tests (each uses its own key prefix)."""
    yield from _server()


@pytest.fixture
def fresh_redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, free to stop and restart."""
    yield from _server()


@pytest.fixture
def redis_servers() -> Iterator[Callable[[str], RedisServer]]:
    """Start servers of this test's own: ``redis_servers("rdb")`` (or "aof", "none")."""
    executable = _executable()
    started: list[RedisServer] = []
    with tempfile.TemporaryDirectory(prefix="shortly-redis-") as root:

        def start(persistence: str = "none") -> RedisServer:
            directory = tempfile.mkdtemp(dir=root)
            server = RedisServer(executable, directory, persistence)
            started.append(server)
            server.start()
            return server

        try:
            yield start
        finally:
            for server in started:
                server.stop()  # SIGKILL ends a paused server too
