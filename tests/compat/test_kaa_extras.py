"""shortly.compat.kaa: InProgressCallable, noabort(), InProgressAny/All ``finish=`` and
``filter=``, Signal.connect_weak/connect_once/disconnect/emit_when_handled and the
exception's ``formatted_traceback``, as kaa-base's async.py and core.py behave."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Generator
from typing import Any

import pytest

from shortly.compat import kaa

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]


# -- InProgressCallable ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, None),
        ((1,), {}, 1),
        ((1, 2), {}, (1, 2)),
        ((), {"size": 3}, 3),
        ((), {"a": 1, "b": 2}, {"a": 1, "b": 2}),
        ((1,), {"b": 2}, ((1,), {"b": 2})),
    ],
)
def test_inprogress_callable_maps_call_arguments_to_the_result(
    args: tuple[Any, ...], kwargs: dict[str, Any], expected: Any
) -> None:
    ip = kaa.InProgressCallable()
    assert not ip.finished
    assert ip(*args, **kwargs) is ip
    assert ip.result == expected


def test_inprogress_callable_throws_an_exception_triple() -> None:
    ip = kaa.InProgressCallable()
    handled: list[Any] = []
    ip.exception.connect(lambda tp, exc, tb: handled.append(tp))
    try:
        raise OSError("gone")
    except OSError:
        ip(*sys.exc_info())
    assert handled == [OSError]
    not_thrown = kaa.InProgressCallable(throwable=False)
    triple = (ValueError, ValueError("v"), None)
    assert not_thrown(*triple).result == triple


def test_inprogress_callable_func_receives_it_to_connect_it() -> None:
    signal = kaa.Signal()
    ip = kaa.InProgressCallable(signal.connect)
    signal.emit("fired")
    assert ip.result == "fired"
    with pytest.raises(TypeError, match="func"):
        kaa.InProgressCallable(3)  # type: ignore[arg-type]


# -- noabort --------------------------------------------------------------------------


def test_noabort_follows_the_task_and_refuses_abort() -> None:
    task = kaa.InProgress(abortable=True)
    guarded = task.noabort()
    assert guarded is not task and not guarded.abortable
    with pytest.raises(RuntimeError, match="cannot be aborted"):
        guarded.abort()
    assert not task.finished
    task.throw(KeyError, KeyError("k"), None)
    assert guarded.failed
    with pytest.raises(KeyError):
        guarded.result  # noqa: B018
    with pytest.raises(KeyError):
        task.result  # noqa: B018


def test_a_coroutine_waiting_on_noabort_cannot_abort_the_task() -> None:
    task = kaa.InProgress()
    task.signals["abort"].connect(lambda exc: None)  # abortable by its owner

    @kaa.coroutine()
    def waiter() -> Generator[Any, Any, Any]:
        return (yield task.noabort())

    ip = waiter()
    ip.abort()
    assert not task.finished
    task.finish("still mine")


# -- InProgressAny / InProgressAll ----------------------------------------------------


def test_finish_constants_are_kaas() -> None:
    assert (kaa.FINISH_IDX, kaa.FINISH_RESULT, kaa.FINISH_SELF, kaa.FINISH_IDX_RESULT) == (
        "FINISH_IDX",
        "FINISH_RESULT",
        "FINISH_SELF",
        "FINISH_IDX_RESULT",
    )
    with pytest.raises(ValueError, match="finish"):
        kaa.InProgressAny(kaa.InProgress(), finish="FINISH_WHATEVER")
    with pytest.raises(TypeError, match="filter"):
        kaa.InProgressAny(kaa.InProgress(), filter=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("finish", "expected"),
    [
        (None, (1, "b")),
        (kaa.FINISH_IDX_RESULT, (1, "b")),
        (kaa.FINISH_RESULT, "b"),
        (kaa.FINISH_IDX, 1),
    ],
)
def test_any_finishes_as_asked(finish: str | None, expected: Any) -> None:
    a, b = kaa.InProgress(), kaa.InProgress()
    first = kaa.InProgressAny(a, b, finish=finish)
    b.finish("b")
    assert first.result == expected
    a.finish("late")  # a loser finishing later changes nothing
    assert first.result == expected


def test_any_finish_self() -> None:
    a = kaa.InProgress()
    first = kaa.InProgressAny(a, finish=kaa.FINISH_SELF)
    a.finish(1)
    assert first.result is first


def test_any_filter_skips_results_while_others_may_finish() -> None:
    a, b, c = kaa.InProgress(), kaa.InProgress(), kaa.InProgress()
    seen: list[Any] = []

    def empty(result: Any) -> bool:
        seen.append(result)
        return not result

    first = kaa.InProgressAny(a, b, c, filter=empty)
    a.finish("")
    b.finish(None)
    assert not first.finished
    c.finish("")  # the last one is never filtered
    assert first.result == (2, "")
    assert seen == ["", None]


def test_any_filter_sees_a_failure_as_its_exc_info() -> None:
    a, b = kaa.InProgress(), kaa.InProgress()
    first = kaa.InProgressAny(a, b, finish=kaa.FINISH_RESULT, filter=lambda r: isinstance(r, tuple))
    a.throw(OSError, OSError("down"), None)
    assert not first.finished
    b.finish("up")
    assert first.result == "up"


@pytest.mark.parametrize(
    ("finish", "expected"),
    [
        (kaa.FINISH_RESULT, ["x", "y"]),
        (kaa.FINISH_IDX_RESULT, [(0, "x"), (1, "y")]),
        (kaa.FINISH_IDX, [0, 1]),
    ],
)
def test_all_finishes_as_asked(finish: str, expected: Any) -> None:
    x, y = kaa.InProgress(), kaa.InProgress()
    both = kaa.InProgressAll(x, y, finish=finish)
    y.finish("y")
    assert not both.finished
    x.finish("x")
    assert both.result == expected


def test_all_finish_result_puts_a_failure_s_exc_info_in_its_place() -> None:
    x, y = kaa.InProgress(), kaa.InProgress()
    both = kaa.InProgressAll(x, y, finish=kaa.FINISH_RESULT)
    x.finish(1)
    y.throw(KeyError, KeyError("k"), None)
    first, (tp, exc, _) = both.result
    assert first == 1 and tp is KeyError and isinstance(exc, KeyError)


def test_all_is_self_by_default_and_empty_finishes_at_once() -> None:
    empty = kaa.InProgressAll()
    assert empty.finished and empty.result is empty
    assert kaa.InProgressAll(finish=kaa.FINISH_RESULT).result == []


# -- Signal ---------------------------------------------------------------------------


def test_connect_weak_drops_the_callback_with_its_object() -> None:
    heard: list[str] = []

    class Listener:
        def on(self, what: str) -> None:
            heard.append(what)

    signal, listener = kaa.Signal(), Listener()
    signal.connect_weak(listener.on)
    signal.emit("a")
    assert signal.count() == 1
    del listener
    gc.collect()
    assert signal.count() == 0
    signal.emit("b")
    assert heard == ["a"]


def test_connect_weak_can_be_disconnected_by_the_callback() -> None:
    def handler(x: Any) -> None:
        pass

    signal = kaa.Signal()
    signal.connect_weak(handler)
    assert signal.disconnect(handler) and signal.count() == 0

    class Slotted:
        __slots__ = ()

        def __call__(self) -> None:
            pass

    with pytest.raises(TypeError, match="weakly"):
        signal.connect_weak(Slotted())


def test_connect_once_and_disconnect_with_arguments() -> None:
    signal = kaa.Signal()
    got: list[Any] = []
    signal.connect_once(got.append)
    signal.connect(lambda x, tag: got.append((x, tag)), "t")
    signal.emit(1)
    signal.emit(2)
    assert got == [1, (1, "t"), (2, "t")]

    def cb(*args: Any) -> None:
        got.append(args)

    signal.connect(cb, "keep")
    signal.connect(cb, "drop")
    assert signal.disconnect(cb, "drop")
    assert not signal.disconnect(cb, "drop")
    got.clear()
    signal.emit(3)
    assert (3, "keep") in got and (3, "drop") not in got


def test_emit_when_handled_waits_for_the_first_callback() -> None:
    signal = kaa.Signal()
    assert signal.emit_when_handled("queued", 2) is None
    got: list[Any] = []
    signal.connect(lambda *args: got.append(args))
    assert got == [("queued", 2)]
    signal.connect(lambda *args: got.append(("second", *args)))
    assert got == [("queued", 2)]  # delivered once, to the callbacks connected then
    assert signal.emit_when_handled("now") is True
    assert got[1:] == [("now",), ("second", "now")]


# -- formatted_traceback --------------------------------------------------------------


def test_a_thrown_exception_gets_its_formatted_traceback() -> None:
    ip = kaa.InProgress()
    try:
        {}["missing"]
    except KeyError:
        ip.throw()
    handled: list[BaseException] = []
    ip.exception.connect(lambda tp, exc, tb: handled.append(exc))
    text = handled[0].formatted_traceback  # type: ignore[attr-defined]
    assert text.startswith("Traceback (most recent call last):")
    assert text.endswith("KeyError: 'missing'")
    assert "test_a_thrown_exception_gets_its_formatted_traceback" in text


def test_a_coroutine_failure_gets_its_formatted_traceback() -> None:
    gate = kaa.InProgress()

    @kaa.coroutine()
    def broken() -> Generator[Any, Any, None]:
        yield gate
        raise ValueError("inside")

    ip = broken()
    gate.finish(None)
    with pytest.raises(ValueError) as caught:
        ip.result  # noqa: B018
    text = caught.value.formatted_traceback  # type: ignore[attr-defined]
    assert "in broken" in text and text.endswith("ValueError: inside")


def test_all_and_any_with_children_finished_from_many_threads() -> None:
    children = [kaa.InProgress() for _ in range(400)]
    every = kaa.InProgressAll(children, finish=kaa.FINISH_RESULT)
    # Every result but the last finished is filtered out: exactly one can finish it.
    last = kaa.InProgressAny(children, finish=kaa.FINISH_IDX, filter=lambda r: True)
    finished: list[Any] = []
    every.connect(finished.append)
    barrier = threading.Barrier(8, timeout=5)

    def finish(share: list[kaa.InProgress]) -> None:
        barrier.wait()
        for child in share:
            child.finish(children.index(child))

    threads = [threading.Thread(target=finish, args=(children[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert finished == [list(range(400))]
    assert every.result == list(range(400))
    assert last.finished and 0 <= last.result < 400
