"""Promises/A+ 2.1 to 2.3, one test per clause, with shortly futures as the promises.

The mapping: a promise is a :class:`shortly.Future`; fulfilled is "finished with a
value", rejected is "failed with an exception"; ``then(onFulfilled, onRejected)`` is
``then(on_result, on_error)``. In 2.3, "thenables" are futures and everything
``future_of`` adapts (stdlib futures, objects with ``__shortly_future__``, registered
adapters); ``__shortly_future__`` plays the part of the ``then`` property.

Deliberate differences, each tested under its clause: 2.2.1 (a handler that is neither
callable nor None is a ``TypeError`` at the call rather than silently ignored: bad input
fails loudly) and 2.2.4 (handlers of an already settled future run synchronously, as
Twisted does, instead of on a fresh stack later).
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any

import pytest

import shortly
from shortly.testing import recording_unhandled

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(10)]


def pending() -> shortly.Future[Any]:
    return shortly.Future()


def recorder() -> tuple[list[Any], Callable[[Any], None]]:
    calls: list[Any] = []

    def record(*args: Any) -> None:
        calls.append(args)

    return calls, record


class Thenable:
    """A thenable: an object that offers a future through ``__shortly_future__``."""

    def __init__(self, future: shortly.Future[Any]) -> None:
        self.future = future
        self.asked = 0

    def __shortly_future__(self) -> shortly.Future[Any]:
        self.asked += 1
        return self.future


# -- 2.1 promise states ------------------------------------------------------------------


def test_2_1_1_pending_may_become_fulfilled_or_rejected() -> None:
    fulfilled, rejected = pending(), pending()
    assert not fulfilled.done() and not rejected.done()
    fulfilled.set_result(1)
    rejected.set_exception(ValueError())
    assert fulfilled.result() == 1
    assert isinstance(rejected.exception(), ValueError)


def test_2_1_2_fulfilled_never_changes_state_or_value() -> None:
    value = object()
    f = pending()
    f.set_result(value)
    assert not f.try_set_exception(ValueError())
    assert not f.try_set_result(object())
    assert not f.cancel()
    with pytest.raises(shortly.InvalidStateError):
        f.set_result(object())
    assert f.result() is value


def test_2_1_3_rejected_never_changes_state_or_reason() -> None:
    reason = ValueError("reason")
    f = pending()
    f.set_exception(reason)
    assert not f.try_set_result(1)
    assert not f.try_set_exception(KeyError())
    assert not f.cancel()
    with pytest.raises(shortly.InvalidStateError):
        f.set_exception(KeyError())
    assert f.exception() is reason


# -- 2.2 the then method -----------------------------------------------------------------


def test_2_2_1_both_handlers_are_optional_but_must_be_callable() -> None:
    assert shortly.Future.resolved(1).then(None, None).result() == 1
    assert shortly.Future.resolved(1).then().result() == 1
    # Deliberate difference: a non-callable is refused loudly instead of ignored.
    with pytest.raises(TypeError, match="on_result must be callable or None"):
        shortly.Future.resolved(1).then("not a function")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="on_error must be callable or None"):
        shortly.Future.resolved(1).then(None, 42)  # type: ignore[arg-type]


def test_2_2_2_on_result_called_once_after_fulfilment_with_the_value() -> None:
    calls, record = recorder()
    f = pending()
    f.then(record)
    assert calls == []  # 2.2.2.2: not before fulfilment
    f.set_result("value")
    assert calls == [("value",)]  # 2.2.2.1: with the value as first argument
    f.try_set_result("again")
    assert calls == [("value",)]  # 2.2.2.3: not more than once


def test_2_2_3_on_error_called_once_after_rejection_with_the_reason() -> None:
    calls, record = recorder()
    reason = ValueError("reason")
    f = pending()
    f.then(None, record)
    assert calls == []  # 2.2.3.2
    f.set_exception(reason)
    assert calls == [(reason,)]  # 2.2.3.1
    f.try_set_exception(KeyError())
    assert calls == [(reason,)]  # 2.2.3.3


def test_2_2_4_handlers_of_a_settled_future_run_synchronously_deliberately() -> None:
    order: list[str] = []
    shortly.Future.resolved(1).then(lambda _: order.append("handler"))
    order.append("after then")
    assert order == ["handler", "after then"]  # the documented difference from 2.2.4
    # A pending future's handlers wait for the resolution, in the resolver's thread.
    f = pending()
    f.then(lambda _: order.append(threading.current_thread().name))
    order.append("registered")
    t = threading.Thread(target=f.set_result, args=(None,), name="resolver")
    t.start()
    t.join(5)
    assert order[-2:] == ["registered", "resolver"]


def test_2_2_5_handlers_are_called_as_plain_functions() -> None:
    seen: list[tuple[Any, ...]] = []

    def handler(*args: Any, **kwargs: Any) -> None:
        seen.append((args, kwargs))

    shortly.Future.resolved(1).then(handler)
    shortly.Future.failed(KeyError("k")).then(None, handler)
    assert [len(args) for args, _ in seen] == [1, 1]
    assert [kwargs for _, kwargs in seen] == [{}, {}]


def test_2_2_6_then_many_times_runs_handlers_in_order_of_their_then_calls() -> None:
    order: list[int] = []
    fulfilled, rejected = pending(), pending()
    for i in range(5):
        fulfilled.then(lambda _, i=i: order.append(i))
        rejected.then(None, lambda _, i=i: order.append(10 + i))
    fulfilled.set_result(None)  # 2.2.6.1
    rejected.set_exception(ValueError())  # 2.2.6.2
    assert order == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]


def test_2_2_7_then_returns_a_future_settled_as_the_clauses_say() -> None:
    f = pending()
    g = f.then(lambda x: x)
    assert isinstance(g, shortly.Future) and g is not f
    # 2.2.7.1: a value returned by a handler resolves the new future.
    assert shortly.Future.resolved(1).then(lambda x: x + 1).result() == 2
    assert shortly.Future.failed(KeyError()).then(None, lambda e: "ok").result() == "ok"
    # 2.2.7.2: an exception raised by a handler rejects it with that exception.
    error = RuntimeError("thrown")

    def throw(_: Any) -> None:
        raise error

    assert shortly.Future.resolved(1).then(throw).exception() is error
    assert shortly.Future.failed(KeyError()).then(None, throw).exception() is error
    # 2.2.7.3: no on_result: fulfilled with the same value.
    value = object()
    assert shortly.Future.resolved(value).then(None, throw).result() is value
    # 2.2.7.4: no on_error: rejected with the same reason.
    reason = KeyError("same")
    assert shortly.Future.failed(reason).then(throw).exception() is reason
    f.set_result(None)
    g.result()


# -- 2.3 the resolution procedure -------------------------------------------------------


def test_2_3_1_resolving_a_future_with_itself_rejects_with_type_error() -> None:
    f = pending()
    links: list[shortly.Future[Any]] = []
    links.append(f.then(lambda _: links[0]))
    f.set_result(None)
    assert isinstance(links[0].exception(), TypeError)


def test_2_3_2_a_returned_future_is_adopted() -> None:
    # 2.3.2.1: while it is pending, so is the link.
    inner, outer = pending(), pending()
    link = outer.then(lambda _: inner)
    outer.set_result(None)
    assert not link.done()
    # 2.3.2.2: fulfilled with the same value.
    inner.set_result("same value")
    assert link.result() == "same value"
    # 2.3.2.3: rejected with the same reason.
    reason = ValueError("same reason")
    rejected = shortly.Future.failed(reason)
    assert shortly.Future.resolved(1).then(lambda _: rejected).exception() is reason


def test_2_3_3_adaptable_objects_are_adopted_as_thenables() -> None:
    # 2.3.3.1: the adapter is looked up and asked once.
    thenable = Thenable(shortly.Future.resolved("via thenable"))
    assert shortly.Future.resolved(1).then(lambda _: thenable).result() == "via thenable"
    assert thenable.asked == 1

    # 2.3.3.2: asking it raises: the link is rejected with that exception.
    class Broken:
        def __shortly_future__(self) -> shortly.Future[Any]:
            raise OSError("cannot")

    assert isinstance(shortly.Future.resolved(1).then(lambda _: Broken()).exception(), OSError)

    # 2.3.3.3.1: when it resolves with y, y is resolved in turn (here: another future).
    nested = Thenable(shortly.Future.resolved(shortly.Future.resolved("y resolved")))
    assert shortly.Future.resolved(1).then(lambda _: nested).result() == "y resolved"

    # 2.3.3.3.2: when it rejects with r, the link rejects with r.
    reason = KeyError("r")
    rejecting = Thenable(shortly.Future.failed(reason))
    assert shortly.Future.resolved(1).then(lambda _: rejecting).exception() is reason

    # 2.3.3.3.3: only the first settlement counts (a stdlib future, settled twice).
    source: concurrent.futures.Future[str] = concurrent.futures.Future()
    link = shortly.Future.resolved(1).then(lambda _: source)
    source.set_result("first")
    with pytest.raises(concurrent.futures.InvalidStateError):
        source.set_result("second")
    assert link.result() == "first"

    # 2.3.3.3.4: the thenable raising once it has settled changes nothing: its
    # done-callback's failure is reported as such, not made the link's outcome.
    settling: shortly.Future[str] = pending()

    def raise_after(_: Any) -> None:
        raise RuntimeError("after settling")

    settling.add_done_callback(raise_after)
    link = shortly.Future.resolved(1).then(lambda _: Thenable(settling))
    with recording_unhandled() as seen:
        settling.set_result("kept")
        shortly.flush_reports()
    assert link.result() == "kept"
    assert [type(u.error) for u in seen] == [RuntimeError]

    # 2.3.3.4: a __shortly_future__ that is not callable makes a plain value.
    class NotAThenable:
        __shortly_future__ = "just data"

    plain = NotAThenable()
    assert shortly.Future.resolved(1).then(lambda _: plain).result() is plain


def test_2_3_4_other_values_fulfil_the_link() -> None:
    for value in (None, 0, "text", [1, 2], {"k": "v"}, object()):
        assert shortly.Future.resolved(1).then(lambda _, v=value: v).result() is value
