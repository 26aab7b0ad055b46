"""Layering: the dependency rule of docs/where-your-code-goes.md, and no module of the package
{% if cookiecutter.include_api == "yes" %}(nor of the API) {% endif %}imports itself back through other modules.

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


# The dependency rule (docs/where-your-code-goes.md). Each part of the package (a top-level module
# or a subpackage) imports only parts of its own layer or of the layers below it. Your modules
# (config, params, data, features, model, evaluate, predict) sit in the first four layers, so they
# never reach the machinery that records and shows results; train.py, the training entry point,
# orchestrates tracking; the DVC stages, the search and the reports come last.
LAYERS: list[set[str]] = [
    {"utils"},
    {"params", "artifact"},
    {"config", "data", "evaluate"},
    {"features", "model", "predict", "stats"},
    {"tracking"},
    {"train"},
    {"stages", "tuning"},
    {"reports"},
]
YOUR_MODULES = {"config", "params", "data", "features", "model", "evaluate", "predict"}
MACHINERY_ABOVE_YOURS = {"tracking", "train", "stages", "tuning", "reports"}


def part(module: str) -> str:
    """The part of the package a module belongs to: `pkg.tracking.sweep` -> `tracking`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(name: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if name in layer), None)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a part from a higher layer, as `module -> imported (layer a -> layer b)`."""
    found = []
    for module, imported in sorted(graph.items()):
        here = layer_of(part(module))
        for target in sorted(imported):
            there = layer_of(part(target))
            if here is not None and there is not None and there > here:
                found.append(f"{module} -> {target} (layer {here} imports layer {there})")
    return found


def test_every_part_of_the_package_has_a_layer() -> None:
    package_dir = PACKAGES[0]
    parts = {part(module) for module in modules(package_dir)} - {""}
    unplaced = sorted(name for name in parts if layer_of(name) is None)
    assert not unplaced, (
        f"{unplaced}: new parts of the package; give each its place in LAYERS "
        "(tests/test_layering.py) and in docs/where-your-code-goes.md"
    )


def test_no_part_imports_a_layer_above_its_own() -> None:
    found = upward_imports(import_graph(PACKAGES[0]))
    assert not found, (
        "imports against the dependency rule (docs/where-your-code-goes.md): move what is shared"
        " down into a lower layer, or call it from the entry point above both:\n" + "\n".join(found)
    )


def test_your_modules_never_import_tracking_reports_or_entry_points() -> None:
    graph = import_graph(PACKAGES[0])
    found = [
        f"{module} -> {target}"
        for module, imported in sorted(graph.items())
        if part(module) in YOUR_MODULES
        for target in sorted(imported)
        if part(target) in MACHINERY_ABOVE_YOURS
    ]
    assert not found, "\n".join(found)


def test_an_upward_import_inside_a_function_is_named(tmp_path: Path) -> None:
    package = tmp_path / "shop"
    (package / "reports").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "reports" / "__init__.py").write_text("")
    (package / "reports" / "sales.py").write_text("from ..model import fit\n")  # downward: fine
    (package / "model.py").write_text(
        "def fit():\n    from .reports.sales import plot  # a model that draws the report\n"
    )
    assert upward_imports(import_graph(package)) == [
        "shop.model -> shop.reports.sales (layer 3 imports layer 7)"
    ]
