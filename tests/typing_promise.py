"""Checked by ``mypy --strict`` in ``make typecheck`` (not collected by pytest).

``then`` maps ``Future[T]`` to ``Future[U]`` whether the handler returns a value, a
future or an awaitable.
"""

from __future__ import annotations

from typing_extensions import assert_type

import shortly


def to_future(x: int) -> shortly.Future[str]:
    return shortly.Future.resolved(str(x))


def to_value(x: int) -> str:
    return str(x)


async def to_awaitable(x: int) -> str:
    return str(x)


def check(f: shortly.Future[int]) -> None:
    """Never called: the assertions are for mypy."""
    assert_type(f.then(to_future), shortly.Future[str])
    assert_type(f.then(to_value), shortly.Future[str])
    assert_type(f.then(to_awaitable), shortly.Future[str])
    assert_type(f.then(None, lambda e: 0), shortly.Future[int])
    assert_type(f.finally_(lambda: None), shortly.Future[int])
    assert_type(f.with_timeout(1.0), shortly.Future[int])
    assert_type(shortly.Future.resolved(1.5), shortly.Future[float])


def handler_value(error: BaseException) -> str:
    return "fallback"


def handler_future(error: BaseException) -> shortly.Future[bytes]:
    return shortly.Future.resolved(b"")


async def handler_awaitable(error: BaseException) -> float:
    return 0.0


def check_catch_and_finally(f: shortly.Future[int]) -> None:
    """Never called: ``catch`` widens to ``T | R``, ``finally_`` keeps ``T``."""
    assert_type(f.catch(handler_value), shortly.Future[int | str])
    assert_type(f.catch(handler_value, KeyError, ValueError), shortly.Future[int | str])
    assert_type(f.catch(handler_future), shortly.Future[int | bytes])
    assert_type(f.catch(handler_awaitable), shortly.Future[int | float])
    assert_type(f.catch(lambda e: 0), shortly.Future[int])
    assert_type(f.finally_(lambda: None).then(to_value), shortly.Future[str])
