"""The actors a record's quotes name, canonicalised (``_actors``), with the state the article
gives them: actors the model adds beside the quotes' own are dropped, and a state body named
without its state ("the Interior Ministry") takes the state the article attaches to it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from briefer.extraction._actors import canonicalize_actor, tidy_name
from briefer.models import Actor, Document, Evidence, ExtractedActor
from briefer.text.countries import codes_for, countries_mentioned, country_name, find_mentions
from briefer.text.dates import MONTH_ABBREVIATIONS
from briefer.text.words import name_written_in, word_set


def _unique_actors(actors: Sequence[Actor]) -> list[Actor]:
    seen: set[str] = set()
    unique: list[Actor] = []
    for actor in actors:
        if actor.canonical not in seen:
            seen.add(actor.canonical)
            unique.append(actor)
    return unique


# --- what the record's words must show --------------------------------------------------------

# A sentence ends at ., ! or ? (and closing quotes) before a space and a capital or an opening
# quote, unless the word before is an abbreviation: "the U.S. ambassador", "Gen. Kim".
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])|\n")
_ABBREVIATION = re.compile(
    r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Sgt|Capt|Sen|Rep|Gov|Prof|St|No|Inc|Ltd|Co|Corp|vs"
    r"|etc|" + "|".join(short.capitalize() for short in MONTH_ABBREVIATIONS) + r"))\.$"
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
    doc: Document,
    at: int,
) -> list[Actor]:
    """The actors, canonicalised, that ``window`` names; the others are dropped. Each actor's
    country is settled against the document (``_settle_country``) at ``at``."""
    words = word_set(window)
    named = []
    actors = [canonicalize_actor(a, mentioned=mentioned) for a in extracted]
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
