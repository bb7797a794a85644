"""Compose: merged records → cited briefing items, by the model or by a deterministic composer.

The model writes only the "top" section, in one call; every item it returns is checked in code
(each sentence cites known records, each number is in the cited records, see
``briefer.citations``). Failing items are asked again once, in a single follow-up call with the
failures; an item that still fails is replaced by the deterministic text for the records it
cites (or dropped when it cites none), with a note. When the call fails altogether, the whole
briefing is written by the deterministic composer, with a note. The other sections (where
sources disagree, who said what, timeline) always come from the deterministic composer: they
restate record fields and need no writing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from string import Template
from typing import Any, Literal, Protocol

from briefer._resources import read_resource
from briefer.citations import check_item, format_number, sentence_failures, source_label
from briefer.errors import BudgetExceededError, LLMError
from briefer.json_schemas import schema_for
from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.llm.structured import LLMRunner
from briefer.models import (
    BriefingItem,
    ComposeItem,
    ComposeReply,
    ComposeSentence,
    Conflict,
    ConflictValue,
    MergedEvent,
    MergedStance,
    Source,
    Update,
)

__all__ = [
    "PROMPT_VERSION",
    "TOP_ITEMS",
    "ComposeResult",
    "MergedRecords",
    "as_compose_item",
    "build_compose_request",
    "build_followup_request",
    "compose_deterministic",
    "compose_items",
    "rank_events",
]

PROMPT_VERSION = "compose/v2"
TOP_ITEMS = 8
# The request carries the best-ranked records only, so a busy day stays one compact call.
MAX_EVENTS_IN_REQUEST = 40
MAX_STANCES_IN_REQUEST = 40
MAX_QUOTES_PER_RECORD = 3
MAX_QUOTE_CHARS = 400
MAX_HEADLINE_CHARS = 100

Composer = Literal["llm", "deterministic"]
Section = Literal["top", "disagreements", "stances", "timeline"]

FOLLOWUP_INSTRUCTION = (
    "Some items failed the checks made on every briefing sentence (each sentence cites at "
    "least one given record id; every number, name and date it writes is written in the "
    "quotes of the records it cites).\n"
    "{failures}\n"
    "Rewrite these {count} item(s) only, in the same order, fixing every failure. Reply with "
    'the complete JSON object {{"items": [...]}} holding exactly {count} item(s).'
)
_POLARITY = {"favor": "in favour", "against": "against", "neutral": "neutral"}


class MergedRecords(Protocol):
    """What composition reads from the merge stage's ``MergeResult`` (no import of the stage)."""

    @property
    def events(self) -> list[MergedEvent]: ...

    @property
    def stances(self) -> list[MergedStance]: ...


@dataclass(frozen=True)
class ComposeResult:
    items: list[BriefingItem]
    composer: Composer
    notes: list[str] = field(default_factory=list)


# --- shared helpers ---------------------------------------------------------------------------


def rank_events(events: Iterable[MergedEvent]) -> list[MergedEvent]:
    """Most outlets first, then the most recent, then the most evidence."""
    return sorted(
        events,
        key=lambda e: (
            -e.corroboration,
            -(e.date.toordinal() if e.date else 0),
            -len(e.evidence),
            e.id,
        ),
    )


def _labels(source_ids: Iterable[str], sources: Mapping[str, Source]) -> list[str]:
    out: list[str] = []
    for sid in source_ids:
        label = source_label(sources[sid]) if sid in sources else sid
        if label not in out:
            out.append(label)
    return out


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?", '"', "”")) else f"{text}."


def _format_date(date: dt.date, precision: str = "day") -> str:
    if precision == "year":
        return str(date.year)
    if precision == "month":
        return f"{date:%B} {date.year}"
    day = f"{date.day} {date:%B} {date.year}"
    return f"the week of {day}" if precision == "week" else day


def _field_what(name: str) -> str:
    if name.startswith("quantities."):
        return f"the number of {name.removeprefix('quantities.')}"
    return {"date": "the date", "location": "the place"}.get(name, name)


def _conflict_value(value: ConflictValue) -> str:
    # A date is shown in the words its outlets wrote: the resolved day is not in the evidence.
    if value.text and isinstance(value.value, str):
        return value.text
    return format_number(value.value) if isinstance(value.value, float) else str(value.value)


def _conflict_sentence(conflict: Conflict, sources: Mapping[str, Source]) -> str:
    # Values that can be true together stand on one side: "4,000 (A) against 10,000 (B) and
    # 12,000 (C)" when B and C only differ in how far above 10,000 they put it.
    sides: dict[int, list[str]] = {}
    for v in conflict.values:
        sides.setdefault(v.side, []).append(
            f"{_conflict_value(v)} ({_join(_labels(v.source_ids, sources))})"
        )
    if len(sides) > 1 and any(len(side) > 1 for side in sides.values()):
        told = " against ".join(_join(side) for side in sides.values())
    else:
        told = ", ".join(part for side in sides.values() for part in side)
    return f"Outlets disagree on {_field_what(conflict.field)}: {told}."


def _update_sentence(update: Update, sources: Mapping[str, Source]) -> str:
    parts = [
        f'"{" ".join((v.text or format_number(v.value)).split())}" '
        f"({_join(_labels(v.source_ids, sources))})"
        for v in update.values
    ]
    what = _field_what(update.field)
    return f"Reported figures for {what} changed over the days: {', then '.join(parts)}."


class _Writer:
    """Builds deterministic sentences that pass the checks for the record they cite."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = sources

    def passes(self, record: MergedEvent | MergedStance, text: str) -> bool:
        return not sentence_failures(text, [record], self.sources)

    def first_supported(self, record: MergedEvent | MergedStance, candidates: Iterable[str]) -> str:
        options = [_sentence(c) for c in candidates if c.strip()]
        for option in options:
            if self.passes(record, option):
                return option
        return options[-1]  # the last candidate is a verbatim quote: always supported

    def quote_sentence(self, record: MergedEvent | MergedStance) -> str:
        ev = record.evidence[0]
        label = _join(_labels([ev.source_id], self.sources))
        return f'{label} reported: "{" ".join(ev.quote.split())}"'

    def summary(self, event: MergedEvent) -> str:
        return self.first_supported(event, [event.summary, self.quote_sentence(event)])

    def headline(self, record: MergedEvent | MergedStance, text: str, fallback: str) -> str:
        text = " ".join(text.split()).rstrip(".")
        if len(text) > MAX_HEADLINE_CHARS:
            text = text[:MAX_HEADLINE_CHARS].rsplit(" ", 1)[0] + "…"
        return text if self.passes(record, text) else fallback

    def who_when(self, event: MergedEvent) -> str:
        parts = [f"Actors: {_join([a.canonical for a in event.actors])}"]
        if event.targets:
            parts.append(f"targets: {_join([a.canonical for a in event.targets])}")
        if event.date_text:
            parts.append(f"when: {event.date_text}")
        if event.location:
            parts.append(f"place: {event.location}")
        return self.first_supported(event, ["; ".join(parts), parts[0]])

    def reported_by(self, event: MergedEvent) -> str:
        labels = _labels(event.source_ids, self.sources)
        text = f"Reported by {_join(labels)}"
        if event.corroboration < len(labels):
            text += " (copies of a single report count once)"
        return _sentence(text)

    def stance(self, stance: MergedStance) -> str:
        holder = stance.holder.canonical
        polarity = _POLARITY[stance.polarity]
        quote = " ".join(stance.evidence[0].quote.split())
        return self.first_supported(
            stance,
            [
                f"On {stance.topic}, {holder} is {polarity}: {stance.claim}",
                f'{holder} ({polarity}): "{quote}"',
                f'"{quote}"',
            ],
        )


def _item(
    section: Section, headline: str, sentences: list[tuple[str, list[str]]], composer: Composer
) -> BriefingItem:
    citations: list[str] = []
    for _, ids in sentences:
        citations.extend(i for i in ids if i not in citations)
    return BriefingItem(
        section=section,
        headline=headline,
        text=" ".join(text for text, _ in sentences),
        sentences=[text for text, _ in sentences],
        sentence_citations=[list(ids) for _, ids in sentences],
        citations=citations,
        composer=composer,
    )


# --- the deterministic composer ---------------------------------------------------------------


def _event_item(writer: _Writer, event: MergedEvent, section: Section = "top") -> BriefingItem:
    sentences = [
        (writer.summary(event), [event.id]),
        (writer.who_when(event), [event.id]),
        (writer.reported_by(event), [event.id]),
    ]
    sentences += [(_conflict_sentence(c, writer.sources), [event.id]) for c in event.conflicts]
    sentences += [(_update_sentence(u, writer.sources), [event.id]) for u in event.updates]
    headline = writer.headline(event, event.summary, _join([a.canonical for a in event.actors]))
    return _item(section, headline, sentences, "deterministic")


def _records_item(
    writer: _Writer, records: Sequence[MergedEvent | MergedStance]
) -> BriefingItem | None:
    """One "top" item restating the given records (a replacement for a failed model item)."""
    sentences: list[tuple[str, list[str]]] = []
    for record in records:
        if isinstance(record, MergedEvent):
            sentences.append((writer.summary(record), [record.id]))
            sentences.append((writer.reported_by(record), [record.id]))
            sentences += [
                (_conflict_sentence(c, writer.sources), [record.id]) for c in record.conflicts
            ]
            sentences += [
                (_update_sentence(u, writer.sources), [record.id]) for u in record.updates
            ]
        else:
            sentences.append((writer.stance(record), [record.id]))
    if not sentences:
        return None
    first = records[0]
    if isinstance(first, MergedEvent):
        headline = writer.headline(first, first.summary, _join([a.canonical for a in first.actors]))
    else:
        headline = writer.headline(
            first, f"{first.holder.canonical} on {first.topic}", first.holder.canonical
        )
    return _item("top", headline, sentences, "deterministic")


def _disagreement_items(writer: _Writer, events: Sequence[MergedEvent]) -> list[BriefingItem]:
    items = []
    for event in events:
        for conflict in event.conflicts:
            what = _field_what(conflict.field)
            headline = writer.headline(event, f"Outlets disagree on {what}", "Outlets disagree")
            sentences = [
                (_conflict_sentence(conflict, writer.sources), [event.id]),
                (
                    writer.first_supported(
                        event, [f"The event: {event.summary}", writer.quote_sentence(event)]
                    ),
                    [event.id],
                ),
            ]
            items.append(_item("disagreements", headline, sentences, "deterministic"))
    return items


def _stance_items(writer: _Writer, stances: Sequence[MergedStance]) -> list[BriefingItem]:
    by_holder: dict[str, list[MergedStance]] = {}
    for stance in stances:
        by_holder.setdefault(stance.holder.canonical, []).append(stance)
    items = []
    for holder in sorted(by_holder, key=str.casefold):
        group = by_holder[holder]
        headline = writer.headline(group[0], holder, holder)
        sentences = [(writer.stance(s), [s.id]) for s in group]
        items.append(_item("stances", headline, sentences, "deterministic"))
    return items


def _timeline_items(writer: _Writer, events: Sequence[MergedEvent]) -> list[BriefingItem]:
    by_date: dict[tuple[dt.date, str], list[MergedEvent]] = {}
    for event in events:
        if event.date is not None:
            by_date.setdefault((event.date, event.date_precision), []).append(event)
    items = []
    for (date, precision), group in sorted(by_date.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        headline = _format_date(date, precision)
        sentences = [(writer.summary(e), [e.id]) for e in sorted(group, key=lambda e: e.id)]
        items.append(
            _item("timeline", headline[:1].upper() + headline[1:], sentences, "deterministic")
        )
    return items


def _secondary_sections(
    writer: _Writer, events: Sequence[MergedEvent], stances: Sequence[MergedStance]
) -> list[BriefingItem]:
    return [
        *_disagreement_items(writer, events),
        *_stance_items(writer, stances),
        *_timeline_items(writer, events),
    ]


def compose_deterministic(
    merged: MergedRecords, sources: list[Source], *, date: dt.date
) -> list[BriefingItem]:
    """The whole briefing with no model: top developments, disagreements, stances, timeline.

    ``merged`` is the merge stage's result (anything with ``events`` and ``stances``). ``date``
    is the briefing's day; items are written from the records alone, so it is not used in text.
    """
    writer = _Writer({s.id: s for s in sources})
    ranked = rank_events(merged.events)
    top = [_event_item(writer, e) for e in ranked[:TOP_ITEMS]]
    return [*top, *_secondary_sections(writer, ranked, merged.stances)]


# --- the model composer -----------------------------------------------------------------------


def _event_payload(event: MergedEvent, sources: Mapping[str, Source]) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "summary": event.summary,
        "date": event.date.isoformat() if event.date else None,
        "date_precision": event.date_precision,
        "actors": [a.canonical for a in event.actors],
        "targets": [a.canonical for a in event.targets],
        "location": event.location,
        "quantities": [
            {"kind": q.kind, "value": q.value, "text": q.text} for q in event.quantities
        ],
        "date_text": event.date_text,
        "ongoing": event.ongoing,
        "conflicts": [
            {
                "field": c.field,
                "values": [
                    {"value": v.value, "text": v.text, "outlets": _labels(v.source_ids, sources)}
                    for v in c.values
                ],
            }
            for c in event.conflicts
        ],
        "updates": [
            {
                "field": u.field,
                "values": [
                    {
                        "value": v.value,
                        "text": v.text,
                        "date": v.date.isoformat(),
                        "outlets": _labels(v.source_ids, sources),
                    }
                    for v in u.values
                ],
            }
            for u in event.updates
        ],
        "corroboration": event.corroboration,
        "outlets": _labels(event.source_ids, sources),
        "quotes": _quotes(event, sources),
    }


def _stance_payload(stance: MergedStance, sources: Mapping[str, Source]) -> dict[str, Any]:
    return {
        "id": stance.id,
        "holder": stance.holder.canonical,
        "polarity": stance.polarity,
        "topic": stance.topic,
        "target": stance.target,
        "claim": stance.claim,
        "date": stance.date.isoformat() if stance.date else None,
        "quotes": _quotes(stance, sources),
    }


def _quotes(
    record: MergedEvent | MergedStance, sources: Mapping[str, Source]
) -> list[dict[str, str]]:
    return [
        {
            "outlet": _join(_labels([ev.source_id], sources)),
            "quote": " ".join(ev.quote.split())[:MAX_QUOTE_CHARS],
        }
        for ev in record.evidence[:MAX_QUOTES_PER_RECORD]
    ]


def build_compose_request(
    merged: MergedRecords, sources: list[Source], *, model: str, date: dt.date, title: str
) -> LLMRequest:
    """The one composition call (pure): static instructions, then the records as compact JSON."""
    by_id = {s.id: s for s in sources}
    payload = {
        "events": [
            _event_payload(e, by_id) for e in rank_events(merged.events)[:MAX_EVENTS_IN_REQUEST]
        ],
        "stances": [_stance_payload(s, by_id) for s in merged.stances[:MAX_STANCES_IN_REQUEST]],
    }
    user = Template(read_resource("prompts", "compose_user.txt")).substitute(
        title=title,
        date=date.isoformat(),
        max_items=TOP_ITEMS,
        records=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
    )
    return LLMRequest(
        model=model,
        messages=(
            Message(role="system", content=read_resource("prompts", "compose_system.txt")),
            Message(role="user", content=user),
        ),
        schema_name="compose",
        response_schema=schema_for("compose"),
        prompt_version=PROMPT_VERSION,
        temperature=0.0,
        context=RequestContext(stage="compose"),
    )


def build_followup_request(
    request: LLMRequest, reply: ComposeReply, failing: Sequence[tuple[ComposeItem, list[str]]]
) -> LLMRequest:
    """The same conversation, the previous reply, and what failed in which item."""
    lines = []
    for n, (item, failures) in enumerate(failing, start=1):
        lines.append(f'item {n} ("{item.headline}"):')
        lines.extend(f"- {f}" for f in failures)
    text = FOLLOWUP_INSTRUCTION.format(failures="\n".join(lines), count=len(failing))
    return request.model_copy(
        update={
            "messages": (
                *request.messages,
                Message(role="assistant", content=reply.model_dump_json()),
                Message(role="user", content=text),
            )
        }
    )


def _llm_item(item: ComposeItem) -> BriefingItem:
    return _item(
        "top",
        item.headline,
        [(_sentence(s.text), list(s.citations)) for s in item.sentences],
        "llm",
    )


def as_compose_item(item: BriefingItem) -> ComposeItem:
    """A briefing item in the model's shape, so ``check_item`` can check any item."""
    return ComposeItem(
        headline=item.headline,
        sentences=[
            ComposeSentence(text=text, citations=list(ids))
            for text, ids in zip(item.sentences, item.sentence_citations, strict=True)
        ],
    )


def _reason(exc: LLMError | BudgetExceededError) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


async def compose_items(
    merged: MergedRecords,
    sources: list[Source],
    runner: LLMRunner | None,
    *,
    model: str,
    date: dt.date,
    title: str,
    common_words: frozenset[str] = frozenset(),
) -> ComposeResult:
    """Compose the briefing items; with no runner, the deterministic composer does it all.

    When the composition call fails, or would pass the budget, the deterministic composer
    writes the briefing and a note says why: what was extracted is never thrown away.
    ``common_words`` are the articles' lower-case words, for the name check of headlines and
    of sentences' first words (``briefer.citations.check_item``).
    """
    if runner is None:
        return ComposeResult(compose_deterministic(merged, sources, date=date), "deterministic")
    if not merged.events and not merged.stances:
        return ComposeResult(
            [], "deterministic", ["there were no records to compose, so no model call was made"]
        )
    writer = _Writer({s.id: s for s in sources})
    records: dict[str, MergedEvent | MergedStance] = {e.id: e for e in merged.events}
    records.update({s.id: s for s in merged.stances})

    request = build_compose_request(merged, sources, model=model, date=date, title=title)
    try:
        reply = await runner.structured(request, ComposeReply)
    except (LLMError, BudgetExceededError) as exc:
        note = (
            f"composition by the model failed ({_reason(exc)}); this briefing was written by "
            "the deterministic composer"
        )
        return ComposeResult(
            compose_deterministic(merged, sources, date=date), "deterministic", [note]
        )

    def check(item: ComposeItem) -> list[str]:
        return check_item(item, records, sources=sources, common_words=common_words)

    # Per position of the reply: the model's item, a deterministic replacement, or nothing.
    final: list[BriefingItem | None] = [_llm_item(item) for item in reply.items]
    failing = [(k, item, check(item)) for k, item in enumerate(reply.items)]
    failing = [(k, item, f) for k, item, f in failing if f]
    notes: list[str] = []
    if failing:
        followup = build_followup_request(request, reply, [(item, f) for _, item, f in failing])
        try:
            second = (await runner.structured(followup, ComposeReply)).items
        except (LLMError, BudgetExceededError) as exc:
            notes.append(f"the follow-up composition call failed ({_reason(exc)})")
            second = []
        if second and len(second) != len(failing):
            # Items are matched to the ones asked for by position: another count matches none.
            notes.append(
                f"the follow-up composition call returned {len(second)} item(s) for the "
                f"{len(failing)} asked for; its items were not used"
            )
            second = []
        for n, (k, item, failures) in enumerate(failing):
            retry = second[n] if n < len(second) else None
            retry_failures = check(retry) if retry is not None else failures
            if retry is not None and not retry_failures:
                final[k] = _llm_item(retry)
                continue
            last = retry or item
            cited: list[MergedEvent | MergedStance] = []
            for attempt in (last, item):  # the records of the last attempt, else the first's
                ids = dict.fromkeys(c for s in attempt.sentences for c in s.citations)
                cited = cited or [records[rid] for rid in ids if rid in records]
            replacement = _records_item(writer, cited)
            final[k] = replacement
            if replacement is None:
                notes.append(
                    f'the model\'s item "{last.headline}" was dropped: it still failed the '
                    f"checks ({retry_failures[0]}) and cites no known record"
                )
            else:
                notes.append(
                    f'the model\'s item "{last.headline}" still failed the checks '
                    f"({retry_failures[0]}); it was replaced by the deterministic text for "
                    "the records it cites"
                )

    items = [i for i in final if i is not None]
    ranked = rank_events(merged.events)
    if not items and ranked:
        # A briefing with events never opens without its top developments.
        items = [_event_item(writer, e) for e in ranked[:TOP_ITEMS]]
        notes.append(
            "the model gave no usable top developments; they were written by the "
            "deterministic composer"
        )
    return ComposeResult(
        [*items, *_secondary_sections(writer, ranked, merged.stances)], "llm", notes
    )
