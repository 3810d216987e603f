"""Combinators: one future from many (``all_of``, ``any_of``, ``race``, ``settled``).

Shape. A combinator is a small state object (a *combiner*) and one *slot* per input: a
done-callback that knows its input's position. Values land in a list allocated once,
a counter under the combiner's lock says when all are in, so the cost is O(n) with one
small object per input and nothing is ever rescanned. Inputs that are shortly futures
are used as they are; anything else goes through :func:`shortly.future_of`, plain
values included (as already resolved futures).

Deciding. The first event that fixes the outcome (the last value, the first failure,
the first success...) *claims* the combiner under its lock: it takes the result future
out, so exactly one party settles it and every later arrival sees that it is late.

Cancellation, following :mod:`shortly._cancel`:

* Each slot is a :class:`~shortly._cancel.Dependant` whose child is the combiner, and
  the combiner counts as cancelled once claimed. So after the decision the combinator no
  longer keeps any input "wanted", and other consumers' cancellations reach it normally.
* Cancelling the combinator's future cancels its pending inputs by the upward rule:
  each one is cancelled only if nobody else wants it (another chain, a blocked thread,
  a callback). An input shared with another consumer keeps running.
* ``cancel_on_error`` (all_of, gather) and ``cancel_losers`` (any_of, race) cancel the
  other pending inputs by the same upward rule, never by force: the combinator says it
  lost interest, and a shared input carries on for whoever still wants it.
* A cancelled input counts as a failure with its ``CancelledError``; where that failure
  decides (all_of, race, gather) the combinator's future is cancelled with the same
  message, as a chained future would be.

Responsibility for failures (nothing reported twice, nothing lost):

* Every input failure that reaches a combinator before its decision is taken over
  (marked observed): it becomes the combinator's own failure (all_of, race, gather),
  part of :class:`AllFailed` or, once another input succeeded, is tolerated, which is
  what ``any_of`` is for; ``settled`` returns it as an ``Err``. The combinator's future
  then reports it if nobody looks at *that*.
* After the decision, a later failure is taken over only if the combinator asked the
  rest to cancel (``cancel_on_error``/``cancel_losers`` true, or its own future was
  cancelled): those inputs were told they are not wanted, and ten failures of one
  cause must not become ten reports. With ``cancel_on_error=False`` (or
  ``cancel_losers=False``) the others run on as the caller chose, and their failures
  stay theirs: reported when dropped unless somebody else looks.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Awaitable, Iterable
from concurrent.futures import _base
from typing import Any, Protocol, TypeVar, overload

from ._adapt import fail, future_of, when_cancelled
from ._cancel import NOBODY, Dependant, attach, cancel_if_unwanted, undepend
from ._errors import Error
from ._future import Future
from ._outcome import Err, Ok, Outcome

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup, ExceptionGroup
else:
    from exceptiongroup import BaseExceptionGroup, ExceptionGroup

__all__ = ["AllFailed", "all_of", "any_of", "race", "settled"]

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")
T_co = TypeVar("T_co", covariant=True)

_PENDING = _base.PENDING
_FINISHED = _base.FINISHED
_DONE = (_base.FINISHED, _base.CANCELLED, _base.CANCELLED_AND_NOTIFIED)


class _HasResult(Protocol[T_co]):
    def result(self) -> T_co: ...


# What the overloads accept as "a future of T": shortly and stdlib futures, asyncio
# futures, coroutines. (A union with a bare T would defeat mypy's inference.)
FutureLike = _HasResult[T] | Awaitable[T]


class AllFailed(ExceptionGroup, Error):
    """Every input of :func:`any_of` failed: the failures, in input order.

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


def _failure(f: Future[Any]) -> BaseException:
    """A settled input's failure; a cancelled input's is its ``CancelledError``."""
    error = f._exception
    return error if error is not None and f._state == _FINISHED else f._cancelled_error()


class _Combiner:
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

    def cancelled(self) -> bool:
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
                    if rest._state in _DONE:
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
        if f._exception is None:
            return
        with self.lock:
            take_over = self.take_over
        if take_over:
            f._observe()

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
            if f._state in _DONE:
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


class AllOf(_Combiner):
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
    if f._exception is not None:
        f._observe()


# What a combinator that asked its pending inputs to stop leaves on those that carry on
# for other consumers: one shared hook per input, however many combinators gave up on it,
# so that ten failures of one cause never become ten reports. A watch hook: no interest.
_TAKE_OVER_LATE_FAILURE = Dependant(NOBODY, _take_over_late_failure)


class _Slot(Dependant):
    """One input's done-callback: knows the combiner and the input's position."""

    __slots__ = ("index",)

    def __init__(self, combiner: _Combiner, index: int) -> None:
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
        if f._exception is None and f._state == _FINISHED:
            value = f._result
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
        f._observe()
        fail(future, _failure(f))
        combiner.let_go(inputs, f"{combiner.name}: input {self.index} failed")


class _AnySlot(_Slot):
    """any_of: the first success decides; failures are kept in case all fail."""

    __slots__ = ()

    child: _Combiner

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        if f._exception is None and f._state == _FINISHED:
            decided = combiner.decide(f)
            if decided is not None:
                future, inputs = decided
                future.try_set_result(f._result)
                combiner.let_go(inputs, f"any_of: input {self.index} succeeded")
            return
        error = _failure(f)
        with combiner.lock:
            errors = combiner.acc
            if errors is not None:
                errors[self.index] = error
                combiner.remaining -= 1
                decided = None if combiner.remaining else combiner.claim(take_over=True)
        if errors is None:
            combiner.late(f)
            return
        f._observe()  # it ends in AllFailed, or is tolerated because another succeeded
        if decided is not None:
            decided[0].try_set_exception(_all_failed("any_of", errors))


class _RaceSlot(_Slot):
    """race: whatever settles first decides."""

    __slots__ = ()

    child: _Combiner

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        decided = combiner.decide(f)
        if decided is None:
            return
        future, inputs = decided
        if f._exception is None and f._state == _FINISHED:
            future.try_set_result(f._result)
        else:
            f._observe()
            fail(future, _failure(f))
        combiner.let_go(inputs, f"race: input {self.index} settled first")


class _SettledSlot(_Slot):
    """settled: every outcome is kept; the last one in decides."""

    __slots__ = ()

    child: _Combiner

    def __call__(self, f: Future[Any]) -> None:
        combiner = self.child
        ok = f._exception is None and f._state == _FINISHED
        outcome: Outcome[Any] = Ok(f._result) if ok else Err(_failure(f))
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
            f._observe()
        if decided is not None:
            decided[0].try_set_result(outcomes)


# -- all_of ---------------------------------------------------------------------------------


@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[FutureLike[T1]], *, cancel_on_error: bool = True
) -> Future[tuple[T1]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[FutureLike[T1], FutureLike[T2]], *, cancel_on_error: bool = True
) -> Future[tuple[T1, T2]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[FutureLike[T1], FutureLike[T2], FutureLike[T3]], *, cancel_on_error: bool = True
) -> Future[tuple[T1, T2, T3]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[FutureLike[T1], FutureLike[T2], FutureLike[T3], FutureLike[T4]],
    *,
    cancel_on_error: bool = True,
) -> Future[tuple[T1, T2, T3, T4]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[FutureLike[T1], FutureLike[T2], FutureLike[T3], FutureLike[T4], FutureLike[T5]],
    *,
    cancel_on_error: bool = True,
) -> Future[tuple[T1, T2, T3, T4, T5]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[
        FutureLike[T1],
        FutureLike[T2],
        FutureLike[T3],
        FutureLike[T4],
        FutureLike[T5],
        FutureLike[T6],
    ],
    *,
    cancel_on_error: bool = True,
) -> Future[tuple[T1, T2, T3, T4, T5, T6]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[FutureLike[T], ...], *, cancel_on_error: bool = True
) -> Future[tuple[T, ...]]: ...
@overload
def all_of(  # type: ignore[overload-overlap]
    fs: tuple[object, ...], *, cancel_on_error: bool = True
) -> Future[tuple[Any, ...]]: ...
@overload
def all_of(fs: Iterable[FutureLike[T]], *, cancel_on_error: bool = True) -> Future[list[T]]: ...
@overload
def all_of(fs: Iterable[object], *, cancel_on_error: bool = True) -> Future[list[Any]]: ...
def all_of(fs: Iterable[object], *, cancel_on_error: bool = True) -> Future[Any]:
    """A future of every input's value, in input order; fails fast.

    A tuple gives a tuple (typed element by element, for up to six), any other iterable
    a list. On the first failure (or cancellation) of an input, in time, the result
    fails (or is cancelled) the same way and, with ``cancel_on_error``, the other pending
    inputs are cancelled unless someone else wants them (Bluebird's upward rule: see the
    module documentation). Cancelling the result cancels the pending inputs by the
    same rule. Empty input resolves at once.

    Args:
        fs: shortly futures, anything :func:`shortly.future_of` adapts, or plain values
            (taken as already resolved).
        cancel_on_error: whether a failure cancels the inputs still pending.

    Raises:
        TypeError: if ``fs`` is not an iterable, an item cannot be adapted (a
            coroutine outside a running loop, for instance) or ``cancel_on_error`` is
            not a bool.

    >>> import shortly
    >>> a, b = shortly.Future(), shortly.Future()
    >>> both = shortly.all_of((a, b))   # Future[tuple[int, str]] if a, b are typed so
    >>> b.set_result("two"); a.set_result(1)
    >>> both.result()
    (1, 'two')
    >>> shortly.all_of([a, 3]).result()
    [1, 3]
    >>> slow = shortly.Future()
    >>> shortly.all_of([slow, shortly.Future.failed(KeyError("k"))]).exception()
    KeyError('k')
    >>> slow.cancelled()
    True
    """
    cancel = check_flag(cancel_on_error, "cancel_on_error")
    as_tuple = isinstance(fs, tuple)
    inputs = inputs_of(fs)
    if not inputs:
        return Future.resolved(() if as_tuple else [])
    return AllOf("all_of", inputs, cancel, as_tuple).start(AllSlot)


# -- any_of, race, settled ------------------------------------------------------------------


@overload
def any_of(fs: Iterable[FutureLike[T]], *, cancel_losers: bool = True) -> Future[T]: ...
@overload
def any_of(fs: Iterable[object], *, cancel_losers: bool = True) -> Future[Any]: ...
def any_of(fs: Iterable[object], *, cancel_losers: bool = True) -> Future[Any]:
    """The first input to succeed; fails with :class:`AllFailed` only if all fail.

    Failures before the first success are tolerated (that is the point). Once an input
    succeeds, ``cancel_losers`` cancels the inputs still pending unless someone else
    wants them (the upward rule). Cancelling the result cancels the pending inputs by
    the same rule.

    Args:
        fs: shortly futures, anything :func:`shortly.future_of` adapts, or plain values.
        cancel_losers: whether the first success cancels the inputs still pending.

    Raises:
        ValueError: if ``fs`` is empty (no input could ever succeed).
        TypeError: if ``fs`` is not an iterable, an item cannot be adapted or
            ``cancel_losers`` is not a bool.

    >>> import shortly
    >>> mirror1, mirror2 = shortly.Future(), shortly.Future()
    >>> first = shortly.any_of([mirror1, mirror2])
    >>> mirror1.set_exception(ConnectionError("down"))
    >>> mirror2.set_result("data")
    >>> first.result()
    'data'
    """
    cancel = check_flag(cancel_losers, "cancel_losers")
    inputs = inputs_of(fs)
    if not inputs:
        raise ValueError("any_of needs at least one input: fs is empty")
    return _Combiner("any_of", inputs, cancel).start(_AnySlot)


@overload
def race(fs: Iterable[FutureLike[T]], *, cancel_losers: bool = True) -> Future[T]: ...
@overload
def race(fs: Iterable[object], *, cancel_losers: bool = True) -> Future[Any]: ...
def race(fs: Iterable[object], *, cancel_losers: bool = True) -> Future[Any]:
    """Settle as the first input to settle: its value, its failure or its cancellation.

    Inputs already settled at the call win in input order. ``cancel_losers`` then
    cancels the inputs still pending unless someone else wants them (the upward rule).
    Cancelling the result cancels the pending inputs by the same rule.

    Args:
        fs: shortly futures, anything :func:`shortly.future_of` adapts, or plain values.
        cancel_losers: whether the winner cancels the inputs still pending.

    Raises:
        ValueError: if ``fs`` is empty (nothing could ever settle it).
        TypeError: if ``fs`` is not an iterable, an item cannot be adapted or
            ``cancel_losers`` is not a bool.

    >>> import shortly
    >>> work, deadline = shortly.Future(), shortly.Future()
    >>> winner = shortly.race([work, deadline])
    >>> deadline.set_exception(TimeoutError("too slow"))
    >>> winner.exception(), work.cancelled()
    (TimeoutError('too slow'), True)
    """
    cancel = check_flag(cancel_losers, "cancel_losers")
    inputs = inputs_of(fs)
    if not inputs:
        raise ValueError("race needs at least one input: fs is empty")
    return _Combiner("race", inputs, cancel).start(_RaceSlot)


@overload
def settled(fs: Iterable[FutureLike[T]]) -> Future[list[Outcome[T]]]: ...
@overload
def settled(fs: Iterable[object]) -> Future[list[Outcome[Any]]]: ...
def settled(fs: Iterable[object]) -> Future[list[Outcome[Any]]]:
    """Wait for every input; a list of :class:`Ok` or :class:`Err`, in input order.

    Never fails on an input's account: each failure (a cancellation as its
    ``CancelledError``) becomes an ``Err`` and counts as observed. Cancelling the result
    cancels the pending inputs unless someone else wants them (the upward rule). Empty
    input resolves at once with ``[]``.

    Raises:
        TypeError: if ``fs`` is not an iterable, or an item cannot be adapted.

    >>> import shortly
    >>> shortly.settled([shortly.Future.resolved(1), shortly.Future.failed(OSError(5))]).result()
    [Ok(1), Err(OSError(5))]
    """
    inputs = inputs_of(fs)
    if not inputs:
        return Future.resolved([])
    return _Combiner("settled", inputs, cancel_rest=False).start(_SettledSlot)
