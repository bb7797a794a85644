"""The folder of briefings: ``OUT/<day>.{md,html,json}``, found again by their names, and the
``index.html`` that lists them, newest first, in the briefing's own page style.

Pages beside the briefings are rewritten only when what they say changes, so a day run again
with nothing new leaves every file as it was.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefer._files import write_atomic
from briefer.rendering import render_page

__all__ = [
    "ATOM_NAME",
    "INDEX_NAME",
    "SUFFIXES",
    "ArchivedDay",
    "archived_days",
    "render_index",
    "write_if_changed",
]

INDEX_NAME = "index.html"
ATOM_NAME = "briefings.atom"
# A format's file suffix, and the order in which a day's links are shown.
SUFFIXES: dict[str, str] = {"html": ".html", "markdown": ".md", "json": ".json"}
_LABELS = {"html": "HTML", "markdown": "Markdown", "json": "JSON"}
_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})(\.md|\.html|\.json)$")


@dataclass(frozen=True)
class ArchivedDay:
    """One day's briefing as the folder holds it: its files by format and, from its JSON, what
    the index and the feed show of it."""

    day: dt.date
    files: dict[str, str]  # format -> file name in OUT
    title: str
    generated_at: dt.datetime | None
    items: tuple[tuple[str, str], ...]  # (headline, text)
    events: int
    documents: int

    def link(self) -> tuple[str, str] | None:
        """(file name, media type) a reader is sent to: the page, else the markdown."""
        for fmt, media in (("html", "text/html"), ("markdown", "text/markdown")):
            if fmt in self.files:
                return self.files[fmt], media
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _generated(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def archived_days(out: Path) -> list[ArchivedDay]:
    """Every day with a briefing file in ``out``, newest first. A JSON that cannot be read still
    lists its day, by its date."""
    found: dict[dt.date, dict[str, str]] = {}
    suffix_format = {suffix: fmt for fmt, suffix in SUFFIXES.items()}
    for path in out.iterdir() if out.is_dir() else []:
        match = _NAME.match(path.name)
        if not match or not path.is_file():
            continue
        try:
            day = dt.date.fromisoformat(match.group(1))
        except ValueError:
            continue
        found.setdefault(day, {})[suffix_format[match.group(2)]] = path.name
    days = []
    for day in sorted(found, reverse=True):
        files = found[day]
        data = _read_json(out / files["json"]) if "json" in files else {}
        raw_items = data.get("items")
        items = tuple(
            (str(i.get("headline", "")), str(i.get("text", "")))
            for i in (raw_items if isinstance(raw_items, list) else [])
            if isinstance(i, dict)
        )
        stats = data.get("stats") if isinstance(data.get("stats"), dict) else {}
        events = data.get("events")
        days.append(
            ArchivedDay(
                day=day,
                files={fmt: files[fmt] for fmt in SUFFIXES if fmt in files},
                title=str(data.get("title") or f"Briefing of {day.isoformat()}"),
                generated_at=_generated(data.get("generated_at")),
                items=items,
                events=len(events) if isinstance(events, list) else 0,
                documents=int(stats.get("documents", 0)) if isinstance(stats, dict) else 0,
            )
        )
    return days


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def render_index(days: list[ArchivedDay], title: str) -> str:
    """The archive's page: each day, newest first, its title linking its page and each of its
    formats linked after it; the Atom feed linked at the top."""
    h = html.escape
    lines = [
        "<header>",
        f"<h1>{h(title)}</h1>",
        f'<p class="meta">{_count(len(days), "briefing")} · '
        f'<a href="{ATOM_NAME}" type="application/atom+xml">Atom feed</a></p>',
        "</header>",
        '<ul class="sources">',
    ]
    for day in days:
        link = day.link()
        heading = h(day.title)
        if link is not None:
            heading = f'<a href="{h(link[0])}">{heading}</a>'
        formats = " · ".join(
            f'<a href="{h(name)}">{_LABELS[fmt]}</a>' for fmt, name in day.files.items()
        )
        facts = [f'<time datetime="{day.day.isoformat()}">{day.day.isoformat()}</time>']
        if day.items:
            facts.append(_count(len(day.items), "item"))
        if day.documents:
            facts.append(_count(day.documents, "document"))
        lines += [
            "<li>",
            f"<strong>{heading}</strong>",
            f'<br><span class="meta">{" · ".join(facts)} · {formats}</span>',
            "</li>",
        ]
    lines.append("</ul>")
    return render_page(title, "\n".join(lines))


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` to ``path`` (atomically) unless it holds that already; whether it wrote."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True
