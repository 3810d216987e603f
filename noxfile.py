"""Run the test-suite on every supported Python found under pyenv.

``nox -s tests`` (``make nox``) installs the pinned tool chain from ``requirements/dev.txt``;
``nox -s latest`` (``make nox-latest``) installs the newest releases instead, so drift in
a dependency shows there without turning the default check red.
"""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
LOCK = "requirements/dev.txt"

nox.options.sessions = ["tests"]

# nox looks for pythonX.Y on PATH; pyenv keeps each version's binaries apart.
_pyenv_bins = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin")))
os.environ["PATH"] = os.pathsep.join([*_pyenv_bins, os.environ.get("PATH", "")])


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The pytest suite against the lock (lint and type checks run in ``make test``)."""
    session.install("--require-hashes", "--no-deps", "-r", LOCK)
    session.install("--no-deps", "--no-build-isolation", "-e", ".")
    session.run("pytest", "-q", *session.posargs)
    session.run("pytest", "-q", "-m", "timing", "tests")  # alone: it compares wall-clock times


@nox.session(python=PYTHONS)
def latest(session: nox.Session) -> None:
    """Everything ``make test`` checks, against the newest release of every dependency."""
    session.install("--upgrade", "-e", ".[test,docs]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "examples")
    session.run("mypy", "--strict", "src", "tests/typing_promise.py", "tests/typing_combine.py")
    session.run("pytest", "-q", *session.posargs)
    session.run("pytest", "-q", "-m", "timing", "tests")
