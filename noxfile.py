"""Run the test-suite on every supported Python found under pyenv."""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
PYENV = os.path.expanduser("~/.pyenv/versions")


def _interpreter(version: str) -> str:
    found = sorted(glob.glob(os.path.join(PYENV, f"{version}.*", "bin", "python3")))
    return found[-1] if found else f"python{version}"


@nox.session(python=[_interpreter(v) for v in PYTHONS])
def tests(session: nox.Session) -> None:
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)
