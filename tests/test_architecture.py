"""Rules of the package's shape that no single feature test would notice breaking.

- no import cycle among the module-level imports of ``jupyter_mlops`` (a cycle makes the
  import order matter and half-initialized modules possible);
- no module imports names from the package root: the root re-exports the tracking API
  lazily and names the server extension, so a module importing it back is one edge away
  from a cycle (shared names live in :mod:`jupyter_mlops.exports`);
- SQLAlchemy is imported only in ``jupyter_mlops/store`` (the store is the one place that
  knows the schema; everything else goes through its functions);
- no file of the package is over 600 lines, migrations aside (applied migrations are not
  edited, so their length is fixed).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "jupyter_mlops"
MIGRATIONS = PACKAGE / "store" / "migrations"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _module_level_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: its top level and the bodies of
    top-level ``if``/``try`` blocks, not those inside functions and classes."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.stmt] = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If):
            pending.extend([*node.body, *node.orelse])
        elif isinstance(node, ast.Try):
            pending.extend([*node.body, *node.orelse, *node.finalbody])
            for handler in node.handlers:
                pending.extend(handler.body)
    return found


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The full names of the modules (or the package, for a name it defines) imported."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        if MODULES[module].name != "__init__.py":
            base.pop()
        base = base[: len(base) - node.level + 1]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    return [
        f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target
        for alias in node.names
    ]


def _import_graph() -> dict[str, set[str]]:
    return {
        module: {
            name
            for node in _module_level_imports(path)
            for name in _imported(module, node)
            if name in MODULES and name != module
        }
        for module, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_import_graph()) == []


def test_no_module_imports_the_package_root() -> None:
    importers = sorted(
        module for module, deps in _import_graph().items() if "jupyter_mlops" in deps
    )
    assert importers == []


def test_only_the_store_imports_sqlalchemy() -> None:
    outside = sorted(
        module
        for module, path in MODULES.items()
        if not path.is_relative_to(PACKAGE / "store")
        and any(
            name.split(".")[0] == "sqlalchemy"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not getattr(node, "level", 0)
            for name in _imported(module, node)
        )
    )
    assert outside == []


def test_no_file_over_600_lines() -> None:
    long_files = sorted(
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if not path.is_relative_to(MIGRATIONS)
        and len(path.read_text(encoding="utf-8").splitlines()) > MAX_LINES
    )
    assert long_files == []
