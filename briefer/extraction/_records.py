"""Extraction: one structured call per chunk, returning events and stances, then grounding.

Requests are built by a pure function: the system message is the same for every article (so
providers cache it as a shared prefix) and the article comes last, fenced as data. Replies are
grounded against the original document text, actors and dates are normalised in code, and
records that overlapping chunks (or the halves of a split chunk) found twice become one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

from briefer._prompts import PromptTemplate, load_template
from briefer.errors import BudgetExceededError, LLMError, RefusalError, TruncatedError
from briefer.extraction._actors import canonicalize_actor, tidy_name
from briefer.extraction._ground import GroundedItem, evidence_carries, ground_records, locate_quote
from briefer.ingestion import split_chunk
from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.llm.structured import LLMRunner, gather_in_order
from briefer.models import (
    Actor,
    Chunk,
    DatePrecision,
    Document,
    EventRecord,
    Evidence,
    Excluded,
    ExtractedActor,
    ExtractedEvent,
    ExtractedStance,
    ExtractionReply,
    Quantity,
    StanceRecord,
    Stats,
    reply_schema,
)
from briefer.text.countries import codes_for, countries_mentioned, country_name, find_mentions
from briefer.text.dates import future_tense_around, resolve_date, weekday_name
from briefer.text.numbers import find_numbers, value_agrees
from briefer.text.words import name_written_in, word_set

__all__ = [
    "ARTICLE_CLOSE",
    "ARTICLE_OPEN",
    "MAX_SPLIT_DEPTH",
    "MIN_SPLIT_HALF_TOKENS",
    "SPLIT_STAGE",
    "SYSTEM_TEMPLATE",
    "USER_TEMPLATE",
    "ExtractionResult",
    "build_extraction_request",
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
# A reply cut off at the token limit splits its chunk in two, and a half cut off again is split
# once more: at most 1 + 2 + 4 = 7 calls for a chunk, each carrying the whole system prompt.
MAX_SPLIT_DEPTH = 2
# A part is split only when each half would still hold this many tokens of article. A reply that
# fills max_tokens from less text is running on (repeating itself), not long: its halves would
# be cut off too, each paying for the ~1.3k-token system prompt again.
MIN_SPLIT_HALF_TOKENS = 200
# The calls for the parts of a split chunk are counted under this stage in the usage.
SPLIT_STAGE = "extract-split"

RecordT = TypeVar("RecordT", EventRecord, StanceRecord)

# Anything that could pass for the fence, in any case or spacing: "<article>", "</ ARTICLE >".
_FENCE_LIKE = re.compile(r"<\s*/?\s*article\b[^>]*>", re.IGNORECASE)


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
    # Cut before the regexes: a hand-built Document may carry a title of megabytes.
    line = fence_article(re.sub(r"\s+", " ", (value or "")[:1200])).strip()[:300]
    return line or missing


def _published_line(published: dt.date | None) -> str:
    if published is None:
        return "unknown"
    # Not strftime("%A"), which follows the locale: requests must not.
    return f"{published.isoformat()} ({weekday_name(published)})"


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
        response_schema=reply_schema(ExtractionReply),
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
    """The input as the user gave it: the file's path before the URL its header names."""
    return doc.source.path or doc.source.url or doc.source.title or doc.id


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


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
        return _Parts([Excluded(input=_source_label(doc), reason=reason, stage="extract")])

    try:
        reply = await runner.structured(request, ExtractionReply)
    except RefusalError as exc:
        return excluded(f"model refused chunk {chunk.id}: {exc.refusal or _one_line(exc)}")
    except TruncatedError:
        # A reply too long for max_tokens: smaller inputs give shorter replies; re-asking the
        # same text would only be cut off again.
        why_not = _why_not_split(chunk, depth)
        halves: tuple[Chunk, Chunk] | None = None
        if why_not is None:
            try:
                halves = split_chunk(doc, chunk)
            except ValueError as exc:
                why_not = f"it cannot be split ({_one_line(exc)})"
        if halves is None:
            runner.forget(request)
            return _Parts(cut_off=[chunk], why_not=why_not)
        parts = await gather_in_order(
            _extract_part(doc, half, runner, max_tokens, depth + 1) for half in halves
        )
        return _Parts.combine(parts)
    except LLMError as exc:
        return excluded(f"extraction of chunk {chunk.id} failed: {_one_line(exc)}")
    except BudgetExceededError as exc:
        # Chunks already extracted still make a (partial) briefing.
        return excluded(f"chunk {chunk.id} not extracted: {_one_line(exc)}")
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
    return [*parts.outcomes, Excluded(input=_source_label(doc), reason=reason, stage="extract")]


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


# --- what the record's words must show --------------------------------------------------------

# A sentence ends at ., ! or ? (and closing quotes) before a space and a capital or an opening
# quote, unless the word before is an abbreviation: "the U.S. ambassador", "Gen. Kim".
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|Capt|Sen|Rep|Gov|Prof|St|No|Jan|Feb|Mar|Apr"
    r"|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|Inc|Ltd|Co|Corp|vs|etc))\.$"
)


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if text[match.start()] == "." and _ABBREVIATION.search(
            text[max(0, match.start() - 6) : match.start() + 1]
        ):
            continue
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def _window(doc: Document, evidence: Sequence[Evidence]) -> str:
    """The sentences holding the quotes, and the sentence before each (which often names who
    "he" or "the ministry" is), within their paragraph."""
    spans = _sentence_spans(doc.text)
    pieces = []
    for ev in evidence:
        for k, (start, end) in enumerate(spans):
            if start < ev.end and ev.start < end:
                pieces.append(doc.text[start:end])
                before = spans[k - 1] if k else None
                if before and "\n\n" not in doc.text[before[0] : start + 1]:
                    pieces.append(doc.text[before[0] : before[1]])
    return " ".join(pieces) + " " + " ".join(ev.quote for ev in evidence)


_COUNTRY_BEFORE = 40  # characters around a name in which "South Korea's" may stand
# A state attached to a name: "South Korea's Joint Chiefs", "the South Korean JCS", "the Joint
# Chiefs of South Korea", "the Foreign Ministry in Beijing" (no punctuation between: "...and
# Japan, the Joint Chiefs" is not).
_ATTACHED_BEFORE = re.compile(r"((?:[A-Z][\w.'’-]*\s+){1,3})(?:the\s+)?$")
_ATTACHED_AFTER = re.compile(r"\s+(?:of|in)\s+((?:the\s+)?(?:[A-Z][\w.'’-]*\s*){1,4})")


_DATELINE_CITY = re.compile(r"^\s*(?P<city>[A-Z][A-Z .'’-]{2,40})(?:,[^\n—–]{0,40})?\s*[—–-]")


def _dateline_country(doc: Document) -> str | None:
    """The state of the article's dateline city ("MINSK, Oct. 15 —" is Belarus), if any, in
    one of its first lines (a title may come first)."""
    for line in doc.text[:1000].split("\n")[:6]:
        match = _DATELINE_CITY.match(line)
        if match is not None:
            codes = countries_mentioned(match["city"].title())
            return next(iter(codes)) if len(codes) == 1 else None
    return None


def _qualified_mentions(doc: Document, actor: Actor) -> list[tuple[int, frozenset[str]]]:
    """Where the article writes this body's name with a state attached ("South Korea's Joint
    Chiefs of Staff", "the Foreign Ministry in Beijing"), and which states."""
    found: list[tuple[int, frozenset[str]]] = []
    for name in {actor.name, actor.canonical}:
        core = " ".join(w for w in name.split() if not codes_for(w)).strip()
        core = core.removeprefix("the ").removeprefix("The ").strip()
        if len(core.split()) < 2 or len(core) < 8:
            continue  # "the ministry" is written before many states' names
        for match in re.finditer(re.escape(core), doc.text, re.IGNORECASE):
            before = doc.text[max(0, match.start() - _COUNTRY_BEFORE) : match.start()]
            after = doc.text[match.end() : match.end() + _COUNTRY_BEFORE]
            states: set[str] = set()
            for words in (_ATTACHED_BEFORE.search(before), _ATTACHED_AFTER.match(after)):
                if words is not None:
                    states |= countries_mentioned(words.group(1))
            if states:
                found.append((match.start(), frozenset(states)))
    return sorted(found, key=lambda m: m[0])


def _settle_country(doc: Document, actor: Actor, window: str, at: int) -> Actor:
    """The actor with the country the article gives it, at ``at`` (where its quotes stand).

    A name as written that states its country ("Britain's Treasury", "Lawmakers in Tbilisi")
    decides. A state body named without one ("The Interior Ministry", "the JCS") is, as news
    writes, the body of the nearest earlier mention that names its state, else the body of the
    dateline's state ("MINSK, Oct. 15 —"). A canonical name of another state than that is
    replaced by the name as written with the article's state. A name that fits two states
    ("Congo", "Korea") keeps the model's choice only where the quotes' sentences or the article
    settle it, and otherwise no state at all.
    """
    stated = countries_mentioned(actor.name)
    if len(stated) == 1 and actor.country not in stated:
        (code,) = stated
        return actor.model_copy(update={"canonical": tidy_name(actor.name), "country": code})
    if not stated and actor.kind in ("government", "military") and actor.country is not None:
        earlier = [states for position, states in _qualified_mentions(doc, actor) if position < at]
        dateline = _dateline_country(doc)
        meant = earlier[-1] if earlier else frozenset({dateline}) if dateline else frozenset()
        if len(meant) == 1 and actor.country not in meant:
            (code,) = meant
            return actor.model_copy(update={"canonical": tidy_name(actor.name), "country": code})
    candidates: set[str] = set()
    for mention in find_mentions(actor.name):
        if mention.ambiguous and len(mention.codes) > 1:
            candidates.update(mention.codes)
    if not candidates or actor.country not in candidates:
        return actor
    for context in (window, doc.text):
        settled = countries_mentioned(context) & candidates
        if len(settled) == 1:
            (code,) = settled
            if code == actor.country:
                return actor
            canonical = (
                country_name(code)
                if actor.kind == "government" and codes_for(actor.name)
                else tidy_name(actor.name)
            )
            return actor.model_copy(update={"canonical": canonical, "country": code})
        if settled:
            break  # both states named: the words cannot tell which is meant
    return actor.model_copy(update={"canonical": tidy_name(actor.name), "country": None})


def _actors_named(
    extracted: Sequence[ExtractedActor],
    window: str,
    mentioned: frozenset[str],
    doc: Document | None = None,
    at: int = 0,
) -> list[Actor]:
    """The actors, canonicalised, that ``window`` names; the others are dropped. With the
    document, each actor's country is settled against it (``_settle_country``) at ``at``."""
    words = word_set(window)
    named = []
    actors = [canonicalize_actor(a, mentioned=mentioned) for a in extracted]
    if doc is not None:
        actors = [_settle_country(doc, a, window, at) for a in actors]
    for actor in actors:
        state = actor.country if actor.kind in ("government", "military") else None
        if name_written_in([actor.name, actor.canonical], window, country=state, words=words):
            named.append(actor)
    return _unique_actors(named)


def _paragraphs(doc: Document, evidence: Sequence[Evidence]) -> str:
    pieces = []
    for ev in evidence:
        start = doc.text.rfind("\n\n", 0, ev.start) + 1
        end = doc.text.find("\n\n", ev.end)
        pieces.append(doc.text[start : len(doc.text) if end == -1 else end])
    return "\n".join(pieces)


def _event_actors(
    doc: Document,
    extracted: Sequence[ExtractedActor],
    evidence: Sequence[Evidence],
    mentioned: frozenset[str],
) -> list[Actor]:
    """The actors the quotes' sentences name. An actor the model adds beside them ("China
    and Russia blocked it" when the quotes name China) is dropped. Only when the sentences
    name none ("the two former Soviet republics") do the actors named in the paragraph, then
    in the article, stand for the record."""
    at = min(e.start for e in evidence)
    for window in (_window(doc, evidence), _paragraphs(doc, evidence), doc.text):
        named = _actors_named(extracted, window, mentioned, doc, at)
        if named:
            return named
    return []


def _quantities(doc: Document, event: ExtractedEvent, published: dt.date | None) -> list[Quantity]:
    """Quantities whose words are in the article, valued as those words write them.

    The article's words are kept, and the value is read from them: the model's value when it
    agrees with them (written in full: "$1.2 billion" is 1.2e9), else the one number they
    write (a model that misreads "five vessels" as 7 gets 5); words that write several numbers,
    none agreeing, leave the quantity out, as do words not in the article: an invented or
    misread number would otherwise show up as a disagreement between outlets. The day the
    words give for it ("65 by Tuesday") is kept too.
    """
    quantities: list[Quantity] = []
    for quantity in event.quantities:
        found = locate_quote(doc.text, quantity.text) if quantity.text.strip() else None
        if found is None:
            continue
        text = doc.text[found[0] : found[1]]
        numbers = [n for n in find_numbers(text) if not n.ordinal]
        if value_agrees(quantity.value, text):
            # The value as its words write it in full ("$1.2 billion" given as 1.2 is 1.2e9);
            # a value inside a range or a vague count the words give stays as it was.
            value = quantity.value
            for number in numbers:
                if number.scale != 1 and math.isclose(quantity.value * number.scale, number.value):
                    value = number.value
                    break
        elif len(numbers) == 1:
            value = numbers[0].value
        else:
            continue
        date, precision = resolve_date(text, published)
        quantities.append(
            Quantity(
                kind=quantity.kind.strip(),
                value=value,
                text=text,
                date=date if precision == "day" else None,
            )
        )
    return quantities


def _event_date(
    doc: Document, event: ExtractedEvent, evidence: Sequence[Evidence]
) -> tuple[str | None, dt.date | None, DatePrecision]:
    """The date words, if the article has them, and the day they name, read in the tense of
    the clause they stand in (near the record's quotes when they occur more than once)."""
    date_text = event.date_text.strip() if event.date_text and event.date_text.strip() else None
    if date_text is None:
        return None, None, "unknown"
    prefer = (evidence[0].start, evidence[-1].end) if evidence else None
    found = locate_quote(doc.text, date_text, prefer)
    if found is None:
        return date_text, None, "unknown"  # words the article does not have date nothing
    # The model's factuality dates the record ("asserted": done, so the last such day);
    # for what it calls hypothetical, the tense of the words around the date decides.
    future = event.factuality == "future" or (
        event.factuality == "hypothetical" and future_tense_around(doc.text, found[0], found[1])
    )
    offset = _anaphoric_offset(date_text)
    if offset is not None:
        return date_text, *_date_before(doc, found[0], offset, future)
    date, precision = resolve_date(date_text, doc.source.published, future=future)
    return date_text, date, precision


# Date words that point back at a day named before them: "on the same day", "the next day".
_ANAPHORA = re.compile(
    r"^(?:on\s+|later\s+)?(?:(?P<same>the\s+same\s+day|that\s+(?:day|morning|afternoon|"
    r"evening|night)|the\s+same\s+(?:morning|afternoon|evening|night))|(?P<next>the\s+"
    r"(?:next|following)\s+day|a\s+day\s+later|the\s+day\s+after)|(?P<prev>the\s+"
    r"(?:previous|preceding)\s+day|a\s+day\s+(?:earlier|before)|the\s+day\s+before))$",
    re.IGNORECASE,
)
_DAY_WORDS = re.compile(
    r"\b(?:(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2}"
    r"|\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*|yesterday|today)\b"
)


def _anaphoric_offset(date_text: str) -> int | None:
    match = _ANAPHORA.match(" ".join(date_text.split()))
    if match is None:
        return None
    return 0 if match["same"] else 1 if match["next"] else -1


def _date_before(
    doc: Document, at: int, offset: int, future: bool
) -> tuple[dt.date | None, DatePrecision]:
    """The day named last before ``at`` in the article, moved by ``offset`` days."""
    named = list(_DAY_WORDS.finditer(doc.text, 0, at))
    if not named:
        return None, "unknown"
    last = named[-1]
    tense = future or future_tense_around(doc.text, last.start(), last.end())
    date, precision = resolve_date(last.group(0), doc.source.published, future=tense)
    if date is None or precision != "day":
        return None, "unknown"
    return date + dt.timedelta(days=offset), "day"


def _location(doc: Document, location: str | None, evidence: Sequence[Evidence]) -> str | None:
    """The place as the article writes it; a place the article does not name is left out."""
    words = (location or "").strip()
    if not words:
        return None
    prefer = (evidence[0].start, evidence[-1].end) if evidence else None
    found = locate_quote(doc.text, words, prefer)
    if found is not None:
        return doc.text[found[0] : found[1]]
    return words if name_written_in([words], doc.text) else None


def _event_record(
    doc: Document, grounded: GroundedItem[ExtractedEvent], mentioned: frozenset[str]
) -> EventRecord | None:
    """The stored record, or None when its quotes do not carry it: no actor named where the
    quotes stand, or quotes that share nothing with what the record says."""
    event = grounded.item
    summary = re.sub(r"\s+", " ", event.summary).strip()
    if grounded.grounded:
        actors = _event_actors(doc, event.actors, grounded.evidence, mentioned)
        targets = _event_actors(doc, event.targets, grounded.evidence, mentioned)
        said = [summary, *(a.name for a in event.actors), *(t.name for t in event.targets)]
        if not actors or not evidence_carries(said, grounded.evidence):
            return None
    else:
        actors = _unique_actors([canonicalize_actor(a) for a in event.actors])
        targets = _unique_actors([canonicalize_actor(a) for a in event.targets])
    date_text, date, precision = _event_date(doc, event, grounded.evidence)
    record = EventRecord(
        id="ev-pending",
        type=event.type,
        summary=summary,
        actors=actors,
        targets=targets,
        date=date,
        date_text=date_text,
        date_precision=precision,
        location=_location(doc, event.location, grounded.evidence),
        quantities=_quantities(doc, event, doc.source.published),
        factuality=event.factuality,
        evidence=grounded.evidence,
        confidence=_clamp(event.confidence),
        source_id=doc.id,
        grounded=grounded.grounded,
    )
    return record.model_copy(update={"id": _event_id(record)})


# Verbs and phrases that take a side. Only verbs count: "opposition parties" and "a chance
# against dumped imports" take none.
_FAVOR = re.compile(
    r"\b(?:support(?:s|ed|ing)?|backs|backed|backing|welcom(?:e|es|ed|ing)|"
    r"endors(?:e|es|ed|ing)|favou?r(?:s|ed|ing)?|in\s+favou?r\s+of|prais(?:e|es|ed|ing)|"
    r"accept(?:s|ed|ing)?|approv(?:e|es|ed|ing)|applaud(?:s|ed|ing)?|embrac(?:e|es|ed|ing)|"
    r"hail(?:s|ed|ing)?|agree(?:s|d)?\s+(?:to|with)|call(?:s|ed)?\s+for|"
    r"vot(?:e|es|ed|ing)\s+for)\b",
    re.IGNORECASE,
)
_AGAINST = re.compile(
    r"\b(?:oppos(?:e|es|ed|ing)|reject(?:s|ed|ing)?|condemn(?:s|ed|ing)?|"
    r"critici[sz](?:e|es|ed|ing)|denounc(?:e|es|ed|ing)|refus(?:e|es|ed|ing)|"
    r"object(?:s|ed|ing)?\s+to|deplor(?:e|es|ed|ing)|slam(?:s|med|ming)?|decr(?:y|ies|ied)|"
    r"veto(?:es|ed|ing)?|boycott(?:s|ed|ing)?|vot(?:e|es|ed|ing)\s+against|"
    r"(?:is|are|was|were|remains?|remained|came\s+out|stands?)\s+against|"
    r"wrong|a\s+mistake|unacceptable|(?:do|does|did)\s+not\s+need|no\s+need\s+for|"
    r"(?:not|never)\s+sign|"
    r"is\s+the\s+problem)\b",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"\b(?:not|never|no\s+longer|won't|wouldn't|cannot|can't|refus(?:e|es|ed)\s+to)"
    r"(?:\s+\w+){0,2}\s*$",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"\b(?:if|unless|whether)\b[^,.;:]*$", re.IGNORECASE)
# "rejected the criticism": against a charge is for what it charges.
_CHARGE = re.compile(
    r"^\s+(?:\w+\s+){0,2}(?:criticisms?|claims?|accusations?|allegations?|charges?|"
    r"suggestions?|assertions?)\b",
    re.IGNORECASE,
)


def _side_taken(text: str) -> str | None:
    """The side ``text`` takes by its verbs ("favor", "against"), or None when it takes both
    or neither. "Will not sign" is against; "rejected the criticism" is for."""
    sides = set()
    for pattern, side in ((_FAVOR, "favor"), (_AGAINST, "against")):
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 40) : match.start()]
            if _CONDITION.search(before):
                continue  # "if this law is signed": no side taken
            negated = _NEGATED.search(before)
            if side == "favor":
                sides.add("against" if negated else "favor")
            elif not negated:
                charge = _CHARGE.match(text[match.end() : match.end() + 40])
                sides.add("favor" if charge else "against")
    return sides.pop() if len(sides) == 1 else None


def _polarity_contradicted(stance: ExtractedStance, evidence: Sequence[Evidence]) -> bool:
    """The reply's polarity is the opposite of the side the quotes take (or, when they take
    none, the side its own claim takes): a polarity that would misreport the holder."""
    if stance.polarity == "neutral":
        return False
    quoted = _side_taken(" ".join(e.quote for e in evidence))
    side = quoted or _side_taken(stance.claim)
    return side is not None and side != stance.polarity


def _stance_record(
    doc: Document, grounded: GroundedItem[ExtractedStance], mentioned: frozenset[str]
) -> StanceRecord | None:
    stance = grounded.item
    if grounded.grounded:
        # Who holds a position is often named once and then "the agency said": anywhere in
        # the article will do.
        at = min(e.start for e in grounded.evidence)
        named = _actors_named([stance.holder], doc.text, mentioned, doc, at)
        if not named or _polarity_contradicted(stance, grounded.evidence):
            return None
        # A claim that names a side ("backs the offer") must be borne out by its quotes, by
        # the side they take or the words they share; idioms that name none ("the door of
        # this ministry is open") carry a claim that names none either.
        quoted = " ".join(e.quote for e in grounded.evidence)
        said = [stance.claim, stance.topic, stance.target or ""]
        claimed = _side_taken(stance.claim)
        if (
            claimed is not None
            and _side_taken(quoted) is None
            and not evidence_carries(said, grounded.evidence)
        ):
            return None
        holder = named[0]
    else:
        holder = canonicalize_actor(stance.holder)
    record = StanceRecord(
        id="st-pending",
        holder=holder,
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
