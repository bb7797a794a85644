"""The "since the last briefing" section: what changed, in sentences checked like any other."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import briefer
from benchmarks.quality.days import DayStory, load_day_stories
from briefer.composition import story_day_sentences
from briefer.composition._citations import check_item
from briefer.composition._compose import build_compose_request, compose_items
from briefer.composition._deterministic import compose_deterministic
from briefer.llm.base import LLMRequest
from briefer.llm.fake import FunctionClient
from briefer.llm.structured import LLMRunner
from briefer.models import (
    Actor,
    BriefingItem,
    ComposeItem,
    ComposeSentence,
    Conflict,
    ConflictValue,
    Document,
    Evidence,
    MergedEvent,
    MergedStance,
    Quantity,
    Source,
    StoryChange,
    StoryDay,
    Update,
    UpdateValue,
)

MON, TUE = dt.date(2025, 3, 10), dt.date(2025, 3, 11)


def document(sid: str, outlet: str, day: dt.date, text: str) -> Document:
    return Document(
        source=Source(
            id=sid,
            title=f"{outlet} report",
            url=f"https://example.org/{sid}",
            path=None,
            outlet=outlet,
            published=day,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            tokens=len(text.split()),
            chars=len(text),
        ),
        text=text,
    )


def quote(doc: Document, words: str) -> Evidence:
    start = doc.text.index(words)
    return Evidence(source_id=doc.id, quote=words, start=start, end=start + len(words))


CITY = Actor(name="the city", canonical="Durban", country="ZAF", kind="government")
PORT = Actor(
    name="The Port Authority", canonical="Port Authority", country="ZAF", kind="government"
)
POLICE = Actor(name="Police", canonical="Serbian police", country="SRB", kind="government")
RESCUERS = Actor(name="Rescuers", canonical="Rescuers", country="PER", kind="other")
YARD = Actor(
    name="Wisła Ship Repair", canonical="Wisła Ship Repair", country="POL", kind="business"
)
ASSEMBLY = Actor(
    name="The Belgrade City Assembly",
    canonical="Belgrade City Assembly",
    country="SRB",
    kind="government",
)


def event(rid: str, quotes: list[tuple[Document, str]], summary: str, **fields: Any) -> MergedEvent:
    source_ids = list(dict.fromkeys(d.id for d, _ in quotes))
    base: dict[str, Any] = {
        "id": rid,
        "type": "AID",
        "summary": summary,
        "actors": [CITY],
        "targets": [],
        "date": MON,
        "date_text": None,
        "date_precision": "day",
        "location": None,
        "quantities": [],
        "factuality": "asserted",
        "evidence": [quote(d, q) for d, q in quotes],
        "confidence": 0.9,
        "source_id": source_ids[0],
        "members": [f"{rid}-{n}" for n in range(len(quotes))],
        "source_ids": source_ids,
        "corroboration": len(source_ids),
        "conflicts": [],
    }
    base.update(fields)
    return MergedEvent.model_validate(base)


@dataclass
class Day:
    """What a store hands composition on Tuesday: events with their statuses, across days."""

    documents: list[Document]
    events: list[MergedEvent] = field(default_factory=list)
    stances: list[MergedStance] = field(default_factory=list)

    @property
    def sources(self) -> list[Source]:
        return [d.source for d in self.documents]

    def by_id(self, rid: str) -> MergedEvent:
        return next(e for e in self.events if e.id == rid)


def tuesday(*, monday_text: str | None = None, before: str = "40") -> Day:
    tribune = document(
        "src-ht",
        "Harbour Tribune",
        MON,
        monday_text or "DURBAN — Floods forced 40 families from their homes on Monday.",
    )
    wire = document(
        "src-sw", "Southern Wire", TUE, "DURBAN — By Tuesday 65 families had been evacuated."
    )
    coast = document(
        "src-cn",
        "Coastline News",
        TUE,
        "DURBAN — Floodwater kept rising in the city. The Port Authority said it opposes "
        "reopening the harbour road. Nine miners are still trapped at Santa Rosa.",
    )
    andes = document(
        "src-ar", "Andes Report", MON, "AREQUIPA — Nine miners are trapped at Santa Rosa."
    )
    pacific = document(
        "src-pp",
        "Pacific Post",
        TUE,
        "AREQUIPA — Rescuers say nine miners remain trapped at Santa Rosa. Police detained "
        "32 people after the march.",
    )
    herald = document(
        "src-dh",
        "Danube Herald",
        MON,
        "BELGRADE — Police detained 23 people after the march. The Belgrade City Assembly "
        "postponed its vote. Wisła Ship Repair asked the court to declare the strike illegal.",
    )
    floods = event(
        "me-floods",
        [
            (tribune, tribune.text.removeprefix("DURBAN — ").rstrip(".")),
            (wire, "By Tuesday 65 families had been evacuated"),
            (coast, "Floodwater kept rising in the city"),
        ],
        "Durban evacuated families from flooded homes.",
        quantities=[Quantity(kind="families evacuated", value=65, text="65 families")],
        updates=[
            Update(
                field="quantities.families evacuated",
                values=[
                    UpdateValue(value=40, date=MON, source_ids=["src-ht"], text="40 families"),
                    UpdateValue(value=65, date=TUE, source_ids=["src-sw"], text="65 families"),
                ],
            )
        ],
        status="updated",
        changes=[
            StoryChange(kind="stance", holder="Port Authority", source_ids=["src-cn"]),
            StoryChange(kind="outlet", outlet="Coastline News", source_ids=["src-cn"]),
            StoryChange(
                kind="figure",
                field="quantities.families evacuated",
                before=before,
                after="65",
                before_date=MON,
                after_date=TUE,
                source_ids=["src-sw"],
            ),
        ],
    )
    mine = event(
        "me-mine",
        [
            (andes, "Nine miners are trapped at Santa Rosa"),
            (pacific, "Rescuers say nine miners remain trapped at Santa Rosa"),
        ],
        "Rescuers tried to reach the miners trapped at Santa Rosa.",
        actors=[RESCUERS],
        status="updated",
        changes=[
            StoryChange(
                kind="conflict_settled",
                field="quantities.miners trapped",
                after="nine",
                source_ids=["src-pp"],
            )
        ],
    )
    detentions = event(
        "me-detentions",
        [
            (herald, "Police detained 23 people after the march"),
            (pacific, "Police detained 32 people after the march"),
        ],
        "Police detained 23 people after the march.",
        type="COERCE",
        actors=[POLICE],
        conflicts=[
            Conflict(
                field="quantities.people detained",
                values=[
                    ConflictValue(value=23.0, source_ids=["src-dh"], text="23 people"),
                    ConflictValue(value=32.0, source_ids=["src-pp"], text="32 people", side=1),
                ],
            )
        ],
        status="updated",
        changes=[
            StoryChange(kind="outlet", outlet="Pacific Post", source_ids=["src-pp"]),
            StoryChange(
                kind="conflict_opened", field="quantities.people detained", source_ids=["src-pp"]
            ),
        ],
    )
    court = event(
        "me-court",
        [(herald, "Wisła Ship Repair asked the court to declare the strike illegal")],
        "Wisła Ship Repair asked the court to declare the strike illegal.",
        type="REQUEST",
        actors=[YARD],
        status="continuing",
    )
    vote = event(
        "me-vote",
        [(herald, "The Belgrade City Assembly postponed its vote")],
        "The Belgrade City Assembly postponed its vote.",
        type="RETREAT",
        actors=[ASSEMBLY],
        date=TUE,
        status="new",
    )
    port = MergedStance(
        id="ms-port",
        holder=PORT,
        topic="the harbour road",
        target="reopening the harbour road",
        polarity="against",
        quote_type="indirect",
        claim="Opposes reopening the road.",
        evidence=[quote(coast, "it opposes reopening the harbour road")],
        date=TUE,
        source_id=coast.id,
        members=["st-port"],
        source_ids=[coast.id],
    )
    documents = [tribune, wire, coast, andes, pacific, herald]
    return Day(documents, [floods, mine, detentions, court, vote], [port])


def as_compose_item(item: BriefingItem, *, label: bool = False) -> ComposeItem:
    """A composed item in the model's shape; a headline that labels rather than tells (the
    compact list of continuing stories) is left out of the check, as a timeline day's is."""
    return ComposeItem(
        headline="" if label else item.headline,
        sentences=[
            ComposeSentence(text=text, citations=list(ids))
            for text, ids in zip(item.sentences, item.sentence_citations, strict=True)
        ],
    )


def assert_checked(items: list[BriefingItem], day: Day) -> None:
    records = {r.id: r for r in (*day.events, *day.stances)}
    for item in items:
        label = item.section in ("timeline",) or item.headline == "Continuing"
        failures = check_item(as_compose_item(item, label=label), records, sources=day.sources)
        assert failures == [], (item.headline, failures)


def since(items: list[BriefingItem]) -> dict[str, BriefingItem]:
    return {i.headline: i for i in items if i.section == "since"}


def test_what_changed_is_told_in_sentences_a_reader_forwards() -> None:
    day = tuesday()
    items = compose_deterministic(day, day.sources)
    assert_checked(items, day)
    # The section leads; new and updated events, most outlets first, then the continuing line.
    assert [i.section for i in items][:5] == ["since"] * 5
    assert [i.citations[0] for i in items[:5]] == [
        "me-floods", "me-detentions", "me-mine", "me-vote", "me-court",
    ]  # fmt: skip
    shown = since(items)
    floods = shown["Durban evacuated families from flooded homes"]
    assert floods.sentences == [
        "The number of families evacuated rose from 40 on Monday (Harbour Tribune) to 65 on "
        "Tuesday (Southern Wire).",
        "Coastline News now reports it too.",
        "The Port Authority took a position, opposing reopening the harbour road: “it opposes "
        "reopening the harbour road”.",
    ]
    assert floods.sentence_citations == [["me-floods"], ["me-floods"], ["me-floods", "ms-port"]]
    detentions = shown["Police detained people after the march"]  # no side taken in the headline
    assert detentions.sentences == [
        "Outlets now disagree on the number of people detained: 23 (Danube Herald), 32 (Pacific "
        "Post).",
        "Pacific Post now reports it too.",
    ]
    mine = shown["Rescuers tried to reach the miners trapped at Santa Rosa"]
    assert mine.sentences == [
        "The outlets no longer disagree on the number of miners trapped: both now say nine."
    ]
    # A new story: who reported it (the top developments tell it in full).
    assert shown["The Belgrade City Assembly postponed its vote"].sentences == [
        "Danube Herald reported it."
    ]


def test_a_day_is_named_only_where_a_quote_names_it() -> None:
    day = tuesday(monday_text="DURBAN — Floods forced 40 families from their homes.")
    items = compose_deterministic(day, day.sources)
    assert_checked(items, day)
    first = since(items)["Durban evacuated families from flooded homes"].sentences[0]
    assert first == (
        "The number of families evacuated rose from 40 (Harbour Tribune) to 65 on Tuesday "
        "(Southern Wire)."
    )


def test_a_change_its_evidence_does_not_bear_out_is_left_out() -> None:
    # The store says the figure was 30: no quote writes it, so no sentence states it.
    day = tuesday(before="30")
    items = compose_deterministic(day, day.sources)
    assert_checked(items, day)
    floods = since(items)["Durban evacuated families from flooded homes"]
    assert not any("30" in s for s in floods.sentences)
    assert floods.sentences[0] == "Coastline News now reports it too."


def test_continuing_stories_are_one_compact_line_and_no_top_development() -> None:
    day = tuesday()
    items = compose_deterministic(day, day.sources)
    continuing = since(items)["Continuing"]
    assert continuing.sentences == [
        "Wisła Ship Repair asked the court to declare the strike illegal."
    ]
    assert continuing.sentence_citations == [["me-court"]]
    top = [i.citations[0] for i in items if i.section == "top"]
    assert "me-court" not in top and len(top) == 4
    # Yesterday's story is still where a reader looks for a day or a disagreement.
    assert any("me-court" in i.citations for i in items if i.section == "timeline")


async def test_only_new_leaves_continuing_stories_out_of_every_section() -> None:
    day = tuesday()
    result = await compose_items(
        day, day.sources, None, model="m", date=TUE, title="T", only_new=True
    )
    assert result.items
    assert not [i for i in result.items if "me-court" in i.citations]
    assert "Continuing" not in since(result.items)
    assert result.notes == [
        "1 story reported again with nothing new since the last briefing is not shown: only "
        "new and updated events were asked for"
    ]
    everything = await compose_items(day, day.sources, None, model="m", date=TUE, title="T")
    assert everything.notes == []
    assert [i for i in everything.items if "me-court" in i.citations]


def test_without_statuses_there_is_no_section_and_nothing_moves() -> None:
    day = tuesday()
    plain = Day(
        day.documents,
        [e.model_copy(update={"status": None, "changes": []}) for e in day.events],
        day.stances,
    )
    items = compose_deterministic(plain, plain.sources)
    assert "since" not in {i.section for i in items}
    assert "me-court" in [i.citations[0] for i in items if i.section == "top"]


def payload(request: LLMRequest) -> dict[str, Any]:
    user = request.messages[1].content
    records: dict[str, Any] = json.loads(user[user.index("{") :])
    return records


def test_the_model_is_not_asked_to_retell_a_continuing_story_as_news() -> None:
    day = tuesday()
    asked = payload(build_compose_request(day, day.sources, model="m", date=TUE, title="T"))
    ids = [e["id"] for e in asked["events"]]
    assert "me-court" not in ids and len(ids) == 4
    # Without statuses the request is the one it always was: every event, same keys.
    plain = Day(day.documents, [e.model_copy(update={"status": None}) for e in day.events])
    request = build_compose_request(plain, plain.sources, model="m", date=TUE, title="T")
    assert "me-court" in [e["id"] for e in payload(request)["events"]]
    unchanged = [e.model_copy(update={"status": None, "changes": []}) for e in day.events]
    bare = Day(day.documents, unchanged)
    again = build_compose_request(bare, day.sources, model="m", date=TUE, title="T")
    assert again.key() == request.key()


async def test_the_model_writes_the_top_and_the_section_still_leads() -> None:
    day = tuesday()
    reply = {
        "items": [
            {
                "headline": "Durban floods",
                "sentences": [
                    {"text": "Durban evacuated 65 families.", "citations": ["me-floods"]}
                ],
            }
        ]
    }
    client = FunctionClient(lambda request: json.dumps(reply))
    runner = LLMRunner(client, model="m", max_repairs=0)
    result = await compose_items(day, day.sources, runner, model="m", date=TUE, title="T")
    assert result.composer == "llm" and result.notes == []
    sections = [i.section for i in result.items]
    assert sections[:6] == ["since"] * 5 + ["top"]
    assert result.items[5].composer == "llm"
    assert sections.count("top") == 1


async def test_a_day_of_continuing_stories_alone_makes_no_model_call() -> None:
    day = tuesday()
    quiet = Day(day.documents, [day.by_id("me-court")])

    def never(request: LLMRequest) -> str:
        raise AssertionError("no composition call was to be made")

    runner = LLMRunner(FunctionClient(never), model="m", max_repairs=0)
    result = await compose_items(quiet, quiet.sources, runner, model="m", date=TUE, title="T")
    assert result.composer == "deterministic"
    assert result.notes == [
        "there were no new or updated events to compose, so no model call was made"
    ]
    assert [i.headline for i in result.items if i.section == "since"] == ["Continuing"]


def test_a_stored_day_cites_the_earlier_day_its_figure_changed_from() -> None:
    day = tuesday()
    tribune, wire = day.documents[0], day.documents[1]
    monday = event(
        "me-floods",
        [(tribune, "Floods forced 40 families from their homes")],
        "Durban evacuated families from flooded homes.",
    )
    tuesday_event = event(
        "me-floods",
        [(wire, "By Tuesday 65 families had been evacuated")],
        "Durban evacuated families from flooded homes.",
        date=TUE,
    )
    changes = [c for c in day.by_id("me-floods").changes if c.kind == "figure"]
    days = [
        StoryDay(day=MON, status="new", event=monday),
        StoryDay(day=TUE, status="updated", changes=changes, event=tuesday_event),
    ]
    told = story_day_sentences(days[1], days[:1], [], day.sources)
    assert [(text, [id(r) for r in records]) for text, records in told] == [
        ("Durban evacuated families from flooded homes.", [id(tuesday_event)]),
        (
            "The number of families evacuated rose from 40 (Harbour Tribune) to 65 on Tuesday "
            "(Southern Wire).",
            [id(monday), id(tuesday_event)],
        ),
        ("Southern Wire reported it.", [id(tuesday_event)]),
    ]


# --- the multi-day stories of the evaluation, statuses set as their gold gives them ------------


def _stories() -> list[DayStory]:
    return load_day_stories()


def _with_gold_statuses(story: DayStory, upto: int) -> briefer.Briefing:
    """The briefing of the story's days up to ``upto``, read together as a store holds them,
    each event of that day given the gold status and changes, in the articles' words."""
    days = story.days[: upto + 1]
    paths = [str(p) for d in days for p in d.articles.values()]
    stems = {d.id: Path(d.source.path or "").stem for d in briefer.load_sources(paths).documents}

    def answer(request: LLMRequest) -> str:
        return json.dumps(story.reply(stems[request.context.source_id or ""]))

    options = briefer.BriefOptions(date=days[-1].date, compose=False)
    extracted = briefer.extract(paths, client=FunctionClient(answer), options=options)
    label_of = {}
    for record in extracted.extraction.events:
        stem = stems[record.source_id]
        for n, reply in enumerate((story.reply(stem) or {}).get("events", [])):
            if " ".join(reply["summary"].split()) == " ".join(record.summary.split()):
                label_of[record.id] = f"{stem}:e{n}"
    briefing = briefer.brief(paths, client=FunctionClient(answer), options=options)
    today = set(days[-1].articles)
    gold = story.gold["statuses"][days[-1].name]
    outlet = {s.id: s.outlet for s in briefing.sources}
    events = []
    for merged in briefing.events:
        labels = [label_of[m] for m in merged.members if m in label_of]
        names = sorted(
            story.gold["events"][lb]["story"] for lb in labels if lb.split(":")[0] in today
        )
        if not names:
            events.append(merged)
            continue
        entry = gold[names[0]]
        brought = [sid for sid in merged.source_ids if stems[sid] in today]
        changes = [_change(c, merged, brought, outlet) for c in entry.get("changes", [])]
        events.append(merged.model_copy(update={"status": entry["status"], "changes": changes}))
    return briefing.model_copy(update={"events": events})


def _change(
    gold: dict[str, Any], event: MergedEvent, brought: list[str], outlet: dict[str, str | None]
) -> StoryChange:
    kind = gold["kind"]
    if kind == "figure":

        def words(value: float) -> str:
            texts = [q.text for q in event.quantities if q.value == value]
            texts += [v.text for u in event.updates for v in u.values if v.value == value]
            return next((t for t in texts if t), str(value))

        field_name = next((u.field for u in event.updates), "quantity")
        return StoryChange(
            kind="figure",
            field=field_name,
            before=words(gold["from"]),
            after=words(gold["to"]),
            source_ids=brought,
        )
    if kind == "outlet":
        return StoryChange(
            kind="outlet",
            outlet=gold["outlet"],
            source_ids=[sid for sid in brought if outlet[sid] == gold["outlet"]],
        )
    if kind == "stance":
        return StoryChange(kind="stance", holder=gold["holder"], source_ids=brought)
    field_name = next((c.field for c in event.conflicts), "quantity")
    return StoryChange(kind=kind, field=field_name, source_ids=brought)


@pytest.mark.parametrize("story", _stories(), ids=lambda s: s.name)
def test_each_day_of_the_day_stories_is_told_and_checked(story: DayStory) -> None:
    for upto, day in enumerate(story.days):
        briefing = _with_gold_statuses(story, upto)
        items = compose_deterministic(briefing, briefing.sources)
        shown = [i for i in items if i.section == "since"]
        records = {r.id: r for r in (*briefing.events, *briefing.stances)}
        for item in shown:
            label = item.headline == "Continuing"
            checked = as_compose_item(item, label=label)
            failures = check_item(checked, records, sources=briefing.sources)
            assert failures == [], (day.name, item.headline, failures)
        # One item per new or updated event, most important first, then the compact line.
        fresh = [e.id for e in briefing.events if e.status in ("new", "updated")]
        stale = [e.id for e in briefing.events if e.status == "continuing"]
        told = [i for i in shown if i.headline != "Continuing"]
        assert sorted(i.citations[0] for i in told) == sorted(fresh), day.name
        lines = [i for i in shown if i.headline == "Continuing"]
        assert len(lines) == bool(stale)
        assert sorted(c for i in lines for c in i.citations) == sorted(stale), day.name
        # An updated story says what changed, not only who reported it (a story a run without
        # a store keeps as two events tells it once: the other has no earlier day to compare).
        status = {e.id: e.status for e in briefing.events}
        updated = [i for i in told if status[i.citations[0]] == "updated"]
        if updated:
            assert any(not i.sentences[0].endswith(" reported it.") for i in updated), day.name
