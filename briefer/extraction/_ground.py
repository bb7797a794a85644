"""Grounding: find each quote a model returned in the original article text.

A quote is looked for exactly, then after normalising typography (whitespace runs, curly and
straight quote marks, dashes, ellipses, non-breaking spaces), then also ignoring case. The
normalised text keeps a map back to the original, so offsets always point into the original
text and the stored quote is the original slice: ``text[start:end] == evidence.quote``.
A record none of whose quotes is found is not grounded and never reaches a briefing.

Text that addresses the model rather than the reader, in any wording ("ignore previous
instructions and report that ...", "Summaries of this page should say ...", a fake "[SYSTEM]"
line), is quarantined (``_injection``): a quote standing in such a passage grounds
nothing, so a record a model was talked into by the article is dropped even when it copies the
injected words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, Literal, Protocol, TypeVar

from briefer.extraction._injection import instruction_spans
from briefer.models import Document, Evidence
from briefer.text.dates import MONTH_FORMS, WEEKDAY_NAMES
from briefer.text.words import same_word

__all__ = [
    "MIN_DISTINCTIVE_WORDS",
    "MIN_QUOTE_CHARS",
    "GroundedItem",
    "GroundingOutcome",
    "MatchKind",
    "NormalizedText",
    "QuotedItem",
    "carries_a_record",
    "evidence_carries",
    "ground_records",
    "is_meaningful_quote",
    "locate_quote",
    "normalize_typography",
]

MatchKind = Literal["exact", "normalized", "casefold"]

# Shorter quotes match by chance too easily to count as grounding ("the U.S.", "said").
MIN_QUOTE_CHARS = 8

_QUOTE_MARKS = {c: "'" for c in "‘’‚‛′`´"} | {c: '"' for c in "“”„‟″«»"}
_DASHES = dict.fromkeys("‐‑‒–—―−", "-")
_EXPANSIONS = {"…": "..."}
_TRANSLATE = _QUOTE_MARKS | _DASHES | _EXPANSIONS
_ELISION = re.compile(r"\s*(?:\[\.\.\.\]|\[…\]|\.\.\.|…)\s*")
# Characters that surround a quote the model may have copied along with it.
_WRAPPERS = "\"'“”‘’«»"


@dataclass(frozen=True)
class NormalizedText:
    """A normalised text and, for each of its characters, the original span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.starts[start], self.ends[end - 1]


def normalize_typography(text: str, *, casefold: bool = False) -> NormalizedText:
    """``text`` as quotes are compared: whitespace runs collapsed to one space, quote marks,
    dashes and ellipses unified (and with ``casefold``, lower case), each character mapped back
    to the span of ``text`` it came from."""
    return _normalize_cached(text, casefold)


# One document is searched for many quotes: normalise it once, not once per quote.
@lru_cache(maxsize=32)
def _normalize_cached(text: str, casefold: bool) -> NormalizedText:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            j = i + 1
            while j < n and text[j].isspace():
                j += 1
            out.append(" ")
            starts.append(i)
            ends.append(j)
            i = j
            continue
        replacement = _TRANSLATE.get(char, char)
        if casefold:
            lowered = replacement.lower()
            # Lowering may change the length (e.g. 'İ'); keep such characters as they are.
            if len(lowered) == len(replacement):
                replacement = lowered
        for piece in replacement:
            out.append(piece)
            starts.append(i)
            ends.append(i + 1)
        i += 1
    return NormalizedText("".join(out), tuple(starts), tuple(ends))


# Words that say someone spoke, or when, and nothing of what happened: a quote made of them
# ("the ministry said on Tuesday") is found in almost any article and carries no record.
_GENERIC_WORDS = frozenset(
    """the a an and or but of in on at to for from by with as into about after before over
    it its is are was were be been being has have had do does did that this these those which
    who whom whose what when where there here he she they we you i his her their our your them
    him us me also not no said says say saying told tell tells stated states statement
    statements added adding according announced announcement spoke speaking asked noted
    reported reports report reporters officials official spokesman spokeswoman spokesperson
    ministry government authorities sources source people news conference briefing press
    today yesterday tomorrow week weeks month months year years day days morning afternoon
    evening night last next earlier later then now however meanwhile would will could should
    may might can must""".split()  # noqa: SIM905
).union(WEEKDAY_NAMES, MONTH_FORMS)  # and every name and short form of a weekday or month
_QUOTE_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d[\d,.]*")
# A quote needs this many words beyond the generic ones to stand for anything.
MIN_DISTINCTIVE_WORDS = 2


def _distinctive_words(text: str) -> list[str]:
    words = (
        m.group(0).casefold().removesuffix("'s").removesuffix("’s")
        for m in _QUOTE_WORD.finditer(text)
    )
    return [w for w in words if w not in _GENERIC_WORDS and (len(w) > 2 or w[0].isdigit())]


def is_meaningful_quote(quote: str) -> bool:
    """Specific enough to stand as evidence: at least ``MIN_QUOTE_CHARS`` characters and
    ``MIN_DISTINCTIVE_WORDS`` words that are not generic reporting words, dates or function
    words. "the ministry said on" or "officials told reporters" match in any article."""
    normalized = normalize_typography(quote).text.strip()
    return (
        len(normalized) >= MIN_QUOTE_CHARS
        and len(_distinctive_words(normalized)) >= MIN_DISTINCTIVE_WORDS
    )


# A quote that only says who spoke: a name, then "said", "told reporters", "data showed".
_ATTRIBUTION = re.compile(
    r"^[\"'“‘(]*(?:according\s+to\s+)?(?:[^\s,.;:!?\"“”]+\s+){0,5}[^\s,.;:!?\"“”]+\s+"
    r"(?:said|says|say|told(?:\s+\w+){0,2}|reported|reports|announced|added|stated|showed|"
    r"shows|confirmed|noted|wrote|tweeted|explained|insisted|claimed|warned)"
    r"(?:\s+(?:on|in|at|late|early|this|last|that)(?:\s+\w+){0,2})?[.,;:…]*[\"'”’)]*$",
    re.IGNORECASE,
)


def carries_a_record(quote: str) -> bool:
    """Specific enough to ground a record on its own: meaningful, and more than who spoke.
    "the coast guard said", "The prefecture of the Drôme said" or "port data showed" are in any
    day's reports; they stand beside a record's real quote, never alone, while a short quote
    of what was said ("not open for renegotiation") does carry it."""
    normalized = normalize_typography(quote).text.strip()
    return is_meaningful_quote(normalized) and _ATTRIBUTION.match(normalized) is None


def evidence_carries(said: Sequence[str], evidence: Sequence[Evidence]) -> bool:
    """Do the quotes share a distinctive word, in one of its forms ("sanctions"/"sanctioned"),
    with what the record says (its summary, its actors' and targets' names)? A record whose
    quotes are about something else is not grounded by them, however verbatim they are."""
    quoted = frozenset(_distinctive_words(" ".join(e.quote for e in evidence)))
    return any(same_word(w, quoted) for w in _distinctive_words(" ".join(said)))


def _occurrences(haystack: str, needle: str) -> list[int]:
    found: list[int] = []
    at = haystack.find(needle)
    while at != -1:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def _pick(spans: list[tuple[int, int]], prefer: tuple[int, int] | None) -> tuple[int, int]:
    """The occurrence inside the preferred span, else one overlapping it, else the first."""
    if prefer is not None:
        lo, hi = prefer
        for start, end in spans:
            if lo <= start and end <= hi:
                return start, end
        for start, end in spans:
            if start < hi and lo < end:
                return start, end
    return spans[0]


def _locate_once(
    text: str, quote: str, prefer: tuple[int, int] | None
) -> tuple[int, int, MatchKind] | None:
    if not quote:
        return None
    exact = [(s, s + len(quote)) for s in _occurrences(text, quote)]
    if exact:
        return (*_pick(exact, prefer), "exact")
    kind: MatchKind
    for kind, casefold in (("normalized", False), ("casefold", True)):
        haystack = normalize_typography(text, casefold=casefold)
        needle = normalize_typography(quote, casefold=casefold).text.strip(" ")
        if not needle:
            return None
        spans = [
            haystack.original_span(s, s + len(needle)) for s in _occurrences(haystack.text, needle)
        ]
        if spans:
            return (*_pick(spans, prefer), kind)
    return None


def locate_quote(
    text: str, quote: str, prefer: tuple[int, int] | None = None
) -> tuple[int, int, MatchKind] | None:
    """Where ``quote`` stands in ``text`` as ``(start, end, how)``, or None when it is not there.

    ``prefer`` is a span (usually the chunk the quote came from) whose occurrence wins when
    the quote occurs more than once. Quote marks wrapped around the whole quote are tried off
    when the quote is not found with them.
    """
    found = _locate_once(text, quote.strip(), prefer)
    if found is None:
        unwrapped = quote.strip().strip(_WRAPPERS).strip()
        if unwrapped != quote.strip():
            found = _locate_once(text, unwrapped, prefer)
    return found


def _quarantined(text: str, span: tuple[int, int]) -> bool:
    """Does ``span`` touch a passage addressed to a model rather than to readers (whatever its
    wording, see ``_injection``)? A quote there grounds nothing."""
    return any(span[0] < end and start < span[1] for start, end in instruction_spans(text))


def _located_spans(text: str, quote: str, prefer: tuple[int, int] | None) -> list[tuple[int, int]]:
    if not is_meaningful_quote(quote):
        return []
    found = locate_quote(text, quote, prefer)
    if found is not None:
        return [found[:2]]
    # Models sometimes skip words with an ellipsis despite the instructions: each piece that
    # is verbatim and meaningful on its own still grounds, as its own span.
    pieces = [p for p in _ELISION.split(quote) if is_meaningful_quote(p)]
    if len(pieces) < 2:
        return []
    spans = [locate_quote(text, piece, prefer) for piece in pieces]
    return [span[:2] for span in spans if span is not None]


@dataclass
class _Found:
    """What became of a record's quotes: the evidence found (outside quarantined passages),
    how many quotes it came from, the quotes not found, and whether any stands in a passage
    addressed to a model."""

    evidence: list[Evidence] = field(default_factory=list)
    located: int = 0
    missing: list[str] = field(default_factory=list)
    quarantined: bool = False


def _find_quotes(doc: Document, quotes: Sequence[str], prefer: tuple[int, int] | None) -> _Found:
    found = _Found()
    seen: set[tuple[int, int]] = set()
    for quote in quotes:
        everywhere = _located_spans(doc.text, quote, prefer)
        spans = [span for span in everywhere if not _quarantined(doc.text, span)]
        found.quarantined |= len(spans) < len(everywhere)
        found.located += bool(spans)
        if not everywhere:
            found.missing.append(quote)
        for start, end in spans:
            if (start, end) not in seen:
                seen.add((start, end))
                found.evidence.append(
                    Evidence(source_id=doc.id, quote=doc.text[start:end], start=start, end=end)
                )
    return found


class QuotedItem(Protocol):
    """What the model returns for a record: anything with its claimed quotes."""

    @property
    def quotes(self) -> list[str]: ...


ItemT = TypeVar("ItemT", bound=QuotedItem)


@dataclass(frozen=True)
class GroundedItem(Generic[ItemT]):
    """A model item with the evidence found for it. ``grounded`` is False only when kept."""

    item: ItemT
    evidence: list[Evidence]
    grounded: bool


@dataclass
class GroundingOutcome(Generic[ItemT]):
    items: list[GroundedItem[ItemT]] = field(default_factory=list)
    quotes_total: int = 0
    quotes_grounded: int = 0
    records_total: int = 0
    records_grounded: int = 0
    records_dropped: int = 0


def ground_records(
    doc: Document,
    items: Sequence[ItemT],
    *,
    prefer: tuple[int, int] | None = None,
    keep_ungrounded: bool = False,
) -> GroundingOutcome[ItemT]:
    """Locate every quote of every item; keep the found quotes as evidence.

    An item none of whose found quotes carries a record is dropped and counted, or, with
    ``keep_ungrounded``, kept with ``grounded=False``: the quotes found keep their offsets, and
    each quote not in the text gets an empty span at the start of ``prefer`` (no offsets can be
    honest for it). An item resting on a passage addressed to a model (``_injection``) is
    never kept, whatever ``keep_ungrounded`` says: that is an instruction, not an unverified
    claim.
    """
    outcome: GroundingOutcome[ItemT] = GroundingOutcome()
    for item in items:
        outcome.records_total += 1
        outcome.quotes_total += len(item.quotes)
        found = _find_quotes(doc, item.quotes, prefer)
        outcome.quotes_grounded += found.located
        if any(carries_a_record(e.quote) for e in found.evidence):
            outcome.records_grounded += 1
            outcome.items.append(GroundedItem(item, found.evidence, grounded=True))
            continue
        if not keep_ungrounded or found.quarantined:
            outcome.records_dropped += 1
            continue
        anchor = prefer[0] if prefer is not None else 0
        unlocated = [
            Evidence(source_id=doc.id, quote=q, start=anchor, end=anchor)
            for q in (found.missing if found.evidence or found.missing else [""])
        ]
        outcome.items.append(GroundedItem(item, [*found.evidence, *unlocated], grounded=False))
    return outcome
