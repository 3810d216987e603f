"""Named futures, and traced chains in debug mode."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import trio

import shortly
from tests.helpers import eventually

pytestmark = [pytest.mark.usefixtures("no_unhandled_failures"), pytest.mark.timeout(20)]


class TestNames:
    def test_submit_later_sleep_spawn_take_a_name(self) -> None:
        async def code() -> int:
            return 1

        named: list[shortly.Future[Any]] = [
            shortly.submit(int, name="GET /users/7"),
            shortly.submit(int, delay=0.01, name="delayed"),
            shortly.submit(int, executor=shortly.SerialExecutor(), name="serial"),
            shortly.later(0.01, int, name="tick"),
            shortly.later(0.01, name="bare tick"),
            shortly.sleep(0.01, name="nap"),
            shortly.spawn(code(), name="job-7"),
        ]
        for future, name in zip(
            named,
            ["GET /users/7", "delayed", "serial", "tick", "bare tick", "nap", "job-7"],
            strict=True,
        ):
            assert f"name={name!r}" in repr(future)
            future.result(timeout=5)

    def test_a_timeout_message_says_which_one(self) -> None:
        gate = threading.Event()
        futures = [shortly.submit(gate.wait, 5, name=f"url-{i}") for i in range(3)]
        with pytest.raises(shortly.TimeoutError, match="name='url-0'"):
            futures[0].result(timeout=0.01)
        gate.set()
        assert all(f.result(timeout=5) for f in futures)

    def test_an_unhandled_report_names_it(
        self, no_unhandled_failures: list[shortly.Unhandled]
    ) -> None:
        shortly.submit(int, "x", name="parse price").wait(5)

        def reported() -> bool:
            gc.collect()  # the pool's thread lets go of the future a moment after wait()
            shortly.flush_reports()
            return bool(no_unhandled_failures)

        eventually(reported, 5, "the report")
        sources = [report.source for report in no_unhandled_failures]
        assert len(sources) == 1 and "name='parse price'" in str(sources[0])
        no_unhandled_failures.clear()  # seen, on purpose: not a failure of this test

    def test_a_put_action_is_named_in_its_report(
        self, no_unhandled_failures: list[shortly.Unhandled]
    ) -> None:
        queue = shortly.SerialExecutor()
        queue.put(int, "x", name="flush the log")
        queue.shutdown()
        shortly.flush_reports()
        sources = [str(report.source) for report in no_unhandled_failures]
        assert len(sources) == 1 and "'flush the log'" in sources[0]
        no_unhandled_failures.clear()  # seen, on purpose: not a failure of this test
        with pytest.raises(TypeError, match="name"):
            queue.put(int, name=3)  # type: ignore[arg-type]

    def test_scope_work_takes_a_name(self) -> None:
        async def code() -> int:
            return 2

        with shortly.scope() as s:
            a = s.submit(int, name="a")
            b = s.later(0.01, int, name="b")
            c = s.spawn(code(), name="c")
        assert [f._name for f in (a, b, c)] == ["a", "b", "c"]

    @pytest.mark.parametrize("bad", [3, b"x", ""])
    def test_names_are_checked(self, bad: Any) -> None:
        error = ValueError if bad == "" else TypeError
        with pytest.raises(error, match="name"):
            shortly.submit(int, name=bad)
        with pytest.raises(error, match="name"):
            shortly.later(1, name=bad)
        with pytest.raises(error, match="name"):
            shortly.sleep(1, name=bad)

        async def code() -> None:
            pass

        coro = code()
        with pytest.raises(error, match="name"):
            shortly.spawn(coro, name=bad)
        coro.close()

    def test_asyncio_and_trio_await_a_named_future(self) -> None:
        async def main() -> int:
            return await shortly.submit(int, "5", name="parse")

        assert asyncio.run(main()) == 5
        assert trio.run(main) == 5

    def test_a_deadlock_message_says_which_one(self) -> None:
        queue = shortly.SerialExecutor()

        def wait_for_the_next() -> None:
            behind = shortly.submit(int, executor=queue, name="queued behind")
            behind.result(timeout=5)

        with pytest.raises(shortly.DeadlockError, match="name='queued behind'"):
            queue.submit(wait_for_the_next).result(timeout=5)
        queue.shutdown()


@pytest.fixture
def debug() -> Iterator[None]:
    shortly.set_debug(True)
    try:
        yield
    finally:
        shortly.set_debug(False)


def via(error: BaseException) -> list[str]:
    """The function names of the traced-chain notes on ``error``, in order."""
    return [n.rsplit(" in ", 1)[1] for n in getattr(error, "__notes__", []) if "via" in n]


def fetch() -> shortly.Future[int]:
    return shortly.submit(int, "not a number")


def double(f: shortly.Future[int]) -> shortly.Future[int]:
    return f.then(lambda v: v * 2)


def store(f: shortly.Future[int]) -> shortly.Future[int]:
    return f.then(lambda v: v + 1)


@pytest.mark.usefixtures("debug")
class TestTracedChains:
    def test_notes_list_each_link_innermost_first(self) -> None:
        final = store(double(fetch()))
        with pytest.raises(ValueError) as caught:
            final.result(timeout=5)
        assert via(caught.value) == ["fetch", "double", "store"]

    def test_a_handler_that_fails_starts_its_own_trace(self) -> None:
        def checked(f: shortly.Future[int]) -> shortly.Future[int]:
            return f.then(lambda v: 1 // v)

        final = store(checked(shortly.Future.resolved(0)))
        error = final.exception(timeout=5)
        assert isinstance(error, ZeroDivisionError)
        assert via(error) == ["checked", "store"]

    def test_adoption_and_combinators_are_links(self) -> None:
        def adopt(f: shortly.Future[int]) -> shortly.Future[int]:
            return f.then(lambda _: fetch())

        def combine(f: shortly.Future[int]) -> shortly.Future[Any]:
            return shortly.all_of([f, shortly.Future[int]()])

        final = combine(adopt(shortly.Future.resolved(1)))
        error = final.exception(timeout=5)
        assert isinstance(error, ValueError)
        assert via(error)[0] == "fetch" and via(error)[-1] == "combine"
        assert "adopt" in via(error)

    def test_failure_set_from_another_thread(self) -> None:
        def source() -> shortly.Future[int]:
            return shortly.Future()

        root = source()
        final = store(root)
        threading.Thread(target=root.set_exception, args=(KeyError("k"),)).start()
        with pytest.raises(KeyError) as caught:
            final.result(timeout=5)
        assert via(caught.value) == ["source", "store"]

    def test_asyncio_and_trio_awaiters_see_the_notes(self) -> None:
        async def main() -> list[str]:
            try:
                await store(double(fetch()))
            except ValueError as error:
                return via(error)
            return []

        assert asyncio.run(main()) == ["fetch", "double", "store"]
        assert trio.run(main) == ["fetch", "double", "store"]

    def test_format_chain(self) -> None:
        final = store(double(fetch()))
        final.wait(5)
        text = shortly.format_chain(final)
        assert text.splitlines()[0].startswith("ValueError: invalid literal")
        assert [line.rsplit(" in ", 1)[1] for line in text.splitlines()[1:]] == [
            "fetch",
            "double",
            "store",
        ]

    def test_format_chain_of_a_pending_chain(self) -> None:
        def start() -> shortly.Future[int]:
            return shortly.Future()

        root = start()
        text = shortly.format_chain(store(root))
        sites = [line.rsplit(" in ", 1)[1] for line in text.splitlines()[1:]]
        assert sites == ["start", "store"]
        root.set_result(1)


class TestTracingOff:
    def test_no_notes_outside_debug_mode(self) -> None:
        final = store(double(fetch()))
        error = final.exception(timeout=5)
        assert not getattr(error, "__notes__", None)
        assert "not debug mode" in shortly.format_chain(final)

    def test_format_chain_checks_its_argument(self) -> None:
        with pytest.raises(TypeError, match="future"):
            shortly.format_chain("x")  # type: ignore[arg-type]
