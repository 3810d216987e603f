"""A TCP proxy on 127.0.0.1 that loses replies, delays them and cuts connections.

It stands between Redis clients and one server, forwarding bytes both ways on an
asyncio loop of its own thread, so a test can make one reply vanish *after* the server
ran the command: the fault a lock must survive without leaving a hold nobody knows.
redis-py sends one command and waits for its reply on a connection, so the first
chunk from the server after a matching command is that command's reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field

__all__ = ["Proxy"]


@dataclass
class _Drop:
    """Lose the reply to the next command containing ``pattern``, then cut the link."""

    pattern: bytes
    left: int
    done: threading.Event = field(default_factory=threading.Event)


class _Link:
    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client = client
        self.server = server
        self.drop: _Drop | None = None

    def cut(self) -> None:
        for writer in (self.client, self.server):
            with contextlib.suppress(Exception):
                writer.transport.abort()


class Proxy:
    """Forward 127.0.0.1:``port`` to 127.0.0.1:``target``; faults on demand, from any thread."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.delay = 0.0  # seconds added before every reply
        self.dropped = 0  # replies lost so far
        self._drops: list[_Drop] = []
        self._links: set[_Link] = set()
        self._guard = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="proxy", daemon=True)
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(timeout=10)
        self.port: int = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def drop_replies(self, pattern: bytes, times: int = 1) -> threading.Event:
        """Lose the reply to the next ``times`` commands containing ``pattern``.

        Each time the server gets the command and runs it; the client gets no reply
        and its connection is cut. The event is set once all of them were lost.
        """
        drop = _Drop(pattern, times)
        with self._guard:
            self._drops.append(drop)
        return drop.done

    def cut(self) -> int:
        """Cut every connection now; how many there were."""
        with self._guard:
            links = list(self._links)
        for link in links:
            self._loop.call_soon_threadsafe(link.cut)
        return len(links)

    def close(self) -> None:
        self.cut()

        async def stop() -> None:
            self._server.close()
            await self._server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, up_writer)
        with self._guard:
            self._links.add(link)
        try:
            await asyncio.gather(self._up(reader, link), self._down(up_reader, link))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with self._guard:
                self._links.discard(link)
            link.cut()

    def _claim(self, data: bytes) -> _Drop | None:
        with self._guard:
            for drop in self._drops:
                if drop.left > 0 and drop.pattern in data:
                    drop.left -= 1
                    return drop
        return None

    async def _up(self, reader: asyncio.StreamReader, link: _Link) -> None:
        while data := await reader.read(65536):
            drop = self._claim(data)
            if drop is not None:
                link.drop = drop
            link.server.write(data)
            await link.server.drain()
        link.cut()

    async def _down(self, reader: asyncio.StreamReader, link: _Link) -> None:
        while data := await reader.read(65536):
            if self.delay:
                await asyncio.sleep(self.delay)
            drop, link.drop = link.drop, None
            if drop is not None:
                with self._guard:
                    self.dropped += 1
                    if drop.left == 0:
                        drop.done.set()
                link.cut()
                return
            link.client.write(data)
            await link.client.drain()
        link.cut()
