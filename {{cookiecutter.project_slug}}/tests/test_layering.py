"""Layering: no module of the package{% if cookiecutter.include_api == "yes" %} (nor of the API){% endif %} imports itself back through other modules.

A cycle makes the import order matter (a half-initialised module, an ImportError that depends on
which module was imported first) and ties together modules that should stand apart. Every import
counts: at the top, inside a function, under TYPE_CHECKING; they are read with code_deps, which
derives the stages' code dependencies from the same imports.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from {{ cookiecutter.module_name }}.stages.code_deps import imported_modules

PROJECT = Path(__file__).resolve().parents[1]
PACKAGES = [
    PROJECT / "src" / "{{ cookiecutter.module_name }}",
{%- if cookiecutter.include_api == "yes" %}
    PROJECT / "api",
{%- endif %}
]


def modules(package_dir: Path) -> list[str]:
    """The dotted names of every module of the package (a package by its own name)."""
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def import_graph(package_dir: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports."""
    return {
        module: imported_modules(module, package_dir) - {module} for module in modules(package_dir)
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle [a, b, ..., a] per group of modules that import each other."""
    found = []
    for group in strongly_connected(graph):
        if len(group) < 2:
            continue
        start = min(group)
        # Breadth first inside the group, from start back to start: the shortest way round.
        paths = {start: [start]}
        queue = [start]
        while queue:
            module = queue.pop(0)
            for imported in sorted(graph[module] & group):
                if imported == start:
                    found.append([*paths[module], start])
                    queue = []
                    break
                if imported not in paths:
                    paths[imported] = [*paths[module], imported]
                    queue.append(imported)
    return sorted(found)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components: the groups whose modules all reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in sorted(graph.get(module, set())):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == module:
                    break
            groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return groups


@pytest.mark.parametrize("package_dir", PACKAGES, ids=lambda path: path.name)
def test_no_import_cycles(package_dir: Path) -> None:
    graph = import_graph(package_dir)
    assert len(graph) > 1 and any(graph.values()), f"no imports read in {package_dir}"
    found = [" -> ".join(cycle) for cycle in cycles(graph)]
    assert not found, (
        "import cycles (break each by moving what both sides need into a module of its own):\n"
        + "\n".join(found)
    )


def test_a_cycle_through_a_function_level_import_is_named(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    (package / "orders").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "orders" / "__init__.py").write_text("")
    (package / "prices.py").write_text("from .orders import basket\n")
    (package / "orders" / "basket.py").write_text(
        "def total():\n    from shop.prices import price  # inside a function: still a cycle\n"
    )
    (package / "tax.py").write_text("from . import prices\n")  # imports the cycle, is not in it
    assert cycles(import_graph(package)) == [
        ["shop.orders.basket", "shop.prices", "shop.orders.basket"]
    ]
