from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from briefer.composition._deterministic import compose_deterministic
from briefer.errors import ConfigError
from briefer.json_schemas import schema_for
from briefer.merging._merge import merge_records
from briefer.models import (
    Actor,
    Briefing,
    Document,
    EventRecord,
    Evidence,
    Excluded,
    Quantity,
    Source,
    StanceRecord,
    StoryChange,
    StoryDay,
    StorySummary,
    StoryTimeline,
    Usage,
)
from briefer.rendering import render_story
from briefer.rendering._render import (
    format_from_path,
    render,
    render_html,
    render_json,
    render_markdown,
)

SCRIPT = "<script>alert(1)</script>"
# The page's own anchors: sections, items, citations, their marks and the sources.
IN_PAGE_LINK = (
    r"#(?:section-[a-z]+|item-\d+|citation-\d+|cite-\d+-\d+|source-s\d+"
    r"|citations|sources|notes|excluded)"
)
IMG = "<img src=x onerror=alert(1)>"
DAY = dt.date(2022, 1, 12)
US = Actor(name="the United States", canonical="United States", country="USA", kind="government")
NK = Actor(name="North Korea", canonical="North Korea", country="PRK", kind="government")


def document(sid: str, text: str, outlet: str, title: str, url: str | None) -> Document:
    return Document(
        source=Source(
            id=sid,
            title=title,
            url=url,
            path=None if url else f"/articles/{sid}.txt",
            outlet=outlet,
            published=DAY,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            tokens=len(text.split()),
            chars=len(text),
        ),
        text=text,
    )


def evidence(doc: Document, quote: str) -> Evidence:
    start = doc.text.index(quote)
    return Evidence(source_id=doc.id, quote=quote, start=start, end=start + len(quote))


def event(rid: str, doc: Document, quote: str, summary: str, value: float) -> EventRecord:
    return EventRecord(
        id=rid,
        type="SANCTION",
        summary=summary,
        actors=[US],
        targets=[NK],
        date=DAY,
        date_text=None,
        date_precision="day",
        location=None,
        quantities=[Quantity(kind="people sanctioned", value=value, text=quote)],
        factuality="asserted",
        evidence=[evidence(doc, quote)],
        confidence=0.9,
        source_id=doc.id,
    )


def make_briefing(*, hostile: bool = False) -> Briefing:
    bad = f" {SCRIPT} {IMG}" if hostile else ""
    voa_quote = f"designating five North Koreans{bad}"
    voa = document(
        "src-voa",
        f"The United States Wednesday strengthened sanctions, {voa_quote} for weapons programs.",
        f"VOA{IMG}" if hostile else "VOA",
        f"US Proposes More UN Sanctions{SCRIPT if hostile else ''}",
        "javascript:alert(1)" if hostile else "https://www.voanews.com/a/sanctions.html",
    )
    yonhap = document(
        "src-yonhap",
        "In response, the U.S. slapped fresh sanctions on six North Koreans [see `code`].",
        "Yonhap",
        "N. Korea ups ante [analysis](javascript:alert(1))",
        None,
    )
    events = [
        event(
            "ev-1",
            voa,
            voa_quote,
            f"The United States sanctioned five North Koreans over weapons programs.{bad}",
            5,
        ),
        event(
            "ev-2",
            yonhap,
            "slapped fresh sanctions on six North Koreans [see `code`]",
            "The US imposed sanctions on six North Koreans over weapons programs.",
            6,
        ),
    ]
    stances = [
        StanceRecord(
            id="st-1",
            holder=US,
            topic="UN sanctions",
            target="North Korea",
            polarity="favor",
            quote_type="indirect",
            claim="Wants stronger sanctions.",
            evidence=[evidence(voa, "strengthened sanctions")],
            date=DAY,
            source_id=voa.id,
        )
    ]
    merged = merge_records(events, stances, [voa, yonhap])
    sources = [voa.source, yonhap.source]
    return Briefing(
        date=DAY,
        title="Daily briefing, 12 January 2022",
        generated_at=dt.datetime(2022, 1, 12, 18, 0, tzinfo=dt.UTC),
        model="test-model",
        composer="deterministic",
        items=compose_deterministic(merged, sources),
        events=merged.events,
        stances=merged.stances,
        sources=sources,
        excluded=[Excluded(input="empty.txt", reason="the file is empty")],
        usage=Usage(),
        notes=["composition by the model failed (refused); deterministic composer used"],
    )


def test_markdown_citations_resolve_to_outlet_title_link_and_quote() -> None:
    briefing = make_briefing()
    text = render_markdown(briefing)
    body, citations = text.split("## Citations", 1)
    citations, rest = citations.split("## Sources", 1)

    markers = [int(n) for n in re.findall(r"\[(\d+)\]", body)]
    first_seen = list(dict.fromkeys(markers))
    assert first_seen == list(range(1, len(first_seen) + 1))  # numbered by first appearance
    entries = re.findall(r"^(\d+)\. ", citations, flags=re.MULTILINE)
    assert [int(n) for n in entries] == first_seen

    event = briefing.events[0]
    assert "1. #### Citation 1\n   The United States sanctioned North Koreans over weapons" in (
        citations
    )
    assert "   - **VOA** (S1): “designating five North Koreans”" in citations
    assert "   - **Yonhap** (S2): “slapped fresh sanctions on six North Koreans" in citations
    assert len(event.evidence) == 2
    # Each source is described once, under its label.
    assert (
        "- **S1** · **VOA** · *US Proposes More UN Sanctions* · 12 January 2022 · "
        "<https://www.voanews.com/a/sanctions.html>"
    ) in rest
    assert "`/articles/src-yonhap.txt`" in rest  # a path is shown, not linked

    headings = ["# Daily briefing, 12 January 2022", "## Top developments", "## Timeline"]
    headings += ["## Where sources disagree", "## Who said what", "## Notes"]
    for heading in headings:
        assert heading in body
    assert (
        "**Sources published on 12 January 2022** · 2 documents · 1 event · 1 conflict · 1 stance"
    ) in body
    assert "Outlets disagree on the number of people sanctioned: 5 (VOA), 6 (Yonhap).[" in body
    assert "## Excluded inputs" in rest and "empty.txt: the file is empty" in rest
    assert body.index("## Top developments") < body.index("## Where sources disagree")
    assert body.index("## Who said what") < body.index("## Timeline") < body.index("## Notes")


def test_markdown_marks_link_to_their_entries_and_sources_are_described_once() -> None:
    text = render_markdown(make_briefing())
    body, after = text.split("## Citations", 1)
    marks = re.findall(r"\[\[(\d+)\]\]\(#citation-(\d+)\)", body)
    assert marks and all(shown == target for shown, target in marks)
    for number in {n for n, _ in marks}:
        # The heading's id is "citation-N" wherever markdown gives headings ids.
        assert f"\n{number}. #### Citation {number}\n" in after
    # No bare number names a source: a source is S1, S2.
    sources = after.split("## Sources", 1)[1].split("## Excluded inputs")[0]
    assert re.findall(r"^- \*\*(S\d)\*\*", sources, flags=re.MULTILINE) == ["S1", "S2"]
    assert not re.search(r"^\d+\. ", sources, flags=re.MULTILINE)
    for repeated in ("US Proposes More UN Sanctions", "https://www.voanews.com/a/sanctions.html"):
        assert text.count(repeated) == 1, repeated


def test_the_header_gives_the_days_the_sources_cover() -> None:
    briefing = make_briefing()
    later = briefing.sources[1].model_copy(update={"published": dt.date(2022, 1, 20)})
    spread = briefing.model_copy(update={"sources": [briefing.sources[0], later]})
    assert "**Sources published 12 to 20 January 2022** · 2 documents" in render_markdown(spread)
    assert "<strong>Sources published 12 to 20 January 2022</strong>" in render_html(spread)
    undated = later.model_copy(update={"published": None})
    one = briefing.model_copy(update={"sources": [briefing.sources[0], undated]})
    assert "**Sources published on 12 January 2022 (1 undated)**" in render_markdown(one)
    across = later.model_copy(update={"published": dt.date(2021, 12, 30)})
    years = briefing.model_copy(update={"sources": [briefing.sources[0], across]})
    assert "Sources published 30 December 2021 to 12 January 2022" in render_markdown(years)


def test_markdown_escapes_article_text() -> None:
    text = render_markdown(make_briefing(hostile=True))
    assert "[analysis](javascript" not in text
    assert r"\[analysis\](javascript:alert(1))" in text
    assert r"\[see \`code\`\]" in text
    # No markup survives: every "<" is escaped or opens an http(s) autolink.
    assert re.findall(r"(?<!\\)<(?!https?://)", text) == []
    assert r"\<script\>" in text
    assert "<javascript:" not in text  # not an autolink


def test_json_validates_against_the_briefing_schema() -> None:
    briefing = make_briefing()
    text = render_json(briefing)
    assert text.endswith("}\n")
    data = json.loads(text)
    jsonschema.Draft202012Validator(schema_for("briefing")).validate(data)
    assert data["items"][0]["citations"] == [briefing.events[0].id]
    assert data["events"][0]["conflicts"][0]["values"][0]["source_ids"] == ["src-voa"]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def parse(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    return collector


def test_html_escapes_article_text_and_links_only_http() -> None:
    page = render_html(make_briefing(hostile=True))
    parsed = parse(page)
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags
    assert "img" not in tags
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert re.fullmatch(IN_PAGE_LINK + r"|https?://\S+", href), href
    assert "javascript:alert(1)" in "".join(parsed.data)  # shown as text, not as a link
    text = "".join(parsed.data)
    assert SCRIPT in text and IMG in text  # the words survive, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_is_self_contained_and_citations_resolve() -> None:
    page = render_html(make_briefing())
    parsed = parse(page)
    tags = [t for t, _ in parsed.tags]
    assert not {"script", "link", "iframe", "img", "object", "embed"} & set(tags)
    assert all("src" not in attrs for _, attrs in parsed.tags)
    assert "url(" not in page and "@import" not in page
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in (
        parsed.tags
    )
    assert "max-width" in page
    anchors = {attrs["id"] for _, attrs in parsed.tags if attrs.get("id")}
    targets = {
        attrs["href"][1:] for _, attrs in parsed.tags if (attrs.get("href") or "")[:1] == "#"
    }
    assert targets and targets <= anchors
    links = [
        attrs["href"] for _, attrs in parsed.tags if (attrs.get("href") or "").startswith("http")
    ]
    assert links == ["https://www.voanews.com/a/sanctions.html"] * len(links) and links
    assert "<blockquote>designating five North Koreans</blockquote>" in page


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("out/briefing.md", "markdown"),
        ("b.MARKDOWN", "markdown"),
        ("b.json", "json"),
        ("b.html", "html"),
        ("b.htm", "html"),
        ("b.txt", None),
        ("briefing", None),
    ],
)
def test_format_from_path(path: str, fmt: str | None) -> None:
    assert format_from_path(path) == fmt


def test_render_dispatches_and_briefing_methods_agree() -> None:
    briefing = make_briefing()
    assert render(briefing, "markdown") == render_markdown(briefing) == render_markdown(briefing)
    assert render(briefing, "html") == render_html(briefing) == render_html(briefing)
    assert render(briefing, "json") == render_json(briefing)


def test_a_briefing_of_the_previous_schema_still_renders(tmp_path: Path) -> None:
    # Written before updates, conflict sides and position changes existed.
    old = Path(__file__).resolve().parents[1] / "golden" / "briefing-1.0.json"
    briefing = Briefing.model_validate_json(old.read_text(encoding="utf-8"))
    assert briefing.schema_version == "1.0"
    assert all(e.updates == [] for e in briefing.events)
    for fmt in ("markdown", "html", "json"):
        assert render(briefing, fmt)  # type: ignore[arg-type]


def test_html_marks_stay_on_the_line_and_lead_both_ways() -> None:
    page = render_html(make_briefing())
    parsed = parse(page)
    assert "<sup" not in page  # a superscript makes its line taller than the others
    marks = [attrs for tag, attrs in parsed.tags if tag == "a" and attrs.get("class") == "cite"]
    assert marks
    ids = [m["id"] for m in marks]
    assert len(ids) == len(set(ids))
    for mark in marks:
        number = re.fullmatch(r"#citation-(\d+)", mark["href"] or "")
        assert number and (mark["id"] or "").startswith(f"cite-{number.group(1)}-")
    # Each citation links back to every mark that cites it.
    citations = page.split('<section id="citations">', 1)[1].split("</section>", 1)[0]
    back = re.findall(r'<a href="#(cite-\d+-\d+)"', citations)
    assert sorted(back) == sorted(ids)
    # A mark is kept with the word before it, so it never starts a line alone.
    assert '<span class="nw">programs.<a class="cite" id="cite-1-1" href="#citation-1">[1]</a>' in (
        page
    )
    assert ".nw { white-space: nowrap; }" in page
    # A table of contents leads to each section present, the top items, citations, sources.
    toc = page.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    hrefs = re.findall(r'href="#([^"]+)"', toc)
    assert hrefs[:2] == ["section-top", "item-1"]
    assert {"section-disagreements", "section-stances", "section-timeline"} <= set(hrefs)
    assert hrefs[-4:] == ["notes", "citations", "sources", "excluded"]
    # Links and text have colours of their own in dark mode.
    assert "@media (prefers-color-scheme: dark)" in page and "--link:" in page


def test_who_said_what_reads_as_one_sentence_per_holder() -> None:
    briefing = make_briefing()
    [stance] = [i for i in briefing.items if i.section == "stances"]
    assert stance.headline == "The United States"
    assert stance.sentences[0].startswith("The United States supports")
    text = render_markdown(briefing)
    section = text.split("## Who said what", 1)[1].split("\n## ", 1)[0]
    # The holder leads its sentence in bold, once; no heading per holder.
    assert "\n**The United States** supports" in section
    assert "###" not in section and "The United States supports" not in section
    page = render_html(briefing)
    assert "<strong>The United States</strong> supports" in page


# --- a briefing made with a store, and a stored story --------------------------------------------

LATER = dt.date(2022, 1, 13)


def with_statuses(briefing: Briefing) -> Briefing:
    """The briefing as a store hands it: the sanctions updated (a new outlet), and a story
    reported again with nothing new."""
    [sanctions] = briefing.events
    updated = sanctions.model_copy(
        update={
            "status": "updated",
            "story_id": "story-1",
            "changes": [StoryChange(kind="outlet", outlet="Yonhap", source_ids=["src-yonhap"])],
        }
    )
    older = sanctions.model_copy(
        update={
            "id": "me-older",
            "summary": "The United States strengthened sanctions.",
            "evidence": [e for e in sanctions.evidence if e.source_id == "src-voa"][:1],
            "source_ids": ["src-voa"],
            "corroboration": 1,
            "conflicts": [],
            "quantities": [],
            "status": "continuing",
        }
    )
    stored = briefing.model_copy(update={"events": [updated, older], "previous": DAY})
    return stored.model_copy(
        update={"items": compose_deterministic(stored, stored.sources), "date": LATER}
    )


def test_what_changed_leads_with_each_event_marked_by_its_status() -> None:
    briefing = with_statuses(make_briefing())
    text = render_markdown(briefing)
    assert text.startswith(
        "# Daily briefing, 12 January 2022\n\n*Since the briefing of 12 January 2022*\n\n"
        "**Sources published on 12 January 2022**"
    )
    body = text.split("## Citations", 1)[0]
    assert body.index("## Since the last briefing") < body.index("## Top developments")
    since = body.split("## Since the last briefing", 1)[1].split("\n## ", 1)[0]
    assert "### Update: The United States sanctioned North Koreans over weapons programs" in since
    assert "Yonhap now reports it too.[[1]](#citation-1)" in since
    # Yesterday's story: one compact line, each story cited.
    assert "\n**Continuing** — The United States strengthened sanctions.[[2]](#citation-2)" in (
        since
    )
    top = body.split("## Top developments", 1)[1].split("\n## ", 1)[0]
    assert "### Update: The United States sanctioned" in top and "strengthened" not in top
    citations = text.split("## Citations", 1)[1]
    assert "1. #### Citation 1\n   Update: The United States sanctioned" in citations
    assert "2. #### Citation 2\n   Continuing: The United States strengthened sanctions" in (
        citations
    )

    page = render_html(briefing)
    toc = page.split('<nav class="toc"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'href="#([^"]+)"', toc)[:2] == ["section-since", "section-top"]
    assert '<p class="meta">Since the briefing of 12 January 2022</p>' in page
    assert (
        '<h3><span class="status">Update:</span> The United States sanctioned North Koreans '
        "over weapons programs</h3>"
    ) in page
    assert '<strong>Continuing</strong> — The United States strengthened <span class="nw">' in page
    parsed = parse(page)
    anchors = {attrs["id"] for _, attrs in parsed.tags if attrs.get("id")}
    targets = {a["href"][1:] for _, a in parsed.tags if (a.get("href") or "")[:1] == "#"}
    assert targets <= anchors


def test_a_review_gives_its_period_in_the_header() -> None:
    briefing = with_statuses(make_briefing()).model_copy(
        update={"period_start": dt.date(2022, 1, 6), "previous": dt.date(2022, 1, 5)}
    )
    line = "Review of 6 to 13 January 2022 · since the briefing of 5 January 2022"
    assert f"\n*{line}*\n" in render_markdown(briefing)
    assert f'<p class="meta">{line}</p>' in render_html(briefing)
    plain = make_briefing()
    assert "Since the briefing" not in render_markdown(plain)
    assert "Review of" not in render_html(plain)


def story(*, hostile: bool = False) -> StoryTimeline:
    """The sanctions as a stored story: five North Koreans on the first day, six on the next,
    in a new outlet, and the US position."""
    briefing = make_briefing(hostile=hostile)
    voa, yonhap = briefing.sources
    [merged] = briefing.events
    first = merged.model_copy(
        update={
            "evidence": [e for e in merged.evidence if e.source_id == voa.id],
            "source_ids": [voa.id],
            "corroboration": 1,
            "conflicts": [],
        }
    )
    second = merged.model_copy(
        update={
            "evidence": [e for e in merged.evidence if e.source_id == yonhap.id],
            "source_ids": [yonhap.id],
            "corroboration": 1,
            "conflicts": [],
            "date": LATER,
        }
    )
    changes = [
        StoryChange(
            kind="figure",
            field="quantities.people sanctioned",
            before="five North Koreans",
            after="six North Koreans",
            before_date=DAY,
            after_date=LATER,
            source_ids=[yonhap.id],
        ),
        StoryChange(kind="outlet", outlet="Yonhap", source_ids=[yonhap.id]),
    ]
    title = f"US sanctions on North Koreans{SCRIPT if hostile else ''}"
    return StoryTimeline(
        summary=StorySummary(
            id="story-1",
            title=title,
            first_day=DAY,
            last_day=LATER,
            days=2,
            outlets=[voa.outlet or "", "Yonhap"],
            open_conflicts=0,
            last_change="Yonhap reports it too",
        ),
        days=[
            StoryDay(day=DAY, status="new", event=first),
            StoryDay(day=LATER, status="updated", changes=changes, event=second),
        ],
        stances=briefing.stances,
        sources=[voa, yonhap.model_copy(update={"published": LATER})],
    )


def test_a_story_reads_day_by_day_with_its_quotes_below_each_day() -> None:
    text = render_story(story(), "markdown")
    assert text.startswith(
        "# US sanctions on North Koreans\n\n**12 to 13 January 2022 · 2 days reported · 2 "
        "outlets: VOA, Yonhap · 0 open conflicts**\n\nLatest change: Yonhap reports it too\n"
    )
    first, rest = text.split("## 12 January 2022 · New\n", 1)[1].split("## 13 January 2022", 1)
    assert "VOA reported it.[[1]](#citation-1)" in first
    assert "#### Citation 1\n\n- **VOA** (S1): “designating five North Koreans”" in first
    second, rest = rest.split("## Who said what", 1)
    assert second.startswith(" · Update\n")
    # The figure rests on the day it changed from and the day it changed on: both cited.
    assert (
        "The number of people sanctioned rose from five North Koreans (VOA) to six North "
        "Koreans (Yonhap).[[1]](#citation-1)[[2]](#citation-2) Yonhap now reports it too."
        "[[2]](#citation-2)"
    ) in second
    assert "#### Citation 2\n\n- **Yonhap** (S2): “slapped fresh sanctions" in second
    assert "The United States supports North Korea (12 January 2022).[[3]](#citation-3)" in rest
    assert "- **S2** · **Yonhap** · *N. Korea ups ante" in rest


def test_a_story_in_json_is_the_stored_model() -> None:
    timeline = story()
    text = render_story(timeline, "json")
    jsonschema.Draft202012Validator(schema_for("story")).validate(json.loads(text))
    assert StoryTimeline.model_validate_json(text) == timeline
    with pytest.raises(ConfigError, match="unknown output format 'pdf'"):
        render_story(timeline, "pdf")  # type: ignore[arg-type]


def test_a_story_page_is_self_contained_escaped_and_its_links_resolve() -> None:
    page = render_story(story(hostile=True), "html")
    parsed = parse(page)
    tags = [t for t, _ in parsed.tags]
    assert not {"script", "img", "link", "iframe"} & set(tags)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for tag, attrs in parsed.tags:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        href = attrs.get("href")
        if href is not None:
            assert re.fullmatch(r"#(?:day-\d+|stances|citation-\d+|cite-\d+-\d+|source-s\d+|"
                                r"sources)|https?://\S+", href), href  # fmt: skip
    anchors = {attrs["id"] for _, attrs in parsed.tags if attrs.get("id")}
    targets = {a["href"][1:] for _, a in parsed.tags if (a.get("href") or "")[:1] == "#"}
    assert targets <= anchors and {"day-1", "day-2", "citation-1", "citation-3"} <= anchors
    assert '<h2>13 January 2022 <span class="status">· Update</span></h2>' in page
    assert "@media (prefers-color-scheme: dark)" in page
