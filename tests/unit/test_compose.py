from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from briefer._prompts import load_template
from briefer.composition._citations import check_item
from briefer.composition._compose import (
    build_compose_request,
    compose_items,
    compose_max_tokens,
)
from briefer.composition._deterministic import compose_deterministic
from briefer.composition._wording import TOP_ITEMS
from briefer.errors import BudgetExceededError, ReplayMissError
from briefer.json_schemas import schema_for
from briefer.llm.base import LLMRequest, LLMResponse
from briefer.llm.fake import FunctionClient, Reply
from briefer.llm.openai import Endpoint, OpenAIClient
from briefer.llm.structured import LLMRunner
from briefer.merging._merge import MergeResult, merge_records
from briefer.models import (
    Actor,
    BriefingItem,
    ComposeItem,
    ComposeSentence,
    Conflict,
    ConflictValue,
    Document,
    EventRecord,
    Evidence,
    MergedEvent,
    MergedStance,
    Quantity,
    Source,
    StanceRecord,
    Update,
    UpdateValue,
)
from briefer.testing import FakeOpenAIServer, FakeReply
from briefer.text.numbers import numbers_in
from briefer.text.words import ordinary_words

US = Actor(name="the United States", canonical="United States", country="USA", kind="government")
NK = Actor(name="North Korea", canonical="North Korea", country="PRK", kind="government")
ENVOY = Actor(
    name="Linda Thomas-Greenfield",
    canonical="Linda Thomas-Greenfield",
    country="USA",
    kind="person",
)
VOA_TEXT = (
    "The United States Wednesday strengthened its own sanctions against North Korea, "
    "designating five North Koreans it alleges are responsible for securing goods for "
    "Pyongyang's weapons programs. The United States wants the United Nations Security Council "
    "to impose stronger sanctions, according to a tweet from Linda Thomas-Greenfield."
)
YONHAP_TEXT = (
    "In response, the U.S. slapped fresh sanctions on six North Koreans involved in the "
    "North's weapons of mass destruction and ballistic missile programs. North Korea fired "
    "two tactical guided missiles on Monday."
)
DAY = dt.date(2022, 1, 12)


def document(sid: str, text: str, outlet: str) -> Document:
    return Document(
        source=Source(
            id=sid,
            title=f"{outlet} report",
            url=f"https://example.org/{sid}",
            path=None,
            outlet=outlet,
            published=DAY,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            tokens=len(text.split()),
            chars=len(text),
        ),
        text=text,
    )


def ev(doc: Document, quote: str) -> Evidence:
    start = doc.text.index(quote)
    return Evidence(source_id=doc.id, quote=quote, start=start, end=start + len(quote))


def event(rid: str, doc: Document, quote: str, summary: str, **fields: Any) -> EventRecord:
    base: dict[str, Any] = {
        "id": rid,
        "type": "SANCTION",
        "summary": summary,
        "actors": [US],
        "targets": [NK],
        "date": DAY,
        "date_text": "Wednesday",
        "date_precision": "day",
        "location": None,
        "quantities": [],
        "factuality": "asserted",
        "evidence": [ev(doc, quote)],
        "confidence": 0.9,
        "source_id": doc.id,
    }
    base.update(fields)
    return EventRecord.model_validate(base)


@pytest.fixture
def documents() -> list[Document]:
    return [document("src-voa", VOA_TEXT, "VOA"), document("src-yonhap", YONHAP_TEXT, "Yonhap")]


@pytest.fixture
def merged(documents: list[Document]) -> MergeResult:
    voa, yonhap = documents
    events = [
        event(
            "ev-voa-1",
            voa,
            "designating five North Koreans",
            "The United States sanctioned five North Koreans over weapons programs.",
            quantities=[Quantity(kind="people sanctioned", value=5, text="five North Koreans")],
        ),
        event(
            "ev-yon-1",
            yonhap,
            "slapped fresh sanctions on six North Koreans",
            "The US imposed sanctions on six North Koreans over weapons programs.",
            quantities=[Quantity(kind="people sanctioned", value=6, text="six North Koreans")],
        ),
        event(
            "ev-yon-2",
            yonhap,
            "North Korea fired two tactical guided missiles on Monday",
            # The summary carries a number its evidence does not give: not to be written.
            "North Korea fired 3 missiles in its fourth test of the month.",
            type="ASSAULT",
            actors=[NK],
            targets=[],
            date=dt.date(2022, 1, 17),
        ),
    ]
    stances = [
        StanceRecord(
            id="st-1",
            holder=ENVOY,
            topic="UN sanctions on North Korea",
            target="North Korea",
            polarity="favor",
            quote_type="indirect",
            claim="The US wants the Security Council to impose stronger sanctions.",
            evidence=[
                ev(voa, "wants the United Nations Security Council to impose stronger sanctions")
            ],
            date=DAY,
            source_id=voa.id,
        )
    ]
    return merge_records(events, stances, documents)


def sources(documents: list[Document]) -> list[Source]:
    return [d.source for d in documents]


def ids(merged: MergeResult) -> tuple[str, str, str]:
    sanction = next(e for e in merged.events if e.type == "SANCTION")
    launch = next(e for e in merged.events if e.type == "ASSAULT")
    return sanction.id, launch.id, merged.stances[0].id


def item(headline: str, *sentences: tuple[str, list[str]]) -> dict[str, Any]:
    return {
        "headline": headline,
        "sentences": [{"text": t, "citations": c} for t, c in sentences],
    }


def as_compose_item(item: BriefingItem) -> ComposeItem:
    """A briefing item in the model's shape, so ``check_item`` can check any item."""
    return ComposeItem(
        headline=item.headline,
        sentences=[
            ComposeSentence(text=text, citations=list(ids))
            for text, ids in zip(item.sentences, item.sentence_citations, strict=True)
        ],
    )


def runner_for(replies: list[Reply]) -> tuple[LLMRunner, FunctionClient]:
    queue = list(replies)

    def answer(request: LLMRequest) -> Reply:
        return queue.pop(0)

    client = FunctionClient(answer)
    return LLMRunner(client, model="test-model", max_repairs=0), client


async def run(merged: MergeResult, documents: list[Document], runner: LLMRunner | None) -> Any:
    return await compose_items(
        merged,
        sources(documents),
        runner,
        model="test-model",
        date=DAY,
        title="Briefing",
        common_words=ordinary_words(d.text for d in documents),
    )


def test_the_request_carries_the_records_and_the_versioned_instructions(
    merged: MergeResult, documents: list[Document]
) -> None:
    request = build_compose_request(
        merged, sources(documents), model="m", date=DAY, title="Daily briefing"
    )
    system = load_template("compose_system.txt")
    assert request.prompt_version == system.version == "compose/v2"
    assert request.response_schema == schema_for("compose")
    assert request.messages[0].content == system.text
    user = request.messages[1].content
    records = json.loads(user[user.index("{") :])
    sanction_id, launch_id, stance_id = ids(merged)
    event_ids = [e["id"] for e in records["events"]]
    assert event_ids[0] == sanction_id  # two outlets rank first
    assert set(event_ids) == {sanction_id, launch_id}
    sanction = records["events"][0]
    assert sanction["outlets"] == ["VOA", "Yonhap"]
    assert sanction["conflicts"][0]["values"][0]["outlets"] in (["VOA"], ["Yonhap"])
    assert records["stances"][0]["id"] == stance_id
    # Pure: the same inputs give the same request key.
    again = build_compose_request(
        merged, sources(documents), model="m", date=DAY, title="Daily briefing"
    )
    assert again.key() == request.key()


async def test_a_valid_reply_is_used_as_written(
    merged: MergeResult, documents: list[Document]
) -> None:
    sanction_id, _, stance_id = ids(merged)
    reply = {
        "items": [
            item(
                "US sanctions North Koreans",
                ("The United States sanctioned five North Koreans, VOA said.", [sanction_id]),
                ("Yonhap gave the number as 6.", [sanction_id]),
                ("The US envoy called for stronger UN sanctions.", [stance_id]),
            )
        ]
    }
    runner, client = runner_for([reply])
    result = await run(merged, documents, runner)
    assert result.composer == "llm"
    assert result.notes == []
    assert len(client.requests) == 1
    top = [i for i in result.items if i.section == "top"]
    assert len(top) == 1 and top[0].composer == "llm"
    assert top[0].sentence_citations == [[sanction_id], [sanction_id], [stance_id]]
    assert top[0].citations == [sanction_id, stance_id]
    # The other sections still come from the deterministic composer.
    sections = {i.section for i in result.items if i.composer == "deterministic"}
    assert sections == {"disagreements", "stances", "timeline"}


async def test_failing_items_are_asked_again_once_then_replaced(
    merged: MergeResult, documents: list[Document]
) -> None:
    sanction_id, launch_id, _ = ids(merged)
    first = {
        "items": [
            item("US sanctions North Koreans", ("The US sanctioned North Koreans.", [sanction_id])),
            item("Uncited", ("North Korea fired missiles.", [])),
            item("Unknown", ("The US acted.", ["me-000000000000"])),
            item("Seven", ("North Korea fired seven missiles.", [launch_id])),
        ]
    }
    second = {
        "items": [
            item("North Korea fires missiles", ("North Korea fired missiles.", [launch_id])),
            item(
                "US acts against North Korea", ("The US acted against North Korea.", [sanction_id])
            ),
            item("Still seven", ("North Korea fired 7 missiles.", [launch_id])),
        ]
    }
    runner, client = runner_for([first, second])
    result = await run(merged, documents, runner)

    assert len(client.requests) == 2
    followup = client.requests[1]
    assert followup.messages[:2] == client.requests[0].messages
    assert followup.messages[2].role == "assistant"
    assert json.loads(followup.messages[2].content)["items"][1]["headline"] == "Uncited"
    feedback = followup.messages[3].content
    assert "sentence 1 cites no record" in feedback
    assert "sentence 1 cites unknown id me-000000000000" in feedback
    assert "number seven in sentence 1 is not written in the evidence it cites" in feedback
    assert "US sanctions North Koreans" not in feedback  # only failing items are asked again

    top = [i for i in result.items if i.section == "top"]
    assert [i.headline for i in top[:3]] == [
        "US sanctions North Koreans",
        "North Korea fires missiles",
        "US acts against North Korea",
    ]
    replaced = top[3]
    assert replaced.composer == "deterministic"
    assert replaced.citations == [launch_id]
    assert not any("7" in s or "seven" in s for s in replaced.sentences)
    assert result.composer == "llm"
    assert len(result.notes) == 1 and "Still seven" in result.notes[0]
    assert "replaced by the deterministic text" in result.notes[0]


async def test_an_item_citing_nothing_valid_is_dropped(
    merged: MergeResult, documents: list[Document]
) -> None:
    sanction_id, _, _ = ids(merged)
    good = item("Sanctions", ("The US sanctioned North Koreans.", [sanction_id]))
    ghost = item("Ghost", ("Something happened.", ["me-ffffffffffff"]))
    runner, client = runner_for([{"items": [good, ghost]}, {"items": [ghost]}])
    result = await run(merged, documents, runner)
    assert len(client.requests) == 2
    assert [i.headline for i in result.items if i.section == "top"] == ["Sanctions"]
    assert len(result.notes) == 1 and "Ghost" in result.notes[0] and "dropped" in result.notes[0]


async def test_no_usable_model_item_gives_deterministic_top_developments(
    merged: MergeResult, documents: list[Document]
) -> None:
    runner, client = runner_for([{"items": []}])
    result = await run(merged, documents, runner)
    assert len(client.requests) == 1  # nothing failed, nothing to ask again
    top = [i for i in result.items if i.section == "top"]
    expected = compose_deterministic(merged, sources(documents))
    assert top == [i for i in expected if i.section == "top"]
    assert "deterministic composer" in result.notes[0]


async def test_a_refusal_gives_the_whole_deterministic_briefing(
    merged: MergeResult, documents: list[Document]
) -> None:
    refusal = LLMResponse(content=None, refusal="I cannot help with that.")
    runner, _ = runner_for([refusal])
    result = await run(merged, documents, runner)
    assert result.composer == "deterministic"
    assert result.items == compose_deterministic(merged, sources(documents))
    assert len(result.notes) == 1
    assert result.notes[0].startswith("composition by the model failed (the model refused")
    assert "deterministic composer" in result.notes[0]


async def test_a_replay_miss_falls_back_too(merged: MergeResult, documents: list[Document]) -> None:
    runner, _ = runner_for([ReplayMissError("no recording for request r1-abc", key="r1-abc")])
    result = await run(merged, documents, runner)
    assert result.composer == "deterministic"
    assert "no recording for request r1-abc" in result.notes[0]


async def test_budget_exceeded_falls_back_with_a_note(
    merged: MergeResult, documents: list[Document]
) -> None:
    runner, _ = runner_for([BudgetExceededError("over budget", spent=1.0, limit=0.5)])
    result = await run(merged, documents, runner)
    assert result.composer == "deterministic"
    assert result.items
    assert "over budget" in result.notes[0]


async def test_no_runner_means_the_deterministic_composer(
    merged: MergeResult, documents: list[Document]
) -> None:
    result = await run(merged, documents, None)
    assert result.composer == "deterministic"
    assert result.notes == []
    assert all(i.composer == "deterministic" for i in result.items)


def test_every_deterministic_item_passes_the_checks(
    merged: MergeResult, documents: list[Document]
) -> None:
    items = compose_deterministic(merged, sources(documents))
    records = {r.id: r for r in (*merged.events, *merged.stances)}
    assert [i.section for i in items] == [
        "top", "top", "disagreements", "stances", "timeline", "timeline",
    ]  # fmt: skip
    for briefing_item in items:
        checked = as_compose_item(briefing_item)
        if briefing_item.section == "timeline":
            # A timeline headline is the label of the day its events are dated to, not a
            # sentence: every sentence under it is checked like any other.
            checked = checked.model_copy(update={"headline": ""})
        assert check_item(checked, records, sources=sources(documents)) == []
        assert briefing_item.text == " ".join(briefing_item.sentences)
    sanction_id, launch_id, stance_id = ids(merged)
    top = items[0]
    assert top.citations == [sanction_id]
    assert "VOA and Yonhap reported it." in top.sentences
    assert (
        "Outlets disagree on the number of people sanctioned: 5 (VOA), 6 (Yonhap)." in top.sentences
    )
    # The launch summary states numbers its evidence does not give: the quote is used instead.
    launch = items[1]
    assert launch.citations == [launch_id]
    assert launch.sentences[0] == (
        "Yonhap reported: “North Korea fired two tactical guided missiles on Monday”."
    )
    stance = items[3]
    assert stance.citations == [stance_id]
    assert stance.headline == "Linda Thomas-Greenfield (United States)"
    # The quote names neither the question nor its topic: the position is told without them.
    assert stance.sentences == [
        "Linda Thomas-Greenfield supports, as reported: “wants the United Nations Security "
        "Council to impose stronger sanctions”."
    ]
    assert [i.headline for i in items if i.section == "timeline"] == [
        "12 January 2022",
        "17 January 2022",
    ]


def one_sentence_checker(merged: MergeResult) -> Callable[[str, list[str]], list[str]]:
    """What ``check_item`` finds wrong with one sentence, citing the given records."""
    records = {r.id: r for r in (*merged.events, *merged.stances)}

    def failures(text: str, cites: list[str]) -> list[str]:
        return check_item(
            ComposeItem(headline="h", sentences=[ComposeSentence(text=text, citations=cites)]),
            records,
        )

    return failures


def test_check_item_reads_digits_words_and_dates(merged: MergeResult) -> None:
    sanction_id, _, stance_id = ids(merged)
    failures = one_sentence_checker(merged)

    assert failures("Five, or 6, North Koreans were named on Wednesday.", [sanction_id]) == []
    # The resolved date is computed, not written: its day and year are no evidence.
    assert failures("Five North Koreans were named on 12 January 2022.", [sanction_id]) == [
        "number 12 in sentence 1 is not written in the evidence it cites",
        "number 2022 in sentence 1 is not written in the evidence it cites",
        "date January in sentence 1 is not written in the evidence it cites",
    ]
    assert failures("The US named 5 people.", [stance_id]) == [
        "number 5 in sentence 1 is not written in the evidence it cites"
    ]
    assert failures("About 1,000 people were named.", [sanction_id]) == [
        "number 1,000 in sentence 1 is not written in the evidence it cites"
    ]
    assert failures("Twenty-five were named.", [sanction_id])[0].startswith("number Twenty-five")
    assert numbers_in("3.5% of 2 million, a dozen, the 12th, G7") == [
        ("3.5%", 3.5),
        ("2 million", 2_000_000.0),
        ("dozen", 12.0),
        ("12th", 12.0),
    ]


def test_names_and_numbers_are_read_as_the_evidence_writes_them(merged: MergeResult) -> None:
    sanction_id, launch_id, _ = ids(merged)
    failures = one_sentence_checker(merged)

    # A state in several words is checked as the state; a pronoun "one" states no count.
    assert failures("North Korea fired two missiles, and the revised one flew.", [launch_id]) == []
    # A name no cited evidence writes, even first in the sentence, is not taken.
    assert failures(
        "Transnet said the United States sanctioned five North Koreans.", [sanction_id]
    ) == ["name Transnet in sentence 1 is not written in the evidence it cites"]
    assert failures("The F-35 fired two missiles.", [launch_id]) == [
        "number 35 in sentence 1 is not written in the evidence it cites",
        "name F in sentence 1 is not written in the evidence it cites",
    ]


# --- what the deterministic composer writes -----------------------------------------------------


@dataclass
class Records:
    """Merged records as composition reads them (the merge stage's result, or made by hand)."""

    events: list[MergedEvent] = field(default_factory=list)
    stances: list[MergedStance] = field(default_factory=list)


def doc(sid: str, outlet: str, published: dt.date, text: str) -> Document:
    made = document(sid, text, outlet)
    return made.model_copy(
        update={"source": made.source.model_copy(update={"published": published})}
    )


def merged_event(
    rid: str, quotes: list[tuple[Document, str]], summary: str, **fields: Any
) -> MergedEvent:
    evidence = [ev(d, q) for d, q in quotes]
    source_ids = sorted({d.id for d, _ in quotes})
    base: dict[str, Any] = {
        "id": rid,
        "type": "SANCTION",
        "summary": summary,
        "actors": [US],
        "targets": [NK],
        "date": DAY,
        "date_text": None,
        "date_precision": "day",
        "location": None,
        "quantities": [],
        "factuality": "asserted",
        "evidence": evidence,
        "confidence": 0.9,
        "source_id": source_ids[0],
        "members": [rid],
        "source_ids": source_ids,
        "corroboration": len(source_ids),
        "conflicts": [],
        "updates": [],
    }
    base.update(fields)
    return MergedEvent.model_validate(base)


def all_sentences(items: list[Any]) -> list[tuple[str, list[str], Any]]:
    return [
        (text, cited, item)
        for item in items
        for text, cited in zip(item.sentences, item.sentence_citations, strict=True)
    ]


def assert_checked(items: list[Any], records: Records, docs: list[Document]) -> None:
    """Every item passes the checks made on the model's items; a headline that is the label of
    days (a timeline day, the days a position changed between) is not a sentence."""
    by_id = {r.id: r for r in (*records.events, *records.stances)}
    for briefing_item in items:
        checked = as_compose_item(briefing_item)
        if briefing_item.section == "timeline" or "position changed" in briefing_item.headline:
            checked = checked.model_copy(update={"headline": ""})
        assert check_item(checked, by_id, sources=sources(docs)) == [], briefing_item


def test_no_sentence_states_a_disputed_count_as_fact(
    merged: MergeResult, documents: list[Document]
) -> None:
    items = compose_deterministic(merged, sources(documents))
    sanction_id, _, _ = ids(merged)
    told = []
    for text, cited, item in all_sentences(items):
        if sanction_id not in cited:
            continue
        if text.startswith("Outlets disagree") or " writes “" in text:
            told.append(text)  # the disagreement itself, each count beside its outlet
            continue
        assert not {v for _, v in numbers_in(text)} & {5.0, 6.0}, text
        assert not {v for _, v in numbers_in(item.headline)} & {5.0, 6.0}, item.headline
    assert told == [
        "Outlets disagree on the number of people sanctioned: 5 (VOA), 6 (Yonhap).",
        "Outlets disagree on the number of people sanctioned: 5 (VOA), 6 (Yonhap).",
        "VOA writes “five North Koreans”; Yonhap writes “six North Koreans”.",
    ]
    # The summary said "five": every section words the event without the count.
    worded = "The United States sanctioned North Koreans over weapons programs."
    for section in ("top", "disagreements", "timeline"):
        [first] = [i for i in items if i.section == section and sanction_id in i.citations]
        assert first.sentences[0] == worded, section
    assert items[0].headline == worded.rstrip(".")


def test_outlets_disagreeing_on_the_day_are_each_shown_their_own_day() -> None:
    meridian = doc(
        "src-mw",
        "Meridian Wire",
        dt.date(2022, 1, 13),
        "The United States on Wednesday imposed sanctions on five North Koreans.",
    )
    harbor = doc(
        "src-hp",
        "The Harbor Post",
        dt.date(2022, 1, 12),
        "The U.S. Treasury Department on January 11 designated five North Koreans.",
    )
    event = merged_event(
        "me-dates",
        [
            (meridian, "The United States on Wednesday imposed sanctions on five North Koreans"),
            (harbor, "The U.S. Treasury Department on January 11 designated five North Koreans"),
        ],
        "The United States imposed sanctions on five North Koreans on Wednesday.",
        date=dt.date(2022, 1, 12),
        date_text="on Wednesday",
        conflicts=[
            Conflict(
                field="date",
                values=[
                    ConflictValue(value="2022-01-12", source_ids=["src-mw"]),
                    ConflictValue(value="2022-01-11", source_ids=["src-hp"]),
                ],
            )
        ],
    )
    records = Records(events=[event])
    docs = [meridian, harbor]
    items = compose_deterministic(records, sources(docs))
    assert_checked(items, records, docs)

    top = items[0]
    assert top.headline == "The United States imposed sanctions on five North Koreans"
    assert top.sentences[:2] == [
        "The United States imposed sanctions on five North Koreans.",
        "Outlets disagree on the date: Wednesday (Meridian Wire), January 11 (The Harbor Post).",
    ]
    assert not any("It happened" in s for s in top.sentences)
    # In the timeline the event stands under each outlet's day, as that outlet's.
    timeline = {i.headline: i.sentences for i in items if i.section == "timeline"}
    assert timeline == {
        "11 January 2022": [
            "The United States imposed sanctions on five North Koreans "
            "(The Harbor Post dates it to this day)."
        ],
        "12 January 2022": [
            "The United States imposed sanctions on five North Koreans "
            "(Meridian Wire dates it to this day)."
        ],
    }


def test_updates_and_the_event_read_as_sentences_with_the_days_the_articles_give() -> None:
    tribune = doc(
        "src-ht",
        "Harbour Tribune",
        dt.date(2025, 3, 10),
        "DURBAN — Dockworkers at Durban went on strike on Monday. By Monday evening 12 ships "
        "were waiting at anchor outside the harbour.",
    )
    wire = doc(
        "src-sw",
        "Southern Wire",
        dt.date(2025, 3, 11),
        "DURBAN — The strike at Durban entered its second day on Tuesday, and 19 ships were "
        "waiting at anchor.",
    )
    workers = Actor(
        name="Dockworkers", canonical="Durban dockworkers", country="ZAF", kind="civil_society"
    )
    port = Actor(name="the port", canonical="Transnet", country="ZAF", kind="business")
    strike = merged_event(
        "me-strike",
        [
            (tribune, "Dockworkers at Durban went on strike on Monday"),
            (tribune, "By Monday evening 12 ships were waiting at anchor"),
            (wire, "The strike at Durban entered its second day on Tuesday, and 19 ships"),
        ],
        "Durban dockworkers walked off the job.",
        type="PROTEST",
        actors=[workers],
        targets=[port],
        date=dt.date(2025, 3, 10),
        date_text="on Monday",
        location="Durban",
        ongoing=True,
        updates=[
            Update(
                field="quantities.ships waiting",
                values=[
                    UpdateValue(
                        value=12, date=dt.date(2025, 3, 10), source_ids=["src-ht"], text="12 ships"
                    ),
                    UpdateValue(
                        value=19, date=dt.date(2025, 3, 11), source_ids=["src-sw"], text="19 ships"
                    ),
                ],
            )
        ],
    )
    records = Records(events=[strike])
    docs = [tribune, wire]
    items = compose_deterministic(records, sources(docs))
    assert_checked(items, records, docs)
    assert items[0].sentences == [
        "Durban dockworkers walked off the job.",
        "The number of ships waiting rose from 12 ships on Monday (Harbour Tribune) to 19 ships "
        "on Tuesday (Southern Wire).",
        "Durban dockworkers were the actors, and Transnet the target.",
        "It began on Monday.",
        "Harbour Tribune and Southern Wire reported it.",
    ]
    for text, _, _ in all_sentences(items):
        assert not any(word in text for word in ("Actors:", "targets:", "when:", "place:"))


def test_headlines_are_whole_and_clauses_go_only_when_their_evidence_is_missing() -> None:
    ledger = doc(
        "src-cl",
        "Continental Ledger",
        dt.date(2022, 1, 15),
        "Hours later, on Friday, the North fired two short-range ballistic missiles from a "
        "railway car. At a meeting, leader Kim Jong-un ordered officials to review "
        "trust-building measures with Washington and consider restarting suspended activities.",
    )
    north = Actor(name="the North", canonical="North Korea", country="PRK", kind="government")
    kim = Actor(name="Kim Jong-un", canonical="Kim Jong-un", country="PRK", kind="person")
    washington = Actor(
        name="Washington", canonical="United States", country="USA", kind="government"
    )
    launch = merged_event(
        "me-launch",
        [
            (
                ledger,
                "on Friday, the North fired two short-range ballistic missiles from a railway car",
            )
        ],
        # "third" is in no quote: the clause that says it goes, the rest stays whole.
        "North Korea fired two short-range ballistic missiles from a railway car, its third "
        "launch this month.",
        type="MOBILIZE",
        actors=[north],
        targets=[],
        date=dt.date(2022, 1, 14),
        date_text="on Friday",
    )
    review = merged_event(
        "me-review",
        [
            (
                ledger,
                "leader Kim Jong-un ordered officials to review trust-building measures with "
                "Washington and consider restarting suspended activities",
            )
        ],
        "Kim Jong-un ordered officials to review trust-building measures with Washington and "
        "consider restarting suspended activities.",
        type="THREATEN",
        actors=[kim],
        targets=[washington],
    )
    records = Records(events=[launch, review])
    docs = [ledger]
    items = compose_deterministic(records, sources(docs))
    assert_checked(items, records, docs)
    headlines = {i.citations[0]: i.headline for i in items if i.section == "top"}
    assert headlines == {
        "me-launch": "North Korea fired two short-range ballistic missiles from a railway car",
        "me-review": review.summary.rstrip("."),  # 121 characters, and no clause to cut at
    }
    launch_item = next(i for i in items if i.citations == ["me-launch"])
    assert launch_item.sentences == [
        "North Korea fired two short-range ballistic missiles from a railway car.",
        "It happened on Friday.",
        "Continental Ledger reported it.",
    ]


def stance(
    rid: str, d: Document, quote: str, holder: Actor, polarity: str, day: dt.date, **fields: Any
) -> StanceRecord:
    base: dict[str, Any] = {
        "id": rid,
        "holder": holder,
        "topic": "the port authority's pay offer",
        "target": "the pay offer",
        "polarity": polarity,
        "quote_type": "direct",
        "claim": "A position on the pay offer.",
        "evidence": [ev(d, quote)],
        "date": day,
        "source_id": d.id,
    }
    base.update(fields)
    return StanceRecord.model_validate(base)


def test_who_said_what_keeps_bodies_apart_and_shows_two_sides_and_changes() -> None:
    monday, wednesday = dt.date(2025, 3, 10), dt.date(2025, 3, 12)
    tribune = doc(
        "src-ht",
        "Harbour Tribune",
        monday,
        "DURBAN — The union said it does not support the port authority's pay offer. South "
        "Africa's Transport Ministry said it welcomed the new port tariffs. South Africa's "
        "Labour Ministry said the offer was too low but welcomed it as a start.",
    )
    wire = doc(
        "src-sw",
        "Southern Wire",
        wednesday,
        "DURBAN — The union said it supports the port authority's pay offer.",
    )
    union = Actor(
        name="the union", canonical="Dock Workers Union", country="ZAF", kind="civil_society"
    )

    def ministry(name: str) -> Actor:
        return Actor(name=name, canonical="South Africa", country="ZAF", kind="government")

    transport = ministry("South Africa's Transport Ministry")
    labour = ministry("South Africa's Labour Ministry")
    stances = [
        stance("st-no", tribune, "it does not support the port authority's pay offer", union,
               "against", monday),
        stance("st-yes", wire, "it supports the port authority's pay offer", union, "favor",
               wednesday),
        stance("st-transport", tribune, "it welcomed the new port tariffs", transport, "favor",
               monday, topic="the new port tariffs", target="the new port tariffs"),
        stance("st-labour-low", tribune, "the offer was too low", labour, "against", monday),
        stance("st-labour-ok", tribune, "welcomed it as a start", labour, "favor", monday),
    ]  # fmt: skip
    docs = [tribune, wire]
    merged = merge_records([], stances, docs)
    records = Records(stances=merged.stances)
    items = compose_deterministic(records, sources(docs))
    assert all(i.section == "stances" for i in items)
    assert_checked(items, records, docs)
    by_headline = {i.headline: i for i in items}
    assert set(by_headline) == {
        "The Dock Workers Union (South Africa): position changed, 10 to 12 March 2025",
        "South Africa's Labour Ministry",
        "South Africa's Transport Ministry",
    }
    change = by_headline[
        "The Dock Workers Union (South Africa): position changed, 10 to 12 March 2025"
    ]
    assert change.sentences == [
        "The Dock Workers Union opposed the pay offer and later supported it: “it does not support "
        "the port authority's pay offer” (Harbour Tribune), then “it supports the port "
        "authority's pay offer” (Southern Wire)."
    ]
    assert len(change.sentence_citations[0]) == 2
    labour = by_headline["South Africa's Labour Ministry"]
    assert labour.sentences == [
        "South Africa's Labour Ministry is reported on both sides of the pay offer: opposing "
        "it, “the offer was too low” (Harbour Tribune) and supporting it, “welcomed it as a "
        "start” (Harbour Tribune)."
    ]
    transport = by_headline["South Africa's Transport Ministry"]
    assert transport.sentences == [
        "South Africa's Transport Ministry supports the new port tariffs: “it welcomed the new "
        "port tariffs”."
    ]
    # One wording of a position throughout.
    for text, _, _ in all_sentences(items):
        assert not any(w in text for w in ("in favour", "is against", "(against)", "(favor)"))


def test_the_request_bounds_the_reply_by_the_items_asked_for(
    merged: MergeResult, documents: list[Document]
) -> None:
    request = build_compose_request(merged, sources(documents), model="m", date=DAY, title="B")
    assert request.max_tokens == compose_max_tokens(TOP_ITEMS)
    assert compose_max_tokens(1) < compose_max_tokens(TOP_ITEMS) < 4 * TOP_ITEMS * 300
    assert compose_max_tokens(TOP_ITEMS) >= TOP_ITEMS * 200  # room for items of a few sentences


async def test_the_token_bound_reaches_the_server_and_a_cut_reply_falls_back(
    merged: MergeResult, documents: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compose")
    with FakeOpenAIServer(replies=[FakeReply.truncated()]) as server:
        client = OpenAIClient(endpoint=Endpoint(base_url=server.base_url), max_retries=0)
        runner = LLMRunner(client, model="test-model", max_repairs=0)
        result = await run(merged, documents, runner)
    [received] = server.requests
    assert received.body["max_tokens"] == compose_max_tokens(TOP_ITEMS)
    # A server that runs on to the bound gives a cut reply: the briefing is still written.
    assert result.composer == "deterministic"
    assert "composition by the model failed" in result.notes[0]


def test_an_ongoing_event_began_only_where_a_quote_says_so() -> None:
    # "still evacuated on Wednesday" dates a day the evacuation went on, not its start.
    herald = doc(
        "src-ph",
        "Posavje Herald",
        dt.date(2026, 11, 18),
        "BREŽICE — About 1,350 residents of low-lying streets were still evacuated on Wednesday.",
    )
    crews = Actor(
        name="Civil protection",
        canonical="Brežice Civil Protection",
        country="SVN",
        kind="government",
    )
    evacuation = merged_event(
        "me-evac",
        [(herald, "About 1,350 residents of low-lying streets were still evacuated on Wednesday")],
        "About 1,350 residents of Brežice remained evacuated.",
        type="MOBILIZE",
        actors=[crews],
        date=dt.date(2026, 11, 18),
        date_text="on Wednesday",
        ongoing=True,
    )
    records = Records(events=[evacuation])
    items = compose_deterministic(records, sources([herald]))
    assert_checked(items, records, [herald])
    said = items[0].sentences
    assert "It was under way on Wednesday." in said, said
    assert not any(s.startswith("It began") for s in said), said
