from __future__ import annotations

import datetime as dt
import hashlib
import random

import pytest

import briefer.merging._merge as merge_module
from briefer.merging._merge import merge_records
from briefer.merging._outlets import outlet_groups, syndicated_pairs
from briefer.models import (
    Actor,
    DatePrecision,
    Document,
    EventRecord,
    EventType,
    Evidence,
    Quantity,
    Source,
    StanceRecord,
)

US = Actor(name="the United States", canonical="United States", country="USA", kind="government")
NK = Actor(name="Pyongyang", canonical="North Korea", country="PRK", kind="government")
TREASURY = Actor(
    name="the Treasury", canonical="US Treasury Department", country="USA", kind="government"
)

VOA_TEXT = (
    "The United States Wednesday strengthened its own sanctions against North Korea, "
    "designating five North Koreans it alleges are responsible for securing goods for "
    "Pyongyang's weapons programs."
)
YONHAP_TEXT = (
    "In response, the U.S. slapped fresh sanctions on six North Koreans involved in the "
    "North's weapons of mass destruction and ballistic missile programs."
)


def doc(sid: str, text: str, outlet: str | None) -> Document:
    return Document(
        source=Source(
            id=sid,
            title=f"Story {sid}",
            url=f"https://example.org/{sid}",
            path=None,
            outlet=outlet,
            published=dt.date(2022, 1, 12),
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            tokens=len(text.split()),
            chars=len(text),
        ),
        text=text,
    )


def evidence(document: Document, quote: str) -> Evidence:
    start = document.text.index(quote)
    return Evidence(source_id=document.id, quote=quote, start=start, end=start + len(quote))


def event(
    rid: str,
    source: Document,
    quote: str,
    summary: str,
    *,
    type: EventType = "SANCTION",
    date: dt.date | None = dt.date(2022, 1, 12),
    precision: DatePrecision = "day",
    quantities: list[Quantity] | None = None,
    location: str | None = None,
    actors: list[Actor] | None = None,
    targets: list[Actor] | None = None,
) -> EventRecord:
    return EventRecord(
        id=rid,
        type=type,
        summary=summary,
        actors=actors or [US],
        targets=[NK] if targets is None else targets,
        date=date,
        date_text=None,
        date_precision=precision,
        location=location,
        quantities=quantities or [],
        factuality="asserted",
        evidence=[evidence(source, quote)],
        confidence=0.9,
        source_id=source.id,
    )


def people(n: int, text: str) -> Quantity:
    return Quantity(kind="people sanctioned", value=float(n), text=text)


@pytest.fixture
def voa() -> Document:
    return doc("src-voa", VOA_TEXT, "VOA")


@pytest.fixture
def yonhap() -> Document:
    return doc("src-yonhap", YONHAP_TEXT, "Yonhap")


def test_five_versus_six_from_two_outlets_merge_with_a_conflict(
    voa: Document, yonhap: Document
) -> None:
    a = event(
        "ev-voa-1",
        voa,
        "designating five North Koreans",
        "The United States sanctioned five North Koreans over weapons programs.",
        quantities=[people(5, "five North Koreans")],
    )
    b = event(
        "ev-yon-1",
        yonhap,
        "slapped fresh sanctions on six North Koreans",
        "The US imposed sanctions on six North Koreans over weapons programs.",
        quantities=[people(6, "six North Koreans")],
        date=dt.date(2022, 1, 13),
    )
    result = merge_records([a, b], [], [voa, yonhap])

    assert len(result.events) == 1
    merged = result.events[0]
    assert merged.members == ["ev-voa-1", "ev-yon-1"]
    assert merged.source_ids == ["src-voa", "src-yonhap"]
    assert merged.corroboration == 2
    assert {(e.source_id, e.quote) for e in merged.evidence} == {
        ("src-voa", "designating five North Koreans"),
        ("src-yonhap", "slapped fresh sanctions on six North Koreans"),
    }
    by_field = {c.field: c for c in merged.conflicts}
    people_conflict = by_field["quantities.people sanctioned"]
    assert {(v.value, tuple(v.source_ids)) for v in people_conflict.values} == {
        (5.0, ("src-voa",)),
        (6.0, ("src-yonhap",)),
    }
    # Never averaged: the value shown is one an outlet gave.
    assert merged.quantities[0].value in (5.0, 6.0)
    assert {v.value for v in by_field["date"].values} == {"2022-01-12", "2022-01-13"}


def test_two_same_day_events_of_one_source_with_different_counts_stay_two() -> None:
    text = (
        "North Korea fired two missiles from Sunan in the morning. Hours later it fired "
        "three missiles from Wonsan toward the sea."
    )
    source = doc("src-a", text, "Wire")
    first = event(
        "ev-1",
        source,
        "fired two missiles from Sunan",
        "North Korea fired missiles from Sunan into the sea.",
        type="ASSAULT",
        actors=[NK],
        targets=[],
        quantities=[Quantity(kind="missiles fired", value=2, text="two missiles")],
        location="Sunan",
    )
    second = event(
        "ev-2",
        source,
        "fired three missiles from Wonsan toward the sea",
        "North Korea fired missiles from Wonsan into the sea.",
        type="ASSAULT",
        actors=[NK],
        targets=[],
        quantities=[Quantity(kind="missiles fired", value=3, text="three missiles")],
        location="Wonsan",
    )
    result = merge_records([first, second], [], [source])
    assert len(result.events) == 2
    assert all(not e.conflicts for e in result.events)
    # The two were compared (same block) and kept apart by the rule, not by blocking.
    assert result.comparisons == 1


def test_same_source_rule_holds_through_a_third_record(voa: Document, yonhap: Document) -> None:
    """A cluster never ends up with two differing records of one source, even transitively."""
    text = VOA_TEXT + " Separately, the Treasury designated six more North Koreans."
    voa2 = doc("src-voa", text, "VOA")
    a = event(
        "ev-a",
        voa2,
        "designating five North Koreans",
        "The United States sanctioned North Koreans over weapons programs.",
        quantities=[people(5, "five")],
    )
    c = event(
        "ev-c",
        voa2,
        "designated six more North Koreans",
        "The United States sanctioned North Koreans over weapons programs.",
        quantities=[people(6, "six")],
    )
    b = event(
        "ev-b",
        yonhap,
        "slapped fresh sanctions on six North Koreans",
        "The United States sanctioned North Koreans over weapons programs.",
        quantities=[people(6, "six")],
    )
    result = merge_records([a, b, c], [], [voa2, yonhap])
    for merged in result.events:
        members = {m for m in merged.members}
        assert not {"ev-a", "ev-c"} <= members
    assert len(result.events) == 2


def test_low_similarity_records_by_other_actors_with_different_counts_stay_apart(
    voa: Document, yonhap: Document
) -> None:
    a = event(
        "ev-1",
        voa,
        "designating five North Koreans",
        "Treasury designates North Korean procurement agents for weapons goods.",
        quantities=[people(5, "five")],
    )
    b = event(
        "ev-2",
        yonhap,
        "slapped fresh sanctions on six North Koreans",
        "Tokyo blacklists North Korean missile scientists over launches.",
        quantities=[people(6, "six")],
        actors=[Actor(name="Tokyo", canonical="Japan", country="JPN", kind="government")],
    )
    assert len(merge_records([a, b], [], [voa, yonhap]).events) == 2


def test_same_count_of_same_actors_same_day_merges_however_worded(
    voa: Document, yonhap: Document
) -> None:
    # Outlets word one designation differently; the structure (type, day, actors, what is
    # counted) says it is one event, and the differing counts become a conflict.
    a = event(
        "ev-1",
        voa,
        "designating five North Koreans",
        "Treasury designates North Korean procurement agents for weapons goods.",
        quantities=[people(5, "five")],
        actors=[TREASURY],
    )
    b = event(
        "ev-2",
        yonhap,
        "slapped fresh sanctions on six North Koreans",
        "Washington blacklists North Korean missile scientists over launches.",
        quantities=[people(6, "six")],
    )
    [merged] = merge_records([a, b], [], [voa, yonhap]).events
    [conflict] = merged.conflicts
    assert {(v.value, tuple(v.source_ids)) for v in conflict.values} == {
        (5.0, ("src-voa",)),
        (6.0, ("src-yonhap",)),
    }
    # A day apart, the same wording gap keeps them apart.
    c = b.model_copy(update={"date": dt.date(2022, 1, 13)})
    assert len(merge_records([a, c], [], [voa, yonhap]).events) == 2


def test_syndicated_copies_count_once_for_corroboration() -> None:
    story = (
        "The United Nations Security Council will meet on Thursday to discuss new sanctions "
        "on North Korea after a series of missile launches this month, diplomats said, "
        "adding that China and Russia have not yet said whether they would support the "
        "proposal put forward by the United States and its allies."
    )
    wire = doc("src-wire", story, "Global Wire")
    copy = doc("src-copy", "Reprinted from Global Wire. " + story, "Daily Courier")
    other = doc(
        "src-other",
        "Diplomats in New York said the Security Council would take up a US proposal for "
        "fresh penalties against Pyongyang on Thursday, with Beijing and Moscow undecided.",
        "Harbor Post",
    )
    assert syndicated_pairs([wire, copy, other]) == [("src-wire", "src-copy")]
    groups = outlet_groups([wire, copy, other])
    assert groups["src-wire"] == groups["src-copy"] != groups["src-other"]

    records = [
        event(
            f"ev-{d.id}",
            d,
            d.text[:60],
            "The Security Council will meet to discuss new sanctions on North Korea.",
            type="CONSULT",
        )
        for d in (wire, copy, other)
    ]
    result = merge_records(records, [], [wire, copy, other])
    assert len(result.events) == 1
    assert len(result.events[0].source_ids) == 3
    assert result.events[0].corroboration == 2


def test_same_outlet_name_counts_once(voa: Document) -> None:
    voa_b = doc("src-voa-b", "Another VOA report: " + VOA_TEXT[::-1], "voa")
    groups = outlet_groups([voa, voa_b])
    assert groups[voa.id] == groups[voa_b.id]


def test_events_in_other_blocks_are_never_compared(
    voa: Document, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[str, str]] = []
    real = merge_module._pair_score

    def spy(a: merge_module._EventFeatures, b: merge_module._EventFeatures) -> float | None:
        compared.append(tuple(sorted((a.record.id, b.record.id))))  # type: ignore[arg-type]
        return real(a, b)

    monkeypatch.setattr(merge_module, "_pair_score", spy)
    summary = "The United States sanctioned North Koreans over weapons programs."
    quote = "designating five North Koreans"
    base = event("ev-base", voa, quote, summary)
    same_block = event("ev-next-day", voa, quote, summary, date=dt.date(2022, 1, 13))
    other_quad = event("ev-quad", voa, quote, summary, type="ACCUSE")
    far_day = event("ev-far", voa, quote, summary, date=dt.date(2022, 1, 15))
    other_actors = event(
        "ev-actors",
        voa,
        quote,
        summary,
        actors=[Actor(name="Japan", canonical="Japan", country="JPN", kind="government")],
        targets=[],
    )
    undated = event("ev-undated", voa, quote, summary, date=None, precision="unknown")
    # "Last week", written on 17 January: the week of Monday 10 January.
    imprecise = event("ev-week", voa, quote, summary, date=dt.date(2022, 1, 10), precision="week")
    records = [base, same_block, other_quad, far_day, other_actors, undated, imprecise]
    result = merge_records(records, [], [voa])

    pairs = set(compared)
    assert result.comparisons == len(compared) == len(pairs)  # each pair once
    assert ("ev-base", "ev-next-day") in pairs
    # A week-precise date covers its week: 12 January is in the week of 10 January.
    assert ("ev-base", "ev-week") in pairs
    # An article with no date at all still reports the day's events: it is compared with them.
    assert ("ev-base", "ev-undated") in pairs
    for never in ("ev-quad", "ev-actors"):
        assert not any(never in p for p in pairs), never
    assert ("ev-base", "ev-far") not in pairs  # three days apart, both day-precise


def _letters(n: int) -> str:
    return "".join("bcdfghjklmnpqrstvwxz"[int(d)] for d in f"{n:03d}").capitalize() + "ova"


def test_comparisons_grow_with_block_sizes_not_all_pairs() -> None:
    text = "x " * 10
    source = doc("src-x", text, "X")
    rng = random.Random(7)
    actors = [
        # Distinct names, as real actors have (digits are no name words).
        Actor(name=f"A{i}", canonical=f"Agent {_letters(i)}", country=None, kind="government")
        for i in range(40)
    ]
    records = [
        EventRecord(
            id=f"ev-{i:04d}",
            type=rng.choice(["SANCTION", "ACCUSE", "AID", "AGREE"]),
            summary=f"Actor item {i} reported",
            actors=[rng.choice(actors)],
            targets=[],
            date=dt.date(2022, 1, 1) + dt.timedelta(days=rng.randrange(30)),
            date_text=None,
            date_precision="day",
            location=None,
            quantities=[],
            factuality="asserted",
            evidence=[Evidence(source_id="src-x", quote="x", start=0, end=1)],
            confidence=0.5,
            source_id="src-x",
        )
        for i in range(2000)
    ]
    result = merge_records(records, [], [source])
    all_pairs = len(records) * (len(records) - 1) // 2
    assert result.comparisons < all_pairs / 100


def _stance(rid: str, source: Document, quote: str, claim: str, holder: Actor = US) -> StanceRecord:
    return StanceRecord(
        id=rid,
        holder=holder,
        topic="UN sanctions on North Korea",
        target="North Korea",
        polarity="favor",
        quote_type="direct",
        claim=claim,
        evidence=[evidence(source, quote)],
        date=dt.date(2022, 1, 12),
        source_id=source.id,
    )


def test_stances_merge_when_one_quote_contains_the_other() -> None:
    text = 'She said: "We want the Security Council to impose stronger sanctions now."'
    a_doc = doc("src-a", text, "A")
    b_doc = doc("src-b", "Quoted: we want the  Security Council to impose stronger", "B")
    long = _stance(
        "st-1", a_doc, "We want the Security Council to impose stronger sanctions now", "wants more"
    )
    short = _stance(
        "st-2", b_doc, "we want the  Security Council to impose stronger", "asks for sanctions"
    )
    other_holder = _stance(
        "st-3",
        a_doc,
        "We want the Security Council to impose stronger sanctions now",
        "wants more",
        holder=NK,
    )
    result = merge_records([], [long, short, other_holder], [a_doc, b_doc])
    assert len(result.stances) == 2
    us = next(s for s in result.stances if s.holder.canonical == "United States")
    assert us.members == ["st-1", "st-2"]
    assert us.source_ids == ["src-a", "src-b"]
    assert len(us.evidence) == 2
    assert us.id.startswith("ms-")


def test_ids_and_order_are_deterministic(voa: Document, yonhap: Document) -> None:
    records = [
        event(
            "ev-voa-1",
            voa,
            "designating five North Koreans",
            "The United States sanctioned five North Koreans over weapons programs.",
            quantities=[people(5, "five")],
        ),
        event(
            "ev-yon-1",
            yonhap,
            "slapped fresh sanctions on six North Koreans",
            "The US imposed sanctions on six North Koreans over weapons programs.",
            quantities=[people(6, "six")],
        ),
        event(
            "ev-voa-2",
            voa,
            "strengthened its own sanctions",
            "The United States proposed more UN sanctions.",
            type="REQUEST",
            date=dt.date(2022, 1, 11),
        ),
    ]
    first = merge_records(records, [], [voa, yonhap])
    second = merge_records(list(reversed(records)), [], [yonhap, voa])
    assert first == second
    assert [e.id for e in first.events] == [e.id for e in second.events]
    expected = "me-" + hashlib.sha256(b"ev-voa-1\nev-yon-1").hexdigest()[:12]
    assert expected in [e.id for e in first.events]
    assert [e.date for e in first.events] == sorted(e.date for e in first.events if e.date)


def test_majority_value_is_shown_and_the_minority_kept(voa: Document, yonhap: Document) -> None:
    third = doc(
        "src-third",
        "Washington on Wednesday sanctioned five North Koreans tied to weapons programs "
        "in Vladivostok.",
        "Harbor Post",
    )
    records = [
        event(
            "ev-a",
            voa,
            "designating five North Koreans",
            "The United States sanctioned five North Koreans over weapons programs.",
            quantities=[people(5, "five North Koreans")],
            location="Pyongyang",
        ),
        event(
            "ev-b",
            yonhap,
            "slapped fresh sanctions on six North Koreans",
            "The United States sanctioned six North Koreans over weapons programs.",
            quantities=[people(6, "six North Koreans")],
            location="pyongyang",
        ),
        event(
            "ev-c",
            third,
            "sanctioned five North Koreans tied to weapons programs",
            "The United States sanctioned five North Koreans tied to weapons programs.",
            quantities=[people(5, "five North Koreans")],
            location="Vladivostok",
        ),
    ]
    [merged] = merge_records(records, [], [voa, yonhap, third]).events
    assert merged.corroboration == 3
    assert [q.value for q in merged.quantities] == [5.0]
    by_field = {c.field: c for c in merged.conflicts}
    counts = by_field["quantities.people sanctioned"].values
    assert [(v.value, v.source_ids) for v in counts] == [
        (5.0, ["src-third", "src-voa"]),
        (6.0, ["src-yonhap"]),
    ]
    # Outlets name one place at different scales far more often than they disagree on it:
    # places are shown, not set against each other.
    assert "location" not in by_field
    assert "date" not in by_field


def test_a_wire_story_rewritten_in_places_is_still_a_copy() -> None:
    wire = (
        "Donors pledged more than one billion dollars for Somalia at a conference in Nairobi on "
        "Tuesday, with the European Union and the United Kingdom making the largest offers. "
        "Aid agencies said the money would go first to drought relief in the south, where "
        "harvests have failed for a third year. Officials said a fifth of the sum would pay for "
        "water projects and clinics in displaced people's camps near Baidoa and Kismayo."
    )
    rewrite = (
        "Kenya hosted the meeting and pledged help with logistics for the convoys. "
        + wire.split(". ", 1)[1]
        + " Critics said the pledges fell short of what the United Nations had asked for."
    )
    other = (
        "A separate report from Mogadishu said the government welcomed the pledges and promised "
        "an audit of how earlier aid had been spent, after complaints from several donors."
    )
    docs = [doc("src-w", wire, "Meridian Press"), doc("src-r", rewrite, "Horn Daily")]
    docs.append(doc("src-o", other, "Coast Courier"))
    assert syndicated_pairs(docs) == [("src-w", "src-r")] or syndicated_pairs(docs) == [
        ("src-r", "src-w")
    ]
    groups = outlet_groups(docs)
    assert groups["src-w"] == groups["src-r"] != groups["src-o"]
