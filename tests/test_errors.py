"""The exception hierarchy keeps the stdlib's except clauses working."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures as cf

import shortly


def test_hierarchy() -> None:
    assert issubclass(shortly.InvalidStateError, shortly.Error)
    assert issubclass(shortly.InvalidStateError, cf.InvalidStateError)
    assert issubclass(shortly.TimeoutError, builtins.TimeoutError)
    assert issubclass(shortly.TimeoutError, cf.TimeoutError)
    assert issubclass(shortly.TimeoutError, shortly.Error)
    assert issubclass(shortly.DeadlockError, RuntimeError)
    assert issubclass(shortly.DeadlockError, shortly.Error)
    assert shortly.CancelledError is cf.CancelledError


def test_asyncio_timeout_clauses_catch_ours() -> None:
    try:
        raise shortly.TimeoutError("x")
    except asyncio.TimeoutError as e:  # an alias of the builtin on 3.11+
        assert isinstance(e, shortly.TimeoutError) or not isinstance(e, builtins.TimeoutError)
    except cf.TimeoutError:
        pass
