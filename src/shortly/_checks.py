"""Argument checks shared by every public call that takes seconds, names or flags.

One rule for durations, applied everywhere: a number of seconds is an ``int`` or a
``float`` (not a ``bool``); NaN and negative values are refused with a ``ValueError``
that names the argument; and anything longer than :data:`threading.TIMEOUT_MAX`
(about 292 years on Linux), infinity and integers too large for a float included, is
clamped to it. A clamped wait is a wait "for ever" in every practical sense, and the
clamp means no huge number ever reaches ``Lock.acquire``, a heap of timers or
``time.monotonic() + x`` to fail there with ``OverflowError``.
"""

from __future__ import annotations

import math
import threading

__all__ = [
    "FOREVER",
    "check_blocking",
    "check_delay",
    "check_name",
    "check_seconds",
    "check_timeout",
]

#: The longest duration the platform's lock waits accept; longer ones are clamped to it.
FOREVER = float(threading.TIMEOUT_MAX)


def _number(value: object, name: str, what: str) -> float:
    """``value`` as a float clamped to FOREVER; TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be {what}, not {type(value).__name__}")
    if isinstance(value, int):
        return FOREVER if value >= FOREVER else float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be {what}, not nan")
    return FOREVER if value >= FOREVER else value


def check_timeout(timeout: object, name: str = "timeout") -> float | None:
    """A timeout: ``None`` waits for ever; a number is seconds (negative means "now").

    The stdlib treats a negative timeout as zero, so this does too.

    Raises:
        TypeError: if it is not a number (``bool`` included) or ``None``.
        ValueError: if it is NaN.

    >>> check_timeout(1.5), check_timeout(10**400) == FOREVER
    (1.5, True)
    >>> check_timeout("1")
    Traceback (most recent call last):
    ...
    TypeError: timeout must be a number of seconds or None, not str
    """
    if timeout is None:
        return None
    if type(timeout) is float and 0.0 <= timeout < FOREVER:
        return timeout  # the common case, in one test
    return _number(timeout, name, "a number of seconds or None")


def check_delay(value: object, name: str) -> float:
    """A delay: a number of seconds >= 0, clamped to :data:`FOREVER`.

    Raises:
        TypeError: if it is not a number (``bool`` included).
        ValueError: if it is NaN or negative.

    >>> check_delay(0, "seconds"), check_delay(float("inf"), "seconds") == FOREVER
    (0, True)
    >>> check_delay(-1, "seconds")
    Traceback (most recent call last):
    ...
    ValueError: seconds must be a number of seconds >= 0, not -1
    """
    if (type(value) is float or type(value) is int) and 0 <= value < FOREVER:
        return value  # the common case, in one test
    seconds = _number(value, name, "a number of seconds >= 0")
    if seconds < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0, not {value!r}")
    return seconds


def check_seconds(value: object, name: str, *, allow_none: bool = True) -> float | None:
    """A positive duration (a lease, a poll interval); infinity and huge values mean "never".

    Returns ``None`` for "never" (``None`` itself, if allowed, or any value at or above
    :data:`FOREVER`), else the seconds as a float.

    Raises:
        TypeError: if it is not a number, or is ``None`` where not allowed.
        ValueError: if it is NaN, zero or negative.

    >>> check_seconds(2, "lease"), check_seconds(float("inf"), "lease")
    (2.0, None)
    >>> check_seconds(0, "lease")
    Traceback (most recent call last):
    ...
    ValueError: lease must be a positive number of seconds or None, not 0
    """
    what = "a positive number of seconds" + (" or None" if allow_none else "")
    if value is None and allow_none:
        return None
    seconds = _number(value, name, what)
    if seconds <= 0:
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return None if seconds >= FOREVER else float(seconds)


def check_blocking(value: object, name: str = "blocking") -> float | None:
    """How long to wait: ``True``/``None`` for ever, ``False`` not at all, else seconds.

    Raises:
        TypeError: if it is neither a bool nor a number.
        ValueError: if it is NaN or negative.

    >>> check_blocking(True), check_blocking(False), check_blocking(2)
    (None, 0.0, 2.0)
    """
    if value is True:
        return None
    if value is False:
        return 0.0
    what = "True, False or a number of seconds >= 0"
    seconds = _number(value, name, what)
    if seconds < 0:
        raise ValueError(f"{name} must be {what}, not {value!r}")
    return None if seconds >= FOREVER else float(seconds)


def check_name(name: object) -> str:
    """Return ``name`` if it is a non-empty str; raise naming the argument.

    Raises:
        TypeError: if it is not a str.
        ValueError: if it is empty.

    >>> check_name("jobs")
    'jobs'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a non-empty str, not {type(name).__name__}")
    if not name:
        raise ValueError("name must be a non-empty str, not ''")
    return name
