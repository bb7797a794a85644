"""Render a ``Briefing`` as markdown, JSON or one self-contained HTML page.

Citations are numbered in order of first appearance in the rendered sections; each mark links
to its entry in the "Citations" list, which gives the record and, source by source, the exact
quotes it rests on. Each source is described once, in the "Sources" list, under a label of its
own (S1, S2…) that no citation number can be mistaken for. The header gives the period the
sources were published in, the day of the last briefing the statuses are counted from, and a
review's period. A briefing made with a store opens with what changed since the last briefing;
each event's status is marked where the event heads an item ("New:", "Update:",
"Continuing:") and in its citation entry, and the stories reported again with nothing new are
listed in one compact line. Everything that comes from an article (headlines and sentences
written from it, quotes, titles, outlets, URLs) is escaped for the format: markdown punctuation
is backslash-escaped, HTML goes through ``html.escape(quote=True)``, and a URL is only a link
when it is http(s).

The HTML page works on a phone and in dark mode: citation marks sit on the line without
raising it, a mark never wraps apart from the word before it, a table of contents leads to the
sections, and each citation links back to where it is cited.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal
from urllib.parse import urlsplit

from briefer.composition import (
    POLARITY_WORDS,
    date_span,
    event_wording,
    holder_label,
    source_label,
)
from briefer.errors import ConfigError
from briefer.models import (
    Briefing,
    BriefingItem,
    Evidence,
    MergedEvent,
    MergedStance,
    Source,
    StoryStatus,
)
from briefer.text.dates import written_date

__all__ = [
    "SECTION_TITLES",
    "STATUS_TAGS",
    "Format",
    "format_from_path",
    "render",
    "render_html",
    "render_json",
    "render_markdown",
    "render_page",
]

Format = Literal["markdown", "json", "html"]

SECTION_TITLES: dict[str, str] = {
    "since": "Since the last briefing",
    "top": "Top developments",
    "disagreements": "Where sources disagree",
    "stances": "Who said what",
    "timeline": "Timeline",
}
# Sections whose items are short (one holder's positions): a bold lead, not a heading each.
_COMPACT_SECTIONS = frozenset({"stances"})
# How an event's status is marked where the event heads an item and in its citation entry.
STATUS_TAGS: dict[StoryStatus, str] = {
    "new": "New",
    "updated": "Update",
    "continuing": "Continuing",
}
# Items headed by a day or a holder, not by an event: no status tag.
_UNTAGGED_SECTIONS = frozenset({"stances", "timeline"})
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


@dataclass
class _Citation:
    number: int
    record_id: str
    record: MergedEvent | MergedStance | None
    # Where the marks of this citation stand, in order: one anchor id per mark.
    marks: list[str] = field(default_factory=list)


def _sections(b: Briefing) -> Iterator[tuple[str, str, list[BriefingItem]]]:
    for key, title in SECTION_TITLES.items():
        items = [i for i in b.items if i.section == key]
        if items:
            yield key, title, items


def _shown_status(b: Briefing, event: MergedEvent) -> MergedEvent:
    """``event`` as the page marks it: its status only when there is an earlier briefing to
    count it from (on a store's first day every event is new, and saying so on every headline
    tells the reader nothing)."""
    if b.previous is None and event.status is not None:
        return event.model_copy(update={"status": None})
    return event


def _citations(b: Briefing) -> dict[str, _Citation]:
    """Record id → its citation, numbered in order of first appearance in the sections, with the
    anchor of every mark that cites it."""
    records: dict[str, MergedEvent | MergedStance] = {e.id: _shown_status(b, e) for e in b.events}
    records.update({s.id: s for s in b.stances})
    numbers: dict[str, _Citation] = {}
    for _, _, items in _sections(b):
        for item in items:
            for ids in item.sentence_citations:
                for rid in ids:
                    if rid not in numbers:
                        numbers[rid] = _Citation(len(numbers) + 1, rid, records.get(rid))
                    c = numbers[rid]
                    c.marks.append(f"cite-{c.number}-{len(c.marks) + 1}")
    return numbers


class _Marks:
    """Hands out each citation's mark anchors in the order ``_citations`` counted them."""

    def __init__(self, citations: dict[str, _Citation]) -> None:
        self.citations = citations
        self.used: dict[str, int] = {}

    def next(self, record_id: str) -> tuple[int, str]:
        c = self.citations[record_id]
        k = self.used.get(record_id, 0)
        self.used[record_id] = k + 1
        return c.number, c.marks[k]


def _source_labels(sources: Iterable[Source]) -> dict[str, str]:
    """Source id → its label on the page: S1, S2… (never a bare number, which a citation
    number could be read as)."""
    return {s.id: f"S{n}" for n, s in enumerate(sources, start=1)}


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _period(b: Briefing) -> str:
    """The days the sources were published on, earliest to latest (else the briefing's day)."""
    days = [s.published for s in b.sources if s.published]
    if not days:
        return f"Briefing of {written_date(b.date)}"
    undated = len(b.sources) - len(days)
    period = f"Sources published {date_span(min(days), max(days))}"
    if min(days) == max(days):
        period = f"Sources published on {date_span(min(days), max(days))}"
    return period + (f" ({undated} undated)" if undated else "")


def _since_line(b: Briefing) -> str | None:
    """A review's period and the last briefing the statuses are counted from, when given."""
    parts = []
    if b.period_start is not None:
        parts.append(f"Review of {date_span(b.period_start, b.date)}")
    if b.previous is not None:
        since = f"Since the briefing of {written_date(b.previous)}"
        parts.append(since if not parts else since[:1].lower() + since[1:])
    return " · ".join(parts) or None


def _summary_line(b: Briefing) -> str:
    conflicts = sum(len(e.conflicts) for e in b.events)

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    composer = (
        f"written by {b.model}" if b.composer == "llm" else "written by the deterministic composer"
    )
    # With a store, the sources hold the earlier days' articles the events cite too.
    today = b.stats.documents or len(b.sources)
    earlier = len(b.sources) - today
    documents = count(today, "document") + (
        f" (and {earlier} of earlier days)" if earlier > 0 else ""
    )
    return " · ".join(
        [
            documents,
            count(len(b.events), "event"),
            count(conflicts, "conflict"),
            count(len(b.stances), "stance"),
            composer,
        ]
    )


# A record kept with --keep-ungrounded is marked wherever it appears: in its citation entry and
# after every sentence that cites it.
UNVERIFIED = "Unverified"
UNVERIFIED_WHY = "its quotes were not found in the article"


def _unverified(ids: Iterable[str], citations: dict[str, _Citation]) -> bool:
    return any((record := citations[rid].record) is not None and not record.grounded for rid in ids)


def _headline(item: BriefingItem, citations: dict[str, _Citation]) -> str:
    """An item resting only on unverified records says so in its headline."""
    ids = [rid for cited in item.sentence_citations for rid in cited]
    if ids and all(_unverified([rid], citations) for rid in ids):
        return f"{UNVERIFIED}: {item.headline}"
    return item.headline


def _cited(item: BriefingItem, citations: dict[str, _Citation]) -> list[MergedEvent | MergedStance]:
    records = (citations[rid].record for ids in item.sentence_citations for rid in ids)
    return [r for r in records if r is not None]


def _continuing_list(item: BriefingItem, citations: dict[str, _Citation]) -> bool:
    """The compact item of the stories reported again with nothing new."""
    cited = _cited(item, citations)
    return (
        item.section == "since"
        and bool(cited)
        and all(isinstance(r, MergedEvent) and r.status == "continuing" for r in cited)
    )


def _status_tag(item: BriefingItem, citations: dict[str, _Citation]) -> str | None:
    """The status of the event an item is about (the first it cites), as its tag."""
    if item.section in _UNTAGGED_SECTIONS or _continuing_list(item, citations):
        return None
    event = next((r for r in _cited(item, citations) if isinstance(r, MergedEvent)), None)
    return STATUS_TAGS[event.status] if event is not None and event.status else None


def _tagged(item: BriefingItem, citations: dict[str, _Citation]) -> str:
    """The headline as text, with its status tag."""
    tag = _status_tag(item, citations)
    headline = _headline(item, citations)
    return f"{tag}: {headline}" if tag else headline


def _record_line(
    record: MergedEvent | MergedStance | None, record_id: str, sources: list[Source]
) -> str:
    if record is None:
        return f"record {record_id} (not in this briefing)"
    line = _record_line_of(record, sources)
    if not record.grounded:
        line = f"{UNVERIFIED}: {line} ({UNVERIFIED_WHY})"
    if isinstance(record, MergedEvent) and record.status:
        line = f"{STATUS_TAGS[record.status]}: {line}"
    return line


def _record_line_of(record: MergedEvent | MergedStance, sources: list[Source]) -> str:
    if isinstance(record, MergedEvent):
        # Where outlets disagree, the record is worded without the disputed value, and a
        # disputed day is not given as the event's.
        text = event_wording(record, sources) if record.conflicts else record.summary
        dated = record.date and not any(c.field == "date" for c in record.conflicts)
        when = f" ({written_date(record.date)})" if record.date and dated else ""
        return f"{_one_line(text).rstrip('.')}{when}"
    position = POLARITY_WORDS[record.polarity]
    when = f" ({written_date(record.date)})" if record.date else ""
    question = _one_line(record.target or record.topic)
    return f"{holder_label(record.holder)} {position} {question}{when}"


_NAMED = re.compile(r"(?P<name>.+?)(?: \([^()]+\))?")


def _lead_in(item: BriefingItem) -> str | None:
    """What follows the holder in an item's first sentence, when the sentence opens with the
    holder its headline names: "Ned Price (United States)" over "Ned Price supports talks…" is
    shown as one sentence, "**Ned Price (United States)** supports talks…"."""
    named = _NAMED.fullmatch(item.headline)
    first = item.sentences[0] if item.sentences else ""
    if named is None or not first.startswith(f"{named.group('name')} "):
        return None
    return first[len(named.group("name")) + 1 :]


@dataclass(frozen=True)
class _Shown:
    """An item as every format lays it out: compact (a bold lead, then its sentences, in one
    paragraph) or under a heading of its own; the words between the lead and the sentences;
    and each sentence as shown, with the records it cites."""

    compact: bool
    joint: str
    sentences: list[tuple[str, list[str]]]


def _shown(item: BriefingItem, citations: dict[str, _Citation]) -> _Shown:
    compact = item.section in _COMPACT_SECTIONS or _continuing_list(item, citations)
    rest = _lead_in(item) if item.section in _COMPACT_SECTIONS else None
    sentences = list(zip(item.sentences, item.sentence_citations, strict=True))
    if rest is not None:
        # The lead names the holder the first sentence opens with: the sentence goes on from it.
        sentences[0] = (rest, sentences[0][1])
    return _Shown(compact, " " if rest is not None else " — ", sentences)


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


def _md_anchor(number: int) -> str:
    # Each citation entry holds a heading "Citation N": renderers give it the id citation-N
    # (GitHub, GitLab, pandoc, python-markdown), so a mark links to it without any raw HTML.
    return f"citation-{number}"


def _md_marks(numbers: Iterable[int]) -> str:
    return "".join(f"[[{n}]](#{_md_anchor(n)})" for n in numbers)


def _md_evidence(
    evidence: Iterable[Evidence], sources: dict[str, Source], labels: dict[str, str], indent: str
) -> list[str]:
    """A record's quotes, source by source: "- **VOA** (S1): “…” · “…”"."""
    lines = []
    for sid, quotes in _evidence_by_source(evidence):
        label = source_label(sources[sid]) if sid in sources else sid
        which = f" ({labels[sid]})" if sid in labels else ""
        quoted = " · ".join(f"“{_md(q)}”" for q in quotes)
        lines.append(f"{indent}- **{_md(label)}**{which}: {quoted}")
    return lines


def _md_sources(sources: Iterable[Source], labels: dict[str, str]) -> list[str]:
    out = ["## Sources", ""]
    for source in sources:
        parts = [f"**{labels[source.id]}**", f"**{_md(source_label(source))}**"]
        if source.title:
            parts.append(f"*{_md(source.title)}*")
        if source.published:
            parts.append(written_date(source.published))
        link = _md_link(*_link(source))
        if link:
            parts.append(link)
        out.append(f"- {' · '.join(parts)}")
    out.append("")
    return out


def render_markdown(b: Briefing) -> str:
    sources = {s.id: s for s in b.sources}
    labels = _source_labels(b.sources)
    citations = _citations(b)
    out = [f"# {_md(b.title)}", ""]
    since = _since_line(b)
    if since:
        out += [f"*{since}*", ""]
    out += [f"**{_period(b)}** · {_summary_line(b)}", ""]

    for _, title, items in _sections(b):
        out += [f"## {title}", ""]
        for item in items:
            shown = _shown(item, citations)
            sentences = []
            for text, ids in shown.sentences:
                marks = _md_marks(citations[rid].number for rid in ids)
                if _unverified(ids, citations):
                    marks += f" *({UNVERIFIED.lower()})*"
                sentences.append(f"{_md(text)}{marks}")
            headline = _tagged(item, citations)
            if shown.compact:
                out += [f"**{_md(headline)}**{shown.joint}{' '.join(sentences)}", ""]
            else:
                out += [f"### {_md(headline)}", "", " ".join(sentences), ""]

    if b.notes:
        out += ["## Notes", ""]
        out += [f"- {_md(note)}" for note in b.notes]
        out.append("")

    if citations:
        out += ["## Citations", ""]
        for c in citations.values():
            marker = f"{c.number}. "
            indent = " " * len(marker)  # the entry's lines stay inside its list item
            out.append(f"{marker}#### Citation {c.number}")
            out.append(f"{indent}{_md(_record_line(c.record, c.record_id, b.sources))}")
            out += _md_evidence(c.record.evidence if c.record else [], sources, labels, indent)
        out.append("")

    if b.sources:
        out += _md_sources(b.sources, labels)

    if b.excluded:
        out += ["## Excluded inputs", ""]
        out += [f"- {_md(e.input)}: {_md(e.reason)} ({e.stage})" for e in b.excluded]
        out.append("")

    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML -------------------------------------------------------------------------------------

# Colours are chosen for both schemes (text and links at a contrast of 7:1 or more); a mark is
# raised by relative positioning, which moves it without making its line any taller.
_CSS = """
:root { color-scheme: light dark; --fg: #1b1b1b; --bg: #ffffff; --muted: #545454;
  --link: #0b57d0; --visited: #6a3ab2; --rule: #d6d6d6; --quote: #8a8a8a; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e8e8; --bg: #121212; --muted: #b4b4b4; --link: #8ab4f8; --visited: #d7aefb;
    --rule: #3c3c3c; --quote: #6f6f6f; }
}
html { background: var(--bg); color: var(--fg); }
body { margin: 0; font: 17px/1.6 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; overflow-wrap: break-word; }
main { max-width: 42rem; margin: 0 auto; padding: 1rem; }
a { color: var(--link); }
a:visited { color: var(--visited); }
h1 { font-size: 1.6rem; line-height: 1.25; margin-bottom: .25rem; }
h2 { font-size: 1.25rem; line-height: 1.3; margin-top: 2rem;
  border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.05rem; line-height: 1.35; margin-bottom: .25rem; }
.meta { color: var(--muted); font-size: .9rem; }
nav.toc { font-size: .95rem; border: 1px solid var(--rule); border-radius: .4rem;
  padding: .25rem 1rem; margin: 1rem 0; }
nav.toc h2 { font-size: 1rem; border: 0; margin: .5rem 0 .25rem; }
nav.toc ol { margin: 0 0 .5rem; padding-left: 1.25rem; }
nav.toc ol ol { list-style: disc; }
.nw { white-space: nowrap; }
a.cite { font-size: .78em; line-height: 1; position: relative; top: -.35em;
  text-decoration: none; padding: 0 .05em; }
a.cite:hover, a.cite:focus { text-decoration: underline; }
blockquote { margin: .25rem 0 .5rem; padding-left: .75rem; border-left: 3px solid var(--quote); }
ol.citations { padding-left: 1.75rem; }
ol.citations > li, ul.sources > li { margin-bottom: .75rem; }
ol.citations p { margin: .25rem 0; }
ul.evidence { padding-left: 1rem; list-style: none; }
ul.sources { padding-left: 0; list-style: none; }
.sid { color: var(--muted); font-size: .85em; }
.back { font-size: .85em; }
.back a { text-decoration: none; padding: .1em .45em; }
:target { outline: 2px solid var(--link); outline-offset: 2px; }
.status { color: var(--muted); font-weight: 600; }
.cited { margin: .25rem 0 1rem; }
.cited .evidence { margin: .25rem 0; }
""".strip()


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_link(address: str | None, linkable: bool) -> str:
    if not address:
        return ""
    if linkable:
        return f'<a href="{_h(address)}" rel="noopener noreferrer">{_h(address)}</a>'
    return f"<code>{_h(address)}</code>"


def _html_sentence(text: str, marks: str) -> str:
    """A sentence and its marks; the last word is kept with the marks, so no mark starts a
    line on its own."""
    if not marks:
        return _h(text)
    head, _, last = _one_line(text).rpartition(" ")
    kept = f'<span class="nw">{_h(last)}{marks}</span>'
    return f"{_h(head)} {kept}" if head else kept


def _html_mark(number: int, anchor: str) -> str:
    return f'<a class="cite" id="{anchor}" href="#citation-{number}">[{number}]</a>'


def _section_id(key: str) -> str:
    return f"section-{key}"


def _back_links(c: _Citation) -> str:
    if not c.marks:
        return ""
    if len(c.marks) == 1:
        links = f'<a href="#{c.marks[0]}" aria-label="back to where it is cited">↩</a>'
    else:
        links = "↩ " + " ".join(
            f'<a href="#{mark}" aria-label="back to mark {k} of {len(c.marks)}">{k}</a>'
            for k, mark in enumerate(c.marks, start=1)
        )
    return f'<p class="back">{links}</p>'


def _html_start(title: str) -> list[str]:
    """The page up to its content: inline CSS, no scripts, nothing fetched."""
    return [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_h(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        "<main>",
    ]


_HTML_END = ["</main>", "</body>", "</html>"]


def render_page(title: str, body: str) -> str:
    """A page in the briefing's style (its CSS, dark mode, phone width) around ``body``, HTML the
    caller escaped: for pages beside the briefings, such as an archive's index."""
    return "\n".join([*_html_start(title), body, *_HTML_END]) + "\n"


def _html_headline(tag: str | None, headline: str) -> str:
    return f'<span class="status">{_h(tag)}:</span> {_h(headline)}' if tag else _h(headline)


def _html_evidence(
    evidence: Iterable[Evidence], sources: dict[str, Source], labels: dict[str, str]
) -> list[str]:
    """A record's quotes, source by source, each source linked to its entry."""
    out = ['<ul class="evidence">']
    for sid, quotes in _evidence_by_source(evidence):
        label = _h(source_label(sources[sid]) if sid in sources else sid)
        if sid in labels:
            label = (
                f'<a href="#source-{labels[sid].lower()}">{label}</a> '
                f'<span class="sid">{labels[sid]}</span>'
            )
        quoted = "".join(f"<blockquote>{_h(q)}</blockquote>" for q in quotes)
        out.append(f"<li>{label}{quoted}</li>")
    out.append("</ul>")
    return out


def _html_sources(sources: Iterable[Source], labels: dict[str, str]) -> list[str]:
    out = ['<section id="sources">', "<h2>Sources</h2>", '<ul class="sources">']
    for source in sources:
        label = labels[source.id]
        parts = [f'<span class="sid">{label}</span> <strong>{_h(source_label(source))}</strong>']
        if source.title:
            parts.append(f"<cite>{_h(source.title)}</cite>")
        if source.published:
            parts.append(_h(written_date(source.published)))
        link = _html_link(*_link(source))
        if link:
            parts.append(link)
        out.append(f'<li id="source-{label.lower()}">{" · ".join(parts)}</li>')
    out += ["</ul>", "</section>"]
    return out


def render_html(b: Briefing) -> str:
    """One self-contained page: inline CSS, no scripts, no external assets."""
    sources = {s.id: s for s in b.sources}
    labels = _source_labels(b.sources)
    citations = _citations(b)
    marks = _Marks(citations)
    sections = list(_sections(b))
    item_ids: dict[int, str] = {}
    for _, _, items in sections:
        for item in items:
            item_ids[id(item)] = f"item-{len(item_ids) + 1}"

    out = [*_html_start(b.title), "<header>", f"<h1>{_h(b.title)}</h1>"]
    since = _since_line(b)
    if since:
        out.append(f'<p class="meta">{_h(since)}</p>')
    out += [
        f'<p class="meta"><strong>{_h(_period(b))}</strong> · {_h(_summary_line(b))}</p>',
        "</header>",
    ]

    toc = ['<nav class="toc" aria-label="Contents">', "<h2>Contents</h2>", "<ol>"]
    for key, title, items in sections:
        entry = f'<li><a href="#{_section_id(key)}">{_h(title)}</a>'
        if key == "top":
            entry += "<ol>" + "".join(
                f'<li><a href="#{item_ids[id(i)]}">{_h(_tagged(i, citations))}</a></li>'
                for i in items
            )
            entry += "</ol>"
        toc.append(entry + "</li>")
    for present, anchor, title in (
        (b.notes, "notes", "Notes"),
        (citations, "citations", "Citations"),
        (b.sources, "sources", "Sources"),
        (b.excluded, "excluded", "Excluded inputs"),
    ):
        if present:
            toc.append(f'<li><a href="#{anchor}">{title}</a></li>')
    toc += ["</ol>", "</nav>"]
    out += toc

    for key, title, items in sections:
        out += [f'<section id="{_section_id(key)}">', f"<h2>{_h(title)}</h2>"]
        for item in items:
            shown = _shown(item, citations)
            sentences = []
            for text, ids in shown.sentences:
                cited = [_html_mark(*marks.next(rid)) for rid in ids]
                if _unverified(ids, citations):
                    cited.append(f' <em class="unverified">({UNVERIFIED.lower()})</em>')
                sentences.append(_html_sentence(text, "".join(cited)))
            anchor = item_ids[id(item)]
            headline = _html_headline(_status_tag(item, citations), _headline(item, citations))
            if shown.compact:
                out.append(
                    f'<p id="{anchor}"><strong>{headline}</strong>{shown.joint}'
                    f"{' '.join(sentences)}</p>"
                )
            else:
                out += [
                    f'<article id="{anchor}">',
                    f"<h3>{headline}</h3>",
                    f"<p>{' '.join(sentences)}</p>",
                    "</article>",
                ]
        out.append("</section>")

    if b.notes:
        out += ['<section id="notes">', "<h2>Notes</h2>", "<ul>"]
        out += [f"<li>{_h(note)}</li>" for note in b.notes]
        out += ["</ul>", "</section>"]

    if citations:
        out += ['<section id="citations">', "<h2>Citations</h2>", '<ol class="citations">']
        for c in citations.values():
            out.append(
                f'<li id="citation-{c.number}" value="{c.number}">'
                f"<p>{_h(_record_line(c.record, c.record_id, b.sources))}</p>"
            )
            out += _html_evidence(c.record.evidence if c.record else [], sources, labels)
            out += [_back_links(c), "</li>"]
        out += ["</ol>", "</section>"]

    if b.sources:
        out += _html_sources(b.sources, labels)

    if b.excluded:
        out += ['<section id="excluded">', "<h2>Excluded inputs</h2>", "<ul>"]
        out += [
            f"<li><code>{_h(e.input)}</code>: {_h(e.reason)} ({_h(e.stage)})</li>"
            for e in b.excluded
        ]
        out += ["</ul>", "</section>"]

    out += _HTML_END
    return "\n".join(out) + "\n"
