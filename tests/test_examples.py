"""The example programs run to the end, exit 0 and say what they should.

Each runs in a subprocess of this interpreter, as ``make demo`` runs the tour, so an
example that hangs, crashes, or quietly stops doing what it shows fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=EXAMPLES.parent,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


def test_every_example_is_tested() -> None:
    tested = {"tour.py", "every_world.py", "deadlocks.py", "serial_writer.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == tested


@pytest.mark.timeout(60)
def test_tour_tells_the_whole_story() -> None:
    out = run(str(EXAMPLES / "tour.py"))
    text = out.stdout
    for line in (
        "stored 35 of 40 pages; failed: 2 TimeoutError, 3 ValueError",
        "35 rows in the store, prices adding up to 235.60",
        "trio awaits the very same futures: 35 rows",
        "any_of: mirror-b answered first",
        "the slow mirror-c was cancelled: True",
        "race against a 0.1 s timer: 'cached price' won",
        "gather over a dict: cheapest sku-00 at 2.00, dearest sku-08 at 11.60",
        "the flaky shop answered 9.99 on attempt 3",
        "the stalled holder's late write was refused: token",
        "its late release raised LockError",
        "a writer action waiting on work queued behind it: DeadlockError",
        "result() on the loop's own thread:             DeadlockError",
        "reported: an action on 'store-writer' raised: KeyError: 'sku'",
    ):
        assert line in text, f"missing {line!r} in:\n{text}"
    seconds = float(re.search(r"done in ([\d.]+) s", text).group(1))  # type: ignore[union-attr]
    assert seconds < 20  # a few seconds; generous for a busy machine
    assert "100%" in out.stderr  # tqdm's bar, on stderr
    assert "Task was destroyed" not in out.stderr  # every asyncio task was seen to its end


@pytest.mark.timeout(60)
def test_tour_without_tqdm_shows_a_plain_progress_line() -> None:
    # A None entry in sys.modules makes `import tqdm` raise ImportError.
    code = (
        "import runpy, sys; sys.modules['tqdm'] = None; "
        f"runpy.run_path({str(EXAMPLES / 'tour.py')!r}, run_name='__main__')"
    )
    out = run("-c", code)
    assert "fetching: 40/40" in out.stderr
    assert "stored 35 of 40 pages" in out.stdout


@pytest.mark.timeout(60)
def test_every_world_gets_the_same_answer() -> None:
    text = run(str(EXAMPLES / "every_world.py")).stdout
    for line in (
        "a blocked thread: got 42 in blocking-reader",
        "an asyncio task: got 42 in asyncio-loop",
        "a trio task: got 42 in trio-run",
        "a then-chain: got 42 in producer",
        "spawned code: got 42 in producer",
    ):
        assert line in text, f"missing {line!r} in:\n{text}"


@pytest.mark.timeout(60)
def test_deadlocks_are_all_refused() -> None:
    text = run(str(EXAMPLES / "deadlocks.py")).stdout
    assert text.count("refused: ") == 5, text
    assert "thread 'db-writer' would wait for ever" in text
    assert "waiting would close a cycle" in text
    assert "already holds <Lock 'inventory'" in text


@pytest.mark.timeout(60)
def test_serial_writer_keeps_order_and_goes_on_after_a_failure() -> None:
    text = run(str(EXAMPLES / "serial_writer.py")).stdout
    assert "lines written: 4000 of 4000" in text
    assert "each handler's lines in the order it put them: True" in text
    assert "bad lines reported: 1 (ValueError)" in text
    assert "worker alive after shutdown: False" in text
