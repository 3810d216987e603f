"""shortly.testing: the context manager and the pytest fixture."""

from __future__ import annotations

import pytest

import shortly
from shortly.testing import UnhandledFailures, no_unhandled


def test_context_manager_raises_on_unhandled_failure() -> None:
    with pytest.raises(UnhandledFailures) as info, no_unhandled():
        shortly.Future().set_exception(ValueError("lost"))
    assert len(info.value.failures) == 1
    assert "ValueError: lost" in str(info.value)


def test_context_manager_is_quiet_when_all_is_handled() -> None:
    with no_unhandled() as seen:
        f: shortly.Future[int] = shortly.Future()
        f.set_exception(ValueError())
        f.exception()
    assert seen == []


def test_previous_handler_is_restored_and_still_called() -> None:
    outer: list[shortly.Unhandled] = []
    previous = shortly.set_unhandled_handler(outer.append)
    try:
        with pytest.raises(UnhandledFailures), no_unhandled():
            shortly.Future().set_exception(KeyError())
        assert len(outer) == 1, "the handler installed before is chained"
        assert shortly.set_unhandled_handler(outer.append) == outer.append
    finally:
        shortly.set_unhandled_handler(previous)


def test_fixture_collects(no_unhandled_failures: list[shortly.Unhandled]) -> None:
    f: shortly.Future[int] = shortly.Future()
    f.add_done_callback(lambda _: None)
    f.set_result(1)
    assert no_unhandled_failures == []
