"""No import cycles: between modules, between the Django apps, or between the top-level packages.

The graph is read from the source with `ast`, so an import inside a function (the usual way to
hide a cycle) counts as much as one at the top; imports needed only by the type checker do not,
since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("leaderboard", "evaluation", "pipeline")


def module_files(root: Path) -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for n in node.orelse for n in _imports(ast.Module([n], [])))
        else:
            yield from _imports(node)


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".")[: None if is_package else -1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, *([base] if base else [])])
    # `from a import b` imports the module a.b where there is one, else a name from a.
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph(root: Path) -> nx.DiGraph:
    files = module_files(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(files)
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree):
            targets = [t for t in _targets(module, path.name == "__init__.py", node) if t in files]
            if isinstance(node, ast.ImportFrom) and len(targets) > 1:
                targets = targets[:-1]  # names were modules: the package itself is not the target
            graph.add_edges_from((module, t) for t in targets if t != module)
    return graph


def cycles(graph: nx.DiGraph, group: Callable[[str], str]) -> set[frozenset[str]]:
    grouped = nx.DiGraph()
    grouped.add_edges_from((group(a), group(b)) for a, b in graph.edges if group(a) != group(b))
    return {frozenset(c) for c in nx.strongly_connected_components(grouped) if len(c) > 1}


def app(module: str) -> str:
    """The Django app holding MODULE; a module of the project itself (settings, urls, the API
    root, shared helpers) stands for itself."""
    parts = module.split(".")
    if (
        parts[0] == "leaderboard"
        and len(parts) > 2
        and (ROOT / parts[0] / parts[1] / "apps.py").is_file()
    ):
        return ".".join(parts[:2])
    return module


def package(module: str, files: dict[str, Path]) -> str:
    """The package holding MODULE (a package's `__init__` stands for the package itself)."""
    return module if files[module].name == "__init__.py" else module.rpartition(".")[0]


def subpackage_cycles(graph: nx.DiGraph, files: dict[str, Path]) -> set[frozenset[str]]:
    """Cycles between packages neither of which holds the other (evaluation.alignment and
    evaluation.benchmarks.navab). A package may use its parent (the shared core) and a parent
    may gather its children (a command line), so edges along one line of descent are left out;
    a benchmark's folder and a shared package must not lean on each other."""

    def related(a: str, b: str) -> bool:
        return a.startswith(f"{b}.") or b.startswith(f"{a}.")

    grouped = nx.DiGraph()
    for a, b in graph.edges:
        if a.split(".")[0] == "leaderboard":
            continue  # the site's packages are Django apps: `test_no_app_imports_itself_back`
        pa, pb = package(a, files), package(b, files)
        if pa != pb and not related(pa, pb):
            grouped.add_edge(pa, pb)
    return {frozenset(c) for c in nx.strongly_connected_components(grouped) if len(c) > 1}


def test_no_module_imports_itself_back():
    assert cycles(import_graph(ROOT), lambda m: m) == set()


def test_no_app_imports_itself_back():
    assert cycles(import_graph(ROOT), app) == set()


def test_no_package_imports_an_unrelated_package_back():
    assert subpackage_cycles(import_graph(ROOT), module_files(ROOT)) == set()


def test_evaluation_and_pipeline_never_import_each_other_back_nor_django():
    graph = import_graph(ROOT)
    assert cycles(graph, lambda m: m.split(".")[0]) == set()
    for module in graph:
        if module.split(".")[0] in ("evaluation", "pipeline"):
            reached = {t.split(".")[0] for t in graph.successors(module)}
            assert "leaderboard" not in reached, module


def test_it_finds_a_cycle_hidden_in_a_function(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "leaderboard" / "a.py").write_text("from leaderboard import b\n")
    (tmp_path / "leaderboard" / "b.py").write_text("def f():\n    from leaderboard.a import x\n")
    (tmp_path / "pipeline" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from leaderboard import a\n"
    )
    graph = import_graph(tmp_path)
    assert cycles(graph, lambda m: m) == {frozenset({"leaderboard.a", "leaderboard.b"})}
    assert not graph.has_edge("pipeline.c", "leaderboard.a")


def test_it_finds_a_cycle_between_sibling_packages_but_not_with_a_parent(tmp_path):
    for folder in ("evaluation", "evaluation/core", "evaluation/bench", "evaluation/bench/sub"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    (tmp_path / "evaluation" / "core" / "a.py").write_text("from evaluation.bench import b\n")
    (tmp_path / "evaluation" / "bench" / "b.py").write_text(
        "def f():\n    from evaluation.core.c import x\n"
    )
    (tmp_path / "evaluation" / "core" / "c.py").write_text("")
    # A sub-package and its parent use each other: not a cycle between unrelated packages.
    (tmp_path / "evaluation" / "bench" / "d.py").write_text("from evaluation.bench.sub import e\n")
    (tmp_path / "evaluation" / "bench" / "sub" / "e.py").write_text(
        "from evaluation.bench.f import y\n"
    )
    (tmp_path / "evaluation" / "bench" / "f.py").write_text("")
    graph = import_graph(tmp_path)
    assert cycles(graph, lambda m: m) == set()
    found = subpackage_cycles(graph, module_files(tmp_path))
    assert found == {frozenset({"evaluation.core", "evaluation.bench"})}
