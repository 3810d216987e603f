"""Run the test-suite on every supported Python found under pyenv: ``make nox``."""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

# nox looks for pythonX.Y on PATH; pyenv keeps each version's binaries apart.
_pyenv_bins = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin")))
os.environ["PATH"] = os.pathsep.join([*_pyenv_bins, os.environ.get("PATH", "")])


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The pytest suite (lint and type checks run once, in ``make test``)."""
    session.install("-e", ".[test]")
    session.run("pytest", "-q", *session.posargs)
