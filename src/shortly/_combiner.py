"""The machinery behind the combinators: combiners, slots, and how they leave their inputs.

Shape. A combinator is a small state object (a *combiner*) and one *slot* per input: a
done-callback that knows its input's position. Values land in a list allocated once,
a counter under the combiner's lock says when all are in, so the cost is O(n) with one
small object per input and nothing is ever rescanned. Inputs that are shortly futures
are used as they are; anything else goes through :func:`shortly.future_of`, plain
values included (as already resolved futures).

Deciding. The first event that fixes the outcome (the last value, the first failure,
the first success...) *claims* the combiner under its lock: it takes the result future
out, so exactly one party settles it and every later arrival sees that it is late.

Leaving. Once decided (or cancelled), a combiner unregisters from the inputs still
pending (see :meth:`Combiner.let_go`), so a long-lived input keeps nothing of it. The
rules of cancellation and of responsibility for failures are in :mod:`shortly._combine`.
"""

from __future__ import annotations

import sys
import threading
from concurrent.futures import _base
from typing import Any

from ._adapt import future_of
from ._core import (
    NOBODY,
    Dependant,
    Err,
    Future,
    Ok,
    Outcome,
    attach,
    cancel_if_unwanted,
    error_of,
    fail,
    failure_of,
    is_settled,
    observe,
    succeeded,
    undepend,
    value_of,
    when_cancelled,
)
from ._errors import Error

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup, ExceptionGroup
else:
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

__all__ = [
    "AllFailed",
    "AllOf",
    "AllSlot",
    "AnySlot",
    "Combiner",
    "RaceSlot",
    "SettledSlot",
    "check_flag",
    "inputs_of",
    "items_of",
    "refuse_several",
]


class AllFailed(ExceptionGroup, Error):
    """Every input of :func:`shortly.any_of` failed: the failures, in input order.

    An :class:`ExceptionGroup` (so ``except*`` and ``subgroup`` work) and a
    :class:`shortly.Error`. A cancelled input appears as its ``CancelledError``. If an
    input failed with a ``BaseException`` that is not an ``Exception`` (such as
    ``KeyboardInterrupt``), which an exception group may not hold, ``any_of`` fails
    with a plain ``BaseExceptionGroup`` instead.

    >>> import shortly
    >>> f = shortly.any_of([shortly.Future.failed(KeyError("a")), shortly.Future.failed(OSError())])
    >>> group = f.exception()
    >>> isinstance(group, shortly.AllFailed), group.exceptions
    (True, (KeyError('a'), OSError()))
    """


def _all_failed(name: str, errors: list[BaseException]) -> BaseException:
    message = f"all {len(errors)} inputs of {name} failed"
    exceptions = [error for error in errors if isinstance(error, Exception)]
    if len(exceptions) == len(errors):
        return AllFailed(message, exceptions)
    return BaseExceptionGroup(message, errors)


def items_of(fs: object) -> list[Any]:
    """``fs`` read once into a list; a clear TypeError if it is not a collection of inputs."""
    # A string is iterable and a future is not: both are likely slips for [x].
    if not isinstance(fs, (str, bytes, _base.Future)):
        try:
            iterator = iter(fs)  # type: ignore[call-overload]
        except TypeError:
            pass
        else:
            return list(iterator)
    raise TypeError(f"fs must be an iterable of futures or values, not {type(fs).__name__}")


def refuse_several(name: str, more: tuple[object, ...]) -> None:
    """A clear TypeError for ``all_of(a, b)``: the combinators take one collection.

    Raises:
        TypeError: if ``more`` holds anything (futures passed one by one).
    """
    if more:
        raise TypeError(
            f"{name}() takes the futures as one list or tuple: {name}([a, b]), not "
            f"{name}(a, b) (shortly.gather(a, b) gathers them one by one)"
        )


def inputs_of(fs: object) -> list[Future[Any]]:
    """The inputs as shortly futures, in order; plain values become resolved futures."""
    items = items_of(fs)
    for index, item in enumerate(items):
        if type(item) is not Future and not isinstance(item, Future):
            items[index] = future_of(item, allow_values=True)
    return items


def check_flag(value: object, name: str) -> bool:
    """Return ``value`` if it is a bool; otherwise a TypeError naming ``name``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


class Combiner:
    """What one combinator call shares between its slots; the child its slots stand for.

    ``future``, ``inputs`` and ``acc`` (the per-input list) are set to None by the
    claim that decides, under ``lock``; nothing is kept alive for longer than needed.
    """

    __slots__ = ("acc", "cancel_rest", "future", "inputs", "lock", "name", "remaining", "take_over")

    def __init__(self, name: str, inputs: list[Future[Any]], cancel_rest: bool) -> None:
        self.name = name
        self.inputs: list[Future[Any]] | None = inputs
        self.cancel_rest = cancel_rest
        self.future: Future[Any] | None = Future()
        self.acc: list[Any] | None = [None] * len(inputs)
        self.remaining = len(inputs)
        self.lock = threading.Lock()
        self.take_over = False

    def __repr__(self) -> str:
        state = "decided" if self.future is None else f"{self.remaining} pending"
        return f"<{self.name} combiner at {id(self):#x}, {state}>"

    def lost_interest(self) -> bool:
        # Read by _cancel.wanted() under an input's lock: once the outcome is decided,
        # this combinator wants none of its inputs.
        return self.future is None

    def start(self, slot: type[_Slot]) -> Future[Any]:
        future, inputs = self.future, self.inputs
        assert future is not None and inputs is not None
        when_cancelled(future, self._abandon)
        future._sources = inputs  # any input may settle it (see _deadlock)
        for index, f in enumerate(inputs):
            attach(f, slot(self, index))
            if self.future is None:
                # Decided, by an input settled already or by another thread meanwhile.
                # The decision let go of the inputs still pending, but this one may
                # have got its slot just after that; the ones left got no slot, and
                # those settled already are late arrivals.
                self.let_go([f], None)
                for rest in inputs[index + 1 :]:
                    if is_settled(rest):
                        self.late(rest)
                break
        return future

    def claim(self, take_over: bool) -> tuple[Future[Any], list[Future[Any]]]:
        """With the lock held and the outcome undecided: take what settling needs."""
        future, inputs = self.future, self.inputs
        assert future is not None and inputs is not None
        self.future = self.inputs = self.acc = future._sources = None
        self.take_over = take_over
        return future, inputs

    def decide(self, f: Future[Any]) -> tuple[Future[Any], list[Future[Any]]] | None:
        """``f`` decides the outcome: claim it, or, if already decided, treat ``f`` as late."""
        with self.lock:
            decided = None if self.future is None else self.claim(self.cancel_rest)
        if decided is None:
            self.late(f)
        return decided

    def late(self, f: Future[Any]) -> None:
        """``f`` settled after the decision: take its failure over if we told it to stop."""
        if failure_of(f) is None:
            return
        with self.lock:
            take_over = self.take_over
        if take_over:
            observe(f)

    def let_go(self, inputs: list[Future[Any]], msg: Any) -> None:
        """After the decision: leave the inputs still pending, asking them to stop if we do.

        If the decision asked the rest to stop (``take_over``), each pending input that
        nobody else wants is cancelled (the upward rule), and one that carries on gets,
        in place of this combinator's slot, the shared hook that takes its failure over
        when it comes. Otherwise the slot is simply removed. Either way a long-lived
        input keeps nothing per combinator.
        """
        with self.lock:
            take_over = self.take_over
        late = _TAKE_OVER_LATE_FAILURE if take_over else None
        for f in inputs:
            if is_settled(f):
                continue
            if take_over and cancel_if_unwanted(f, msg):
                continue
            undepend(f, self, late)

    def _abandon(self, msg: Any) -> None:
        """The combinator's own future was cancelled by its consumer.

        A cancel landing while an input is deciding counts as arriving just after the
        decision, as a cancel of a settled future does: the decision's rules apply.
        """
        with self.lock:
            if self.future is None:
                return  # decided already: the deciding party handled the rest
            _, inputs = self.claim(take_over=True)
        self.let_go(inputs, msg)


class AllOf(Combiner):
    """all_of's combiner (and gather's, which overrides :meth:`succeed`)."""

    __slots__ = ("as_tuple",)

    def __init__(
        self, name: str, inputs: list[Future[Any]], cancel_on_error: bool, as_tuple: bool
    ) -> None:
        super().__init__(name, inputs, cancel_on_error)
        self.as_tuple = as_tuple

    def succeed(self, future: Future[Any], values: list[Any]) -> None:
        """Every value is in: settle ``future`` with them."""
        future.try_set_result(tuple(values) if self.as_tuple else values)


def _take_over_late_failure(f: Future[Any]) -> None:
    observe(f)


# What a combinator that asked its pending inputs to stop leaves on those that carry on
# for other consumers: one shared hook per input, however many combinators gave up on it,
# so that ten failures of one cause never become ten reports. A watch hook: no interest.
_TAKE_OVER_LATE_FAILURE = Dependant(NOBODY, _take_over_late_failure)


class _Slot(Dependant):
    """One input's done-callback: knows the combiner and the input's position."""

    __slots__ = ("index",)

    def __init__(self, combiner: Combiner, index: int) -> None:
        self.child = combiner
        self.index = index

    def __repr__(self) -> str:
        return f"<slot {self.index} of {self.child!r}>"


class AllSlot(_Slot):
    """all_of and gather: count values in; the first failure decides."""

    __slots__ = ()

    child: AllOf

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        if succeeded(f):
            value = value_of(f)
            with combiner.lock:
                values = combiner.acc
                if values is None:
                    return  # decided already; a late value is not needed
                values[self.index] = value
                combiner.remaining -= 1
                if combiner.remaining:
                    return
                future, _ = combiner.claim(take_over=False)
            combiner.succeed(future, values)
            return
        decided = combiner.decide(f)
        if decided is None:
            return
        future, inputs = decided
        observe(f)
        fail(future, error_of(f))
        combiner.let_go(inputs, f"{combiner.name}: input {self.index} failed")


class AnySlot(_Slot):
    """any_of: the first success decides; failures are kept in case all fail."""

    __slots__ = ()

    child: Combiner

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        if succeeded(f):
            decided = combiner.decide(f)
            if decided is not None:
                future, inputs = decided
                future.try_set_result(value_of(f))
                combiner.let_go(inputs, f"any_of: input {self.index} succeeded")
            return
        error = error_of(f)
        with combiner.lock:
            errors = combiner.acc
            if errors is not None:
                errors[self.index] = error
                combiner.remaining -= 1
                decided = None if combiner.remaining else combiner.claim(take_over=True)
        if errors is None:
            combiner.late(f)
            return
        observe(f)  # it ends in AllFailed, or is tolerated because another succeeded
        if decided is not None:
            decided[0].try_set_exception(_all_failed("any_of", errors))


class RaceSlot(_Slot):
    """race: whatever settles first decides."""

    __slots__ = ()

    child: Combiner

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        decided = combiner.decide(f)
        if decided is None:
            return
        future, inputs = decided
        if succeeded(f):
            future.try_set_result(value_of(f))
        else:
            observe(f)
            fail(future, error_of(f))
        combiner.let_go(inputs, f"race: input {self.index} settled first")


class SettledSlot(_Slot):
    """settled: every outcome is kept; the last one in decides."""

    __slots__ = ()

    child: Combiner

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        ok = succeeded(f)
        outcome: Outcome[Any] = Ok(value_of(f)) if ok else Err(error_of(f))
        with combiner.lock:
            outcomes = combiner.acc
            if outcomes is not None:
                outcomes[self.index] = outcome
                combiner.remaining -= 1
                decided = None if combiner.remaining else combiner.claim(take_over=True)
        if outcomes is None:
            combiner.late(f)
            return
        if not ok:
            observe(f)
        if decided is not None:
            decided[0].try_set_result(outcomes)
