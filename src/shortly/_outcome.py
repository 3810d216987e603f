"""Outcome: a finished computation as a value, ``Ok(value)`` or ``Err(error)``.

What :func:`shortly.settled` hands back for each input, in the spirit of trio's
``outcome`` package: the success or the failure becomes an ordinary immutable object
that can be stored, compared, pattern-matched and turned back into a return or a
raise with :meth:`~Outcome.unwrap`. ``Err`` is an ``Outcome[NoReturn]``, so with the
covariant type parameter a list of outcomes of ``int`` may hold both kinds.
"""

from __future__ import annotations

import abc
from typing import Any, Generic, NoReturn, TypeVar

__all__ = ["Err", "Ok", "Outcome"]

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
