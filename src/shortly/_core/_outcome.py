"""Outcome: a finished computation as a value, ``Ok(value)`` or ``Err(error)``.

What :func:`shortly.settled` hands back for each input, in the spirit of trio's
``outcome`` package: the success or the failure becomes an ordinary immutable object
that can be stored, compared, pattern-matched and turned back into a return or a
raise with :meth:`~Outcome.unwrap`. ``Err`` is an ``Outcome[NoReturn]``, so with the
covariant type parameter a list of outcomes of ``int`` may hold both kinds.

Inside the library, :func:`capture` is the one place where a call's raise becomes a
value (a :class:`Raised`): handlers of chains, spawned code, work run on a loop or a
timer all go through it, so that a captured failure never keeps its future alive.
"""

from __future__ import annotations

import abc
import contextvars
from collections.abc import Callable, Generator
from typing import Any, Generic, NoReturn, TypeVar

__all__ = ["attempt", "Err", "Ok", "Outcome", "Raised", "capture", "capture_in"]

T_co = TypeVar("T_co", covariant=True)


class Outcome(abc.ABC, Generic[T_co]):
    """How a computation ended: :class:`Ok` or :class:`Err`; never anything else.

    Outcomes are immutable and compare equal when they are of the same kind and hold
    equal values (or the very same exception object).

    >>> import shortly
    >>> outcomes = shortly.settled([1, shortly.Future.failed(KeyError("k"))]).result()
    >>> for outcome in outcomes:
    ...     match outcome:
    ...         case shortly.Ok(value):
    ...             print("got", value)
    ...         case shortly.Err(error):
    ...             print("failed with", repr(error))
    got 1
    failed with KeyError('k')
    """

    __slots__ = ()

    @abc.abstractmethod
    def unwrap(self) -> T_co:
        """Return the value, or raise the error.

        >>> import shortly
        >>> shortly.Ok(3).unwrap()
        3
        """

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")


class Ok(Outcome[T_co]):
    """A computation that returned ``value``.

    >>> import shortly
    >>> ok = shortly.Ok([1, 2])
    >>> ok.value, ok.unwrap(), ok == shortly.Ok([1, 2])
    ([1, 2], [1, 2], True)
    """

    __slots__ = ("value",)
    __match_args__ = ("value",)

    value: T_co

    def __init__(self, value: T_co) -> None:
        object.__setattr__(self, "value", value)

    def unwrap(self) -> T_co:
        """Return the value.

        >>> import shortly
        >>> shortly.Ok("v").unwrap()
        'v'
        """
        return self.value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ok):
            return NotImplemented
        return bool(self.value == other.value)

    def __hash__(self) -> int:
        return hash((Ok, self.value))

    def __repr__(self) -> str:
        return f"Ok({self.value!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Ok, (self.value,))


class Err(Outcome[NoReturn]):
    """A computation that raised ``error``.

    Raises:
        TypeError: if ``error`` is not an exception instance.

    >>> import shortly
    >>> err = shortly.Err(ValueError("bad"))
    >>> err.error
    ValueError('bad')
    >>> err.unwrap()
    Traceback (most recent call last):
    ...
    ValueError: bad
    """

    __slots__ = ("error",)
    __match_args__ = ("error",)

    error: BaseException

    def __init__(self, error: BaseException) -> None:
        if not isinstance(error, BaseException):
            raise TypeError(f"error must be an exception instance, not {type(error).__name__}")
        object.__setattr__(self, "error", error)

    def unwrap(self) -> NoReturn:
        """Raise the error (each call adds to its traceback, as re-raising does).

        >>> import shortly
        >>> try:
        ...     shortly.Err(KeyError("k")).unwrap()
        ... except KeyError as e:
        ...     print("raised", repr(e))
        raised KeyError('k')
        """
        error = self.error
        try:
            raise error
        finally:
            # The traceback holds this frame; without the names it holds no cycle.
            del error, self

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Err):
            return NotImplemented
        return self.error is other.error

    def __hash__(self) -> int:
        return hash((Err, id(self.error)))

    def __repr__(self) -> str:
        return f"Err({self.error!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Err, (self.error,))


# -- capturing a call's outcome inside the library ------------------------------------------


class Raised:
    """What :func:`capture` returns when the call raised: the exception, unwrapped.

    A class of its own that no user code can return, so ``type(x) is Raised`` tells a
    failure from any value at the cost of one comparison.
    """

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"Raised({self.error!r})"


def _calls() -> Generator[Any, tuple[Any, ...], None]:
    """Run each call ``(fn, args, kwargs)`` sent in; yield its value or a :class:`Raised`.

    Why a generator: a traceback keeps the frames it passes through, and on CPython
    3.11+ a frame that outlives its run keeps its caller's frame (``f_back``), and so on
    up the stack. A failure caught in an ordinary frame therefore pins every caller's
    locals, among them the future that failure is stored in: a reference cycle, and the
    future's unhandled-failure report waits for the garbage collector (for ever under
    ``gc.disable()``). A suspended generator's frame has no caller, so a failure caught
    here holds only the frames of the call that raised. The call is made right here,
    not through a helper whose frame would keep ``fn`` and its arguments in the
    traceback; and nothing stays in this frame between calls: the box is empty and the
    request deleted.
    """
    box: list[Any] = []
    request = yield None
    while True:
        try:
            box.append(request[0](*request[1], **request[2]))
        except BaseException as error:
            box.append(Raised(error))
        del request
        request = yield box.pop()


def _calls_in() -> Generator[Any, tuple[Any, ...], None]:
    """:func:`_calls` for requests ``(context, fn, arg)``: ``fn(arg)`` run in the context."""
    box: list[Any] = []
    request = yield None
    while True:
        try:
            box.append(_run_in(*request))
        except BaseException as error:
            box.append(Raised(error))
        del request
        request = yield box.pop()


_run_in = contextvars.Context.run

# Idle generators, shared by all threads: a generator runs in one thread at a time, and
# one running a call (nested captures, other threads) is simply not in its pool. One
# pool per shape of call, so the hot one (a handler run in a context) pays for no
# keyword dictionary and no extra frame.
_pool: list[Generator[Any, tuple[Any, ...], None]] = []
_pool_in: list[Generator[Any, tuple[Any, ...], None]] = []
_POOL_MAX = 64


def capture(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, or a :class:`Raised` holding what it raised.

    Every ``BaseException`` is captured (``KeyboardInterrupt`` and ``SystemExit``
    included: the caller settles the future with it, then re-raises it), and the
    captured failure holds no frame of the caller (see :func:`_calls`).

    Raises:
        BaseException: only what arrives asynchronously (a signal's
            ``KeyboardInterrupt``) between two steps of the capture itself.

    >>> from shortly._core._outcome import Raised, capture
    >>> capture(int, "7")
    7
    >>> outcome = capture(int, "seven")
    >>> type(outcome) is Raised, type(outcome.error).__name__
    (True, 'ValueError')
    """
    pool = _pool
    try:
        calls = pool.pop()
    except IndexError:
        calls = _calls()
        next(calls)
    value = calls.send((fn, args, kwargs))
    if len(pool) < _POOL_MAX:
        pool.append(calls)
    return value


def capture_in(ctx: contextvars.Context, fn: Callable[[Any], Any], arg: Any) -> Any:
    """:func:`capture` of ``fn(arg)`` run in ``ctx``: the shape every chain handler has.

    Raises:
        BaseException: as :func:`capture`.

    >>> import contextvars
    >>> from shortly._core._outcome import capture_in
    >>> capture_in(contextvars.copy_context(), abs, -3)
    3
    """
    pool = _pool_in
    try:
        calls = pool.pop()
    except IndexError:
        calls = _calls_in()
        next(calls)
    value = calls.send((ctx, fn, arg))
    if len(pool) < _POOL_MAX:
        pool.append(calls)
    return value


def attempt(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """``(True, fn(*args))``, or ``(False, exception)`` (for the modules running work).

    >>> from shortly._core import attempt
    >>> attempt(int, "12"), attempt(int, "x")[0]
    ((True, 12), False)

    Through :func:`capture`, so the failure holds no caller's frame
    and a failed future is reported as soon as it is dropped.
    """
    value = capture(fn, *args)
    if type(value) is Raised:
        return False, value.error
    return True, value
