"""all_of, any_of, race, settled and gather: values, failures, cancellation, responsibility."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import sys
import threading
from collections import OrderedDict, namedtuple
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import shortly
from shortly import AllFailed, Err, Future, Ok, all_of, any_of, gather, race, settled

if sys.version_info < (3, 11):
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

pytestmark = [pytest.mark.timeout(10), pytest.mark.usefixtures("no_unhandled_failures")]


@contextlib.contextmanager
def reported() -> Iterator[list[BaseException]]:
    """Collect what is reported as unhandled inside the block (instead of failing)."""
    seen: list[BaseException] = []
    previous = shortly.set_unhandled_handler(lambda unhandled: seen.append(unhandled.error))
    try:
        yield seen
        gc.collect()
        shortly.flush_reports()  # those found inside shortly's code come from its reporter
    finally:
        shortly.set_unhandled_handler(previous)


def interested(f: Future[Any]) -> None:
    """Give ``f`` another consumer (a plain callback), so the upward rule keeps it."""
    f.add_done_callback(lambda _: None)


# -- all_of ---------------------------------------------------------------------------------


def test_all_of_gives_values_in_input_order_whatever_the_completion_order() -> None:
    fs: list[Future[int]] = [Future() for _ in range(4)]
    combined = all_of(fs)
    for i in (2, 0, 3, 1):
        assert not combined.done()
        fs[i].set_result(i * 10)
    assert combined.result() == [0, 10, 20, 30]


def test_all_of_on_a_tuple_gives_a_tuple_and_on_other_iterables_a_list() -> None:
    a, b = Future.resolved(1), Future.resolved("two")
    assert all_of((a, b)).result() == (1, "two")
    assert all_of([a, b]).result() == [1, "two"]
    assert all_of(f for f in (a, b)).result() == [1, "two"]
    assert all_of({a: "x", b: "y"}).result() == [1, "two"]  # a dict gives its keys


def test_all_of_takes_plain_values_stdlib_futures_and_awaitables() -> None:
    std: concurrent.futures.Future[str] = concurrent.futures.Future()
    pending: Future[int] = Future()
    combined = all_of([1, pending, std, None])
    pending.set_result(2)
    assert not combined.done()
    std.set_result("std")
    assert combined.result(timeout=5) == [1, 2, "std", None]

    async def main() -> list[Any]:
        async def three() -> int:
            await asyncio.sleep(0)
            return 3

        return await all_of([three(), 4])  # type: ignore[no-any-return]

    assert asyncio.run(main()) == [3, 4]


def test_all_of_on_empty_input_resolves_at_once() -> None:
    assert all_of([]).result() == []
    assert all_of(()).result() == ()


def test_all_of_reads_a_generator_once() -> None:
    produced = []

    def gen() -> Iterator[int]:
        for i in range(3):
            produced.append(i)
            yield i

    assert all_of(gen()).result() == [0, 1, 2]
    assert produced == [0, 1, 2]


def test_all_of_fails_with_the_first_failure_in_time_not_in_input_order() -> None:
    fs: list[Future[int]] = [Future() for _ in range(3)]
    combined = all_of(fs, cancel_on_error=False)
    first, second = OSError("first"), KeyError("second")
    fs[2].set_exception(first)
    fs[0].set_exception(second)
    assert combined.exception() is first
    fs[1].set_result(1)
    assert fs[0].exception() is second  # observed here, or it would be reported


def test_all_of_cancels_the_pending_inputs_on_error_by_default() -> None:
    a, b, c = Future(), Future(), Future()
    b.set_result("done")
    combined = all_of([a, b, c])
    c.set_exception(ValueError("bad"))
    assert isinstance(combined.exception(), ValueError)
    assert a.cancelled()
    with pytest.raises(shortly.CancelledError, match="all_of: input 2 failed"):
        a.result()
    assert b.result() == "done"


def test_all_of_cancel_on_error_spares_an_input_someone_else_wants() -> None:
    shared, other = Future(), Future()
    interested(shared)
    combined = all_of([shared, other])
    other.set_exception(ValueError())
    assert isinstance(combined.exception(), ValueError)
    assert not shared.cancelled()
    shared.set_result("still wanted")
    assert shared.result() == "still wanted"


def test_all_of_cancel_on_error_false_leaves_the_others_alone() -> None:
    a, b = Future(), Future()
    combined = all_of([a, b], cancel_on_error=False)
    b.set_exception(ValueError())
    assert isinstance(combined.exception(), ValueError)
    assert not a.done()
    a.set_result(1)


def test_all_of_refuses_a_bad_flag_naming_it() -> None:
    with pytest.raises(TypeError, match="cancel_on_error must be a bool, not str"):
        all_of([1], cancel_on_error="yes")  # type: ignore[call-overload]


@pytest.mark.parametrize("bad", [3, "abc", b"ab", Future.resolved(1), None])
def test_combinators_refuse_something_that_is_not_a_collection_of_inputs(bad: Any) -> None:
    for combinator in (all_of, any_of, race, settled, shortly.as_completed):
        with pytest.raises(TypeError, match=r"fs must be an iterable of futures or values, not"):
            combinator(bad)


def test_an_unadaptable_item_fails_at_the_call_before_anything_is_registered() -> None:
    async def job() -> int:
        return 1

    pending: Future[int] = Future()
    coro = job()
    with pytest.raises(TypeError, match="spawn"):
        all_of([pending, coro])
    coro.close()
    assert pending._callbacks is None  # nothing was left behind on the good input


def test_a_cancelled_input_cancels_all_of_with_its_message() -> None:
    a, b = Future(), Future()
    combined = all_of([a, b], cancel_on_error=False)
    a.cancel("stop a")
    assert combined.cancelled()
    with pytest.raises(shortly.CancelledError, match="stop a"):
        combined.result()
    assert not b.done()  # cancel_on_error=False: the others are left alone
    b.set_result(1)


def test_an_input_already_failed_decides_at_the_call() -> None:
    error = KeyError("early")
    later: Future[int] = Future()
    combined = all_of([Future.failed(error), later])
    assert combined.exception() is error
    assert later.cancelled()


def test_the_same_future_twice_counts_twice() -> None:
    f: Future[int] = Future()
    combined = all_of([f, f, 1])
    f.set_result(5)
    assert combined.result() == [5, 5, 1]


def test_cancelling_all_of_cancels_its_pending_inputs_but_not_shared_or_done_ones() -> None:
    lonely, shared, done = Future(), Future(), Future.resolved(1)
    interested(shared)
    combined = all_of([lonely, shared, done])
    assert combined.cancel("not needed")
    assert lonely.cancelled()
    with pytest.raises(shortly.CancelledError, match="not needed"):
        lonely.result()
    assert not shared.done()
    assert done.result() == 1
    shared.set_result(2)


def test_cancelling_a_chain_on_all_of_reaches_the_inputs_by_the_upward_rule() -> None:
    a, b = Future(), Future()
    child = all_of([a, b]).then(lambda values: sum(values))
    assert child.cancel()
    assert a.cancelled() and b.cancelled()


def test_all_of_with_one_of_two_consumers_cancelled_keeps_running() -> None:
    a: Future[int] = Future()
    first, second = all_of([a]), all_of([a])
    first.cancel()
    assert not a.cancelled()  # the second combinator still wants it
    second.cancel()
    assert a.cancelled()


def test_after_all_of_decided_its_inputs_are_cancellable_by_their_other_consumers() -> None:
    a, b = Future(), Future()
    child = a.then(lambda x: x)
    combined = all_of([a, b], cancel_on_error=False)
    b.set_exception(ValueError())
    combined.exception()
    child.cancel()  # all_of wants a no more, so the chain's cancel reaches it
    assert a.cancelled()


# -- responsibility for failures ------------------------------------------------------------


def test_the_deciding_failure_is_reported_once_through_the_combined_future_only() -> None:
    with reported() as seen:
        a, b = Future(), Future()
        combined = all_of([a, b])
        error = ValueError("lost")
        b.set_exception(error)
        del a, b, combined
    assert seen == [error]


def test_an_observed_combined_failure_reports_nothing() -> None:
    with reported() as seen:
        a = Future()
        combined = all_of([a, 1])
        a.set_exception(ValueError())
        assert isinstance(combined.exception(), ValueError)
        del a, combined
    assert seen == []


def test_a_running_input_that_fails_after_fail_fast_is_taken_over() -> None:
    with reported() as seen:
        running, failing = Future(), Future()
        running.set_running_or_notify_cancel()  # cannot be cancelled any more
        combined = all_of([running, failing])
        failing.set_exception(ValueError("cause"))
        assert isinstance(combined.exception(), ValueError)
        assert not running.cancelled()
        running.set_exception(ValueError("consequence"))
        del running, failing, combined
    assert seen == []


def test_with_cancel_on_error_false_a_later_failure_stays_with_its_input() -> None:
    with reported() as seen:
        other, failing = Future(), Future()
        combined = all_of([other, failing], cancel_on_error=False)
        failing.set_exception(ValueError("first"))
        combined.exception()
        later = OSError("nobody looked")
        other.set_exception(later)
        del other, failing, combined
    assert seen == [later]


def test_a_running_input_failing_after_the_combinator_was_cancelled_is_taken_over() -> None:
    with reported() as seen:
        running = Future()
        running.set_running_or_notify_cancel()
        combined = all_of([running])
        combined.cancel()
        running.set_exception(RuntimeError("interrupted"))
        del running, combined
    assert seen == []


# -- any_of ---------------------------------------------------------------------------------


def test_any_of_gives_the_first_success_and_tolerates_earlier_failures() -> None:
    a, b, c = Future(), Future(), Future()
    first = any_of([a, b, c])
    a.set_exception(OSError("down"))
    assert not first.done()
    c.set_result("c")
    b.set_result("b")
    assert first.result() == "c"


def test_any_of_failures_are_taken_over_when_another_succeeds() -> None:
    with reported() as seen:
        a, b = Future(), Future()
        first = any_of([a, b])
        a.set_exception(OSError("tolerated"))
        b.set_result(1)
        assert first.result() == 1
        del a, b, first
    assert seen == []


def test_any_of_fails_with_allfailed_holding_every_failure_in_input_order() -> None:
    fs: list[Future[int]] = [Future() for _ in range(3)]
    first = any_of(fs)
    errors = [KeyError(0), OSError(1), ValueError(2)]
    fs[2].set_exception(errors[2])
    fs[0].set_exception(errors[0])
    fs[1].set_exception(errors[1])
    group = first.exception()
    assert isinstance(group, AllFailed)
    assert isinstance(group, ExceptionGroup)
    assert isinstance(group, shortly.Error)
    assert list(group.exceptions) == errors
    assert "all 3 inputs of any_of failed" in str(group)
    matched, rest = group.split(OSError)
    assert matched is not None and rest is not None
    assert list(matched.exceptions) == [errors[1]]


def test_any_of_counts_a_cancelled_input_as_a_failure() -> None:
    a, b = Future(), Future()
    first = any_of([a, b])
    a.cancel("gone")
    b.set_exception(KeyError())
    group = first.exception()
    assert isinstance(group, AllFailed)
    cancelled = group.exceptions[0]
    assert isinstance(cancelled, shortly.CancelledError)
    assert cancelled.args == ("gone",)


def test_any_of_with_a_base_exception_fails_with_a_base_exception_group() -> None:
    stop = KeyboardInterrupt()
    first = any_of([Future.failed(stop), Future.failed(KeyError())])
    group = first.exception()
    assert isinstance(group, BaseExceptionGroup)
    assert not isinstance(group, AllFailed)
    assert group.exceptions[0] is stop


def test_any_of_cancels_the_losers_unless_asked_not_to() -> None:
    a, b = Future(), Future()
    assert any_of([a, b]).done() is False
    b.set_result(1)
    assert a.cancelled()
    with pytest.raises(shortly.CancelledError, match="any_of: input 1 succeeded"):
        a.result()
    c, d = Future(), Future()
    any_of([c, d], cancel_losers=False)
    d.set_result(1)
    assert not c.done()
    c.set_result(2)


def test_any_of_with_a_plain_value_succeeds_at_once() -> None:
    pending: Future[int] = Future()
    assert any_of([pending, "now"]).result() == "now"
    assert pending.cancelled()


def test_any_of_and_race_refuse_empty_input() -> None:
    with pytest.raises(ValueError, match="any_of needs at least one input"):
        any_of([])
    with pytest.raises(ValueError, match="race needs at least one input"):
        race([])


def test_cancelling_any_of_cancels_its_pending_inputs() -> None:
    a, b = Future(), Future()
    first = any_of([a, b])
    a.set_exception(KeyError())
    first.cancel()
    assert b.cancelled()


# -- race -----------------------------------------------------------------------------------


def test_race_settles_as_the_first_to_settle_with_a_value() -> None:
    a, b = Future(), Future()
    winner = race([a, b])
    b.set_result("b")
    assert winner.result() == "b"
    assert a.cancelled()


def test_race_settles_as_the_first_to_settle_with_a_failure() -> None:
    a, b = Future(), Future()
    winner = race([a, b], cancel_losers=False)
    error = TimeoutError("too slow")
    a.set_exception(error)
    assert winner.exception() is error
    assert not b.done()
    b.set_result(1)


def test_race_won_by_a_cancellation_is_cancelled() -> None:
    a, b = Future(), Future()
    winner = race([a, b])
    a.cancel("first out")
    assert winner.cancelled()
    with pytest.raises(shortly.CancelledError, match="first out"):
        winner.result()
    assert b.cancelled()


def test_race_between_settled_inputs_is_won_in_input_order() -> None:
    error = KeyError()
    assert race([Future.failed(error), 1, Future.resolved(2)]).exception() is error
    assert race([Future(), 1, Future.resolved(2)]).result() == 1


def test_race_losers_failing_later_are_taken_over_only_if_cancelled_by_it() -> None:
    with reported() as seen:
        running, fast = Future(), Future()
        running.set_running_or_notify_cancel()
        race([running, fast]).add_done_callback(lambda f: f.result())
        fast.set_result(1)
        running.set_exception(OSError("loser"))
        del running, fast
    assert seen == []
    with reported() as seen:
        loser, fast = Future(), Future()
        race([loser, fast], cancel_losers=False)
        fast.set_result(1)
        error = OSError("own failure")
        loser.set_exception(error)
        del loser, fast
    assert seen == [error]


# -- settled --------------------------------------------------------------------------------


def test_settled_gives_every_outcome_in_input_order() -> None:
    a, b, c = Future(), Future(), Future()
    outcomes = settled([a, b, c, "plain"])
    error = OSError(5)
    c.cancel("no")
    b.set_exception(error)
    assert not outcomes.done()
    a.set_result(1)
    result = outcomes.result()
    assert result[0] == Ok(1)
    assert result[1] == Err(error)
    assert isinstance(result[2], Err)
    assert isinstance(result[2].error, shortly.CancelledError)
    assert result[2].error.args == ("no",)
    assert result[3] == Ok("plain")


def test_settled_observes_every_failure() -> None:
    with reported() as seen:
        a, b = Future(), Future()
        outcomes = settled([a, b])
        a.set_exception(ValueError())
        b.set_exception(KeyError())
        assert [type(o) for o in outcomes.result()] == [Err, Err]
        del a, b, outcomes
    assert seen == []


def test_settled_on_empty_input_resolves_at_once() -> None:
    assert settled([]).result() == []


def test_cancelling_settled_cancels_its_pending_inputs() -> None:
    a, b = Future(), Future()
    outcomes = settled([a, b])
    a.set_result(1)
    outcomes.cancel()
    assert b.cancelled()
    assert a.result() == 1


# -- gather ---------------------------------------------------------------------------------


Point = namedtuple("Point", "x y")


def test_gather_resolves_a_nested_structure_keeping_its_shape() -> None:
    user: Future[str] = Future()
    std: concurrent.futures.Future[int] = concurrent.futures.Future()
    page = gather(
        {
            "user": user,
            "posts": [Future.resolved("p1"), ("inner", std)],
            "at": Point(x=Future.resolved(1), y=2),
            "empty": {"list": [], "tuple": ()},
        }
    )
    user.set_result("ada")
    assert not page.done()
    std.set_result(7)
    result = page.result(timeout=5)
    assert result == {
        "user": "ada",
        "posts": ["p1", ("inner", 7)],
        "at": Point(1, 2),
        "empty": {"list": [], "tuple": ()},
    }
    assert type(result["at"]) is Point
    assert list(result) == ["user", "posts", "at", "empty"]


def test_gather_of_a_leaf_or_an_empty_structure() -> None:
    assert gather(Future.resolved(3)).result() == 3
    assert gather("text").result() == "text"
    assert gather({}).result() == {}
    assert gather([[], ()]).result() == [[], ()]


def test_gather_gives_plain_types_for_other_subclasses() -> None:
    ordered = OrderedDict(a=Future.resolved(1))
    result = gather(ordered).result()
    assert type(result) is dict and result == {"a": 1}


def test_gather_copes_with_shared_substructures_and_refuses_cycles() -> None:
    shared = [Future.resolved(1)]
    assert gather({"a": shared, "b": shared}).result() == {"a": [1], "b": [1]}
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        gather({"x": loop})


def test_gather_walks_deep_nesting_without_recursion() -> None:
    deep: list[Any] = [Future.resolved("bottom")]
    for _ in range(20_000):
        deep = [deep]
    result = gather(deep).result()
    for _ in range(20_000):
        result = result[0]
    assert result == ["bottom"]


def test_gather_fails_like_all_of() -> None:
    a, b = Future(), Future()
    page = gather({"a": a, "b": [b]})
    error = KeyError("b")
    b.set_exception(error)
    assert page.exception() is error
    assert a.cancelled()
    with pytest.raises(shortly.CancelledError, match="gather: input 1 failed"):
        a.result()
    c, d = Future(), Future()
    gather([c, d], cancel_on_error=False).add_done_callback(lambda f: f.exception())
    d.set_exception(KeyError())
    assert not c.done()
    c.set_result(1)


def test_cancelling_gather_cancels_its_pending_leaves() -> None:
    a: Future[int] = Future()
    page = gather({"a": a})
    page.cancel()
    assert a.cancelled()


# -- threads --------------------------------------------------------------------------------


def test_inputs_resolved_from_many_threads_are_all_counted() -> None:
    n = 2_000
    fs: list[Future[int]] = [Future() for _ in range(n)]
    combined = all_of(fs)
    outcomes = settled(fs)
    start = threading.Barrier(4)

    def resolve(part: int) -> None:
        start.wait()
        for i in range(part, n, 4):
            fs[i].set_result(i)

    threads = [threading.Thread(target=resolve, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    assert combined.result(timeout=5) == list(range(n))
    assert outcomes.result(timeout=5) == [Ok(i) for i in range(n)]
    for t in threads:
        t.join()


def test_a_combinator_nested_in_another() -> None:
    a, b, c = Future(), Future(), Future()
    nested = all_of([any_of([a, b]), race([c])])
    b.set_result("b")
    c.set_result("c")
    assert nested.result() == ["b", "c"]
    assert a.cancelled()


# -- types ----------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_the_documented_types_check_under_mypy_strict() -> None:
    from mypy import api

    here = Path(__file__).parent
    config = here.parent / "pyproject.toml"
    out, err, status = api.run(
        ["--strict", "--config-file", str(config), str(here / "typing_combine.py")]
    )
    assert status == 0, out + err


# -- cancels that tell the truth: work that records whether it ran ---------------------------


class Pool:
    """One worker: ``busy`` is running (held until released), the others queue behind it."""

    def __init__(self, adapt: bool) -> None:
        self.executor = concurrent.futures.ThreadPoolExecutor(1)
        self.adapt = adapt
        self.ran: list[str] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def work(self, name: str) -> str:
        if name == "busy":
            self.started.set()
            self.release.wait(5)
        self.ran.append(name)
        return name

    def submit(self, name: str) -> Future[str]:
        if self.adapt:
            return shortly.future_of(self.executor.submit(self.work, name))
        return shortly.submit(self.work, name, executor=self.executor)

    def finish(self, inputs: dict[str, Future[str]]) -> None:
        """Let the work run out, then check each input's cancel against what ran."""
        self.release.set()
        self.executor.shutdown(wait=True)
        for name, f in inputs.items():
            assert f.cancelled() == (name not in self.ran), (name, self.ran)
        assert "busy" in self.ran
        assert not inputs["busy"].cancelled()


def started(pool: Pool) -> dict[str, Future[str]]:
    inputs = {"busy": pool.submit("busy")}
    assert pool.started.wait(5)
    inputs["queued"] = pool.submit("queued")
    return inputs


USES = {
    "race, cancel_losers": lambda fs: race([*fs, Future.resolved("now")]),
    "any_of, cancel_losers": lambda fs: any_of([*fs, Future.resolved("now")]),
    "all_of, cancel_on_error": lambda fs: all_of([*fs, Future.failed(KeyError("k"))]),
    "gather, cancel_on_error": lambda fs: gather({"fs": fs, "bad": Future.failed(KeyError("k"))}),
    "all_of cancelled (upward)": lambda fs: all_of(fs),
    "race cancelled (upward)": lambda fs: race(fs),
    "settled cancelled (upward)": lambda fs: settled(fs),
}


@pytest.mark.parametrize("adapt", [False, True], ids=["submit", "future_of"])
@pytest.mark.parametrize("use", list(USES))
def test_combinators_cancel_only_work_that_had_not_started(use: str, adapt: bool) -> None:
    pool = Pool(adapt)
    try:
        inputs = started(pool)
        combined = USES[use](list(inputs.values()))
        if "upward" in use:
            assert combined.cancel()
        else:
            assert combined.wait(5)
            if combined.exception() is None:
                assert combined.result() == "now"
        assert inputs["queued"].cancelled()
        assert not inputs["busy"].cancelled()
        assert not inputs["busy"].cancel()  # running: it says so, and stays running
    finally:
        pool.finish(inputs)


def test_a_cancelled_link_cancels_queued_work_but_not_running_work() -> None:
    pool = Pool(adapt=False)
    try:
        inputs = started(pool)
        assert inputs["busy"].then(len).cancel()  # the link itself is cancelled
        assert inputs["queued"].then(len).cancel()
        assert inputs["queued"].cancelled()
        assert not inputs["busy"].cancelled()
    finally:
        pool.finish(inputs)


class TestSeveralPositionalFutures:
    """``gather(a, b)`` works as asyncio's does; the others say to pass one collection."""

    def test_gather_takes_them_one_by_one_as_a_tuple(self) -> None:
        a, b = shortly.Future.resolved(1), shortly.Future.resolved("x")
        assert shortly.gather(a, b).result(timeout=5) == (1, "x")
        assert shortly.gather(a, [b], {"k": a}).result(timeout=5) == (1, ["x"], {"k": 1})

    @pytest.mark.parametrize("name", ["all_of", "any_of", "race", "settled"])
    def test_the_combinators_name_the_fix(self, name: str) -> None:
        a, b = shortly.Future.resolved(1), shortly.Future.resolved(2)
        with pytest.raises(TypeError, match=rf"{name}\(\) takes the futures as one list"):
            getattr(shortly, name)(a, b)
