"""The public face: every name says it lives in ``shortly``; ``dir()`` shows only those."""

from __future__ import annotations

import concurrent.futures
import pickle

import pytest

import shortly

# Deliberately the stdlib's own class, so existing ``except`` clauses keep working.
STDLIB_OWN = {"CancelledError": concurrent.futures.CancelledError}


@pytest.mark.parametrize("name", sorted(set(shortly.__all__) - set(STDLIB_OWN)))
def test_public_names_live_in_shortly(name: str) -> None:
    obj = getattr(shortly, name)
    assert obj.__module__ == "shortly", f"{name} says it lives in {obj.__module__}"


def test_names_that_are_the_stdlib_own_stay_so() -> None:
    for name, stdlib in STDLIB_OWN.items():
        assert getattr(shortly, name) is stdlib


def test_reprs_and_tracebacks_show_the_public_path() -> None:
    assert repr(shortly.Future) == "<class 'shortly.Future'>"
    assert shortly.Future.result.__qualname__ == "Future.result"
    assert shortly.Future.result.__module__ == "shortly"


def test_public_errors_still_pickle() -> None:
    error = pickle.loads(pickle.dumps(shortly.TimeoutError("late")))
    assert type(error) is shortly.TimeoutError and str(error) == "late"


def test_dir_lists_the_public_api_only() -> None:
    listed = dir(shortly)
    assert set(listed) == {*shortly.__all__, "__version__"}
    assert not [name for name in listed if name.startswith("_") and name != "__version__"]
