"""Nothing outside ``shortly._core`` reads or writes a future's private fields.

The layers above read an outcome through the core's API (``succeeded``, ``value_of``,
``failure_of``, ``take_failure``, ``observe``, ``error_of``, ``upstream_of``), so the
fields can change shape without a sweep through chains, combinators and compat. A
subclass of Future defined above the core (a timer, a spawned task, a mirror) may still
use its own fields through ``self``: that is the class's own business.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import shortly

PACKAGE = Path(shortly.__file__).parent
CORE = PACKAGE / "_core"

# A future's private fields and methods, as named in docs/internals.md.
PRIVATE = {
    "_state",
    "_result",
    "_exception",
    "_observe",
    "_cancelled_error",
    "_guard",
    "_upstream",
    "_callbacks",
    "_wait_list",
}


def _outside_core() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if CORE not in p.parents)


def _touches(source: str) -> list[str]:
    """Each ``x._field`` (``x`` not ``self``) in ``source``, as "line: text"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or node.attr not in PRIVATE:
            continue
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            continue
        found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("path", _outside_core(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_field_of_a_future_outside_the_core(path: Path) -> None:
    assert _touches(path.read_text()) == []


def test_the_check_sees_a_read_a_write_and_a_call() -> None:
    source = "f._state\nf._exception = None\nf._observe()\nself._state\ng.state\n"
    assert _touches(source) == ["1: f._state", "2: f._exception", "3: f._observe"]


def test_the_core_is_where_the_fields_live() -> None:
    core_sources = "".join(p.read_text() for p in CORE.glob("*.py"))
    for field in PRIVATE:
        assert f"._{field.lstrip('_')}" in core_sources, field
