"""Rendering, the last stage: a ``Briefing`` as markdown, JSON or one self-contained HTML page."""

from __future__ import annotations

from briefer.rendering._render import (
    Format,
    format_from_path,
    render,
    render_html,
    render_json,
    render_markdown,
)

__all__ = [
    "Format",
    "format_from_path",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
]
