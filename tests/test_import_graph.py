"""The package's import graph: a clean stack, deferred imports included.

Every ``import`` and ``from ... import`` in ``src/shortly`` counts, at module top or
inside a function (a deferred import is still a dependency: the cycle is only hidden);
imports under ``if TYPE_CHECKING:`` do not, since they never run. Loading a module by
name (``importlib``) would hide an edge from this check, so only the package's face
may do it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import shortly

PACKAGE = Path(shortly.__file__).parent

# The core: imports nothing of shortly's but itself and these leaves, even deferred.
CORE_PACKAGE = "shortly._core"
LEAVES = {"shortly._errors", "shortly._checks"}
# The faces: the only modules that load others by name (lazy names, and the finder
# through which the core reaches the methods implemented above it).
FACES = {"shortly", "shortly._core"}


def _in_core(module: str) -> bool:
    return module == CORE_PACKAGE or module.startswith(CORE_PACKAGE + ".")


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


def test_no_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_core_imports_nothing_above_it() -> None:
    graph = _graph()
    core = [module for module in graph if _in_core(module)]
    assert len(core) > 5, core
    for module in sorted(core):
        above = {m for m in graph[module] if not _in_core(m) and m not in LEAVES}
        assert not above, f"{module} imports {sorted(above)}"


def test_the_layers_above_use_the_core_package_not_its_modules() -> None:
    graph = _graph()
    for module in sorted(m for m in graph if not _in_core(m)):
        inside = sorted(m for m in graph[module] if _in_core(m) and m != CORE_PACKAGE)
        assert not inside, f"{module} imports {inside}: import them from {CORE_PACKAGE}"


def test_only_the_face_loads_modules_by_name() -> None:
    for module, path in sorted(_modules().items()):
        if module not in FACES:
            tree = ast.parse(path.read_text())
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            imported = {
                a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
            }
            assert "importlib" not in imported | names, module
            assert "__import__" not in names, module


def test_the_checker_sees_a_deferred_cycle() -> None:
    graph = {"a": {"b"}, "b": set()}
    tree = ast.parse("def f():\n    from . import a\n")
    visitor = _Imports("pkg.b", False, {"pkg.a", "pkg.b"})
    visitor.visit(tree)
    assert visitor.found == {"pkg.a"}
    graph["b"] = {"a"}
    assert _cycle(graph) == ["a", "b", "a"]
