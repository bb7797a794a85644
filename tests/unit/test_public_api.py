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


LEAVES = {"briefer.models", "briefer.errors"}
STAGES = {"ingest", "fetch", "chunk", "extract", "ground", "merge", "compose", "render"}


def test_models_and_errors_import_nothing_from_briefer_but_render_lazily() -> None:
    assert _imports(PACKAGE / "errors.py") == set()
    assert _imports(PACKAGE / "models.py") <= {"briefer.render"}


def test_llm_layer_sees_no_stage() -> None:
    for path in (PACKAGE / "llm").glob("*.py"):
        stages = {m for m in _imports(path) if m.split(".")[1] in STAGES}
        assert not stages, f"{path.name} imports {stages}"


def test_nothing_imports_the_cli() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name != "cli.py":
            assert "briefer.cli" not in _imports(path), path
