"""Checked by mypy --strict (see test_combine.py), never run: the combinators' types."""

from __future__ import annotations

import concurrent.futures
from typing import Any

from typing_extensions import assert_type

import shortly
from shortly import Err, Future, Ok, Outcome


async def job() -> bytes:
    return b""


def examples(
    a: Future[int], b: Future[str], std: concurrent.futures.Future[float], many: list[Future[int]]
) -> None:
    assert_type(shortly.all_of((a, b)), Future[tuple[int, str]])
    assert_type(shortly.all_of((a, b, std)), Future[tuple[int, str, float]])
    assert_type(
        shortly.all_of((a, b, a, b, a, job())), Future[tuple[int, str, int, str, int, bytes]]
    )
    assert_type(shortly.all_of(tuple(many)), Future[tuple[int, ...]])
    assert_type(shortly.all_of((a, 3)), Future[tuple[Any, ...]])
    assert_type(shortly.all_of(many), Future[list[int]])
    assert_type(shortly.all_of(f for f in many), Future[list[int]])
    assert_type(shortly.all_of([a, 3]), Future[list[Any]])
    assert_type(shortly.any_of(many), Future[int])
    assert_type(shortly.race([a, a], cancel_losers=False), Future[int])
    assert_type(shortly.settled(many), Future[list[Outcome[int]]])
    assert_type(shortly.gather({"a": a}), Future[dict[str, int]])
    assert_type(shortly.gather([a, a]), Future[list[int]])
    assert_type(shortly.gather(a, b), Future[tuple[int, str]])
    assert_type(shortly.gather(a, b, std), Future[tuple[int, str, float]])
    assert_type(shortly.gather({"a": a, "nested": [b]}), Future[Any])

    pair = shortly.all_of((a, b)).result()
    number: int = pair[0]
    text: str = pair[1]

    for outcome in shortly.settled(many).result():
        assert_type(outcome.unwrap(), int)
        match outcome:
            case Ok(value):
                print(value)
            case Err(error):
                assert_type(error, BaseException)
    assert_type(Ok(1).unwrap(), int)
    ok_list: list[Outcome[int]] = [Ok(1), Err(KeyError())]

    for f in shortly.as_completed(many, timeout=1):
        assert_type(f, Future[int])
    for g in shortly.as_completed([std]):
        assert_type(g, concurrent.futures.Future[float])
    del number, text, ok_list


async def async_examples(many: list[Future[int]]) -> None:
    async for f in shortly.as_completed(many):
        assert_type(f, Future[int])
    values = await shortly.all_of(many)
    assert_type(values, list[int])
