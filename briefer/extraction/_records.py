"""Extraction: one structured call per chunk, returning events and stances, then grounding.

A chunk whose reply is cut off at the token limit is split and its halves asked again (see
``MAX_SPLIT_DEPTH``); what could not be extracted becomes an excluded line. Each reply is
grounded against the original document text (``_ground``) and turned into records
(``_events``, ``_stances``): actors, dates and counts normalised in code. Records that
overlapping chunks (or the halves of a split chunk) found twice are left to the merge stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from briefer.errors import (
    BudgetExceededError,
    LLMError,
    RefusalError,
    TruncatedError,
    first_line,
)
from briefer.extraction._events import _event_record
from briefer.extraction._ground import ground_records
from briefer.extraction._ids import _with_unique_ids
from briefer.extraction._request import build_extraction_request
from briefer.extraction._stances import _stance_record
from briefer.ingestion import split_chunk
from briefer.llm.structured import LLMRunner, gather_in_order
from briefer.models import (
    Chunk,
    Document,
    EventRecord,
    Excluded,
    ExtractionReply,
    StanceRecord,
    Stats,
)
from briefer.text.countries import countries_mentioned

__all__ = [
    "MAX_SPLIT_DEPTH",
    "MIN_SPLIT_HALF_TOKENS",
    "SPLIT_STAGE",
    "ExtractionResult",
    "extract_document",
    "extract_documents",
]

# A reply cut off at the token limit splits its chunk in two, and a half cut off again is split
# once more: at most 1 + 2 + 4 = 7 calls for a chunk, each carrying the whole system prompt.
MAX_SPLIT_DEPTH = 2
# A part is split only when each half would still hold this many tokens of article. A reply that
# fills max_tokens from less text is running on (repeating itself), not long: its halves would
# be cut off too, each paying for the ~1.3k-token system prompt again.
MIN_SPLIT_HALF_TOKENS = 200
# The calls for the parts of a split chunk are counted under this stage in the usage.
SPLIT_STAGE = "extract-split"


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


def _input_name(doc: Document) -> str:
    """The input as the user gave it, for its excluded lines: the file's path before the URL
    its header names."""
    return doc.source.path or doc.source.url or doc.source.title or doc.id


@dataclass
class _Parts:
    """What the calls for one chunk, or for the parts it was split into, came to."""

    outcomes: list[_ChunkOutcome] = field(default_factory=list)
    cut_off: list[Chunk] = field(default_factory=list)  # still cut off, not split further
    why_not: str | None = None  # why the last of them was not split again
    leaves: int = 1  # parts asked and not split
    split_calls: int = 0  # calls made for parts (beyond the chunk's own)

    @classmethod
    def combine(cls, parts: Sequence[_Parts]) -> _Parts:
        why_not = next((p.why_not for p in reversed(parts) if p.why_not), None)
        return cls(
            outcomes=[o for p in parts for o in p.outcomes],
            cut_off=[c for p in parts for c in p.cut_off],
            why_not=why_not,
            leaves=sum(p.leaves for p in parts),
            split_calls=sum(p.split_calls for p in parts) + len(parts),
        )


def _why_not_split(chunk: Chunk, depth: int) -> str | None:
    if depth >= MAX_SPLIT_DEPTH:
        return f"parts are split at most {MAX_SPLIT_DEPTH} times"
    if chunk.tokens < 2 * MIN_SPLIT_HALF_TOKENS:
        return (
            f"{chunk.tokens} tokens of text are too few for halves to help (a reply that long "
            "from so little text is running on)"
        )
    return None


async def _extract_part(
    doc: Document, chunk: Chunk, runner: LLMRunner, max_tokens: int | None, depth: int
) -> _Parts:
    request = build_extraction_request(doc, chunk, model=runner.model, max_tokens=max_tokens)
    if depth:
        context = request.context.model_copy(update={"stage": SPLIT_STAGE})
        request = request.model_copy(update={"context": context})

    def excluded(reason: str) -> _Parts:
        return _Parts([Excluded(input=_input_name(doc), reason=reason, stage="extract")])

    try:
        reply = await runner.structured(request, ExtractionReply)
    except RefusalError as exc:
        return excluded(f"model refused chunk {chunk.id}: {exc.refusal or first_line(exc)}")
    except TruncatedError:
        # A reply too long for max_tokens: smaller inputs give shorter replies; re-asking the
        # same text would only be cut off again.
        why_not = _why_not_split(chunk, depth)
        halves: tuple[Chunk, Chunk] | None = None
        if why_not is None:
            try:
                halves = split_chunk(doc, chunk)
            except ValueError as exc:
                why_not = f"it cannot be split ({first_line(exc)})"
        if halves is None:
            runner.forget(request)
            return _Parts(cut_off=[chunk], why_not=why_not)
        parts = await gather_in_order(
            _extract_part(doc, half, runner, max_tokens, depth + 1) for half in halves
        )
        return _Parts.combine(parts)
    except LLMError as exc:
        return excluded(f"extraction of chunk {chunk.id} failed: {first_line(exc)}")
    except BudgetExceededError as exc:
        # Chunks already extracted still make a (partial) briefing.
        return excluded(f"chunk {chunk.id} not extracted: {first_line(exc)}")
    return _Parts([(chunk, reply)])


def _cut_off_reason(chunk: Chunk, parts: _Parts, max_tokens: int | None) -> str:
    """One line: what was cut off, what splitting cost, and which text was left out."""
    limit = f"{max_tokens:,}-token limit" if max_tokens else "token limit"
    if parts.split_calls == 0:
        return (
            f"the reply for chunk {chunk.id} was cut off at the {limit} and the chunk was not "
            f"split: {parts.why_not}"
        )
    spans = [f"{c.start}\u2013{c.end}" for c in parts.cut_off]
    shown = ", ".join(spans[:3]) + (f" and {len(spans) - 3} more" if len(spans) > 3 else "")
    return (
        f"the reply for chunk {chunk.id} was cut off at the {limit}; of the {parts.leaves} "
        f"parts it was split into ({parts.split_calls} more calls, counted as {SPLIT_STAGE} in "
        f"the usage), {len(parts.cut_off)} were cut off too, so characters {shown} were not "
        f"extracted ({parts.why_not})"
    )


async def _extract_chunk(
    doc: Document, chunk: Chunk, runner: LLMRunner, max_tokens: int | None, depth: int = 0
) -> list[_ChunkOutcome]:
    """The replies for ``chunk``, split in parts when a reply is cut off (see
    ``MAX_SPLIT_DEPTH``), and at most one excluded line for the text that stayed cut off."""
    parts = await _extract_part(doc, chunk, runner, max_tokens, depth)
    if not parts.cut_off:
        return parts.outcomes
    reason = _cut_off_reason(chunk, parts, max_tokens)
    return [*parts.outcomes, Excluded(input=_input_name(doc), reason=reason, stage="extract")]


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
    mentioned = countries_mentioned(doc.text)
    built_events = [_event_record(doc, item, mentioned) for item in events.items]
    built_stances = [_stance_record(doc, item, mentioned) for item in stances.items]
    # A grounded record its quotes do not carry (no actor named there, nothing in common with
    # what it says, a polarity its own words contradict) is dropped like an ungrounded one.
    unsupported = sum(r is None for r in [*built_events, *built_stances])
    result.stats.records_grounded -= unsupported
    result.stats.records_dropped += unsupported
    result.events = [r for r in built_events if r is not None]
    result.stances = [r for r in built_stances if r is not None]
    return result


async def extract_document(
    doc: Document,
    chunks: Sequence[Chunk],
    runner: LLMRunner,
    *,
    keep_ungrounded: bool = False,
    max_tokens: int | None = 4000,
) -> ExtractionResult:
    """Extract and ground the records of one document.

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
    # Records of one event found twice (overlapping chunks, the halves of a split chunk) are
    # left to the merge stage, which decides for the whole run what is one event.
    result.events = _with_unique_ids(result.events)
    result.stances = _with_unique_ids(result.stances)
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
