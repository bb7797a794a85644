from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest

from briefer._resources import read_resource
from briefer.citations import check_item, numbers_in
from briefer.compose import (
    PROMPT_VERSION,
    as_compose_item,
    build_compose_request,
    compose_deterministic,
    compose_items,
)
from briefer.errors import BudgetExceededError, ReplayMissError
from briefer.json_schemas import schema_for
from briefer.llm.base import LLMRequest, LLMResponse
from briefer.llm.fake import FunctionClient, Reply
from briefer.llm.structured import LLMRunner
from briefer.merge import MergeResult, merge_records
from briefer.models import (
    Actor,
    ComposeItem,
    ComposeSentence,
    Document,
    EventRecord,
    Evidence,
    Quantity,
    Source,
    StanceRecord,
)
from briefer.words import ordinary_words

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
    assert request.prompt_version == PROMPT_VERSION == "compose/v2"
    assert request.response_schema == schema_for("compose")
    assert request.messages[0].content == read_resource("prompts", "compose_system.txt")
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
    expected = compose_deterministic(merged, sources(documents), date=DAY)
    assert top == [i for i in expected if i.section == "top"]
    assert "deterministic composer" in result.notes[0]


async def test_a_refusal_gives_the_whole_deterministic_briefing(
    merged: MergeResult, documents: list[Document]
) -> None:
    refusal = LLMResponse(content=None, refusal="I cannot help with that.")
    runner, _ = runner_for([refusal])
    result = await run(merged, documents, runner)
    assert result.composer == "deterministic"
    assert result.items == compose_deterministic(merged, sources(documents), date=DAY)
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
    items = compose_deterministic(merged, sources(documents), date=DAY)
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
    assert "Reported by VOA and Yonhap." in top.sentences
    assert (
        "Outlets disagree on the number of people sanctioned: 5 (VOA), 6 (Yonhap)." in top.sentences
    )
    # The launch summary states numbers its evidence does not give: the quote is used instead.
    launch = items[1]
    assert launch.citations == [launch_id]
    assert launch.sentences[0] == (
        'Yonhap reported: "North Korea fired two tactical guided missiles on Monday"'
    )
    stance = items[3]
    assert stance.citations == [stance_id]
    assert stance.headline == "Linda Thomas-Greenfield"
    assert "in favour" in stance.sentences[0]
    assert [i.headline for i in items if i.section == "timeline"] == [
        "12 January 2022",
        "17 January 2022",
    ]


def test_check_item_reads_digits_words_and_dates(merged: MergeResult) -> None:
    sanction_id, _, stance_id = ids(merged)
    records = {r.id: r for r in (*merged.events, *merged.stances)}

    def failures(text: str, cites: list[str]) -> list[str]:
        return check_item(
            ComposeItem(headline="h", sentences=[ComposeSentence(text=text, citations=cites)]),
            records,
        )

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
    records = {r.id: r for r in (*merged.events, *merged.stances)}

    def failures(text: str, cites: list[str]) -> list[str]:
        return check_item(
            ComposeItem(headline="h", sentences=[ComposeSentence(text=text, citations=cites)]),
            records,
        )

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
