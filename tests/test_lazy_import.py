"""``import shortly`` stays light: submodules load on first use, names stay typed.

Timing is measured in ``benchmarks/bench_import.py``; these tests pin down the
structure that keeps it cheap: a script that only makes and resolves a Future loads
neither asyncio, inspect nor any of shortly's own heavier modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import shortly

INIT = Path(shortly.__file__)

_PROBE = """
import sys
import shortly
f = shortly.Future()
f.set_result(1)
assert f.result() == 1
print(" ".join(sorted(sys.modules)))
"""


def test_a_future_alone_loads_no_heavy_module() -> None:
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()
    )
    # typing costs about 2.5 ms: the core takes its names from _core._erased instead.
    heavy = {"asyncio", "inspect", "dataclasses", "trio", "sniffio", "typing"}
    assert not heavy & loaded, sorted(heavy & loaded)
    mine = {m for m in loaded if m.startswith("shortly.")}
    for module in (
        "_timers",
        "_serial",
        "_submit",
        "_chain",
        "_aio",
        "_lock",
        "_scope",
        "_progress",
    ):
        assert f"shortly.{module}" not in mine, sorted(mine)


def _type_checking_imports() -> dict[str, str]:
    """Each name imported under ``if TYPE_CHECKING:`` in __init__, with its module."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(INIT.read_text())):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom) and statement.module
                for alias in statement.names:
                    found[alias.asname or alias.name] = statement.module
    return found


def test_the_typed_names_and_the_lazy_table_agree() -> None:
    typed = _type_checking_imports()
    assert set(typed) == set(shortly.__all__)
    assert typed == shortly._HOME


@pytest.mark.parametrize("name", shortly.__all__)
def test_every_public_name_loads_and_is_the_private_module_object(name: str) -> None:
    home = shortly._HOME[name]
    module = __import__(f"shortly.{home}", fromlist=[name])
    assert getattr(shortly, name) is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        shortly.nope  # type: ignore[attr-defined]  # noqa: B018
