"""Importing a contrib module without its extra says which extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [("shortly.contrib.redis", "redis", "redis"), ("shortly.contrib.dask", "distributed", "dask")],
)
def test_missing_extra_names_the_pip_command(module: str, blocked: str, extra: str) -> None:
    # sys.modules[name] = None makes that import fail as if the package were absent.
    code = (
        f"import sys; sys.modules[{blocked!r}] = None\n"
        f"try:\n    import {module}\n"
        "except ImportError as e:\n    print(e)\n"
        "else:\n    print('imported')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert f"pip install 'shortly[{extra}]'" in out, out
