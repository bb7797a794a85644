"""Render a ``Briefing`` as markdown, JSON or one self-contained HTML page.

Citations are numbered in order of first appearance in the rendered sections; each number
resolves, in the "Citations" list, to the record's evidence: outlet, title, link and the exact
quote. Everything that comes from an article (headlines and sentences written from it, quotes,
titles, outlets, URLs) is escaped for the format: markdown punctuation is backslash-escaped,
HTML goes through ``html.escape(quote=True)``, and a URL is only a link when it is http(s).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal
from urllib.parse import urlsplit

from briefer.errors import ConfigError
from briefer.models import Briefing, BriefingItem, Evidence, MergedEvent, MergedStance, Source

__all__ = [
    "SECTION_TITLES",
    "Format",
    "format_from_path",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
]

Format = Literal["markdown", "json", "html"]

SECTION_TITLES: dict[str, str] = {
    "top": "Top developments",
    "disagreements": "Where sources disagree",
    "stances": "Who said what",
    "timeline": "Timeline",
}
_SUFFIXES: dict[str, Format] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
    ".html": "html",
    ".htm": "html",
}


def format_from_path(path: str | os.PathLike[str]) -> Format | None:
    """The output format a file name asks for, or None when its suffix says nothing."""
    return _SUFFIXES.get(PurePath(path).suffix.lower())


def render(b: Briefing, fmt: Format) -> str:
    if fmt == "markdown":
        return render_markdown(b)
    if fmt == "json":
        return render_json(b)
    if fmt == "html":
        return render_html(b)
    raise ConfigError(f"unknown output format {fmt!r}; use markdown, json or html")


def render_json(b: Briefing) -> str:
    """The briefing as JSON (valid against ``schemas/briefing.schema.json``)."""
    return b.model_dump_json(indent=2) + "\n"


# --- what every format shows ------------------------------------------------------------------


@dataclass(frozen=True)
class _Citation:
    number: int
    record_id: str
    record: MergedEvent | MergedStance | None


def _sections(b: Briefing) -> Iterator[tuple[str, list[BriefingItem]]]:
    for key, title in SECTION_TITLES.items():
        items = [i for i in b.items if i.section == key]
        if items:
            yield title, items


def _citations(b: Briefing) -> dict[str, _Citation]:
    """Record id → its citation, numbered in order of first appearance in the sections."""
    records: dict[str, MergedEvent | MergedStance] = {e.id: e for e in b.events}
    records.update({s.id: s for s in b.stances})
    numbers: dict[str, _Citation] = {}
    for _, items in _sections(b):
        for item in items:
            for ids in item.sentence_citations:
                for rid in ids:
                    if rid not in numbers:
                        numbers[rid] = _Citation(len(numbers) + 1, rid, records.get(rid))
    return numbers


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _long_date(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"


def _summary_line(b: Briefing) -> str:
    conflicts = sum(len(e.conflicts) for e in b.events)

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    composer = (
        f"written by {b.model}" if b.composer == "llm" else "written by the deterministic composer"
    )
    return " · ".join(
        [
            count(len(b.sources), "document"),
            count(len(b.events), "event"),
            count(conflicts, "conflict"),
            count(len(b.stances), "stance"),
            composer,
        ]
    )


def _record_line(record: MergedEvent | MergedStance | None, record_id: str) -> str:
    if record is None:
        return f"record {record_id} (not in this briefing)"
    if isinstance(record, MergedEvent):
        when = f" ({_long_date(record.date)})" if record.date else ""
        return f"{record.summary.rstrip().rstrip('.')}{when}"
    return f"{record.holder.canonical} ({record.polarity}): {record.claim}"


def _source_label(source: Source | None, source_id: str) -> str:
    if source is None:
        return source_id
    return source.outlet or source.title or source.id


def _link(source: Source | None) -> tuple[str | None, bool]:
    """The source's address and whether it may be a link (http or https only)."""
    if source is None:
        return None, False
    if source.url:
        return source.url, urlsplit(source.url).scheme.lower() in ("http", "https")
    return source.path, False


def _evidence_by_source(evidence: Iterable[Evidence]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for ev in evidence:
        quotes = grouped.setdefault(ev.source_id, [])
        if ev.quote not in quotes:
            quotes.append(ev.quote)
    return list(grouped.items())


# --- markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_SAFE_AUTOLINK = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


def _md(text: str) -> str:
    """Article-derived text for markdown: one line, punctuation that builds markup escaped."""
    return _MD_SPECIAL.sub(r"\\\1", _one_line(text))


def _md_link(address: str | None, linkable: bool) -> str:
    if not address:
        return ""
    if linkable and _SAFE_AUTOLINK.fullmatch(address):
        return f"<{address}>"
    return f"`{_one_line(address).replace('`', '')}`"


def render_markdown(b: Briefing) -> str:
    sources = {s.id: s for s in b.sources}
    citations = _citations(b)
    out = [f"# {_md(b.title)}", "", f"**{_long_date(b.date)}** · {_summary_line(b)}", ""]

    for title, items in _sections(b):
        out += [f"## {title}", ""]
        for item in items:
            out += [f"### {_md(item.headline)}", ""]
            sentences = []
            for text, ids in zip(item.sentences, item.sentence_citations, strict=True):
                marks = "".join(f"[{citations[rid].number}]" for rid in ids)
                sentences.append(f"{_md(text)}{marks}")
            out += [" ".join(sentences), ""]

    if b.notes:
        out += ["## Notes", ""]
        out += [f"- {_md(note)}" for note in b.notes]
        out.append("")

    if citations:
        out += ["## Citations", ""]
        for c in citations.values():
            out.append(f"{c.number}. {_md(_record_line(c.record, c.record_id))}")
            for sid, quotes in _evidence_by_source(c.record.evidence if c.record else []):
                source = sources.get(sid)
                parts = [f"**{_md(_source_label(source, sid))}**"]
                if source and source.title:
                    parts.append(f"*{_md(source.title)}*")
                link = _md_link(*_link(source))
                if link:
                    parts.append(link)
                out.append(f"   - {' · '.join(parts)}")
                out += [f"     > {_md(q)}" for q in quotes]
        out.append("")

    if b.sources:
        out += ["## Sources", ""]
        for n, source in enumerate(b.sources, start=1):
            parts = [f"**{_md(_source_label(source, source.id))}**"]
            if source.title:
                parts.append(f"*{_md(source.title)}*")
            if source.published:
                parts.append(_long_date(source.published))
            link = _md_link(*_link(source))
            if link:
                parts.append(link)
            out.append(f"{n}. {' · '.join(parts)}")
        out.append("")

    if b.excluded:
        out += ["## Excluded inputs", ""]
        out += [f"- {_md(e.input)}: {_md(e.reason)} ({e.stage})" for e in b.excluded]
        out.append("")

    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light dark; }
body { margin: 0; font: 17px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; }
main { max-width: 42rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin-bottom: .25rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #8884; }
h3 { font-size: 1.05rem; margin-bottom: .25rem; }
.meta { color: #777; font-size: .9rem; }
sup a { text-decoration: none; font-size: .75rem; }
blockquote { margin: .25rem 0 .5rem; padding-left: .75rem; border-left: 3px solid #8886;
  font-style: italic; }
ol.citations li, ol.sources li { margin-bottom: .75rem; overflow-wrap: anywhere; }
ul.evidence { padding-left: 1rem; list-style: none; }
""".strip()


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_link(address: str | None, linkable: bool) -> str:
    if not address:
        return ""
    if linkable:
        return f'<a href="{_h(address)}" rel="noopener noreferrer">{_h(address)}</a>'
    return f"<code>{_h(address)}</code>"


def render_html(b: Briefing) -> str:
    """One self-contained page: inline CSS, no scripts, no external assets."""
    sources = {s.id: s for s in b.sources}
    citations = _citations(b)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_h(b.title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{_h(b.title)}</h1>",
        f'<p class="meta"><strong>{_h(_long_date(b.date))}</strong> · {_h(_summary_line(b))}</p>',
        "</header>",
    ]

    for title, items in _sections(b):
        out += ["<section>", f"<h2>{_h(title)}</h2>"]
        for item in items:
            sentences = []
            for text, ids in zip(item.sentences, item.sentence_citations, strict=True):
                marks = "".join(
                    f'<a href="#c{citations[rid].number}">[{citations[rid].number}]</a>'
                    for rid in ids
                )
                sentences.append(f"{_h(text)}<sup>{marks}</sup>" if marks else _h(text))
            out += [
                "<article>",
                f"<h3>{_h(item.headline)}</h3>",
                f"<p>{' '.join(sentences)}</p>",
                "</article>",
            ]
        out.append("</section>")

    if b.notes:
        out += ["<section>", "<h2>Notes</h2>", "<ul>"]
        out += [f"<li>{_h(note)}</li>" for note in b.notes]
        out += ["</ul>", "</section>"]

    if citations:
        out += ['<section id="citations">', "<h2>Citations</h2>", '<ol class="citations">']
        for c in citations.values():
            out.append(
                f'<li id="c{c.number}" value="{c.number}">'
                f"<p>{_h(_record_line(c.record, c.record_id))}</p>"
            )
            out.append('<ul class="evidence">')
            for sid, quotes in _evidence_by_source(c.record.evidence if c.record else []):
                source = sources.get(sid)
                parts = [f"<strong>{_h(_source_label(source, sid))}</strong>"]
                if source and source.title:
                    parts.append(f"<cite>{_h(source.title)}</cite>")
                link = _html_link(*_link(source))
                if link:
                    parts.append(link)
                quoted = "".join(f"<blockquote>{_h(q)}</blockquote>" for q in quotes)
                out.append(f"<li>{' · '.join(parts)}{quoted}</li>")
            out += ["</ul>", "</li>"]
        out += ["</ol>", "</section>"]

    if b.sources:
        out += ["<section>", "<h2>Sources</h2>", '<ol class="sources">']
        for source in b.sources:
            parts = [f"<strong>{_h(_source_label(source, source.id))}</strong>"]
            if source.title:
                parts.append(f"<cite>{_h(source.title)}</cite>")
            if source.published:
                parts.append(_h(_long_date(source.published)))
            link = _html_link(*_link(source))
            if link:
                parts.append(link)
            out.append(f"<li>{' · '.join(parts)}</li>")
        out += ["</ol>", "</section>"]

    if b.excluded:
        out += ["<section>", "<h2>Excluded inputs</h2>", "<ul>"]
        out += [
            f"<li><code>{_h(e.input)}</code>: {_h(e.reason)} ({_h(e.stage)})</li>"
            for e in b.excluded
        ]
        out += ["</ul>", "</section>"]

    out += ["</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
