"""Twisted Deferreds as shortly futures: values, failures, cancellation, chains."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet import defer
from twisted.logger import globalLogPublisher

import shortly

pytestmark = [pytest.mark.timeout(10), pytest.mark.usefixtures("no_unhandled_failures")]


@pytest.fixture
def twisted_errors() -> Iterator[list[dict[str, Any]]]:
    """Everything Twisted logs as an error (such as "Unhandled error in Deferred")."""
    seen: list[dict[str, Any]] = []

    def observe(event: dict[str, Any]) -> None:
        if event.get("isError") or event.get("log_failure") is not None:
            seen.append(event)

    globalLogPublisher.addObserver(observe)
    yield seen
    gc.collect()
    globalLogPublisher.removeObserver(observe)


def test_value_fired_later() -> None:
    d: defer.Deferred[int] = defer.Deferred()
    f = shortly.future_of(d)
    assert not f.done()
    d.callback(42)
    assert f.result() == 42


def test_already_fired_deferred() -> None:
    assert shortly.future_of(defer.succeed("now")).result() == "now"


def test_failure_moves_to_the_future_and_twisted_logs_nothing(
    twisted_errors: list[dict[str, Any]],
) -> None:
    d: defer.Deferred[int] = defer.Deferred()
    f = shortly.future_of(d)
    d.errback(KeyError("twisted"))
    assert isinstance(f.exception(), KeyError)
    del d
    gc.collect()
    assert twisted_errors == []


def test_cancelling_the_future_cancels_the_deferred(
    twisted_errors: list[dict[str, Any]],
) -> None:
    cancelled: list[defer.Deferred[Any]] = []
    d: defer.Deferred[int] = defer.Deferred(canceller=cancelled.append)
    f = shortly.future_of(d)
    assert f.cancel("not needed")
    assert cancelled == [d]
    assert d.called
    del d
    gc.collect()
    assert twisted_errors == []


def test_cancelled_deferred_cancels_the_future() -> None:
    d: defer.Deferred[int] = defer.Deferred()
    f = shortly.future_of(d)
    d.cancel()
    assert f.cancelled()


def test_then_adopts_a_returned_deferred() -> None:
    d: defer.Deferred[str] = defer.Deferred()
    link = shortly.Future.resolved(1).then(lambda _: d)
    assert not link.done()
    d.callback("from twisted")
    assert link.result() == "from twisted"


def test_deferred_subclasses_are_recognised() -> None:
    d1: defer.Deferred[int] = defer.Deferred()
    d2: defer.Deferred[int] = defer.Deferred()
    combined = shortly.future_of(defer.DeferredList([d1, d2]))
    d1.callback(1)
    d2.callback(2)
    assert combined.result() == [(True, 1), (True, 2)]


def test_cancelling_a_chain_on_a_deferred_reaches_it() -> None:
    d: defer.Deferred[int] = defer.Deferred()
    shortly.future_of(d).then(lambda x: x).cancel()
    assert d.called  # cancelled: fired with CancelledError, which the adapter consumed
