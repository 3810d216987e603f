"""Outcome, Ok and Err: values that stand for a return or a raise."""

from __future__ import annotations

import copy
import pickle

import pytest

import shortly
from shortly import Err, Ok, Outcome

pytestmark = pytest.mark.timeout(10)


def test_ok_holds_and_unwraps_its_value() -> None:
    ok = Ok([1, 2])
    assert ok.value == [1, 2]
    assert ok.unwrap() is ok.value
    assert isinstance(ok, Outcome)


def test_err_holds_and_raises_its_error() -> None:
    error = KeyError("k")
    err = Err(error)
    assert err.error is error
    assert isinstance(err, Outcome)
    with pytest.raises(KeyError) as caught:
        err.unwrap()
    assert caught.value is error


def test_err_can_be_unwrapped_more_than_once() -> None:
    err = Err(ValueError("again"))
    for _ in range(3):
        with pytest.raises(ValueError, match="again"):
            err.unwrap()


def test_err_unwrap_leaves_no_reference_to_itself_in_the_traceback() -> None:
    err = Err(ValueError("x"))
    with pytest.raises(ValueError) as caught:
        err.unwrap()
    tb = caught.value.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    unwrap_frame = frames[-1]
    assert unwrap_frame.f_code.co_name == "unwrap"
    assert "self" not in unwrap_frame.f_locals
    assert "error" not in unwrap_frame.f_locals


def test_err_refuses_a_non_exception_naming_the_argument() -> None:
    with pytest.raises(TypeError, match="error must be an exception instance, not str"):
        Err("boom")  # type: ignore[arg-type]


def test_outcome_is_abstract() -> None:
    with pytest.raises(TypeError):
        Outcome()  # type: ignore[abstract]


def test_equality_and_hash_follow_kind_and_content() -> None:
    assert Ok(1) == Ok(1)
    assert hash(Ok(1)) == hash(Ok(1))
    assert Ok(1) != Ok(2)
    error = OSError(5)
    assert Err(error) == Err(error)
    assert hash(Err(error)) == hash(Err(error))
    assert Err(error) != Err(OSError(5))  # exceptions compare by identity
    assert Ok(error) != Err(error)
    assert Ok(1) != 1


def test_outcomes_are_immutable() -> None:
    ok = Ok(1)
    with pytest.raises(AttributeError, match="immutable"):
        ok.value = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del ok.value
    err = Err(KeyError())
    with pytest.raises(AttributeError, match="immutable"):
        err.error = ValueError()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ok.other = 1  # type: ignore[attr-defined]


def test_repr_shows_kind_and_content() -> None:
    assert repr(Ok("v")) == "Ok('v')"
    assert repr(Err(KeyError("k"))) == "Err(KeyError('k'))"


def test_outcomes_pickle_and_copy() -> None:
    assert pickle.loads(pickle.dumps(Ok({"a": 1}))) == Ok({"a": 1})
    restored = pickle.loads(pickle.dumps(Err(ValueError("v"))))
    assert isinstance(restored, Err)
    assert isinstance(restored.error, ValueError)
    assert restored.error.args == ("v",)
    assert copy.copy(Ok(3)) == Ok(3)
    error = KeyError()
    assert copy.copy(Err(error)).error is error


def test_pattern_matching_unpacks_value_or_error() -> None:
    seen = []
    for outcome in (Ok(1), Err(KeyError("k"))):
        match outcome:
            case Ok(value):
                seen.append(("ok", value))
            case Err(error):
                seen.append(("err", type(error).__name__))
    assert seen == [("ok", 1), ("err", "KeyError")]


def test_outcomes_are_exported_from_shortly() -> None:
    assert shortly.Ok is Ok
    assert shortly.Err is Err
    assert shortly.Outcome is Outcome
