"""What a Redis lease holds: its key's value, and how it is kept.

Also the small conversions the backend's modules share.
"""

from __future__ import annotations

import math

from .._checks import check_seconds
from .._lock_backend import RELEASED, Lease

__all__ = ["Hold", "check_positive", "milliseconds", "refusal"]


def milliseconds(seconds: float) -> int:
    """Seconds as whole milliseconds for Redis, rounded up, at least 1."""
    return max(1, math.ceil(seconds * 1000))


def check_positive(value: object, name: str) -> float:
    """A positive number of seconds, at most an hour (longer would never be noticed)."""
    seconds = check_seconds(value, name, allow_none=False)
    assert seconds is not None
    return min(seconds, 3600.0)


class Hold:
    """What a lease needs in Redis: the key's value, whether it is renewed."""

    __slots__ = ("confirmed", "nonce", "seconds", "value", "watchdog")

    def __init__(self, token: int, nonce: str, seconds: float | None, started: float) -> None:
        self.value = f"{token}:{nonce}"
        self.nonce = nonce
        self.seconds = seconds  # the fixed lease; None: renewed by the watchdog
        self.watchdog = seconds is None
        self.confirmed = started  # when Redis last confirmed the hold (for the watchdog)


def lost(lease: Lease, epoch: bytes | str) -> bool:
    """Whether Redis lost its counter (and so every hold) since ``lease`` was granted.

    ``epoch`` is the first token minted since the counter was last created; a lease
    older than it was granted before Redis lost its data.
    """
    return not epoch or int(epoch) > lease.token


def refusal(lease: Lease, epoch: bytes | str) -> str:
    """Why Redis refused to release or extend ``lease`` (``epoch``: as for :func:`lost`)."""
    if lost(lease, epoch):
        return (
            f"Redis lost {lease!r} while it was held: the server restarted without "
            "persistence, failed over or was flushed. The lock may have a new holder, "
            "with a larger fencing token"
        )
    if lease._phase == RELEASED:
        return f"{lease!r} was already released"
    return (
        f"{lease!r}: Redis no longer holds it (its lease ran out, it was broken, or a "
        "restart lost it), and the lock may have passed to another holder since; "
        "whatever it guarded was not protected after that"
    )
