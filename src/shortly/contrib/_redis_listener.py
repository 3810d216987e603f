"""Waiting for a Redis lock: local queues and one listener thread per backend.

A release publishes the lock's name. The listener thread, subscribed to that channel,
tries again for the first local waiter of a name as soon as its release is announced,
when the holder's lease is due to run out (a failed attempt reports the time left), or
at the latest after ``poll`` seconds, the fallback for a lost message. Waiters of one
process are served FIFO; between processes Redis decides (or the queue of a fair
backend does).

**Faults are waited out, not passed on.** A dropped subscription (``CLIENT KILL``, an
idle proxy, a restart) is renewed, and until it is the listener polls every ``poll``
seconds. An attempt that fails on the connection is repeated later with the *same*
nonce, so if Redis ran it and only the reply was lost, the repeat finds the waiter's own
hold. A waiter that gives up after such an attempt has it abandoned in the background
(see :mod:`._redis_scripts`). Waiters keep waiting until their own time runs out; only
an error that waiting cannot cure (a script error, say) fails them.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import threading
import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

import redis

from .._lock_backend import Lease, LockError, Waiter
from ._redis_wire import TRANSIENT, text

if TYPE_CHECKING:
    from .._core import Future
    from .redis import RedisBackend

__all__ = ["Listener"]

# How long the listener waits for Redis to confirm its subscriptions.
_SUBSCRIBE_TIMEOUT = 2.0


class _Waiter(Waiter):
    """A local waiter, with the nonce of its attempts in Redis."""

    __slots__ = ("nonce", "uncertain")

    def __init__(
        self,
        future: Future[Lease],
        lease: float | None,
        thread: threading.Thread,
        task: object | None,
    ) -> None:
        super().__init__(future, lease, thread, task)
        self.nonce = secrets.token_hex(16)
        self.uncertain = False  # an attempt may have run in Redis without our knowing


class _Queue:
    """The local waiters of one name, and when to try for the first of them next."""

    __slots__ = ("due", "waiters")

    def __init__(self) -> None:
        self.waiters: deque[_Waiter] = deque()
        self.due = 0.0


class Listener:
    """The waiters of one backend, and the thread that hands them the lock."""

    def __init__(self, backend: RedisBackend) -> None:
        self._backend = backend
        self.lock = threading.Lock()
        self.queues: dict[str, _Queue] = {}
        self.thread: threading.Thread | None = None
        self._wakeup = threading.Event()  # for a listener without a subscription

    def waiting(self, name: str) -> int:
        with self.lock:
            queue = self.queues.get(name)
            return 0 if queue is None else sum(1 for w in queue.waiters if not w.future.done())

    def enqueue(
        self,
        name: str,
        lease: float | None,
        future: Future[Lease],
        thread: threading.Thread,
        task: object | None,
    ) -> None:
        record = _Waiter(future, lease, thread, task)
        if self._backend._fair and self._place(name, record):
            return
        with self.lock:
            if future.done():
                return
            queue = self.queues.get(name)
            fresh = queue is None
            if queue is None:
                queue = self.queues[name] = _Queue()
            queue.waiters.append(record)
            listening = self.thread is not None
            if not listening:
                listener = threading.Thread(
                    target=self._run,
                    name=f"shortly-redis-locks {self._backend._prefix}",
                    daemon=True,
                )
                try:
                    listener.start()
                except BaseException:
                    queue.waiters.pop()
                    if not queue.waiters:
                        del self.queues[name]
                    raise
                self.thread = listener
        future.add_done_callback(partial(self._withdraw, name, record))
        if fresh and listening:
            # The listener sleeps until a message or a deadline: wake it for the new
            # name, from the housekeeping thread so that this caller never waits for
            # Redis. If the wake-up is lost, the poll still finds the waiter.
            self._wakeup.set()
            self._backend._wake(name)

    def _place(self, name: str, waiter: _Waiter) -> bool:
        """Take a fair waiter's place in the queue now, in the order acquire() was called.

        Left to the listener thread, the place would be taken a thread start or a
        wake-up later, after waiters that came later. True if the lock was granted.
        """
        with self.lock:
            if name in self.queues:
                return False  # a local waiter is ahead: this one's turn comes after it
        try:
            lease, _ = self._backend._take(
                name, waiter.lease, waiter.nonce, waiter.thread, waiter.task, join=True, quick=True
            )
        except TRANSIENT:
            waiter.uncertain = True
            return False
        except redis.RedisError as error:
            raise LockError(f"could not wait for lock {name!r}: Redis failed: {error}") from error
        if lease is None:
            return False
        if not waiter.future.try_set_result(lease):
            with contextlib.suppress(LockError):
                self._backend.release(lease)
        return True

    def _withdraw(self, name: str, waiter: _Waiter, future: Future[Lease]) -> None:
        if not future.cancelled():
            return
        with self.lock:
            queue = self.queues.get(name)
            if queue is not None and waiter in queue.waiters:
                queue.waiters.remove(waiter)
                if not queue.waiters:
                    del self.queues[name]
            uncertain = waiter.uncertain
        if uncertain or self._backend._fair:
            self._backend._abandon(name, waiter.nonce, waiter.lease)

    # -- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        pubsub: Any = None
        subscribe_at = 0.0
        try:
            while True:
                now = time.monotonic()
                if pubsub is None and now >= subscribe_at:
                    pubsub = self._subscribe()
                    subscribe_at = now + min(self._backend._poll, 1.0)
                with self.lock:
                    if not self.queues:
                        self.thread = None
                        return
                    due = [name for name, queue in self.queues.items() if queue.due <= now]
                for name in due:
                    self._attempt(name)
                with self.lock:
                    wake_at = min((q.due for q in self.queues.values()), default=0.0)
                if pubsub is None:
                    wake_at = min(wake_at, subscribe_at)
                    self._wakeup.wait(max(0.0, wake_at - time.monotonic()))
                    self._wakeup.clear()
                    continue
                try:
                    message = pubsub.get_message(timeout=max(0.0, wake_at - time.monotonic()))
                    while message is not None:
                        self._wake(message)
                        message = pubsub.get_message(timeout=0.0)
                except TRANSIENT:
                    # Dropped: poll until subscribed again, and try the waiters now in
                    # case a release was announced while the connection was down.
                    with contextlib.suppress(Exception):
                        pubsub.close()
                    pubsub = None
                    self._all_due()
        except BaseException as error:
            self._fail_waiters(error)
            if not isinstance(error, Exception):
                raise
        finally:
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    pubsub.close()

    def _subscribe(self) -> Any:
        """A subscription Redis confirmed (no release can slip by), or None if it failed."""
        backend = self._backend
        pubsub = backend._wire.steady.pubsub()
        try:
            pubsub.subscribe(backend._channel, backend._wake_channel)
            deadline = time.monotonic() + _SUBSCRIBE_TIMEOUT
            confirmed = 0
            while confirmed < 2:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise redis.TimeoutError("Redis did not confirm the subscription")
                message = pubsub.get_message(timeout=left)
                if message is not None and message["type"] == "subscribe":
                    confirmed += 1
        except TRANSIENT:
            with contextlib.suppress(Exception):
                pubsub.close()
            return None
        self._all_due()  # releases before the subscription went unheard
        return pubsub

    def _all_due(self) -> None:
        with self.lock:
            for queue in self.queues.values():
                queue.due = 0.0

    def _wake(self, message: dict[str, Any]) -> None:
        if message["type"] != "message":
            return
        with self.lock:
            queue = self.queues.get(text(message["data"]))
            if queue is not None:
                queue.due = 0.0

    def _attempt(self, name: str) -> None:
        """Try once for the first waiter of ``name``; hand it the lease if acquired."""
        backend = self._backend
        with self.lock:
            queue = self.queues.get(name)
            if queue is None:
                return
            waiters = queue.waiters
            while waiters and waiters[0].future.done():
                waiters.popleft()
            if not waiters:
                del self.queues[name]
                return
            waiter = waiters[0]
            queue.due = math.inf  # enqueue() of a new name may lower it meanwhile
        try:
            lease, left = backend._take(
                name, waiter.lease, waiter.nonce, waiter.thread, waiter.task, join=True
            )
        except TRANSIENT:
            with self.lock:
                waiter.uncertain = True
                queue.due = min(queue.due, time.monotonic() + backend._poll)
                gave_up = waiter.future.done()
            if gave_up:
                backend._abandon(name, waiter.nonce, waiter.lease)
            return
        with self.lock:
            if lease is None:
                queue.due = min(queue.due, time.monotonic() + min(left, backend._poll))
                return
            if waiters and waiters[0] is waiter:
                waiters.popleft()
            if waiters:
                queue.due = time.monotonic() + backend._poll
            elif self.queues.get(name) is queue:
                del self.queues[name]
        if not waiter.future.try_set_result(lease):
            # The waiter gave up while its lease was on the way: pass the lock on.
            with contextlib.suppress(LockError):
                backend.release(lease)

    def _fail_waiters(self, error: BaseException) -> None:
        with self.lock:
            queues, self.queues = self.queues, {}
            self.thread = None
        for name, queue in queues.items():
            for waiter in queue.waiters:
                failure = LockError(f"stopped waiting for lock {name!r}: Redis failed: {error}")
                failure.__cause__ = error
                waiter.future.try_set_exception(failure)
