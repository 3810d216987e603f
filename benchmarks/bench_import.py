"""What ``import shortly`` costs a script, beside ``import concurrent.futures``.

Each sample is a fresh interpreter (``python -I``, no site customisation of ours) that
times, with ``perf_counter`` around the statements only, one of:

* ``import concurrent.futures`` and ``import asyncio``, the familiar costs;
* ``import shortly`` plus creating and resolving a ``Future``: what a CLI tool or a
  short script pays before its first result;
* ``import shortly`` plus touching every public name, which loads every submodule.

Interpreters are started in turns (one of each, then again), and the best of the
samples is kept for each, so a busy moment on the machine hits all entries alike. A
first, untimed round writes the bytecode caches, as an installed package has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import shortly

from ._runner import Report

SAMPLES = 15

_PROGRAMS = {
    "concurrent.futures": "import concurrent.futures",
    "asyncio": "import asyncio",
    "import shortly + Future created and resolved": (
        "import shortly\nf = shortly.Future()\nf.set_result(1)\nassert f.result() == 1"
    ),
    "import shortly + every public name": (
        "import shortly\nfor name in shortly.__all__:\n    getattr(shortly, name)"
    ),
}

_TIMER = "import time\n_t = time.perf_counter()\n{body}\nprint(time.perf_counter() - _t)\n"


def _sample(body: str) -> float:
    source = str(Path(shortly.__file__).resolve().parent.parent)
    # Bytecode cached, as in any installed package (some shells turn caching off).
    env = {**os.environ, "PYTHONPATH": source}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = subprocess.run(
        [sys.executable, "-c", _TIMER.format(body=body)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    ).stdout
    return float(out) * 1000


def run(report: Report) -> None:
    samples = 3 if report.quick else SAMPLES
    best = dict.fromkeys(_PROGRAMS, float("inf"))
    for body in _PROGRAMS.values():
        _sample(body)  # a first run writes the bytecode caches
    for _ in range(samples):
        for name, body in _PROGRAMS.items():
            best[name] = min(best[name], _sample(body))
    report.record(
        "import time in a fresh interpreter (best of interleaved samples)",
        best,
        unit="ms",
        baseline="concurrent.futures",
        target="import shortly + a Future <= 1.5x import concurrent.futures",
        limits=[("import shortly + Future created and resolved", "concurrent.futures", 1.5)],
    )
