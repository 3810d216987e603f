"""Combinators: one future from many (``all_of``, ``any_of``, ``race``, ``settled``).

How they work (combiners, slots, deciding, leaving the inputs) is in
:mod:`shortly._combiner`; this module holds the public functions and their rules.

Cancellation, following :mod:`shortly._core._cancel`:

* Each slot is a :class:`~shortly._core._cancel.Dependant` whose child is the combiner, and
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

from collections.abc import Awaitable, Iterable
from typing import Any, Protocol, TypeVar, overload

from ._combiner import (
    AllFailed,
    AllOf,
    AllSlot,
    AnySlot,
    Combiner,
    RaceSlot,
    SettledSlot,
    check_flag,
    inputs_of,
    refuse_several,
)
from ._core import Future, Outcome

__all__ = ["AllFailed", "all_of", "any_of", "race", "settled"]

T = TypeVar("T")
T1 = TypeVar("T1")
T2 = TypeVar("T2")
T3 = TypeVar("T3")
T4 = TypeVar("T4")
T5 = TypeVar("T5")
T6 = TypeVar("T6")
T_co = TypeVar("T_co", covariant=True)


class _HasResult(Protocol[T_co]):
    def result(self) -> T_co: ...


# What the overloads accept as "a future of T": shortly and stdlib futures, asyncio
# futures, coroutines. (A union with a bare T would defeat mypy's inference.)
FutureLike = _HasResult[T] | Awaitable[T]


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
def all_of(fs: Iterable[object], *more: object, cancel_on_error: bool = True) -> Future[Any]:
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
    refuse_several("all_of", more)
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
def any_of(fs: Iterable[object], *more: object, cancel_losers: bool = True) -> Future[Any]:
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
    refuse_several("any_of", more)
    cancel = check_flag(cancel_losers, "cancel_losers")
    inputs = inputs_of(fs)
    if not inputs:
        raise ValueError("any_of needs at least one input: fs is empty")
    return Combiner("any_of", inputs, cancel).start(AnySlot)


@overload
def race(fs: Iterable[FutureLike[T]], *, cancel_losers: bool = True) -> Future[T]: ...
@overload
def race(fs: Iterable[object], *, cancel_losers: bool = True) -> Future[Any]: ...
def race(fs: Iterable[object], *more: object, cancel_losers: bool = True) -> Future[Any]:
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
    refuse_several("race", more)
    cancel = check_flag(cancel_losers, "cancel_losers")
    inputs = inputs_of(fs)
    if not inputs:
        raise ValueError("race needs at least one input: fs is empty")
    return Combiner("race", inputs, cancel).start(RaceSlot)


@overload
def settled(fs: Iterable[FutureLike[T]]) -> Future[list[Outcome[T]]]: ...
@overload
def settled(fs: Iterable[object]) -> Future[list[Outcome[Any]]]: ...
def settled(fs: Iterable[object], *more: object) -> Future[list[Outcome[Any]]]:
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
    refuse_several("settled", more)
    inputs = inputs_of(fs)
    if not inputs:
        return Future.resolved([])
    return Combiner("settled", inputs, cancel_rest=False).start(SettledSlot)
