"""Hypothesis: each combinator against a simple sequential model.

A scenario is a list of inputs (plain values, futures already settled, pending futures
with a planned outcome, some shared with another consumer or already running), an
order in which the pending ones settle, each settle run on a randomly chosen worker
thread (one at a time, so the order is known), and maybe a cancel of the combinator's
own future somewhere in between. The model says what the combined future ends as,
which inputs end cancelled (and with which message), and which failures nobody takes
over and so must be reported as unhandled.

A second property lets the pending inputs settle all at once from several threads and
checks what does not depend on the interleaving.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shortly
from shortly import AllFailed, Err, Future, Ok
from shortly._core._future import cancel_message

pytestmark = pytest.mark.timeout(60)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Boom(Exception):
    """The failure planned for one input (compared by identity)."""


@dataclass(frozen=True)
class Spec:
    kind: str  # "value", "ok", "err", "cancel" (settled before the call) or "pending"
    plan: str = "never"  # for a pending input: "ok", "err", "cancel" or "never"
    shared: bool = False  # another consumer wants it (a plain callback)
    running: bool = False  # set running before the call: it cannot be cancelled


@dataclass(frozen=True)
class Scenario:
    specs: list[Spec]
    order: list[int]  # pending inputs with a plan, in the order they settle
    threads: list[int]  # the worker thread for each step
    cancel_at: int | None  # the step before which the combined future is cancelled


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    settled_spec = st.builds(Spec, kind=st.sampled_from(["value", "ok", "err", "cancel"]))
    pending_spec = st.builds(
        Spec,
        kind=st.just("pending"),
        plan=st.sampled_from(["ok", "err", "cancel", "never"]),
        shared=st.booleans(),
        running=st.booleans(),
    ).filter(lambda s: not (s.running and s.plan == "cancel"))
    specs = draw(st.lists(st.one_of(settled_spec, pending_spec), min_size=1, max_size=7))
    planned = [i for i, s in enumerate(specs) if s.kind == "pending" and s.plan != "never"]
    order = draw(st.permutations(planned))
    threads = draw(st.lists(st.integers(0, 2), min_size=len(order) + 1, max_size=len(order) + 1))
    cancel_at = draw(st.none() | st.integers(0, len(order)))
    return Scenario(specs, list(order), threads, cancel_at)


# -- worker threads -------------------------------------------------------------------------


class Workers:
    """Threads that run one action at a time, handed over and waited for."""

    def __init__(self, n: int) -> None:
        self.inboxes: list[queue.SimpleQueue[Any]] = [queue.SimpleQueue() for _ in range(n)]
        self.threads = [threading.Thread(target=self._serve, args=(q,)) for q in self.inboxes]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _serve(inbox: queue.SimpleQueue[Any]) -> None:
        while True:
            job = inbox.get()
            if job is None:
                return
            fn, done = job
            try:
                fn()
            except BaseException as error:  # handed back to the test thread
                done.set_exception(error)
            else:
                done.set_result(None)
            del job, fn, done  # keep no future alive between examples

    def run(self, k: int, fn: Callable[[], object]) -> None:
        done: Future[None] = Future()
        self.inboxes[k].put((fn, done))
        done.result(timeout=10)

    def stop(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for thread in self.threads:
            thread.join()


@pytest.fixture(scope="module")
def workers() -> Iterator[Workers]:
    pool = Workers(3)
    yield pool
    pool.stop()


@contextlib.contextmanager
def reported() -> Iterator[list[BaseException]]:
    seen: list[BaseException] = []
    previous = shortly.set_unhandled_handler(lambda u: seen.append(u.error))
    try:
        yield seen
        # Reports come from refcounting alone: no future here sits in a cycle once its
        # scenario returns (a full gc.collect() per example would cost more than the rest);
        # those found inside shortly's code come from its deferred thread.
        shortly.flush_reports()
    finally:
        shortly.set_unhandled_handler(previous)


# -- the model ------------------------------------------------------------------------------


class Model:
    """What a combinator does, step by step, with no threads and no futures."""

    def __init__(self, name: str, flag: bool, specs: list[Spec], errors: list[Boom]) -> None:
        self.name = name
        self.flag = flag  # cancel_on_error or cancel_losers
        self.specs = specs
        self.errors = errors
        self.status = ["pending"] * len(specs)
        self.message: dict[int, str] = {}
        self.acc: dict[int, Any] = {}
        self.decided: tuple[str, Any] | None = None
        self.take_over = False
        self.unobserved: set[int] = set()

    def register(self) -> None:
        """The call: inputs settled before it arrive at once, in input order."""
        settled = []
        for i, spec in enumerate(self.specs):
            if spec.kind != "pending":
                how = "ok" if spec.kind == "value" else spec.kind
                self.status[i] = "cancelled" if how == "cancel" else how
                self.message[i] = f"cancel {i}"
                settled.append(i)
        for i in settled:
            self.arrive(i)

    def settle(self, i: int, how: str, message: str) -> None:
        if self.status[i] != "pending":
            return  # resolving a cancelled future is a quiet no-op
        self.status[i] = "cancelled" if how == "cancel" else how
        if how == "cancel":
            self.message[i] = message
        self.arrive(i)

    def outcome(self, i: int) -> tuple[str, Any]:
        status = self.status[i]
        if status == "ok":
            return ("ok", i * 10)
        if status == "err":
            return ("err", self.errors[i])
        return ("cancelled", self.message[i])

    def decide(self, outcome: tuple[str, Any], take_over: bool, sweep: str | None) -> None:
        self.decided = outcome
        self.take_over = take_over
        if sweep is not None:
            self.sweep(sweep)

    def sweep(self, message: str) -> None:
        for j, spec in enumerate(self.specs):
            if self.status[j] == "pending" and not spec.shared and not spec.running:
                self.settle(j, "cancel", message)

    def arrive(self, i: int) -> None:
        kind, payload = self.outcome(i)
        if self.decided is not None:
            if kind == "err" and not self.take_over:
                self.unobserved.add(i)
            return
        n = len(self.specs)
        name = self.name
        if name in ("all_of", "gather"):
            if kind == "ok":
                self.acc[i] = payload
                if len(self.acc) == n:
                    self.decide(("ok", [self.acc[j] for j in range(n)]), False, None)
            else:
                sweep = f"{name}: input {i} failed" if self.flag else None
                self.decide((kind, payload), self.flag, sweep)
        elif name == "any_of":
            if kind == "ok":
                sweep = f"any_of: input {i} succeeded" if self.flag else None
                self.decide(("ok", payload), self.flag, sweep)
            else:
                self.acc[i] = (kind, payload)
                if len(self.acc) == n:
                    self.decide(("allfailed", [self.acc[j] for j in range(n)]), True, None)
        elif name == "race":
            sweep = f"race: input {i} settled first" if self.flag else None
            self.decide((kind, payload), self.flag, sweep)
        else:  # settled
            self.acc[i] = (kind, payload)
            if len(self.acc) == n:
                self.decide(("outcomes", [self.acc[j] for j in range(n)]), True, None)

    def cancel_combined(self) -> None:
        if self.decided is None:
            self.decide(("cancelled", "consumer"), True, "consumer")


# -- running a scenario ---------------------------------------------------------------------


def make_inputs(
    specs: list[Spec], errors: list[Boom]
) -> tuple[list[Any], list[Future[Any] | None]]:
    items: list[Any] = []
    futures: list[Future[Any] | None] = []
    for i, spec in enumerate(specs):
        f: Future[Any]
        if spec.kind == "value":
            items.append(i * 10)
            futures.append(None)
            continue
        if spec.kind == "ok":
            f = Future.resolved(i * 10)
        elif spec.kind == "err":
            f = Future.failed(errors[i])
        else:
            f = Future()
            if spec.kind == "cancel":
                f.cancel(f"cancel {i}")
            if spec.shared:
                f.add_done_callback(lambda _: None)
            if spec.running:
                f.set_running_or_notify_cancel()
        items.append(f)
        futures.append(f)
    return items, futures


def start(name: str, flag: bool, items: list[Any]) -> Future[Any]:
    if name == "all_of":
        return shortly.all_of(items, cancel_on_error=flag)
    if name == "gather":
        return shortly.gather({f"k{i}": item for i, item in enumerate(items)}, cancel_on_error=flag)
    if name == "any_of":
        return shortly.any_of(items, cancel_losers=flag)
    if name == "race":
        return shortly.race(items, cancel_losers=flag)
    return shortly.settled(items)


def settle(f: Future[Any], how: str, i: int, error: Boom) -> Callable[[], object]:
    if how == "ok":
        return lambda: f.set_result(i * 10)
    if how == "err":
        return lambda: f.set_exception(error)
    return lambda: f.cancel(f"cancel {i}")


def check_same(kind: str, payload: Any, got: Any) -> None:
    """``got`` (an Outcome or an exception) matches the model's (kind, payload)."""
    if kind == "ok":
        assert got == Ok(payload)
    elif kind == "err":
        assert isinstance(got, Err) and got.error is payload
    else:
        error = got.error if isinstance(got, Err) else got
        assert isinstance(error, shortly.CancelledError)
        assert error.args == (payload,)


def check_combined(model: Model, combined: Future[Any], name: str) -> None:
    decided = model.decided
    if decided is None:
        assert not combined.done()
        return
    kind, payload = decided
    if kind == "cancelled":
        assert combined.cancelled()
        assert cancel_message(combined) == payload
    elif kind == "err":
        assert combined.exception() is payload
    elif kind == "allfailed":
        group = combined.exception()
        assert isinstance(group, AllFailed)
        assert len(group.exceptions) == len(payload)
        for (k, p), error in zip(payload, group.exceptions, strict=True):
            if k == "err":
                assert error is p
            else:
                check_same(k, p, error)
    elif kind == "outcomes":
        outcomes = combined.result()
        assert len(outcomes) == len(payload)
        for (k, p), got in zip(payload, outcomes, strict=True):
            check_same(k, p, got)
    else:
        value = combined.result()
        if name == "gather":
            assert value == {f"k{i}": v for i, v in enumerate(payload)}
        else:
            assert value == payload


def run_scenario(
    workers: Workers, name: str, flag: bool, scenario: Scenario, errors: list[Boom]
) -> Model:
    specs = scenario.specs
    model = Model(name, flag, specs, errors)
    model.register()
    items, futures = make_inputs(specs, errors)
    combined = start(name, flag, items)
    for step in range(len(scenario.order) + 1):
        thread = scenario.threads[step]
        if scenario.cancel_at == step:
            model.cancel_combined()
            workers.run(thread, lambda: combined.cancel("consumer"))
        if step < len(scenario.order):
            i = scenario.order[step]
            how = specs[i].plan
            model.settle(i, how, f"cancel {i}")
            f = futures[i]
            assert f is not None
            workers.run(thread, settle(f, how, i, errors[i]))
    check_combined(model, combined, name)
    for i, f in enumerate(futures):
        if f is None:
            continue
        assert f.cancelled() == (model.status[i] == "cancelled"), f"input {i}"
        if f.cancelled():
            assert cancel_message(f) == model.message[i], f"input {i}"
    return model


COMBINATORS = [
    ("all_of", True),
    ("all_of", False),
    ("gather", True),
    ("gather", False),
    ("any_of", True),
    ("any_of", False),
    ("race", True),
    ("race", False),
    ("settled", False),
]


@pytest.mark.parametrize(("name", "flag"), COMBINATORS)
@SETTINGS
@given(scenario=scenarios())
def test_combinator_matches_the_model(
    workers: Workers, name: str, flag: bool, scenario: Scenario
) -> None:
    errors = [Boom(i) for i in range(len(scenario.specs))]
    with reported() as seen:
        model = run_scenario(workers, name, flag, scenario, errors)
    assert {id(e) for e in seen} == {id(errors[i]) for i in model.unobserved}
    assert len(seen) == len(model.unobserved)  # each at most once


# -- all at once from many threads ------------------------------------------------------------


@st.composite
def concurrent_plans(draw: st.DrawFn) -> list[str]:
    return draw(st.lists(st.sampled_from(["ok", "err", "cancel"]), min_size=1, max_size=24))


def settle_all_at_once(futures: list[Future[Any]], plans: list[str], errors: list[Boom]) -> None:
    barrier = threading.Barrier(4)

    def run(part: int) -> None:
        barrier.wait()
        for i in range(part, len(futures), 4):
            settle(futures[i], plans[i], i, errors[i])()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@SETTINGS
@given(plans=concurrent_plans())
def test_settled_and_any_of_under_concurrent_settling(plans: list[str]) -> None:
    errors = [Boom(i) for i in range(len(plans))]
    with reported() as seen:
        futures: list[Future[Any]] = [Future() for _ in plans]
        outcomes = shortly.settled(futures)
        first = shortly.any_of(futures, cancel_losers=False)
        everything = shortly.all_of(futures, cancel_on_error=False)
        settle_all_at_once(futures, plans, errors)
        expected = [
            ("ok", i * 10)
            if how == "ok"
            else ("err", errors[i])
            if how == "err"
            else ("cancelled", f"cancel {i}")
            for i, how in enumerate(plans)
        ]
        for (kind, payload), got in zip(expected, outcomes.result(timeout=5), strict=True):
            check_same(kind, payload, got)
        if "ok" in plans:
            assert first.result(timeout=5) in {i * 10 for i, how in enumerate(plans) if how == "ok"}
        else:
            assert isinstance(first.exception(timeout=5), AllFailed)
        if all(how == "ok" for how in plans):
            assert everything.result(timeout=5) == [i * 10 for i in range(len(plans))]
        else:
            assert everything.wait(timeout=5)
            if not everything.cancelled():
                assert everything.exception() in errors
        assert not any(
            f.cancelled() for f, how in zip(futures, plans, strict=True) if how != "cancel"
        )
        del futures, outcomes, first, everything
    assert seen == []  # settled observed every failure


@SETTINGS
@given(n=st.integers(1, 24), winner_count=st.integers(1, 4))
def test_race_has_exactly_one_winner_among_simultaneous_settlers(n: int, winner_count: int) -> None:
    futures: list[Future[int]] = [Future() for _ in range(n)]
    winner = shortly.race(futures)
    racers = futures[: min(winner_count, n)]
    barrier = threading.Barrier(len(racers))
    took = [False] * len(racers)

    def settle_one(k: int) -> None:
        barrier.wait()
        took[k] = racers[k].try_set_result(k)

    threads = [threading.Thread(target=settle_one, args=(k,)) for k in range(len(racers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    value = winner.result(timeout=5)
    assert took[value]
    # Every input but the winner was cancelled, unless it had settled itself first.
    for k, f in enumerate(futures):
        if k == value:
            continue
        assert f.cancelled() or (k < len(racers) and took[k])
