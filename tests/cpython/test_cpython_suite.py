"""CPython's own ``test_concurrent_futures`` passes with ``shortly.Future`` in place.

The promise is "drop-in", and the authority on what the stdlib's Future does is the
stdlib's test suite. This runs ``test_future``, ``test_wait``, ``test_as_completed`` and
``test_thread_pool`` from a Python 3.13 (pyenv's, whose ``test`` package includes them)
through ``run_futures_suite.py``, with one documented deviation (``test_cancel``).
It skips only when no Python 3.13 interpreter exists on the machine.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import shortly

HERE = Path(__file__).parent


def _python313() -> str | None:
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    return found[-1] if found else shutil.which("python3.13")


def _has_futures_tests(python: str) -> bool:
    probe = "import test.test_concurrent_futures.test_future"
    return subprocess.run([python, "-c", probe], capture_output=True, timeout=60).returncode == 0


@pytest.mark.timeout(600)
def test_cpython_concurrent_futures_suite_passes(tmp_path: Path) -> None:
    python = _python313()
    if python is None or not _has_futures_tests(python):
        pytest.skip("no Python 3.13 with its test package on this machine")
    # shortly's one runtime dependency, pure Python: lend it from this environment.
    spec = importlib.util.find_spec("sniffio")
    assert spec is not None and spec.submodule_search_locations
    (tmp_path / "sniffio").symlink_to(spec.submodule_search_locations[0])
    source = Path(shortly.__file__).parent.parent
    run = subprocess.run(
        [python, str(HERE / "run_futures_suite.py")],
        capture_output=True,
        text=True,
        timeout=580,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(source), str(tmp_path)])},
        cwd=tmp_path,
    )
    tail = (run.stdout + run.stderr)[-4000:]
    assert run.returncode == 0, tail
    assert "expected deviations 1" in run.stdout, tail
