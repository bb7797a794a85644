"""Extraction: one structured call per chunk, returning events and stances, then grounding.

Requests are built by a pure function: the system message is the same for every article (so
providers cache it as a shared prefix) and the article comes last, fenced as data. Replies are
grounded against the original document text, actors and dates are normalised in code, and
records that overlapping chunks (or the halves of a split chunk) found twice become one.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from briefer.chunk import split_chunk
from briefer.errors import BudgetExceededError, LLMError, RefusalError, TruncatedError
from briefer.ground import GroundedItem, ground_records, locate_quote
from briefer.json_schemas import schema_for
from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.llm.structured import LLMRunner, gather_in_order
from briefer.models import (
    Actor,
    Chunk,
    Document,
    EventRecord,
    Evidence,
    Excluded,
    ExtractedEvent,
    ExtractedStance,
    ExtractionReply,
    Quantity,
    StanceRecord,
    Stats,
)
from briefer.normalize import canonicalize_actor, resolve_date
from briefer.templates import PromptTemplate, load_template

__all__ = [
    "ARTICLE_CLOSE",
    "ARTICLE_OPEN",
    "MAX_SPLIT_DEPTH",
    "SYSTEM_TEMPLATE",
    "USER_TEMPLATE",
    "ExtractionResult",
    "build_extraction_request",
    "dedupe_events",
    "dedupe_stances",
    "extract_document",
    "extract_documents",
    "extraction_prompt_version",
    "fence_article",
]

SYSTEM_TEMPLATE = "extract_system.txt"
USER_TEMPLATE = "extract_user.txt"
SCHEMA_NAME = "extraction"
ARTICLE_OPEN = "<article>"
ARTICLE_CLOSE = "</article>"
# A reply cut off at the token limit splits its chunk in two; this bounds how often.
MAX_SPLIT_DEPTH = 3
# Summaries this similar (difflib ratio, after normalising) describe the same event.
SIMILAR_SUMMARY = 0.9

RecordT = TypeVar("RecordT", EventRecord, StanceRecord)

# Anything that could pass for the fence, in any case or spacing: "<article>", "</ ARTICLE >".
_FENCE_LIKE = re.compile(r"<\s*/?\s*article\b[^>]*>", re.IGNORECASE)


# Spelled out rather than strftime("%A"), which follows the locale: requests must not.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _templates() -> tuple[PromptTemplate, PromptTemplate]:
    system, user = load_template(SYSTEM_TEMPLATE), load_template(USER_TEMPLATE)
    if system.version != user.version:
        raise ValueError(
            f"prompt templates disagree on their version: {SYSTEM_TEMPLATE} is "
            f"{system.version}, {USER_TEMPLATE} is {user.version}; bump both together"
        )
    if system.placeholders:
        raise ValueError(f"{SYSTEM_TEMPLATE} must hold no per-article data")
    return system, user


def extraction_prompt_version() -> str:
    """The templates' shared version line, e.g. ``extract/v1``: part of every request key."""
    return _templates()[0].version


def fence_article(text: str) -> str:
    """The text with anything resembling the fence defused, so it cannot close the fence.

    Only the prompt copy changes (``<`` and ``>`` become ``‹`` and ``›``); grounding always
    reads the original document text.
    """
    return _FENCE_LIKE.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def _header_field(value: str | None, missing: str) -> str:
    """Title and outlet come from the article too: one line, no fence, bounded length."""
    line = fence_article(re.sub(r"\s+", " ", value or "")).strip()[:300]
    return line or missing


def _published_line(published: dt.date | None) -> str:
    if published is None:
        return "unknown"
    return f"{published.isoformat()} ({_WEEKDAYS[published.weekday()]})"


def build_extraction_request(
    doc: Document, chunk: Chunk, *, model: str, max_tokens: int | None = 4000
) -> LLMRequest:
    """The extraction request for one chunk: static instructions first, the article last."""
    system, user = _templates()
    source = doc.source
    content = user.render(
        title=_header_field(source.title, "(none)"),
        outlet=_header_field(source.outlet, "(unknown)"),
        published=_published_line(source.published),
        start=str(chunk.start),
        end=str(chunk.end),
        length=str(len(doc.text)),
        text=fence_article(chunk.text),
    )
    return LLMRequest(
        model=model,
        messages=(
            Message(role="system", content=system.text),
            Message(role="user", content=content),
        ),
        schema_name=SCHEMA_NAME,
        response_schema=schema_for("extraction"),
        prompt_version=system.version,
        max_tokens=max_tokens,
        context=RequestContext(stage="extract", source_id=doc.id, chunk_id=chunk.id),
    )


class ExtractionResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventRecord] = Field(default_factory=list)
    stances: list[StanceRecord] = Field(default_factory=list)
    excluded: list[Excluded] = Field(default_factory=list)
    # Quotes and records seen and grounded (documents and chunks are the pipeline's to count).
    stats: Stats = Field(default_factory=Stats)

    @classmethod
    def combine(cls, results: Sequence[ExtractionResult]) -> ExtractionResult:
        combined = cls()
        for result in results:
            combined.events.extend(result.events)
            combined.stances.extend(result.stances)
            combined.excluded.extend(result.excluded)
            combined.stats.add(result.stats)
        return combined


# --- calls ------------------------------------------------------------------------------------

_ChunkOutcome = tuple[Chunk, ExtractionReply] | Excluded


def _source_label(doc: Document) -> str:
    return doc.source.url or doc.source.path or doc.source.title or doc.id


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


async def _extract_chunk(
    doc: Document, chunk: Chunk, runner: LLMRunner, max_tokens: int | None, depth: int
) -> list[_ChunkOutcome]:
    request = build_extraction_request(doc, chunk, model=runner.model, max_tokens=max_tokens)

    def excluded(reason: str) -> list[_ChunkOutcome]:
        return [Excluded(input=_source_label(doc), reason=reason, stage="extract")]

    try:
        reply = await runner.structured(request, ExtractionReply)
    except RefusalError as exc:
        return excluded(f"model refused chunk {chunk.id}: {exc.refusal or _one_line(exc)}")
    except TruncatedError:
        # A reply too long for max_tokens: smaller inputs give shorter replies; re-asking the
        # same chunk would only be cut off again.
        if depth >= MAX_SPLIT_DEPTH:
            runner.forget(request)
            return excluded(
                f"the reply for chunk {chunk.id} was cut off at the token limit even after "
                f"splitting it {depth} times"
            )
        try:
            halves = split_chunk(doc, chunk)
        except ValueError as exc:
            runner.forget(request)
            return excluded(
                f"the reply for chunk {chunk.id} was cut off at the token limit and the chunk "
                f"cannot be split: {_one_line(exc)}"
            )
        parts = await gather_in_order(
            _extract_chunk(doc, half, runner, max_tokens, depth + 1) for half in halves
        )
        return [outcome for part in parts for outcome in part]
    except LLMError as exc:
        return excluded(f"extraction of chunk {chunk.id} failed: {_one_line(exc)}")
    except BudgetExceededError as exc:
        # Chunks already extracted still make a (partial) briefing.
        return excluded(f"chunk {chunk.id} not extracted: {_one_line(exc)}")
    return [(chunk, reply)]


# --- records ----------------------------------------------------------------------------------


def _norm_words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _record_id(prefix: str, parts: list[object]) -> str:
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:10]}"


def _event_id(event: EventRecord) -> str:
    first = event.evidence[0]
    return _record_id(
        "ev",
        [
            event.source_id,
            event.type,
            _norm_words(event.summary),
            sorted(a.canonical for a in event.actors),
            [first.start, first.end],
        ],
    )


def _stance_id(stance: StanceRecord) -> str:
    first = stance.evidence[0]
    return _record_id(
        "st",
        [
            stance.source_id,
            stance.holder.canonical,
            stance.polarity,
            _norm_words(stance.claim),
            [first.start, first.end],
        ],
    )


def _unique_actors(actors: Sequence[Actor]) -> list[Actor]:
    seen: set[str] = set()
    unique: list[Actor] = []
    for actor in actors:
        if actor.canonical not in seen:
            seen.add(actor.canonical)
            unique.append(actor)
    return unique


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _grounded_quantities(doc: Document, event: ExtractedEvent) -> list[Quantity]:
    """Quantities whose words are in the article: an invented number would otherwise show up
    as a disagreement between outlets when events merge. The article's own words are kept."""
    quantities: list[Quantity] = []
    for quantity in event.quantities:
        found = locate_quote(doc.text, quantity.text) if quantity.text.strip() else None
        if found is not None:
            text = doc.text[found[0] : found[1]]
            quantities.append(Quantity(kind=quantity.kind.strip(), value=quantity.value, text=text))
    return quantities


def _event_record(doc: Document, grounded: GroundedItem[ExtractedEvent]) -> EventRecord:
    event = grounded.item
    date_text = event.date_text.strip() if event.date_text and event.date_text.strip() else None
    date, precision = resolve_date(date_text, doc.source.published)
    record = EventRecord(
        id="ev-pending",
        type=event.type,
        summary=re.sub(r"\s+", " ", event.summary).strip(),
        actors=_unique_actors([canonicalize_actor(a) for a in event.actors]),
        targets=_unique_actors([canonicalize_actor(a) for a in event.targets]),
        date=date,
        date_text=date_text,
        date_precision=precision,
        location=(event.location or "").strip() or None,
        quantities=_grounded_quantities(doc, event),
        factuality=event.factuality,
        evidence=grounded.evidence,
        confidence=_clamp(event.confidence),
        source_id=doc.id,
        grounded=grounded.grounded,
    )
    return record.model_copy(update={"id": _event_id(record)})


def _stance_record(doc: Document, grounded: GroundedItem[ExtractedStance]) -> StanceRecord:
    stance = grounded.item
    record = StanceRecord(
        id="st-pending",
        holder=canonicalize_actor(stance.holder),
        topic=stance.topic.strip(),
        target=(stance.target or "").strip() or None,
        polarity=stance.polarity,
        quote_type=stance.quote_type,
        claim=re.sub(r"\s+", " ", stance.claim).strip(),
        evidence=grounded.evidence,
        # The article reports the position as of its publication; the model gives no date.
        date=doc.source.published,
        source_id=doc.id,
        grounded=grounded.grounded,
    )
    return record.model_copy(update={"id": _stance_id(record)})


# --- within-document deduplication ------------------------------------------------------------


def _overlaps(a: Sequence[Evidence], b: Sequence[Evidence]) -> bool:
    return any(x.start < y.end and y.start < x.end for x in a for y in b)


def _merge_evidence(a: Sequence[Evidence], b: Sequence[Evidence]) -> list[Evidence]:
    by_span = {(e.start, e.end): e for e in [*b, *a]}
    return [by_span[span] for span in sorted(by_span)]


def _same_event(a: EventRecord, b: EventRecord) -> bool:
    if a.type != b.type or a.grounded != b.grounded:
        return False
    if {x.canonical for x in a.actors} != {x.canonical for x in b.actors}:
        return False
    if a.date is not None and a.date == b.date:
        return True
    if _overlaps(a.evidence, b.evidence):
        return True
    ratio = difflib.SequenceMatcher(None, _norm_words(a.summary), _norm_words(b.summary)).ratio()
    return ratio >= SIMILAR_SUMMARY


def _merge_events(a: EventRecord, b: EventRecord) -> EventRecord:
    quantities = list(a.quantities)
    quantities += [q for q in b.quantities if q not in quantities]
    update: dict[str, object] = {
        "evidence": _merge_evidence(a.evidence, b.evidence),
        "targets": _unique_actors([*a.targets, *b.targets]),
        "quantities": quantities,
        "confidence": max(a.confidence, b.confidence),
    }
    if a.date is None and b.date is not None:
        update |= {"date": b.date, "date_text": b.date_text, "date_precision": b.date_precision}
    if a.location is None:
        update["location"] = b.location
    return a.model_copy(update=update)


def _with_unique_ids(records: list[RecordT]) -> list[RecordT]:
    """Give records that hash alike distinct ids, in order, so every id names one record."""
    seen: dict[str, int] = {}
    unique: list[RecordT] = []
    for record in records:
        count = seen.get(record.id, 0)
        seen[record.id] = count + 1
        unique.append(
            record.model_copy(update={"id": f"{record.id}-{count + 1}"}) if count else record
        )
    return unique


def dedupe_events(events: Sequence[EventRecord]) -> list[EventRecord]:
    """One record per event: same type, same actors, and same date, shared evidence or
    near-identical summary. The first keeps its fields and gains every other's evidence."""
    kept: list[EventRecord] = []
    for event in events:
        for i, existing in enumerate(kept):
            if _same_event(existing, event):
                kept[i] = _merge_events(existing, event)
                break
        else:
            kept.append(event)
    return _with_unique_ids([e.model_copy(update={"id": _event_id(e)}) for e in kept])


def dedupe_stances(stances: Sequence[StanceRecord]) -> list[StanceRecord]:
    """One record per position: same holder and overlapping quotes."""
    kept: list[StanceRecord] = []
    for stance in stances:
        for i, existing in enumerate(kept):
            if (
                existing.holder.canonical == stance.holder.canonical
                and existing.grounded == stance.grounded
                and _overlaps(existing.evidence, stance.evidence)
            ):
                evidence = _merge_evidence(existing.evidence, stance.evidence)
                kept[i] = existing.model_copy(update={"evidence": evidence})
                break
        else:
            kept.append(stance)
    return _with_unique_ids([s.model_copy(update={"id": _stance_id(s)}) for s in kept])


# --- documents --------------------------------------------------------------------------------


def _records_from_reply(
    doc: Document, chunk: Chunk, reply: ExtractionReply, keep_ungrounded: bool
) -> ExtractionResult:
    result = ExtractionResult()
    span = (chunk.start, chunk.end)
    # An event without an actor cannot be a record: count it as dropped.
    with_actors = [e for e in reply.events if e.actors]
    result.stats.records += len(reply.events) - len(with_actors)
    result.stats.records_dropped += len(reply.events) - len(with_actors)
    events = ground_records(doc, with_actors, prefer=span, keep_ungrounded=keep_ungrounded)
    stances = ground_records(doc, reply.stances, prefer=span, keep_ungrounded=keep_ungrounded)
    for outcome in (events, stances):
        result.stats.add(
            Stats(
                quotes=outcome.quotes_total,
                quotes_grounded=outcome.quotes_grounded,
                records=outcome.records_total,
                records_grounded=outcome.records_grounded,
                records_dropped=outcome.records_dropped,
            )
        )
    result.events = [_event_record(doc, item) for item in events.items]
    result.stances = [_stance_record(doc, item) for item in stances.items]
    return result


async def extract_document(
    doc: Document,
    chunks: Sequence[Chunk],
    runner: LLMRunner,
    *,
    keep_ungrounded: bool = False,
    max_tokens: int | None = 4000,
) -> ExtractionResult:
    """Extract, ground and deduplicate the records of one document.

    Chunks run concurrently (the runner bounds how many calls are in flight). A refused,
    failed or unsplittable truncated chunk becomes an ``excluded`` entry; a budget stop
    propagates.
    """
    outcomes = await gather_in_order(
        _extract_chunk(doc, chunk, runner, max_tokens, depth=0) for chunk in chunks
    )
    result = ExtractionResult()
    for outcome in (o for chunk_outcomes in outcomes for o in chunk_outcomes):
        if isinstance(outcome, Excluded):
            result.excluded.append(outcome)
            continue
        chunk, reply = outcome
        part = _records_from_reply(doc, chunk, reply, keep_ungrounded)
        result.events.extend(part.events)
        result.stances.extend(part.stances)
        result.stats.add(part.stats)
    result.events = dedupe_events(result.events)
    result.stances = dedupe_stances(result.stances)
    return result


async def extract_documents(
    docs_and_chunks: Sequence[tuple[Document, Sequence[Chunk]]],
    runner: LLMRunner,
    *,
    keep_ungrounded: bool = False,
    max_tokens: int | None = 4000,
) -> ExtractionResult:
    """``extract_document`` for every document, concurrently; results in input order."""
    results = await gather_in_order(
        extract_document(
            doc, chunks, runner, keep_ungrounded=keep_ungrounded, max_tokens=max_tokens
        )
        for doc, chunks in docs_and_chunks
    )
    return ExtractionResult.combine(results)
