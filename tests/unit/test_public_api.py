"""Nothing is public by accident, and imports point toward the leaves."""

from __future__ import annotations

import ast
from pathlib import Path

import briefer

PACKAGE = Path(briefer.__file__).parent


def test_all_is_sorted_and_complete() -> None:
    names = briefer.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(briefer, name), name
    public = {n for n in vars(briefer) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(briefer, n)).__name__ == "module"}
    assert public - modules <= set(names) | {"annotations"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("briefer"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("briefer")}
    return found


# The layers of the package, lowest first. A module may import its own layer's modules and the
# public face of any layer below it (a package's private modules, ``_name``, only from inside
# the package). Data moves one way: ingestion → extraction → merging → stories (memory across
# days) → composition → rendering.
LAYERS: list[tuple[str, set[str]]] = [
    ("leaves", {"briefer.errors", "briefer._files", "briefer._resources", "briefer._defaults"}),
    ("llm", {"briefer.llm"}),
    ("models", {"briefer.models", "briefer._prompts"}),
    ("text", {"briefer.text"}),
    ("ingestion", {"briefer.ingestion"}),
    ("extraction", {"briefer.extraction"}),
    ("merging", {"briefer.merging"}),
    ("stories", {"briefer.stories"}),
    ("composition", {"briefer.composition"}),
    ("rendering", {"briefer.rendering"}),
    ("settings", {"briefer.settings"}),
    ("pipeline", {"briefer.pipeline", "briefer.estimate"}),
    ("daily", {"briefer.daily"}),
    ("faces", {"briefer", "briefer.testing", "briefer.json_schemas"}),
    ("cli", {"briefer.cli", "briefer.__main__"}),
]
# What the lowest layers may see, beyond themselves: nothing of briefer but errors (and the
# leaf that writes files atomically).
ONLY: dict[str, set[str]] = {
    "leaves": {"leaves"},
    "llm": {"leaves", "llm"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    for n, (_, names) in enumerate(LAYERS):
        # "briefer" itself is the package's face, not everything under it.
        if any(
            module == name or (name != "briefer" and module.startswith(name + "."))
            for name in names
        ):
            return n
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _owner(module: str) -> str:
    """The package a module belongs to: briefer.extraction for briefer.extraction._records."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else module


def _graph() -> dict[str, set[str]]:
    graph = {_module_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}
    return {module: imported - {module} for module, imported in graph.items()}


def test_every_import_points_down_the_layers() -> None:
    wrong = []
    for module, imported in _graph().items():
        here = _layer(module)
        allowed = ONLY.get(LAYERS[here][0])
        for target in imported:
            there = _layer(target)
            if allowed is not None and LAYERS[there][0] not in allowed:
                wrong.append(f"{module} imports {target}: {LAYERS[here][0]} sees only {allowed}")
            elif there > here:
                wrong.append(f"{module} imports {target}, a later layer")
            private = any(part.startswith("_") for part in target.split(".")[2:])
            if private and _owner(target) != _owner(module) and there != 0:
                wrong.append(f"{module} imports {target}, private to {_owner(target)}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_import_graph_has_no_cycle() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError(" → ".join([*path[path.index(module) :], module]))
        if module in done or module not in graph:
            return
        for target in graph[module]:
            visit(target, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])


def test_models_render_nothing() -> None:
    assert _imports(PACKAGE / "errors.py") == set()
    assert _imports(PACKAGE / "models.py") <= {"briefer.llm.usage"}


def test_nothing_imports_the_cli() -> None:
    # ``python -m briefer`` is the command line itself.
    for path in PACKAGE.rglob("*.py"):
        if path.name != "cli.py" and path != PACKAGE / "__main__.py":
            assert "briefer.cli" not in _imports(path), path


def test_every_package_ships_in_the_wheel() -> None:
    # setuptools is given the packages by name: one left off is missing from the wheel.
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(PACKAGE.parent).parts)
        for init in PACKAGE.rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found - listed == set()
