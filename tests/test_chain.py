"""Chains: then, catch, finally_, adoption, ordering, contexts, responsibility, shield."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import gc
import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shortly
from shortly._chain import follow, resolve
from shortly._core._future import listed
from shortly.testing import recording_unhandled

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(30)]

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


@contextmanager
def until(predicate: Callable[[], bool]) -> None:
    """Wait for a state another thread is about to reach (bounded, fails if it never does)."""
    deadline = threading.Event()
    for _ in range(5000):
        if predicate():
            return
        deadline.wait(0.001)
    raise AssertionError("the awaited state never came")


def pending() -> shortly.Future[Any]:
    return shortly.Future()


def fail_with(error: BaseException) -> Callable[[Any], Any]:
    def handler(_: Any) -> Any:
        raise error

    return handler


class TestThen:
    def test_result_handler_maps_the_value(self) -> None:
        f = pending()
        g = f.then(lambda x: x * 2)
        f.set_result(21)
        assert g.result() == 42

    def test_error_handler_recovers(self) -> None:
        g = shortly.Future.failed(KeyError("k")).then(None, lambda e: f"recovered {e!r}")
        assert g.result() == "recovered KeyError('k')"

    def test_missing_result_handler_passes_the_value_through(self) -> None:
        assert shortly.Future.resolved(3).then(None, lambda e: 0).result() == 3

    def test_missing_error_handler_passes_the_failure_through(self) -> None:
        error = ValueError("boom")
        g = shortly.Future.failed(error).then(lambda x: x)
        assert g.exception() is error

    def test_handler_exception_fails_the_link(self) -> None:
        error = RuntimeError("handler broke")
        assert shortly.Future.resolved(1).then(fail_with(error)).exception() is error

    def test_error_handler_exception_fails_the_link(self) -> None:
        error = RuntimeError("second")
        g = shortly.Future.failed(ValueError("first")).then(None, fail_with(error))
        assert g.exception() is error

    def test_handler_raising_stop_iteration_fails_with_runtime_error(self) -> None:
        g = shortly.Future.resolved(1).then(fail_with(StopIteration(5)))
        error = g.exception()
        assert isinstance(error, RuntimeError)
        assert isinstance(error.__cause__, StopIteration)

    def test_handler_raising_cancelled_error_cancels_the_link_with_its_message(self) -> None:
        g = shortly.Future.resolved(1).then(fail_with(shortly.CancelledError("gave up")))
        assert g.cancelled()
        with pytest.raises(shortly.CancelledError, match="gave up"):
            g.result()

    def test_each_then_returns_a_new_future(self) -> None:
        f = pending()
        assert f.then(lambda x: x) is not f.then(lambda x: x)

    def test_result_value_that_is_a_future_passes_through_unadopted(self) -> None:
        inner = pending()
        assert shortly.Future.resolved(inner).then().result() is inner

    @pytest.mark.parametrize(
        ("kwargs", "error", "match"),
        [
            ({"on_result": 5}, TypeError, "on_result must be callable or None, not int"),
            ({"on_error": "x"}, TypeError, "on_error must be callable or None, not str"),
            ({"executor": object()}, TypeError, "executor must be a concurrent.futures"),
            ({"loop": object()}, TypeError, "loop must be an asyncio event loop, not object"),
        ],
    )
    def test_bad_arguments_are_refused_at_the_call(
        self, kwargs: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        f = pending()
        with pytest.raises(error, match=match):
            f.then(**kwargs)
        assert f._callbacks is None  # nothing was registered

    def test_executor_and_loop_together_are_refused(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            with (
                concurrent.futures.ThreadPoolExecutor(1) as pool,
                pytest.raises(ValueError, match="not both"),
            ):
                pending().then(lambda x: x, executor=pool, loop=loop)
        finally:
            loop.close()


class TestAdoption:
    def test_returned_pending_future_is_adopted(self) -> None:
        f, inner = pending(), pending()
        g = f.then(lambda _: inner)
        f.set_result(None)
        assert not g.done()
        inner.set_result("inner value")
        assert g.result() == "inner value"

    def test_returned_failed_future_fails_the_link_and_hands_over_its_failure(self) -> None:
        error = KeyError("inner")
        g = shortly.Future.resolved(1).then(lambda _: shortly.Future.failed(error))
        assert g.exception() is error

    def test_returned_stdlib_future_is_adopted(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            g = shortly.Future.resolved(4).then(lambda x: pool.submit(pow, x, 2))
            assert g.result(timeout=5) == 16

    def test_returned_asyncio_task_is_adopted_from_another_thread(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        async def later(x: int) -> int:
            await asyncio.sleep(0)
            return x + 1

        async def start(x: int) -> asyncio.Task[int]:
            return asyncio.ensure_future(later(x))

        def handler(x: int) -> asyncio.Task[int]:
            return asyncio.run_coroutine_threadsafe(start(x), loop).result(5)

        assert shortly.Future.resolved(1).then(handler).result(timeout=5) == 2

    def test_adoption_is_recursive(self) -> None:
        innermost = shortly.Future.resolved("deep")
        middle = shortly.Future.resolved(innermost)
        assert shortly.Future.resolved(1).then(lambda _: middle).result() == "deep"

    def test_returning_the_link_itself_fails_with_type_error(self) -> None:
        f = pending()
        links: list[shortly.Future[Any]] = []
        links.append(f.then(lambda _: links[0]))
        f.set_result(1)
        assert isinstance(links[0].exception(), TypeError)

    def test_returned_coroutine_outside_a_loop_runs_as_spawned_code(self) -> None:
        async def work() -> int:
            return 1

        coroutines: list[Any] = []

        def handler(_: Any) -> Any:
            coroutines.append(work())
            return coroutines[0]

        g = shortly.Future.resolved(1).then(handler)
        assert g.result() == 1
        assert coroutines[0].cr_frame is None  # ran to its end: nothing left unawaited

    def test_cancelling_the_link_cancels_the_adopted_future(self) -> None:
        f, inner = pending(), pending()
        g = f.then(lambda _: inner)
        f.set_result(None)
        g.cancel("stop")
        assert inner.cancelled()


class TestCatch:
    def test_matching_type_is_handled(self) -> None:
        g = shortly.Future.failed(KeyError("k")).catch(lambda e: "handled", LookupError)
        assert g.result() == "handled"

    def test_other_types_pass_through(self) -> None:
        error = KeyError("k")
        g = shortly.Future.failed(error).catch(lambda e: "handled", ValueError, TypeError)
        assert g.exception() is error

    def test_no_types_handles_everything(self) -> None:
        g = shortly.Future.failed(ZeroDivisionError()).catch(lambda e: type(e).__name__)
        assert g.result() == "ZeroDivisionError"

    def test_values_pass_through(self) -> None:
        assert shortly.Future.resolved(8).catch(lambda e: 0).result() == 8

    def test_bad_arguments(self) -> None:
        f = pending()
        with pytest.raises(TypeError, match="on_error must be callable, not NoneType"):
            f.catch(None)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="exception_types must be exception classes"):
            f.catch(lambda e: 0, int)  # type: ignore[arg-type]


class TestFinally:
    def test_runs_and_passes_a_value_through(self) -> None:
        ran: list[str] = []
        g = shortly.Future.resolved(1).finally_(lambda: ran.append("cleanup"))
        assert (g.result(), ran) == (1, ["cleanup"])

    def test_runs_and_passes_a_failure_through(self) -> None:
        ran: list[str] = []
        error = ValueError("x")
        g = shortly.Future.failed(error).finally_(lambda: ran.append("cleanup"))
        assert (g.exception(), ran) == (error, ["cleanup"])

    def test_runs_on_cancellation_and_stays_cancelled(self) -> None:
        ran: list[str] = []
        f = pending()
        g = f.finally_(lambda: ran.append("cleanup"))
        f.cancel("bye")
        assert ran == ["cleanup"]
        with pytest.raises(shortly.CancelledError, match="bye"):
            g.result()

    def test_its_own_failure_wins_with_the_original_as_context(self) -> None:
        original, own = ValueError("original"), RuntimeError("cleanup failed")

        def cleanup() -> None:
            raise own

        g = shortly.Future.failed(original).finally_(cleanup)
        assert g.exception() is own
        assert own.__context__ is original

    def test_waits_for_a_returned_future(self) -> None:
        cleanup = pending()
        g = shortly.Future.resolved("value").finally_(lambda: cleanup)
        assert not g.done()
        cleanup.set_result("ignored")
        assert g.result() == "value"

    def test_a_returned_future_that_fails_wins(self) -> None:
        error = OSError("disk")
        g = shortly.Future.resolved("value").finally_(lambda: shortly.Future.failed(error))
        assert g.exception() is error

    def test_rejects_a_non_callable(self) -> None:
        with pytest.raises(TypeError, match="fn must be callable, not int"):
            pending().finally_(3)  # type: ignore[arg-type]


class TestWhereAndWhen:
    def test_handlers_of_a_settled_future_run_before_then_returns(self) -> None:
        ran: list[str] = []
        shortly.Future.resolved(1).then(lambda _: ran.append("handler"))
        ran.append("after then")
        assert ran == ["handler", "after then"]

    def test_handlers_run_in_the_resolving_thread(self) -> None:
        f = pending()
        g = f.then(lambda _: threading.current_thread().name)
        t = threading.Thread(target=f.set_result, args=(None,), name="resolver")
        t.start()
        t.join()
        assert g.result() == "resolver"

    def test_order_is_registration_order_then_breadth_first(self) -> None:
        order: list[str] = []
        root = pending()
        a = root.then(lambda _: order.append("a"))
        b = root.then(lambda _: order.append("b"))
        a.then(lambda _: order.append("a1"))
        b.then(lambda _: order.append("b1"))
        root.then(lambda _: order.append("c"))
        root.set_result(None)
        assert order == ["a", "b", "c", "a1", "b1"]

    def test_handler_sees_the_context_of_the_then_call(self) -> None:
        f = pending()
        token = request_id.set("at then")
        g = f.then(lambda _: request_id.get())
        request_id.reset(token)
        request_id.set("at resolve")
        t = threading.Thread(target=f.set_result, args=(None,))
        t.start()
        t.join()
        assert g.result() == "at then"

    def test_changes_a_handler_makes_stay_in_its_own_context(self) -> None:
        request_id.set("outer")
        shortly.Future.resolved(None).then(lambda _: request_id.set("inner")).result()
        assert request_id.get() == "outer"

    def test_catch_and_finally_see_the_context_of_their_call(self) -> None:
        f = pending()
        request_id.set("registered")
        seen: list[str] = []
        caught = f.catch(lambda e: request_id.get())
        cleaned = f.finally_(lambda: seen.append(request_id.get()))
        request_id.set("changed")
        f.set_exception(ValueError())
        assert (caught.result(), seen) == ("registered", ["registered"])
        assert isinstance(cleaned.exception(), ValueError)

    def test_executor_runs_the_handler_there(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="pool") as pool:
            request_id.set("submitted")
            g = shortly.Future.resolved(2).then(
                lambda x: (x + 1, threading.current_thread().name, request_id.get()),
                executor=pool,
            )
            value, thread, context = g.result(timeout=5)
        assert (value, context) == (3, "submitted")
        assert thread.startswith("pool")

    def test_executor_result_future_is_adopted(self) -> None:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            g = shortly.Future.resolved(2).then(
                lambda x: shortly.Future.resolved(x * 5), executor=pool
            )
            assert g.result(timeout=5) == 10

    def test_shut_down_executor_fails_the_link(self) -> None:
        pool = concurrent.futures.ThreadPoolExecutor(1)
        pool.shutdown()
        g = shortly.Future.resolved(1).then(lambda x: x, executor=pool)
        assert isinstance(g.exception(), RuntimeError)

    def test_job_cancelled_by_the_executor_cancels_the_link(self) -> None:
        started, release = threading.Event(), threading.Event()
        pool = concurrent.futures.ThreadPoolExecutor(1)
        pool.submit(lambda: (started.set(), release.wait(5)))
        started.wait(5)
        g = shortly.Future.resolved(1).then(lambda x: x, executor=pool)
        pool.shutdown(wait=False, cancel_futures=True)
        release.set()
        assert g.wait(timeout=5)
        assert g.cancelled()

    def test_loop_runs_the_handler_on_the_loop_thread(
        self, loop: asyncio.AbstractEventLoop
    ) -> None:
        request_id.set("scheduled")
        g = shortly.Future.resolved(1).then(
            lambda x: (x, threading.current_thread().name, request_id.get()), loop=loop
        )
        assert g.result(timeout=5) == (1, "loop", "scheduled")

    def test_loop_awaits_a_coroutine_handler(self, loop: asyncio.AbstractEventLoop) -> None:
        async def handler(x: int) -> str:
            await asyncio.sleep(0)
            return f"{x} on {threading.current_thread().name}"

        g = shortly.Future.resolved(7).then(handler, loop=loop)
        assert g.result(timeout=5) == "7 on loop"


class TestStackSafety:
    N = 100_000

    def test_chain_built_before_the_root_resolves(self) -> None:
        root = pending()
        f = root
        for _ in range(self.N):
            f = f.then(lambda x: x + 1)
        root.set_result(0)
        assert f.result() == self.N

    def test_chain_built_after_the_root_resolved(self) -> None:
        f: shortly.Future[int] = shortly.Future.resolved(0)
        for _ in range(self.N):
            f = f.then(lambda x: x + 1)
        assert f.result() == self.N

    def test_chain_of_adopted_futures(self) -> None:
        root = pending()
        f = root
        for _ in range(self.N):
            f = f.then(lambda x: shortly.Future.resolved(x + 1))
        root.set_result(0)
        assert f.result() == self.N

    def test_cascade_where_each_callback_resolves_the_next_future(self) -> None:
        futures = [pending() for _ in range(self.N)]
        for current, following in itertools.pairwise(futures):
            current.add_done_callback(lambda done, nxt=following: nxt.set_result(done.result() + 1))
        futures[0].set_result(0)
        assert futures[-1].result() == self.N - 1

    def test_cancelling_the_end_of_a_long_chain_reaches_the_root(self) -> None:
        root = pending()
        f = root
        for _ in range(self.N):
            f = f.then(lambda x: x)
        f.cancel()
        assert root.cancelled()


class TestResponsibility:
    def test_unobserved_failing_chain_is_reported_once_for_its_end(self) -> None:
        with recording_unhandled() as seen:
            root = pending()
            end = root
            for _ in range(10):
                end = end.then(lambda x: x)
            end_name = f"{id(end):#x}"
            root.set_exception(ValueError("lost"))
            del root, end
            gc.collect()
        assert len(seen) == 1
        assert isinstance(seen[0].error, ValueError)
        assert seen[0].source is not None and end_name in seen[0].source

    def test_observed_end_reports_nothing(self) -> None:
        with recording_unhandled() as seen:
            root = pending()
            end = root.then(lambda x: x).then(lambda x: x)
            root.set_exception(ValueError("seen"))
            assert isinstance(end.exception(), ValueError)
            del root, end
        assert seen == []

    def test_failure_handled_midway_reports_nothing(self) -> None:
        with recording_unhandled() as seen:
            root = pending()
            end = root.then(lambda x: x).catch(lambda e: "fine").then(lambda x: x)
            root.set_exception(ValueError("handled"))
            del root, end
        assert seen == []

    def test_handler_failure_at_the_end_is_reported_once(self) -> None:
        with recording_unhandled() as seen:
            shortly.Future.resolved(1).then(fail_with(OSError("late")))
        assert [type(u.error) for u in seen] == [OSError]

    def test_each_unobserved_branch_reports_its_own_end(self) -> None:
        with recording_unhandled() as seen:
            root = pending()
            root.then(lambda x: x)
            root.then(lambda x: x)
            root.set_exception(ValueError("twice lost"))
            del root
        assert len(seen) == 2

    def test_cancelled_link_leaves_the_failure_with_its_parent(self) -> None:
        with recording_unhandled() as seen:
            root = pending()
            keep = root.then(lambda x: x)  # keeps the root wanted
            root.then(lambda x: x).cancel()
            root.set_exception(ValueError("x"))
            assert isinstance(keep.exception(), ValueError)
            del root, keep
        assert seen == []


class TestCancellation:
    def test_downward_with_the_message_and_no_handlers(self) -> None:
        ran: list[str] = []
        root = pending()
        end = root.then(lambda x: ran.append("r")).then(None, lambda e: ran.append("e"))
        root.cancel("shutting down")
        assert end.cancelled() and ran == []
        with pytest.raises(shortly.CancelledError, match="shutting down"):
            end.result()

    def test_upward_when_the_only_dependant_is_cancelled(self) -> None:
        root = pending()
        root.then(lambda x: x).cancel("not needed")
        assert root.cancelled()
        with pytest.raises(shortly.CancelledError, match="not needed"):
            root.result()

    def test_not_upward_while_another_dependant_wants_it(self) -> None:
        root = pending()
        first, second = root.then(lambda x: x), root.then(lambda x: x + 1)
        first.cancel()
        assert not root.cancelled()
        root.set_result(1)
        assert second.result() == 2

    def test_upward_once_every_dependant_is_cancelled(self) -> None:
        root = pending()
        first, second = root.then(lambda x: x), root.then(lambda x: x)
        first.cancel()
        second.cancel()
        assert root.cancelled()

    def test_not_upward_while_a_thread_waits_on_the_parent(self) -> None:
        root = pending()
        link = root.then(lambda x: x)
        waiting = threading.Event()
        outcome: list[Any] = []

        def waiter() -> None:
            waiting.set()
            outcome.append(root.result(timeout=5))

        t = threading.Thread(target=waiter)
        t.start()
        waiting.wait(5)
        until(lambda: bool(root._wait_list))  # the waiter is asleep on the root
        link.cancel()
        assert not root.cancelled()
        root.set_result("still wanted")
        t.join(5)
        assert outcome == ["still wanted"]

    def test_upward_through_a_whole_chain(self) -> None:
        root = pending()
        middle = root.then(lambda x: x)
        end = middle.then(lambda x: x)
        end.cancel()
        assert middle.cancelled() and root.cancelled()

    def test_cancelled_link_skips_its_handler(self) -> None:
        ran: list[str] = []
        root = pending()
        keep = root.then(lambda x: x)
        root.then(lambda x: ran.append("should not run")).cancel()
        root.set_result(1)
        assert keep.result() == 1 and ran == []


class TestShield:
    def test_cancelling_the_shield_spares_the_future(self) -> None:
        work = pending()
        guard = shortly.shield(work)
        assert guard.cancel("impatient")
        assert not work.cancelled()
        work.set_result("done")
        assert work.result() == "done"

    def test_shield_settles_as_the_future(self) -> None:
        work = pending()
        guard = shortly.shield(work)
        error = ValueError("x")
        work.set_exception(error)
        assert guard.exception() is error

    def test_cancelled_shield_leaves_no_registration_behind(self) -> None:
        work = pending()
        keep = work.then(lambda x: x)
        for _ in range(100):
            shortly.shield(work).cancel()
        assert len(listed(work._callbacks)) == 1
        work.set_result(1)
        assert keep.result() == 1

    def test_shield_of_a_link_stops_the_upward_rule(self) -> None:
        root = pending()
        shortly.shield(root.then(lambda x: x)).cancel()
        assert not root.cancelled()

    def test_shield_accepts_a_stdlib_future(self) -> None:
        source: concurrent.futures.Future[int] = concurrent.futures.Future()
        guard = shortly.shield(source)
        guard.cancel()
        assert not source.cancelled()

    def test_cancelled_future_cancels_its_shield(self) -> None:
        work = pending()
        guard = shortly.shield(work)
        work.cancel("from the source")
        with pytest.raises(shortly.CancelledError, match="from the source"):
            guard.result()


class TestHelpers:
    def test_follow_copies_each_outcome(self) -> None:
        for source in (
            shortly.Future.resolved(1),
            shortly.Future.failed(KeyError("k")),
            pending(),
        ):
            if not source.done():
                source.cancel("m")
            target = pending()
            follow(target, source)
            assert target.cancelled() == source.cancelled()
            if not source.cancelled():
                assert target.exception() is source.exception()

    def test_resolve_sets_plain_values(self) -> None:
        target = pending()
        resolve(target, [1, 2])
        assert target.result() == [1, 2]


# -- a model of chains, checked by hypothesis ----------------------------------------------

Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["add", "raise", "recover", "catch_key", "catch_value", "finally"]),
        st.integers(0, 9),
    ),
    max_size=12,
)


def model(root: Any, chain: list[Step]) -> Any:
    """The outcome of ``chain`` applied to ``root`` (an int or an exception)."""
    outcome = root
    for kind, n in chain:
        failed = isinstance(outcome, BaseException)
        if kind == "add" and not failed:
            outcome = outcome + n
        elif kind == "raise" and not failed:
            outcome = KeyError(n) if n % 2 else ValueError(n)
        elif kind == "recover" and failed:
            outcome = n
        elif (kind == "catch_key" and isinstance(outcome, KeyError)) or (
            kind == "catch_value" and isinstance(outcome, ValueError)
        ):
            outcome = -n
    return outcome


def build(f: shortly.Future[Any], chain: list[Step]) -> shortly.Future[Any]:
    for kind, n in chain:
        if kind == "add":
            f = f.then(lambda x, n=n: x + n)
        elif kind == "raise":
            f = f.then(fail_with(KeyError(n) if n % 2 else ValueError(n)))
        elif kind == "recover":
            f = f.then(None, lambda e, n=n: n)
        elif kind == "catch_key":
            f = f.catch(lambda e, n=n: -n, KeyError)
        elif kind == "catch_value":
            f = f.catch(lambda e, n=n: -n, ValueError)
        else:
            f = f.finally_(lambda: None)
    return f


def outcome_of(f: shortly.Future[Any]) -> Any:
    error = f.exception(timeout=5)
    return f.result() if error is None else error


@settings(max_examples=150, deadline=None)
@given(
    root=st.one_of(st.integers(0, 9), st.just("key"), st.just("value")),
    chain=steps,
    before=st.booleans(),
)
def test_chains_agree_with_the_model(root: Any, chain: list[Step], before: bool) -> None:
    error_of = {"key": KeyError("root"), "value": ValueError("root")}
    value = error_of.get(root, root) if isinstance(root, str) else root
    expected = model(value, chain)
    f: shortly.Future[Any] = shortly.Future()
    if not before:
        settle(f, value)
    end = build(f, chain)
    if before:
        settle(f, value)
    got = outcome_of(end)
    if isinstance(expected, BaseException):
        assert type(got) is type(expected) and got.args == expected.args
    else:
        assert got == expected


def settle(f: shortly.Future[Any], value: Any) -> None:
    if isinstance(value, BaseException):
        f.set_exception(value)
    else:
        f.set_result(value)


# -- deep and cyclic adoption (Promises/A+ 2.3.1) ----------------------------------------------


def _nested(depth: int) -> shortly.Future[Any]:
    """A settled future whose value is a settled future ... ``depth`` times, then "core"."""
    value: Any = "core"
    for _ in range(depth):
        value = shortly.Future.resolved(value)
    return value  # type: ignore[no-any-return]


@pytest.mark.parametrize("depth", [150, 100_000])
def test_adopting_settled_futures_nested_deep_keeps_a_flat_stack(depth: int) -> None:
    inner = _nested(depth)
    with recording_unhandled() as seen:
        child = shortly.Future.resolved(1).then(lambda _: inner)
        assert child.result(timeout=5) == "core"
        pending: shortly.Future[int] = shortly.Future()
        later = pending.then(lambda _: inner)
        pending.set_result(1)
        assert later.result(timeout=5) == "core"
    assert seen == []


def test_a_future_resolved_with_itself_rejects_with_type_error() -> None:
    loop_: shortly.Future[Any] = shortly.Future()
    loop_.set_result(loop_)
    child = shortly.Future.resolved(1).then(lambda _: loop_)
    assert isinstance(child.exception(timeout=5), TypeError)
    parent: shortly.Future[int] = shortly.Future()
    own: shortly.Future[Any] = parent.then(lambda _: own)
    parent.set_result(1)
    assert isinstance(own.exception(timeout=5), TypeError)


def test_longer_adoption_cycles_reject_with_type_error_now_or_later() -> None:
    a: shortly.Future[Any] = shortly.Future()
    b: shortly.Future[Any] = shortly.Future()
    c: shortly.Future[Any] = shortly.Future()
    a.set_result(b)
    b.set_result(c)
    c.set_result(a)
    assert isinstance(shortly.Future.resolved(1).then(lambda _: a).exception(timeout=5), TypeError)
    # A cycle closed after adoption began: x waits on y, which settles with x.
    x: shortly.Future[Any] = shortly.Future()
    y: shortly.Future[Any] = shortly.Future()
    child = shortly.Future.resolved(1).then(lambda _: x)
    x.set_result(y)
    assert not child.done()
    y.set_result(x)
    assert isinstance(child.exception(timeout=5), TypeError)
    # The same future met twice without a cycle is fine.
    shared = shortly.Future.resolved("v")
    assert shortly.all_of([shortly.Future.resolved(1).then(lambda _: shared)] * 2).result() == [
        "v",
        "v",
    ]


# -- async def handlers without a loop: run as spawned code, never a coroutine result -----------


async def _double_later(x: int) -> int:
    await shortly.sleep(0.001)
    return x * 2


@contextmanager
def no_unawaited_coroutines() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # "coroutine ... was never awaited"
        yield
        gc.collect()


def test_an_async_handler_without_a_loop_runs_as_spawned_code() -> None:
    with no_unawaited_coroutines():
        assert shortly.Future.resolved(2).then(_double_later).result(timeout=5) == 4
        parent: shortly.Future[int] = shortly.Future()
        child = parent.then(_double_later)
        threading.Thread(target=parent.set_result, args=(5,)).start()
        assert child.result(timeout=5) == 10
        recovered = shortly.Future.failed(KeyError("k")).catch(lambda e: _double_later(1))
        assert recovered.result(timeout=5) == 2


def test_an_async_handler_sees_the_context_of_then() -> None:
    async def read() -> str:
        await shortly.sleep(0.001)
        return request_id.get()

    parent: shortly.Future[int] = shortly.Future()
    token = request_id.set("r-7")
    try:
        child = parent.then(lambda _: read())
    finally:
        request_id.reset(token)
    threading.Thread(target=parent.set_result, args=(1,)).start()
    assert child.result(timeout=5) == "r-7"


def test_an_async_handler_on_an_executor_runs_too() -> None:
    with no_unawaited_coroutines(), concurrent.futures.ThreadPoolExecutor(1) as pool:
        child = shortly.Future.resolved(3).then(_double_later, executor=pool)
        assert child.result(timeout=5) == 6


def test_an_async_finally_runs_before_the_outcome_passes() -> None:
    ran = []

    async def cleanup() -> None:
        await shortly.sleep(0.001)
        ran.append("cleaned")

    with no_unawaited_coroutines():
        assert shortly.Future.resolved("v").finally_(cleanup).result(timeout=5) == "v"
    assert ran == ["cleaned"]


def test_an_async_handler_inside_a_running_loop_is_a_task_of_that_loop() -> None:
    async def main() -> tuple[int, bool]:
        loop = asyncio.get_running_loop()

        async def on_loop(x: int) -> int:
            await asyncio.sleep(0)
            return x + (asyncio.get_running_loop() is loop)

        return await shortly.Future.resolved(1).then(on_loop), True

    assert asyncio.run(main()) == (2, True)


def test_a_cancelled_finally_link_runs_fn_only_if_its_cancel_reaches_the_parent() -> None:
    ran: list[str] = []
    shared: shortly.Future[int] = shortly.Future()
    other = shared.then(lambda v: v)  # somebody else wants it
    assert shared.finally_(lambda: ran.append("shared")).cancel()
    shared.set_result(1)
    assert other.result() == 1
    assert ran == []  # the link left the parent, which carried on
    alone: shortly.Future[int] = shortly.Future()
    assert alone.finally_(lambda: ran.append("alone")).cancel()
    assert alone.cancelled()
    assert ran == ["alone"]


def test_a_then_child_has_every_field_a_constructed_future_has() -> None:
    # then() builds its child without __init__ (Future._plain): the two must agree.
    def fields(future: shortly.Future[Any]) -> dict[str, Any]:
        slots = [s for cls in type(future).__mro__ for s in getattr(cls, "__slots__", ())]
        return {s: getattr(future, s) for s in slots if hasattr(future, s) and s != "_lock"}

    parent: shortly.Future[int] = shortly.Future()
    child = parent.then(lambda x: x)
    expected = fields(shortly.Future())
    expected["_upstream"] = parent
    assert fields(child) == expected
    assert type(child) is shortly.Future


def test_then_on_a_subclass_goes_through_its_add_done_callback() -> None:
    added: list[object] = []

    class Recording(shortly.Future[int]):
        __slots__ = ()

        def add_done_callback(self, fn: Callable[[Any], object]) -> None:
            added.append(fn)
            super().add_done_callback(fn)

    parent = Recording()
    child = parent.then(lambda x: x + 1)
    assert len(added) == 1
    parent.set_result(1)
    assert child.result(timeout=0) == 2


@pytest.mark.parametrize("state", ["running", "finished"])
def test_then_on_a_running_or_finished_parent(state: str) -> None:
    parent: shortly.Future[int] = shortly.Future()
    parent.set_running_or_notify_cancel()
    if state == "finished":
        parent.set_result(1)
    child = parent.then(lambda x: x + 1)
    if state == "running":
        assert not child.done()
        parent.set_result(1)
    assert child.result(timeout=0) == 2
