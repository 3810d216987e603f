"""The Redis backend's connections: two pools with their own time-outs, no hidden retries.

redis-py retries a command on a connection error by itself (ten times, with back-off, in
recent releases) and waits for a reply as long as its socket time-out. Both hide what a
lock needs to know: how long a call may take, and whether a command may have run although
its reply was lost. So the backend copies the connection settings of the client it is
given into two pools of its own, without retries:

* *quick*, for the first attempt of an acquisition: its time-out bounds
  ``acquire(blocking=False)`` and the extra time of a bounded acquire, whatever the
  server does (a stopped server never answers);
* *steady*, for everything else: releases, renewals, waiting; its time-out only
  detects a connection that silently died.

The backend decides itself what to retry, knowing which scripts are idempotent.
"""

from __future__ import annotations

import hashlib
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["TRANSIENT", "Script", "Wire", "text"]

# Errors after which the server may still be fine, or back soon: waiting goes on.
TRANSIENT = (redis.ConnectionError, redis.TimeoutError)

# How long a steady call waits for a reply when the client given sets no time-out.
_STEADY_TIMEOUT = 5.0


def text(value: bytes | str) -> str:
    """A reply as str, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value


class Script:
    """A Lua script run by its SHA1, loaded into Redis when Redis does not know it.

    redis-py's own ``Script`` costs about as much again as the round trip's Python
    side; the lock's hot path calls ``EVALSHA`` directly instead.
    """

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    def __call__(self, *, keys: list[str], args: list[Any], client: redis.Redis) -> Any:
        execute: Any = client.execute_command  # untyped in redis-py
        try:
            return execute("EVALSHA", self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            # A new server, or one restarted or flushed: EVAL runs it and caches it.
            return execute("EVAL", self.source, len(keys), *keys, *args)


def _client(template: redis.ConnectionPool, timeout: float) -> redis.Redis:
    options = dict(template.connection_kwargs)
    options.update(
        socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
    )
    pool = redis.ConnectionPool(connection_class=template.connection_class, **options)
    return redis.Redis(connection_pool=pool)


class Wire:
    """The two clients, and the scripts registered on them."""

    def __init__(self, source: redis.Redis | str, quick: float) -> None:
        if isinstance(source, str):
            template = redis.ConnectionPool.from_url(source)
        else:
            template = source.connection_pool
        given = template.connection_kwargs.get("socket_timeout")
        steady = _STEADY_TIMEOUT if given is None else max(float(given), quick)
        self.quick = _client(template, quick)
        self.steady = _client(template, steady)
        options = template.connection_kwargs
        where = options.get("path") or f"{options.get('host')}:{options.get('port')}"
        self.address = f"{where}/{options.get('db', 0)}"
        if isinstance(source, str):
            template.disconnect()

    def script(self, source: str) -> Script:
        """A script to call with ``client=`` one of the two clients."""
        return Script(source)

    def close(self) -> None:
        self.quick.connection_pool.disconnect()
        self.steady.connection_pool.disconnect()
