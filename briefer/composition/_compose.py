"""Compose: merged records → cited briefing items, by the model or, with no model, by the
deterministic composer (``_deterministic``).

The model writes only the "top" section, in one call, from the events a top development may be
about (a story reported again with nothing new since the last briefing is not one); every item
it returns is checked in code (each sentence cites known records, each number is in the cited
records, see ``_citations``). Failing items are asked again once, in a single follow-up call
with the failures; an item that still fails is replaced by the deterministic text for the records it
cites (or dropped when it cites none), with a note. When the call fails altogether, the whole
briefing is written by the deterministic composer, with a note. The other sections (since the
last briefing, where sources disagree, who said what, timeline) always come from the
deterministic composer: they restate record fields and need no writing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from briefer._prompts import load_prompt_pair
from briefer.composition._citations import check_item
from briefer.composition._deterministic import (
    _event_item,
    _records_item,
    _secondary_sections,
    compose_deterministic,
    only_new_note,
)
from briefer.composition._sentences import _Writer
from briefer.composition._since import since_items
from briefer.composition._wording import (
    TOP_ITEMS,
    Composer,
    MergedRecords,
    Record,
    _item,
    _join,
    _labels,
    _sentence,
    rank_events,
    top_candidates,
)
from briefer.errors import BudgetExceededError, LLMError, first_line
from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.llm.structured import LLMRunner
from briefer.models import (
    BriefingItem,
    ComposeItem,
    ComposeReply,
    MergedEvent,
    MergedStance,
    Source,
    reply_schema,
)

__all__ = [
    "COMPOSE_TOKENS_PER_ITEM",
    "SYSTEM_TEMPLATE",
    "USER_TEMPLATE",
    "ComposeResult",
    "build_compose_request",
    "build_followup_request",
    "compose_items",
    "compose_max_tokens",
]

SYSTEM_TEMPLATE = "compose_system.txt"
USER_TEMPLATE = "compose_user.txt"
# The request carries the best-ranked records only, so a busy day stays one compact call.
MAX_EVENTS_IN_REQUEST = 40
MAX_STANCES_IN_REQUEST = 40
MAX_QUOTES_PER_RECORD = 3
MAX_QUOTE_CHARS = 400
# The reply's token bound: an item (a headline and a few cited sentences) takes about 120
# tokens, so this leaves room for long items while a server that never stops is cut off.
COMPOSE_TOKENS_PER_ITEM = 300
COMPOSE_TOKENS_OVERHEAD = 200

FOLLOWUP_INSTRUCTION = (
    "Some items failed the checks made on every briefing sentence (each sentence cites at "
    "least one given record id; every number, name and date it writes is written in the "
    "quotes of the records it cites).\n"
    "{failures}\n"
    "Rewrite these {count} item(s) only, in the same order, fixing every failure. Reply with "
    'the complete JSON object {{"items": [...]}} holding exactly {count} item(s).'
)


@dataclass(frozen=True)
class ComposeResult:
    items: list[BriefingItem]
    composer: Composer
    notes: list[str] = field(default_factory=list)


def compose_max_tokens(items: int) -> int:
    """The token bound of a composition reply asked for ``items`` items."""
    return COMPOSE_TOKENS_OVERHEAD + COMPOSE_TOKENS_PER_ITEM * max(1, items)


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


def _quotes(record: Record, sources: Mapping[str, Source]) -> list[dict[str, str]]:
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
    """The one composition call (pure): static instructions, then the records as compact JSON.
    The events are those a top development may be about (``top_candidates``): without a store,
    every event."""
    by_id = {s.id: s for s in sources}
    candidates = top_candidates(rank_events(merged.events))
    payload = {
        "events": [_event_payload(e, by_id) for e in candidates[:MAX_EVENTS_IN_REQUEST]],
        "stances": [_stance_payload(s, by_id) for s in merged.stances[:MAX_STANCES_IN_REQUEST]],
    }
    system, user = load_prompt_pair(SYSTEM_TEMPLATE, USER_TEMPLATE)
    content = user.render(
        title=title,
        date=date.isoformat(),
        max_items=str(TOP_ITEMS),
        records=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
    )
    return LLMRequest(
        model=model,
        messages=(
            Message(role="system", content=system.text),
            Message(role="user", content=content),
        ),
        schema_name="compose",
        response_schema=reply_schema(ComposeReply),
        prompt_version=system.version,
        temperature=0.0,
        max_tokens=compose_max_tokens(TOP_ITEMS),
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


async def compose_items(
    merged: MergedRecords,
    sources: list[Source],
    runner: LLMRunner | None,
    *,
    model: str,
    date: dt.date,
    title: str,
    common_words: frozenset[str] = frozenset(),
    only_new: bool = False,
) -> ComposeResult:
    """Compose the briefing items; with no runner, the deterministic composer does it all.

    When the composition call fails, or would pass the budget, the deterministic composer
    writes the briefing and a note says why: what was extracted is never thrown away.
    ``common_words`` are the articles' lower-case words, for the name check of headlines and
    of sentences' first words (``briefer.composition._citations.check_item``). ``only_new``
    leaves the events reported again with nothing new since the last briefing (``continuing``)
    out of every section, with a note.
    """
    shown = only_new_note(merged.events, only_new=only_new)
    if runner is None:
        items = compose_deterministic(merged, sources, only_new=only_new)
        return ComposeResult(items, "deterministic", shown)
    if not merged.stances and not top_candidates(merged.events):
        why = "no records" if not merged.events else "no new or updated events"
        return ComposeResult(
            compose_deterministic(merged, sources, only_new=only_new),
            "deterministic",
            [*shown, f"there were {why} to compose, so no model call was made"],
        )
    writer = _Writer({s.id: s for s in sources})
    records: dict[str, MergedEvent | MergedStance] = {e.id: e for e in merged.events}
    records.update({s.id: s for s in merged.stances})

    request = build_compose_request(merged, sources, model=model, date=date, title=title)
    try:
        reply = await runner.structured(request, ComposeReply)
    except (LLMError, BudgetExceededError) as exc:
        note = (
            f"composition by the model failed ({first_line(exc)}); this briefing was written by "
            "the deterministic composer"
        )
        items = compose_deterministic(merged, sources, only_new=only_new)
        return ComposeResult(items, "deterministic", [note, *shown])

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
            notes.append(f"the follow-up composition call failed ({first_line(exc)})")
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
    candidates = top_candidates(ranked)
    if not items and candidates:
        # A briefing with events never opens without its top developments.
        items = [_event_item(writer, e) for e in candidates[:TOP_ITEMS]]
        notes.append(
            "the model gave no usable top developments; they were written by the "
            "deterministic composer"
        )
    since = since_items(writer, ranked, merged.stances, only_new=only_new)
    secondary = _secondary_sections(writer, ranked, merged.stances, only_new=only_new)
    return ComposeResult([*since, *items, *secondary], "llm", [*notes, *shown])
