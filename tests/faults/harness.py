"""Running worker processes against a Redis lock, and checking what they did.

:class:`Crew` starts :mod:`tests.faults.worker` processes that share one counter file
(fenced storage) and one lock, then reads their event lines. :meth:`Crew.check` asserts
what every scenario must keep: no two holders overlapped unnoticed (mutual exclusion),
the counter equals the acquisitions that incremented it (nothing lost or doubled), the
tokens of those acquisitions grow strictly in the order they incremented it, and no
token was granted twice.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What the workers reported."""

    ok: list[tuple[int, int]] = field(default_factory=list)  # (count reached, token)
    fenced: list[int] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class Crew:
    """Worker processes contending for the lock ``name`` under a fresh prefix."""

    def __init__(self, url: str, tmp: Path, **config: Any) -> None:
        self.counter = tmp / f"counter-{uuid.uuid4().hex}"
        self.counter.write_text("0 0\n")
        self.prefix = f"faults:{uuid.uuid4().hex}:"
        self.config = {
            "url": url,
            "prefix": self.prefix,
            "name": "shared",
            "counter": str(self.counter),
            "mode": "count",
            "count": 10,
            "hold": 0.005,
            **config,
        }
        self.processes: list[subprocess.Popen[str]] = []

    def start(self, workers: int = 3, **override: Any) -> list[subprocess.Popen[str]]:
        config = json.dumps({**self.config, **override})
        started = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.faults.worker", config],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(workers)
        ]
        self.processes += started
        return started

    def finish(self, timeout: float = 60.0) -> Outcome:
        """Wait for every worker to end; what they reported."""
        outcome = Outcome()
        for process in self.processes:
            out, _ = process.communicate(timeout=timeout)
            assert process.returncode == 0, f"a worker failed ({process.returncode}):\n{out}"
            for line in out.splitlines():
                kind, _, rest = line.partition(" ")
                if kind == "ok":
                    token, count = rest.split()
                    outcome.ok.append((int(count), int(token)))
                elif kind == "fenced":
                    outcome.fenced.append(int(rest))
                elif kind == "violation":
                    outcome.violations.append(rest)
                else:
                    outcome.errors.append(line)
        return outcome

    def check(self, outcome: Outcome, *, fenced_allowed: bool = False) -> None:
        assert not outcome.violations, f"two holders overlapped: {outcome.violations}"
        count, newest = map(int, self.counter.read_text().split())
        assert count == len(outcome.ok), "an acquisition was lost or doubled"
        assert sorted(c for c, _ in outcome.ok) == list(range(1, count + 1))
        tokens = [token for _, token in sorted(outcome.ok)]
        assert all(a < b for a, b in itertools.pairwise(tokens)), "tokens did not grow"
        granted = tokens + outcome.fenced
        assert len(set(granted)) == len(granted), "a token was granted twice"
        assert newest >= tokens[-1]
        if not fenced_allowed:
            assert not outcome.fenced, f"refused as stale: {outcome.fenced}"

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(10)


def counted(crew: Crew) -> int:
    """How many acquisitions incremented the shared counter so far."""
    text = crew.counter.read_text().split()
    return int(text[0]) if text else 0
