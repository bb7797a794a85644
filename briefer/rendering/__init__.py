"""Rendering, the last stage: a ``Briefing`` as markdown, JSON or one self-contained HTML page
(``_render``), and a stored story's timeline, day by day, in the same three (``_story``)."""

from __future__ import annotations

from briefer.rendering._render import (
    Format,
    format_from_path,
    render,
    render_html,
    render_json,
    render_markdown,
    render_page,
)
from briefer.rendering._story import render_story

__all__ = [
    "Format",
    "format_from_path",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_page",
    "render_story",
]
