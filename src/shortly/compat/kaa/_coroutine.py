"""kaa's generator coroutines and ``delay``, on :func:`shortly.spawn` and :func:`shortly.sleep`.

:func:`shortly.spawn` drives the generator; ``_drive`` translates what a kaa
coroutine yields (an InProgress, ``NotFinished``, a final value) into what spawn waits
for, and a core cancellation back into kaa's abort.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Generator
from typing import Any, overload

from ..._checks import check_delay
from ..._core import Future, watch
from ..._errors import CancelledError
from ..._spawn import spawn
from ..._timers import sleep
from ._exceptions import InProgressAborted
from ._inprogress import InProgress, _wrap, inprogress
from ._policy import POLICIES, POLICY_PASS_LAST, POLICY_SINGLETON, POLICY_SYNCHRONIZED, calls_of
from ._status import InProgressStatus, report_to, status_class_of

__all__ = ["CoroutineInProgress", "NotFinished", "coroutine", "delay"]


class _NotFinished:
    __slots__ = ()

    def __repr__(self) -> str:
        return "kaa.NotFinished"


#: Yielded by a :func:`coroutine` to be resumed after its interval.
NotFinished: Any = _NotFinished()


def delay(seconds: float) -> InProgress:
    """An InProgress that finishes (with None) after ``seconds``; abortable.

    Raises:
        TypeError: if ``seconds`` is not a number.
        ValueError: if ``seconds`` is negative or not finite.

    >>> from shortly.compat import kaa
    >>> ip = kaa.delay(0.01)
    >>> ip.wait(timeout=5) is None, ip.finished
    (True, True)
    """
    return _wrap(sleep(check_delay(seconds, "seconds")))


class _AbortBox:
    """Set by :meth:`CoroutineInProgress.abort` before the core cancel reaches the code.

    Tells the code's driver that the CancelledError it receives is this coroutine's own
    abort (which ends it) rather than the abort of what it yielded (which it may catch).
    """

    __slots__ = ("exc",)

    def __init__(self) -> None:
        self.exc: InProgressAborted | None = None


class CoroutineInProgress(InProgress):
    """The InProgress of a :func:`coroutine`; aborting it throws the abort into the code.

    >>> from shortly.compat import kaa
    >>> @kaa.coroutine()
    ... def forever():
    ...     yield kaa.InProgress()
    >>> ip = forever()
    >>> type(ip).__name__, ip.abortable
    ('CoroutineInProgress', True)
    >>> ip.abort(); ip.failed
    True
    """

    __slots__ = ("_box",)

    _box: _AbortBox

    def _cancel_for_abort(self, exc: InProgressAborted) -> bool:
        self._box.exc = exc
        return self._future.cancel(exc)


def _awaited(yielded: Any) -> Future[Any] | None:
    """The future a coroutine waits on for what it yielded; None: it is the result."""
    if isinstance(yielded, InProgress):
        return yielded._future
    if getattr(yielded, "__inprogress__", None) is not None:
        return inprogress(yielded)._future
    if isinstance(yielded, Future):
        return yielded
    return None


def _end_aborted(gen: Generator[Any, Any, Any], reason: InProgressAborted) -> None:
    """Throw this coroutine's own abort into it for clean-up, close it, raise the abort."""
    try:
        gen.throw(reason)
    except StopIteration:
        pass  # it caught the abort and returned: an abort still ends it aborted
    except InProgressAborted as error:
        if error is not reason:
            raise
    finally:
        gen.close()  # a value yielded after the abort is ignored, as in kaa
    raise reason


def _drive(
    gen: Generator[Any, Any, Any], interval: float, box: _AbortBox, gate: Future[Any] | None
) -> Generator[Any, Any, Any]:
    """What :func:`shortly.spawn` runs for a kaa coroutine: translate what it yields.

    With a ``gate`` (POLICY_SYNCHRONIZED), the generator starts once the gate opens.
    """
    value: Any = None
    throw = False
    if gate is not None:
        try:
            yield gate
        except CancelledError:
            if box.exc is not None:
                _end_aborted(gen, box.exc)
            raise
    while True:
        try:
            yielded = gen.throw(value) if throw else gen.send(value)
        except StopIteration as stop:
            return stop.value
        if yielded is NotFinished:
            awaited: Future[Any] | None = sleep(interval)
        else:
            awaited = _awaited(yielded)
            if awaited is None:
                gen.close()
                return yielded
        try:
            value, throw = (yield awaited), False
        except GeneratorExit:
            gen.close()
            raise
        except CancelledError as cancelled:
            if box.exc is not None:
                _end_aborted(gen, box.exc)
            # What it waited for was aborted: kaa raises InProgressAborted at the yield.
            msg = cancelled.args[0] if cancelled.args else None
            value = msg if isinstance(msg, InProgressAborted) else InProgressAborted(str(cancelled))
            throw = True
        except BaseException as error:
            value, throw = error, True


def _after(previous: InProgress | None) -> Future[Any] | None:
    """A future that settles (with None) once ``previous`` finishes, however it does."""
    if previous is None:
        return None
    gate: Future[Any] = Future()
    watch(previous._future, lambda _: gate.try_set_result(None))
    return gate


@overload
def coroutine(
    interval: float = 0,
    policy: str | None = None,
    progress: bool | type[InProgressStatus] = False,
    group: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., InProgress]]: ...
@overload
def coroutine(interval: Callable[..., Any]) -> Callable[..., InProgress]: ...
def coroutine(
    interval: Any = 0,
    policy: str | None = None,
    progress: bool | type[InProgressStatus] = False,
    group: str | None = None,
) -> Any:
    """Decorate a generator function: calling it runs it as a coroutine, an InProgress.

    The generator yields an InProgress (or a Signal, or a shortly future) to wait for
    it: its result is sent back, its exception raised at the ``yield``. It yields
    ``NotFinished`` to be resumed after ``interval`` seconds, and any other value (or
    returns) to finish with that value. The code runs at once until its first wait,
    then in whichever thread finishes what it waits for. Use ``@coroutine()`` (kaa's
    spelling) or ``@coroutine``.

    ``policy`` decides about calls made while earlier ones are unfinished:
    ``POLICY_SYNCHRONIZED`` starts a call once the previous one finished (in order),
    ``POLICY_SINGLETON`` returns the unfinished call's InProgress instead of starting,
    ``POLICY_PASS_LAST`` passes the latest unfinished call's InProgress (or None) as the
    ``last`` keyword. Methods sharing a ``group`` name share these calls, per instance.
    With ``progress`` the generator gets a new :class:`InProgressStatus` as its first
    argument, also the InProgress's ``progress``.

    Raises:
        TypeError: if ``interval`` is not a number, ``progress`` is neither a bool nor
            a status class, or (when called) the decorated function does not return a
            generator.
        ValueError: if ``interval`` is negative or not finite, or ``policy`` unknown.

    >>> from shortly.compat import kaa
    >>> @kaa.coroutine()
    ... def fetch(ip):
    ...     try:
    ...         data = yield ip
    ...     except KeyError as exc:
    ...         yield f"failed: {exc}"
    ...     yield f"got {data}"
    >>> ok, broken = kaa.InProgress(), kaa.InProgress()
    >>> a, b = fetch(ok), fetch(broken)
    >>> _ = ok.finish("page"); _ = broken.throw(KeyError, KeyError("404"), None)
    >>> a.result, b.result
    ('got page', "failed: '404'")
    >>> @kaa.coroutine(policy=kaa.POLICY_SINGLETON)
    ... def refresh(done):
    ...     yield done
    >>> gate = kaa.InProgress()
    >>> refresh(gate) is refresh(gate)
    True
    """
    if callable(interval):
        return coroutine()(interval)
    seconds = check_delay(interval, "interval")
    if policy is not None and policy not in POLICIES:
        raise ValueError(f"policy must be None or a kaa.POLICY_* constant, not {policy!r}")
    status_class = status_class_of(progress)

    def decorate(func: Callable[..., Any]) -> Callable[..., InProgress]:
        @functools.wraps(func)
        def start(*args: Any, **kwargs: Any) -> InProgress:
            if policy is None:
                return _start(func, args, kwargs, seconds, status_class, None)
            calls = calls_of(func, start, args, group)
            with calls.lock:
                latest = calls.latest()
                if policy == POLICY_SINGLETON and latest is not None:
                    return latest
                if policy == POLICY_PASS_LAST:
                    kwargs["last"] = latest
                gate = _after(latest) if policy == POLICY_SYNCHRONIZED else None
                ip = _start(func, args, kwargs, seconds, status_class, gate)
                calls.add(ip)
                return ip

        return start

    return decorate


def _start(
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    seconds: float,
    status_class: type[InProgressStatus] | None,
    gate: Future[Any] | None,
) -> InProgress:
    """Call ``func`` and drive its generator, after ``gate`` if there is one."""
    status = None if status_class is None else status_class()
    gen = func(*args, **kwargs) if status is None else func(status, *args, **kwargs)
    if not isinstance(gen, types.GeneratorType):
        raise TypeError("@coroutine decorated function is not a generator")
    box = _AbortBox()
    ip = CoroutineInProgress.__new__(CoroutineInProgress)
    ip._box = box
    ip._setup(spawn(_drive(gen, seconds, box, gate)), True)
    ip.progress = status
    if status is not None:
        report_to(status, ip._future)  # shortly's progress listeners see it
    if ip.failed and not ip._future.cancelled():
        ip._future.result()  # failed before its first wait: raise it, as kaa does
    return ip
