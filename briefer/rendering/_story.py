"""Render a stored story (``StoryTimeline``) day by day, as markdown, JSON or one HTML page.

Each day shows its status, what happened as that day's articles told it, what the day changed
(for an updated day) and who reported it, in sentences whose marks lead to the day's quotes,
grouped by source, right below them. A sentence telling a figure the day changed from cites the
earlier day that gave it too, and one telling a new position cites that position, listed under
"Who said what" with its quotes. Sources are described once, under S1, S2… as in a briefing,
and the HTML page is the briefing's page: the same style, dark mode, phone width.
"""

from __future__ import annotations

import datetime as dt

from briefer.composition import date_span, story_day_sentences
from briefer.errors import ConfigError
from briefer.models import MergedEvent, MergedStance, Source, StoryTimeline
from briefer.rendering._render import (
    _HTML_END,
    STATUS_TAGS,
    Format,
    _back_links,
    _Citation,
    _h,
    _html_evidence,
    _html_mark,
    _html_sentence,
    _html_sources,
    _html_start,
    _Marks,
    _md,
    _md_evidence,
    _md_marks,
    _md_sources,
    _record_line_of,
    _source_labels,
)
from briefer.text.dates import written_date

__all__ = ["render_story", "render_story_html", "render_story_json", "render_story_markdown"]

STANCES_TITLE = "Who said what"


def render_story(timeline: StoryTimeline, fmt: Format) -> str:
    if fmt == "markdown":
        return render_story_markdown(timeline)
    if fmt == "json":
        return render_story_json(timeline)
    if fmt == "html":
        return render_story_html(timeline)
    raise ConfigError(f"unknown output format {fmt!r}; use markdown, json or html")


def render_story_json(timeline: StoryTimeline) -> str:
    """The story as JSON (valid against ``schemas/story.schema.json``)."""
    return timeline.model_dump_json(indent=2) + "\n"


# --- what every format shows ------------------------------------------------------------------


Cited = list[tuple[str, list[str]]]  # each sentence and the keys of the citations it makes


class _Story:
    """A story laid out: each day's sentences and the stances, every citation numbered in order
    of first appearance (a day's by the day, ``day-N``; a stance's by its id)."""

    def __init__(self, timeline: StoryTimeline) -> None:
        self.timeline = timeline
        self.sources: dict[str, Source] = {s.id: s for s in timeline.sources}
        self.labels = _source_labels(timeline.sources)
        day_keys = {id(day.event): f"day-{n}" for n, day in enumerate(timeline.days, start=1)}

        def key(record: MergedEvent | MergedStance) -> str | None:
            return record.id if isinstance(record, MergedStance) else day_keys.get(id(record))

        self.days: list[Cited] = []
        for n, day in enumerate(timeline.days):
            told = story_day_sentences(day, timeline.days[:n], timeline.stances, timeline.sources)
            self.days.append(
                [(text, [k for r in records if (k := key(r))]) for text, records in told]
            )
        self.stances: Cited = [
            (f"{_record_line_of(s, timeline.sources)}.", [s.id]) for s in self._stances()
        ]
        records: dict[str, MergedEvent | MergedStance] = {
            f"day-{n}": day.event for n, day in enumerate(timeline.days, start=1)
        }
        records.update({s.id: s for s in timeline.stances})
        self.citations: dict[str, _Citation] = {}
        for sentences in [*self.days, self.stances]:
            for _, keys in sentences:
                for k in keys:
                    if k not in self.citations:
                        self.citations[k] = _Citation(len(self.citations) + 1, k, records.get(k))
                    c = self.citations[k]
                    c.marks.append(f"cite-{c.number}-{len(c.marks) + 1}")

    def _stances(self) -> list[MergedStance]:
        return sorted(self.timeline.stances, key=lambda s: (s.date or self.first_day, s.id))

    @property
    def first_day(self) -> dt.date:
        return self.timeline.summary.first_day

    def heading(self, n: int) -> tuple[str, str]:
        """Day ``n``'s date and its status tag."""
        day = self.timeline.days[n]
        return written_date(day.day), STATUS_TAGS[day.status]

    def meta(self) -> str:
        summary = self.timeline.summary
        days = f"{summary.days} day{'' if summary.days == 1 else 's'} reported"
        count = len(summary.outlets)
        outlets = f"{count} outlet{'' if count == 1 else 's'}"
        if summary.outlets:
            outlets += f": {', '.join(summary.outlets)}"
        conflicts = summary.open_conflicts
        open_ = f"{conflicts} open conflict{'' if conflicts == 1 else 's'}"
        return " · ".join([date_span(summary.first_day, summary.last_day), days, outlets, open_])


# --- markdown ---------------------------------------------------------------------------------


def _md_paragraph(sentences: Cited, story: _Story) -> str:
    return " ".join(
        f"{_md(text)}{_md_marks(story.citations[k].number for k in keys)}"
        for text, keys in sentences
    )


def _md_cited(story: _Story, key: str) -> list[str]:
    c = story.citations[key]
    evidence = c.record.evidence if c.record else []
    return [
        f"#### Citation {c.number}",
        "",
        *_md_evidence(evidence, story.sources, story.labels, ""),
        "",
    ]


def render_story_markdown(timeline: StoryTimeline) -> str:
    story = _Story(timeline)
    summary = timeline.summary
    out = [f"# {_md(summary.title)}", "", f"**{_md(story.meta())}**", ""]
    if summary.last_change:
        out += [f"Latest change: {_md(summary.last_change)}", ""]
    for n, sentences in enumerate(story.days):
        date, tag = story.heading(n)
        out += [f"## {date} · {tag}", "", _md_paragraph(sentences, story), ""]
        out += _md_cited(story, f"day-{n + 1}")
    if story.stances:
        out += [f"## {STANCES_TITLE}", ""]
        for text, keys in story.stances:
            out += [_md_paragraph([(text, keys)], story), ""]
            out += _md_cited(story, keys[0])
    if timeline.sources:
        out += _md_sources(timeline.sources, story.labels)
    return "\n".join(out).rstrip("\n") + "\n"


# --- HTML -------------------------------------------------------------------------------------


def _html_paragraph(sentences: Cited, marks: _Marks) -> str:
    shown = []
    for text, keys in sentences:
        shown.append(_html_sentence(text, "".join(_html_mark(*marks.next(k)) for k in keys)))
    return f"<p>{' '.join(shown)}</p>"


def _html_cited(story: _Story, key: str) -> list[str]:
    c = story.citations[key]
    evidence = c.record.evidence if c.record else []
    return [
        f'<div class="cited" id="citation-{c.number}">',
        f'<p class="sid">Citation {c.number}</p>',
        *_html_evidence(evidence, story.sources, story.labels),
        _back_links(c),
        "</div>",
    ]


def _toc(story: _Story) -> list[str]:
    out = ['<nav class="toc" aria-label="Contents">', "<h2>Contents</h2>", "<ol>"]
    for n in range(len(story.days)):
        date, tag = story.heading(n)
        out.append(f'<li><a href="#day-{n + 1}">{_h(date)}</a> · {_h(tag)}</li>')
    if story.stances:
        out.append(f'<li><a href="#stances">{STANCES_TITLE}</a></li>')
    if story.timeline.sources:
        out.append('<li><a href="#sources">Sources</a></li>')
    return [*out, "</ol>", "</nav>"]


def render_story_html(timeline: StoryTimeline) -> str:
    """One self-contained page, styled as a briefing is: no scripts, no external assets."""
    story = _Story(timeline)
    marks = _Marks(story.citations)
    summary = timeline.summary
    out = [*_html_start(summary.title), "<header>", f"<h1>{_h(summary.title)}</h1>"]
    out.append(f'<p class="meta"><strong>{_h(story.meta())}</strong></p>')
    if summary.last_change:
        out.append(f'<p class="meta">Latest change: {_h(summary.last_change)}</p>')
    out += ["</header>", *_toc(story)]
    for n, sentences in enumerate(story.days):
        date, tag = story.heading(n)
        out += [
            f'<section id="day-{n + 1}">',
            f'<h2>{_h(date)} <span class="status">· {_h(tag)}</span></h2>',
            _html_paragraph(sentences, marks),
            *_html_cited(story, f"day-{n + 1}"),
            "</section>",
        ]
    if story.stances:
        out += ['<section id="stances">', f"<h2>{STANCES_TITLE}</h2>"]
        for text, keys in story.stances:
            out += [_html_paragraph([(text, keys)], marks), *_html_cited(story, keys[0])]
        out.append("</section>")
    if timeline.sources:
        out += _html_sources(timeline.sources, story.labels)
    return "\n".join([*out, *_HTML_END]) + "\n"
