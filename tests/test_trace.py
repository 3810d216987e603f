"""Named futures, and traced chains in debug mode."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from typing import Any

import pytest

import shortly

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
        deadline = time.monotonic() + 5
        while not no_unhandled_failures and time.monotonic() < deadline:
            gc.collect()  # polling a condition: the pool lets go of the future
            shortly.flush_reports()
            time.sleep(0.001)
        sources = [report.source for report in no_unhandled_failures]
        assert len(sources) == 1 and "name='parse price'" in sources[0]
        no_unhandled_failures.clear()  # seen, on purpose: not a failure of this test

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

    def test_asyncio_awaits_a_named_future(self) -> None:
        async def main() -> int:
            return await shortly.submit(int, "5", name="parse")

        assert asyncio.run(main()) == 5
