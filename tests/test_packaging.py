"""The package builds, its metadata passes ``twine check``, and the wheel installs and
imports in a clean virtual environment (nothing from this checkout on the path)."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.timeout(600)
def test_sdist_and_wheel_build_check_install_and_import(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # No isolation: the build backend comes from the pinned tool chain, not a fresh download.
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT, cwd=tmp_path)
    wheels = sorted(dist.glob("shortly-*.whl"))
    sdists = sorted(dist.glob("shortly-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(dist.iterdir())
    assert "PASSED" in _run(sys.executable, "-m", "twine", "check", *wheels, *sdists, cwd=tmp_path)

    env_dir = tmp_path / "clean"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", wheels[0], cwd=tmp_path)
    code = (
        "import shortly, shortly.testing, shortly.compat.pyro4\n"
        "f = shortly.Future(); f.set_result(41)\n"
        "print(f.then(lambda x: x + 1).result(timeout=5), shortly.__file__)\n"
    )
    out = _run(python, "-I", "-c", code, cwd=tmp_path)
    assert out.startswith("42 "), out
    assert str(env_dir) in out, f"imported from outside the clean venv: {out}"
