"""The package's import graph: layers, and no new cycle, deferred imports included.

Every ``import`` and ``from ... import`` in ``src/shortly`` counts, at module top or
inside a function (a deferred import is still a dependency: the cycle is only hidden);
imports under ``if TYPE_CHECKING:`` do not, since they never run.

A few upward imports remain, each deferred and each listed below with its reason. The
test removes exactly those edges and requires what is left to be acyclic, and it
requires every listed edge to still exist, so the list can only shrink.
"""

from __future__ import annotations

import ast
from pathlib import Path

import shortly

PACKAGE = Path(shortly.__file__).parent

# (importer, imported): the upward imports left, all deferred into functions.
KNOWN_UPWARD = {
    # Future.report_progress/on_progress/progress_updates load the progress channel on
    # first use; the channel builds on futures, chains and timers.
    ("shortly._future", "shortly._progress"),
    # future_of(dask future) takes contrib.dask's adapter, found by type name.
    ("shortly._adapt", "shortly.contrib.dask"),
    # kaa: a Signal's next emission and a future's view are InProgress objects, and an
    # InProgress is a Signal.
    ("shortly.compat.kaa._signal", "shortly.compat.kaa._inprogress"),
}

# The core: imports nothing of shortly's above it, even deferred.
CORE = {
    "shortly._errors",
    "shortly._checks",
    "shortly._states",
    "shortly._report",
    "shortly._trampoline",
    "shortly._waiting",
    "shortly._wait_points",
    "shortly._deadlock",
    "shortly._cancel",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: set[str]) -> None:
        self.package = module.split(".") if is_package else module.split(".")[:-1]
        self.known = known
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name for alias in node.names if alias.name in self.known)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package[: len(self.package) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        for alias in node.names:
            full = f"{name}.{alias.name}"
            target = full if full in self.known else name
            if target in self.known:
                self.found.add(target)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        visitor = _Imports(module, path.name == "__init__.py", set(modules))
        visitor.visit(ast.parse(path.read_text()))
        # A package's own __init__ runs first anyway: an import of it adds nothing.
        graph[module] = {m for m in visitor.found if m != module and not module.startswith(m + ".")}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_cycle_besides_the_listed_upward_imports() -> None:
    graph = _graph()
    for importer, imported in KNOWN_UPWARD:
        graph[importer].discard(imported)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_listed_upward_import_still_exists() -> None:
    graph = _graph()
    gone = sorted(edge for edge in KNOWN_UPWARD if edge[1] not in graph[edge[0]])
    assert not gone, f"remove these from KNOWN_UPWARD, they are fixed: {gone}"


def test_the_core_imports_nothing_above_it() -> None:
    graph = _graph()
    for module in sorted(CORE):
        assert graph[module] <= CORE, f"{module} imports {sorted(graph[module] - CORE)}"


def test_the_checker_sees_a_deferred_cycle() -> None:
    graph = {"a": {"b"}, "b": set()}
    tree = ast.parse("def f():\n    from . import a\n")
    visitor = _Imports("pkg.b", False, {"pkg.a", "pkg.b"})
    visitor.visit(tree)
    assert visitor.found == {"pkg.a"}
    graph["b"] = {"a"}
    assert _cycle(graph) == ["a", "b", "a"]
