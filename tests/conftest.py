"""Shared test setup.

``shortly.testing`` is loaded as a plugin, so any test may ask for the
``no_unhandled_failures`` fixture (it fails the test if a failure goes unhandled) or the
``unhandled_reports`` fixture, here also called ``reports`` (the failures reported during
the test, for tests that expect some). ``loop`` is an asyncio loop running in a thread of
its own, ``queue`` a SerialExecutor; ``tests/helpers.py`` holds the polling helper
(``eventually``) and small helpers shared by several files.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

import shortly
from shortly import Unhandled

pytest_plugins = ["shortly.testing", "tests.redis_server"]


@pytest.fixture
def reports(unhandled_reports: list[Unhandled]) -> list[Unhandled]:
    """The unhandled failures reported during the test (``shortly.testing``'s fixture)."""
    return unhandled_reports


@pytest.fixture
def queue() -> Iterator[shortly.SerialExecutor]:
    """A SerialExecutor named ``test-queue``, shut down (waiting) after the test."""
    executor = shortly.SerialExecutor(name="test-queue")
    yield executor
    executor.shutdown(wait=True)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running in a thread of its own, named "loop"; closed after the test."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="loop")
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
