"""A minimal ``kaa.Socket``: TCP connect, write, read and close, each an InProgress.

kaa's socket is the running example of its documentation. This one does the blocking
work on a daemon thread and, as kaa's socket did from its notifier, finishes the
InProgress in the main loop (:mod:`shortly.compat.kaa.main`): run the loop, or
``wait()`` in the main thread, to see it finish.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

from ._inprogress import InProgress
from .main import _loop

__all__ = ["Socket"]


def _address(addr: object) -> tuple[str, int]:
    """kaa's address forms: ``"host:port"`` or ``(host, port)``."""
    if isinstance(addr, str) and ":" in addr:
        host, _, port = addr.rpartition(":")
        if port.isdigit():
            return host, int(port)
    if isinstance(addr, tuple) and len(addr) == 2 and isinstance(addr[1], int):
        return str(addr[0]), addr[1]
    raise ValueError(f"addr must be 'host:port' or (host, port), not {addr!r}")


class Socket:
    """A TCP client socket whose operations return InProgress objects.

    Raises:
        ValueError: if ``chunk_size`` (the most :meth:`read` returns) is not a positive int.

    >>> import socket, threading
    >>> from shortly.compat import kaa
    >>> server = socket.create_server(("127.0.0.1", 0))
    >>> port = server.getsockname()[1]
    >>> threading.Thread(target=lambda: server.accept()[0].sendall(b"hi")).start()
    >>> sock = kaa.Socket()
    >>> sock.connect(f"127.0.0.1:{port}").wait(timeout=5)   # wait() runs the main loop
    >>> sock.read().wait(timeout=5), sock.connected
    (b'hi', True)
    >>> sock.close(); server.close()
    """

    def __init__(self, chunk_size: int = 1024 * 1024) -> None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, not {chunk_size!r}")
        self._chunk_size = chunk_size
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def connected(self) -> bool:
        """True between a successful :meth:`connect` and :meth:`close`.

        >>> from shortly.compat import kaa
        >>> kaa.Socket().connected
        False
        """
        with self._lock:
            return self._sock is not None

    def _in_background(self, work: Callable[[], Any]) -> InProgress:
        """Run ``work`` on a daemon thread; its outcome finishes the InProgress in the loop."""
        ip = InProgress()

        def run() -> None:
            try:
                value = work()
            except Exception as error:
                _loop.queue(ip.throw, type(error), error, error.__traceback__)
            else:
                _loop.queue(ip.finish, value)

        threading.Thread(target=run, name="kaa-socket", daemon=True).start()
        return ip

    def connect(self, addr: object, timeout: float | None = None) -> InProgress:
        """Connect to ``addr`` (``"host:port"`` or ``(host, port)``); finishes with None.

        A connection that fails throws its ``OSError`` into the InProgress.

        Raises:
            ValueError: if ``addr`` is in neither form.

        >>> from shortly.compat import kaa
        >>> kaa.Socket().connect("no port")
        Traceback (most recent call last):
        ...
        ValueError: addr must be 'host:port' or (host, port), not 'no port'
        """
        host, port = _address(addr)

        def work() -> None:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.settimeout(None)
            with self._lock:
                self._sock = sock

        return self._in_background(work)

    def _connected(self) -> socket.socket:
        with self._lock:
            sock = self._sock
        if sock is None:
            raise OSError("the socket is not connected")
        return sock

    def write(self, data: bytes) -> InProgress:
        """Send all of ``data``; finishes with None once it is sent.

        A failure (``OSError``, "not connected" included) is thrown into the InProgress.

        Raises:
            Nothing at the call: errors reach the InProgress.

        >>> from shortly.compat import kaa
        >>> kaa.Socket().write(b"x").wait(timeout=5)
        Traceback (most recent call last):
        ...
        OSError: the socket is not connected
        """
        return self._in_background(lambda: self._connected().sendall(data))

    def read(self) -> InProgress:
        """Receive what arrives next; finishes with those bytes (``b""`` at the end).

        A failure (``OSError``, "not connected" included) is thrown into the InProgress.

        Raises:
            Nothing at the call: errors reach the InProgress.

        >>> from shortly.compat import kaa
        >>> kaa.Socket().read().wait(timeout=5)
        Traceback (most recent call last):
        ...
        OSError: the socket is not connected
        """
        return self._in_background(lambda: self._connected().recv(self._chunk_size))

    def close(self) -> None:
        """Close the connection (nothing happens if it is not open).

        >>> from shortly.compat import kaa
        >>> kaa.Socket().close()
        """
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
