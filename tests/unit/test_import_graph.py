"""No import cycle among our own modules, lazy imports inside functions included: the Lambda package, the bootstrap
and the bench each read top-down, and `albums` never imports the bootstrap, the bench or the tests."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"albums": ROOT / "lambdas" / "albums", "bootstrap": ROOT / "bootstrap", "bench": ROOT / "bench"}


def module_name(package: str, path: Path) -> str:
    parts = [package, *path.relative_to(PACKAGES[package]).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(package, path): path for package, folder in PACKAGES.items() for path in folder.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every first-party module `path` imports, anywhere in it (top level or inside a function)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `from albums.domain import Album` -> albums.domain
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(name, path, set(known)) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle once, as the path that closes it (depth-first search, white/grey/black)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "grey"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "grey":
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "black"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def test_the_graph_sees_lazy_imports_and_packages() -> None:
    edges = graph()
    assert "albums.repository" in edges["albums.handlers.get"]
    assert "albums.settings" in edges["albums.repository"]  # imported inside default_repository()
    assert {"albums", "bootstrap", "bench"} <= {name.split(".")[0] for name in edges}


def test_there_is_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_lambda_package_depends_on_nothing_of_ours_but_itself() -> None:
    for name, targets in graph().items():
        if name.startswith("albums"):
            assert all(target.startswith("albums") for target in targets), (name, targets)


def test_a_cycle_would_be_found() -> None:  # the check itself can fail
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def imported_packages(source: str) -> set[str]:
    """The top-level package of every absolute import in `source`, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_bootstrap_needs_neither_the_tests_nor_their_http_client() -> None:
    # Test helpers stay out of the product: users and the HTTP client are tests/clients.py's, and `requests` is a
    # [dev] dependency only (pyproject.toml), so a deploy never needs it.
    assert imported_packages("import requests.adapters\ndef f():\n    from tests.clients import Api") >= {
        "requests", "tests"}  # the check itself can fail
    for name, path in modules().items():
        if name.startswith("bootstrap"):
            assert not imported_packages(path.read_text()) & {"tests", "requests"}, name


def test_our_server_runs_on_ministacks_python_and_packages_alone() -> None:
    """docker-compose.yml runs bootstrap/ministack_server.py from the checkout on MiniStack's official image: only
    its Python and packages, nothing of .venv (the image has MiniStack with hypercorn, and boto3 beside it)."""
    known = modules()
    bare = {path.stem: name for name, path in known.items() if name.startswith("bootstrap.")}  # run by path
    needed, seen, todo = set(), set(), ["bootstrap.ministack_server"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = known[name].read_text()
        todo += [target for target in imports_of(name, known[name], set(known)) if target in known]
        todo += [bare[package] for package in imported_packages(source) if package in bare]
        needed |= imported_packages(source) - set(bare) - {"albums", "bootstrap"} - set(sys.stdlib_module_names)
    assert {"bootstrap.ministack_fixes", "bootstrap.ministack_fix_accounts", "albums.http"} <= seen  # it can see
    assert needed == {"ministack", "hypercorn"}, needed
