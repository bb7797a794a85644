"""Access to the prompt templates and JSON Schemas, installed or in a source checkout."""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["read_resource", "resource_dir"]


def resource_dir(kind: str) -> Traversable:
    """The folder holding ``prompts`` or ``schemas``, wherever briefer is installed."""
    try:
        return importlib.resources.files(f"briefer.{kind}")
    except ModuleNotFoundError:
        # Imported straight from a source checkout: the folders sit beside the package.
        return Path(__file__).resolve().parents[1] / kind


def read_resource(kind: str, name: str) -> str:
    return resource_dir(kind).joinpath(name).read_text(encoding="utf-8")
