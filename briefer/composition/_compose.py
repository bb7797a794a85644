"""Compose: merged records → cited briefing items, by the model or by a deterministic composer.

The model writes only the "top" section, in one call; every item it returns is checked in code
(each sentence cites known records, each number is in the cited records, see
``_citations``). Failing items are asked again once, in a single follow-up call with the
failures; an item that still fails is replaced by the deterministic text for the records it
cites (or dropped when it cites none), with a note. When the call fails altogether, the whole
briefing is written by the deterministic composer, with a note. The other sections (where
sources disagree, who said what, timeline) always come from the deterministic composer: they
restate record fields and need no writing.

The deterministic composer writes sentences from record fields and the articles' own words, and
keeps only those that pass the same checks as the model's. Where outlets disagree on a value of
an event, no sentence about that event states one side as fact: the disagreement is told with
each outlet beside its value, and the event is worded without the disputed value (or by a quote
its outlet is named for). Positions are worded one way throughout: a holder "supports",
"opposes" or "takes no side on" a question.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from string import Template
from typing import Any, Literal, Protocol

from briefer._resources import read_resource
from briefer.composition._citations import (
    check_item,
    format_number,
    sentence_failures,
    source_label,
)
from briefer.errors import BudgetExceededError, LLMError
from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.llm.structured import LLMRunner
from briefer.models import (
    Actor,
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
    reply_schema,
)
from briefer.text.countries import codes_for, country_name
from briefer.text.dates import month_name, weekday_name, written_date, written_month
from briefer.text.numbers import find_numbers

__all__ = [
    "COMPOSE_TOKENS_PER_ITEM",
    "POLARITY_WORDS",
    "PROMPT_VERSION",
    "TOP_ITEMS",
    "ComposeResult",
    "MergedRecords",
    "as_compose_item",
    "build_compose_request",
    "build_followup_request",
    "compose_deterministic",
    "compose_items",
    "compose_max_tokens",
    "date_span",
    "event_wording",
    "holder_label",
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
# The reply's token bound: an item (a headline and a few cited sentences) takes about 120
# tokens, so this leaves room for long items while a server that never stops is cut off.
COMPOSE_TOKENS_PER_ITEM = 300
COMPOSE_TOKENS_OVERHEAD = 200

Composer = Literal["llm", "deterministic"]
Section = Literal["top", "disagreements", "stances", "timeline"]
Record = MergedEvent | MergedStance

FOLLOWUP_INSTRUCTION = (
    "Some items failed the checks made on every briefing sentence (each sentence cites at "
    "least one given record id; every number, name and date it writes is written in the "
    "quotes of the records it cites).\n"
    "{failures}\n"
    "Rewrite these {count} item(s) only, in the same order, fixing every failure. Reply with "
    'the complete JSON object {{"items": [...]}} holding exactly {count} item(s).'
)
# One wording of a position, everywhere a briefing states one.
POLARITY_WORDS: dict[str, str] = {
    "favor": "supports",
    "against": "opposes",
    "neutral": "takes no side on",
}
_POLARITY_PAST = {"favor": "supported", "against": "opposed", "neutral": "took no side on"}
_POLARITY_GERUND = {"favor": "supporting", "against": "opposing", "neutral": "taking no side on"}
_POLARITY_BARE = {"favor": "supports", "against": "opposes", "neutral": "takes no side"}

_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTH_NAME = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
)
_MONTH_ABBR = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\."
_RELATIVE_DAY = r"(?:[Tt]oday|[Yy]esterday|[Tt]omorrow|[Tt]onight)"
# Words that date something: a sentence holding one takes a side in a conflict over the date.
_DATE_MENTION = re.compile(
    rf"\b(?:{_WEEKDAY}|{_MONTH_NAME}|{_RELATIVE_DAY})\b|\b{_MONTH_ABBR}?(?=\s*\d)"
)
# A date and the words around it that go when the date goes ("on Wednesday", ", Jan. 12").
_MONTH = rf"(?:{_MONTH_NAME}|{_MONTH_ABBR}?)"
_DATE_PHRASE = re.compile(
    r"(?:,\s*)?\b(?:(?:on|by|since|until|from|last|this|next|early|late|as of)\s+)?"
    rf"(?:{_WEEKDAY}(?:\s+(?:morning|afternoon|evening|night))?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?![\w.])(?:,?\s+\d{{4}})?"
    rf"|{_RELATIVE_DAY})\b"
)
# Words that go with a count when the count goes ("a total of five" is "a total of").
_COUNT_LEAD = re.compile(r"\b(?:a total of|a group of|as many as|an estimated|some)\s*$", re.I)
# A clause is cut from a summary only at a break like these, never dropping an attribution
# ("..., officials said") and never keeping a subordinate clause alone ("After the talks").
_CLAUSE_BREAK = re.compile(r"\s*(?:,|;|\s[—–-]\s)\s*")
_ATTRIBUTION = re.compile(
    r"\b(?:according|said|says|say|saying|reported|reports|citing|told|claimed|claims)\b", re.I
)
_SUBORDINATE = frozenset(
    """after although amid as because before despite following if once since though unless
    until when whenever where whereas while""".split()  # noqa: SIM905
)
_MIN_CLAUSE_WORDS = 4
# Names written with "the": some states' ("the United States was the actor"), and bodies
# named for what they are ("the US Department of the Treasury", "the Dock Workers Union").
_THE_STATES = frozenset({"netherlands", "philippines", "bahamas", "gambia", "maldives"})
_THE_HEADS = frozenset(
    """administration agency alliance army assembly association authority bank board cabinet
    coalition commission committee congress council court department federation forces fund
    government guard institute kremlin league ministry navy office organisation organization
    parliament party pentagon police secretariat senate service treasury tribunal union""".split()  # noqa: SIM905
)


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


def compose_max_tokens(items: int) -> int:
    """The token bound of a composition reply asked for ``items`` items."""
    return COMPOSE_TOKENS_OVERHEAD + COMPOSE_TOKENS_PER_ITEM * max(1, items)


def date_span(first: dt.date, last: dt.date) -> str:
    """Two days as a period: "12 to 20 January 2022", "28 February to 3 March 2025"."""
    first, last = min(first, last), max(first, last)
    if first == last:
        return written_date(last)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} to {written_date(last)}"
    if first.year == last.year:
        return f"{first.day} {month_name(first)} to {written_date(last)}"
    return f"{written_date(first)} to {written_date(last)}"


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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?", '"', "”")) else f"{text}."


def _line(text: str) -> str:
    """A sentence of the deterministic composer: one line, capitalised, with its full stop (after
    a closing quote mark too, unless the quote ends the sentence itself)."""
    text = _one_line(text)
    text = text[:1].upper() + text[1:]
    if text.endswith(('"', "”")):
        return text if text[:-1].endswith((".", "!", "?")) else f"{text}."
    return _sentence(text)


def _quoted(text: str) -> str:
    return f"“{_one_line(text)}”"


def _format_date(date: dt.date, precision: str = "day") -> str:
    if precision == "year":
        return str(date.year)
    if precision == "month":
        return written_month(date)
    day = written_date(date)
    return f"the week of {day}" if precision == "week" else day


def _field_what(name: str) -> str:
    if name.startswith("quantities."):
        return f"the number of {name.removeprefix('quantities.')}"
    return {"date": "the date", "location": "the place"}.get(name, name)


def _number_key(value: float) -> float:
    return round(value, 6)


def _disputed_numbers(conflict: Conflict) -> set[float]:
    return {_number_key(v.value) for v in conflict.values if isinstance(v.value, float)}


def _states_a_disputed_value(text: str, event: MergedEvent) -> bool:
    """Whether ``text`` states a value the event's outlets disagree on (any side of it)."""
    lowered = text.lower()
    for conflict in event.conflicts:
        if conflict.field == "date":
            if _DATE_MENTION.search(text):
                return True
            if event.date_text and event.date_text.lower() in lowered:
                return True
        elif conflict.field.startswith("quantities."):
            disputed = _disputed_numbers(conflict)
            if any(_number_key(n.value) in disputed for n in find_numbers(text)):
                return True
            if any(v.text and v.text.lower() in lowered for v in conflict.values):
                return True
        elif any(str(v.value).lower() in lowered for v in conflict.values):
            return True
    return False


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", _one_line(text))
    text = re.sub(r",(?=[,.;:])", "", text)
    return text.strip(" ,;")


def _without_disputed(text: str, event: MergedEvent) -> str:
    """``text`` less the disputed values it states and the words that go with them."""
    for conflict in event.conflicts:
        if conflict.field == "date":
            if event.date_text:
                text = re.sub(re.escape(event.date_text), " ", text, flags=re.IGNORECASE)
            text = _DATE_PHRASE.sub(" ", text)
        elif conflict.field.startswith("quantities."):
            disputed = _disputed_numbers(conflict)
            for number in reversed(find_numbers(text)):
                if _number_key(number.value) in disputed:
                    lead = _COUNT_LEAD.search(text[: number.start])
                    start = lead.start() if lead else number.start
                    text = f"{text[:start]} {text[number.end :]}"
    return _tidy(text)


def _clauses(text: str) -> Iterator[str]:
    """Shorter wordings of a sentence: its head up to a clause break, longest first."""
    text = _one_line(text).rstrip(".")
    for match in reversed(list(_CLAUSE_BREAK.finditer(text))):
        head, rest = text[: match.start()].strip(), text[match.end() :]
        words = head.split()
        if len(words) < _MIN_CLAUSE_WORDS or words[0].lower() in _SUBORDINATE:
            continue
        if _ATTRIBUTION.search(rest) or head.count('"') % 2 or head.count("“") != head.count("”"):
            continue
        yield f"{head}."


def _mentions(actor: Actor, text: str) -> bool:
    lowered = text.lower()
    return actor.canonical.lower() in lowered or _one_line(actor.name).lower() in lowered


def _actor_label(actor: Actor) -> str:
    """An actor as a sentence names it: its canonical name, with "the" where English has it."""
    name = _one_line(actor.canonical)
    if codes_for(name):
        needs_the = name.startswith("United ") or name.lower() in _THE_STATES
        needs_the = needs_the or name.endswith((" Republic", " Islands", " Emirates"))
    else:
        needs_the = bool(_THE_HEADS & set(name.lower().split()))
    if needs_the and not name.lower().startswith("the "):
        return f"the {name}"
    return name


@dataclass(frozen=True)
class _Holder:
    """Whose position: a person or body as named, so two ministries of one state stay two."""

    key: str
    label: str
    role: str | None


def _holder(actor: Actor) -> _Holder:
    canonical = _one_line(actor.canonical)
    name = _one_line(actor.name)
    label = _actor_label(actor)
    label = label[:1].upper() + label[1:]
    if codes_for(canonical) and name and not codes_for(name) and name.lower() != canonical.lower():
        # A body of a state ("South Korea's Unification Ministry") keeps the name it was given.
        first, _, rest = name.partition(" ")
        if first.lower() in ("its", "their", "the") and rest:
            # "its Foreign Ministry", "the Foreign Ministry": whose it is, said.
            owner = _actor_label(actor)
            possessive = "'" if owner.endswith("s") else "'s"
            name = f"{owner}{possessive} {rest}"
        label = name[:1].upper() + name[1:]
    role = None
    state = country_name(actor.country) if actor.country else None
    if state and not codes_for(label) and state.lower() not in label.lower():
        role = state
    return _Holder(label.lower().removeprefix("the "), label, role)


def holder_label(actor: Actor) -> str:
    """Whose position, as a briefing names the holder: a person or a body as named, a state by
    its name, and the state of a person or body that does not name it ("Zhao Lijian (China)")."""
    holder = _holder(actor)
    return f"{holder.label} ({holder.role})" if holder.role else holder.label


def _question(stance: MergedStance) -> str:
    return _one_line(stance.target or stance.topic)


def _day_words(day: dt.date, texts: Iterable[str], *, weekday: bool) -> str | None:
    """The words an article gives for ``day`` ("January 12", "12 Jan.", "Wednesday"), if any:
    a sentence may name a day only as its evidence writes it."""
    month = f"(?:{month_name(day)}|{month_name(day)[:3]}\\.?)"
    dated = re.compile(rf"\b(?:{month}\s+{day.day}\b|{day.day}\s+{month}(?![\w]))")
    texts = list(texts)
    for text in texts:
        if found := dated.search(text):
            return found.group(0)
    if weekday:
        named = re.compile(rf"\b{weekday_name(day)}\b")
        if any(named.search(text) for text in texts):
            return weekday_name(day)
    return None


def _iso_day(value: float | str) -> dt.date | None:
    if isinstance(value, float):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _days_apart(days: Sequence[dt.date]) -> int:
    return (max(days) - min(days)).days if days else 0


class _Writer:
    """Builds deterministic sentences that pass the checks for the records they cite."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = sources
        self._wordings: dict[str, str | None] = {}

    def passes(self, records: Record | Sequence[Record], text: str) -> bool:
        cited = [records] if isinstance(records, MergedEvent | MergedStance) else list(records)
        return not sentence_failures(text, cited, self.sources)

    def fits(self, event: MergedEvent, text: str) -> bool:
        """Passes the checks and takes no side where outlets disagree."""
        return self.passes(event, text) and not _states_a_disputed_value(text, event)

    def first_supported(
        self, records: Record | Sequence[Record], candidates: Iterable[str]
    ) -> str | None:
        for candidate in candidates:
            if candidate.strip() and self.passes(records, _line(candidate)):
                return _line(candidate)
        return None

    def _published(self, source_id: str) -> tuple[dt.date, str]:
        source = self.sources.get(source_id)
        return (source.published if source and source.published else dt.date.max, source_id)

    def label(self, source_ids: Iterable[str]) -> str:
        return _join(_labels(source_ids, self.sources))

    def quotes_of(self, record: Record, source_ids: Iterable[str]) -> list[str]:
        wanted = set(source_ids)
        return [ev.quote for ev in record.evidence if ev.source_id in wanted]

    def quote_line(self, record: Record) -> str:
        """A verbatim quote, its outlet named: always supported. Of an event with a conflict,
        a quote that states no disputed value is taken when there is one."""
        evidence = record.evidence
        if isinstance(record, MergedEvent) and record.conflicts:
            neutral = [e for e in evidence if not _states_a_disputed_value(e.quote, record)]
            evidence = neutral or evidence
        ev = evidence[0]
        return _line(f"{self.label([ev.source_id])} reported: {_quoted(ev.quote)}")

    # --- events -------------------------------------------------------------------------------

    def summary_wording(self, event: MergedEvent) -> str | None:
        """The event's summary, else its head clause, else either without a disputed value."""
        if event.id not in self._wordings:
            self._wordings[event.id] = self._summary_wording(event)
        return self._wordings[event.id]

    def _summary_wording(self, event: MergedEvent) -> str | None:
        texts = [event.summary]
        if event.conflicts:
            texts.append(_without_disputed(event.summary, event))
        for text in texts:
            for candidate in (_line(text), *_clauses(text)):
                if self.fits(event, candidate):
                    return candidate
        return None

    def wording(self, event: MergedEvent) -> str:
        return self.summary_wording(event) or self.quote_line(event)

    def event_headline(self, event: MergedEvent) -> str:
        """The whole wording (a long one cut at a clause, never mid-phrase), else the actors."""
        wording = self.summary_wording(event)
        if wording is None:
            return _join([a.canonical for a in event.actors])
        if len(wording) > MAX_HEADLINE_CHARS:
            for shorter in _clauses(wording):
                if len(shorter) <= MAX_HEADLINE_CHARS and self.fits(event, shorter):
                    return shorter.rstrip(".")
        return wording.rstrip(".")

    def who(self, event: MergedEvent, wording: str) -> str | None:
        """Who acted on whom, when the wording does not name them all."""
        if all(_mentions(a, wording) for a in (*event.actors, *event.targets)):
            return None
        actors = [_actor_label(a) for a in event.actors]
        targets = [_actor_label(a) for a in event.targets]
        acted = "was the actor" if len(actors) == 1 else "were the actors"
        whole = f"{_join(actors)} {acted}"
        if targets:
            whole += f", and {_join(targets)} the target{'s' if len(targets) > 1 else ''}"
        for text in (whole, f"{_join(actors)} {acted}"):
            if self.fits(event, _line(text)):
                return _line(text)
        return None

    def when(self, event: MergedEvent, wording: str) -> str | None:
        """When and where, in the article's words, when the wording does not say it."""
        if event.factuality in ("negated", "hypothetical"):
            return None
        parts = []
        disputed_date = any(c.field == "date" for c in event.conflicts)
        day = _one_line(event.date_text or "")
        told_day = bool(day) and not disputed_date and day.lower() not in wording.lower()
        if told_day:
            parts.append(day)
        place = _one_line(event.location or "")
        if place and place.lower() not in wording.lower():
            at = place.lower().startswith(("in ", "at ", "near "))
            parts.append(place if at else f"in {place}")
        if not parts:
            return None
        if event.factuality == "future":
            lead = "It is expected"
        else:
            lead = "It began" if event.ongoing and told_day else "It happened"
        text = _line(f"{lead} {' '.join(parts)}")
        return text if self.fits(event, text) else None

    def reported_by(self, event: MergedEvent) -> str:
        labels = _labels(sorted(event.source_ids, key=self._published), self.sources)
        text = f"{_join(labels)} reported it"
        if event.corroboration < len(labels):
            text += " (copies of a single report count once)"
        return _line(text)

    def conflict(self, event: MergedEvent, conflict: Conflict) -> str:
        what = _field_what(conflict.field)
        outlets = self.label(s for v in conflict.values for s in v.source_ids)
        days = [d for v in conflict.values if (d := _iso_day(v.value)) is not None]
        # A weekday names a day only within one week; further apart, only dates say which.
        weekday = _days_apart(days) < 7
        values = [self._conflict_value(event, v, weekday=weekday) for v in conflict.values]
        candidates = []
        if all(values):
            # Values that can be true together stand on one side: "4,000 (A) against 10,000
            # (B) and 12,000 (C)" when B and C only differ in how far above 10,000 they go.
            sides: dict[int, list[str]] = {}
            for v, shown in zip(conflict.values, values, strict=True):
                sides.setdefault(v.side, []).append(f"{shown} ({self.label(v.source_ids)})")
            if len(sides) > 1 and any(len(side) > 1 for side in sides.values()):
                told = " against ".join(_join(side) for side in sides.values())
            else:
                told = ", ".join(part for side in sides.values() for part in side)
            candidates.append(f"Outlets disagree on {what}: {told}")
        differ = "days" if conflict.field == "date" else "figures"
        candidates += [
            f"Outlets disagree on {what}: {outlets} give different {differ}",
            f"Outlets disagree: {outlets} give different {differ}",
        ]
        return self.first_supported(event, candidates) or _line(candidates[-1])

    def _conflict_value(
        self, event: MergedEvent, value: ConflictValue, *, weekday: bool
    ) -> str | None:
        if isinstance(value.value, float):
            return format_number(value.value)
        if value.text:
            return value.text
        day = _iso_day(value.value)
        if day is None:
            return value.value
        # A date is shown in the words its outlets wrote: the resolved day is not evidence.
        return _day_words(day, self.quotes_of(event, value.source_ids), weekday=weekday)

    def conflict_words(self, event: MergedEvent, conflict: Conflict) -> str | None:
        """Each outlet's own words for its value: "A writes “five North Koreans”; B …"."""
        if not conflict.field.startswith("quantities."):
            return None  # a date is already shown in its outlets' words
        parts = []
        for v in conflict.values:
            words = v.text
            if not words:
                return None
            verb = "writes" if len(_labels(v.source_ids, self.sources)) == 1 else "write"
            parts.append(f"{self.label(v.source_ids)} {verb} {_quoted(words)}")
        return self.first_supported(event, ["; ".join(parts)])

    def update(self, event: MergedEvent, update: Update) -> str:
        values = update.values
        # A weekday names a day only within one week; further apart, only dates say which.
        weekday = _days_apart([v.date for v in values]) < 7
        shown = []
        for v in values:
            words = _one_line(v.text or format_number(v.value))
            day = _day_words(v.date, self.quotes_of(event, v.source_ids), weekday=weekday)
            when = f" on {day}" if day and day.lower() not in words.lower() else ""
            shown.append(f"{words}{when} ({self.label(v.source_ids)})")
        numbers = [v.value for v in values]
        if all(a < b for a, b in pairwise(numbers)):
            trend = "rose"
        elif all(a > b for a, b in pairwise(numbers)):
            trend = "fell"
        else:
            trend = "changed"
        told = f"from {shown[0]} to {shown[1]}" + "".join(f", then to {s}" for s in shown[2:])
        what = _field_what(update.field)
        candidates = [f"{what} {trend} {told}", f"the figure {trend} {told}"]
        plain = ", then ".join(
            f"{_one_line(v.text or format_number(v.value))} ({self.label(v.source_ids)})"
            for v in values
        )
        candidates.append(f"The figures reported changed over the days: {plain}")
        return self.first_supported(event, candidates) or _line(candidates[-1])

    # --- stances ------------------------------------------------------------------------------

    def stance(self, stance: MergedStance) -> str:
        holder = _holder(stance.holder)
        position = POLARITY_WORDS[stance.polarity]
        quote = _quoted(stance.evidence[0].quote)
        candidates = [
            f"{holder.label} {position} {_question(stance)}: {quote}",
            f"{holder.label} {position} {_one_line(stance.topic)}: {quote}",
            f"{holder.label} {_POLARITY_BARE[stance.polarity]}, as reported: {quote}",
        ]
        return self.first_supported(stance, candidates) or _line(quote)

    def change(self, earlier: MergedStance, later: MergedStance) -> str:
        """A position that changed over days: both positions, in order, with their quotes."""
        holder = _holder(later.holder)
        dates = [d for d in (earlier.date, later.date) if d is not None]
        weekday = _days_apart(dates) < 7

        def when(stance: MergedStance) -> str:
            if stance.date is None:
                return ""
            quotes = [ev.quote for ev in stance.evidence]
            day = _day_words(stance.date, quotes, weekday=weekday)
            return f" on {day}" if day else ""

        def said(stance: MergedStance) -> str:
            ev = stance.evidence[0]
            return f"{_quoted(ev.quote)} ({self.label([ev.source_id])})"

        old, new = _POLARITY_PAST[earlier.polarity], _POLARITY_PAST[later.polarity]
        quotes = f"{said(earlier)}, then {said(later)}"
        candidates = [
            f"{holder.label} {old} {_question(earlier)}{when(earlier)} and later {new} it"
            f"{when(later)}: {quotes}",
            f"{holder.label} {old} {_question(earlier)} and later {new} it: {quotes}",
            f"{holder.label} changed position: {quotes}",
        ]
        return self.first_supported([earlier, later], candidates) or _line(quotes)

    def both_sides(self, stances: Sequence[MergedStance]) -> str:
        """One holder on two sides of one question at one time: each side with its quote."""
        holder = _holder(stances[0].holder)
        sides = [
            f"{_POLARITY_GERUND[s.polarity]} it, {_quoted(s.evidence[0].quote)} "
            f"({self.label([s.evidence[0].source_id])})"
            for s in stances
        ]
        candidates = [
            f"{holder.label} is reported on both sides of {_question(stances[0])}: {_join(sides)}",
            f"{holder.label} is reported on both sides of one question: {_join(sides)}",
        ]
        return self.first_supported(stances, candidates) or _line(_join(sides))


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


def event_wording(event: MergedEvent, sources: Sequence[Source]) -> str:
    """The sentence the deterministic composer words ``event`` with: its summary (or the head
    of it) when the cited evidence bears it out, never stating a value its outlets dispute."""
    return _Writer({s.id: s for s in sources}).wording(event)


# --- the deterministic composer ---------------------------------------------------------------


def _event_sentences(writer: _Writer, event: MergedEvent, *, full: bool) -> list[str]:
    wording = writer.wording(event)
    sentences = [wording]
    sentences += [writer.conflict(event, c) for c in event.conflicts]
    sentences += [writer.update(event, u) for u in event.updates]
    if full:
        sentences += [s for s in (writer.who(event, wording), writer.when(event, wording)) if s]
    sentences.append(writer.reported_by(event))
    return sentences


def _event_item(writer: _Writer, event: MergedEvent, section: Section = "top") -> BriefingItem:
    sentences = [(s, [event.id]) for s in _event_sentences(writer, event, full=True)]
    return _item(section, writer.event_headline(event), sentences, "deterministic")


def _records_item(writer: _Writer, records: Sequence[Record]) -> BriefingItem | None:
    """One "top" item restating the given records (a replacement for a failed model item)."""
    sentences: list[tuple[str, list[str]]] = []
    for record in records:
        if isinstance(record, MergedEvent):
            sentences += [(s, [record.id]) for s in _event_sentences(writer, record, full=False)]
        else:
            sentences.append((writer.stance(record), [record.id]))
    if not sentences:
        return None
    first = records[0]
    if isinstance(first, MergedEvent):
        headline = writer.event_headline(first)
    else:
        holder = _holder(first.holder)
        text = f"{holder.label} on {_one_line(first.topic)}"
        headline = text if writer.passes(first, text) else holder.label
    return _item("top", headline, sentences, "deterministic")


def _disagreement_items(writer: _Writer, events: Sequence[MergedEvent]) -> list[BriefingItem]:
    items = []
    for event in events:
        for conflict in event.conflicts:
            what = _field_what(conflict.field)
            headline = f"Outlets disagree on {what}"
            if not writer.passes(event, headline):
                headline = "Outlets disagree"
            texts = [writer.wording(event), writer.conflict(event, conflict)]
            texts += [t for t in [writer.conflict_words(event, conflict)] if t]
            sentences = [(text, [event.id]) for text in texts]
            items.append(_item("disagreements", headline, sentences, "deterministic"))
    return items


def _holder_sentences(
    writer: _Writer, group: Sequence[MergedStance]
) -> tuple[list[tuple[str, list[str]]], list[tuple[dt.date, dt.date]]]:
    """A holder's positions, one sentence each; a change over days, or two sides of one
    question at once, in one sentence citing both. Also the spans of the changes."""
    by_id = {s.id: s for s in group}
    ordered = sorted(group, key=lambda s: (s.date or dt.date.min, s.id))
    done: set[str] = set()
    out: list[tuple[str, list[str]]] = []
    spans: list[tuple[dt.date, dt.date]] = []
    for stance in ordered:
        for change in stance.changed_from:
            earlier = by_id.get(change.stance_id)
            if earlier is None:
                continue
            out.append((writer.change(earlier, stance), [earlier.id, stance.id]))
            done.update((earlier.id, stance.id))
            if earlier.date and stance.date:
                spans.append((earlier.date, stance.date))
    for stance in ordered:
        if stance.id in done:
            continue
        question = _question(stance).lower()
        others = [
            s
            for s in ordered
            if s.id not in done
            and s.id != stance.id
            and s.polarity != stance.polarity
            and (_question(s).lower() == question or s.topic.lower() == stance.topic.lower())
        ]
        if others:
            sides = [stance, *others]
            out.append((writer.both_sides(sides), [s.id for s in sides]))
            done.update(s.id for s in sides)
        else:
            out.append((writer.stance(stance), [stance.id]))
            done.add(stance.id)
    return out, spans


def _stance_items(writer: _Writer, stances: Sequence[MergedStance]) -> list[BriefingItem]:
    by_holder: dict[str, list[MergedStance]] = {}
    holders: dict[str, _Holder] = {}
    for stance in stances:
        holder = _holder(stance.holder)
        holders.setdefault(holder.key, holder)
        by_holder.setdefault(holder.key, []).append(stance)
    items = []
    for key in sorted(by_holder, key=lambda k: (holders[k].label.casefold(), k)):
        holder, group = holders[key], by_holder[key]
        headline = holder_label(group[0].holder)
        if not writer.passes(group, headline):
            headline = holder.label
        sentences, spans = _holder_sentences(writer, group)
        if spans:
            # A label of the days the positions are dated to, as a timeline heading is: the
            # sentences under it name days only in their evidence's words.
            first = min(a for a, _ in spans)
            last = max(b for _, b in spans)
            changed = "position changed" if len(spans) == 1 else "positions changed"
            headline = f"{headline}: {changed}, {date_span(first, last)}"
        items.append(_item("stances", headline, sentences, "deterministic"))
    return items


def _timeline_items(writer: _Writer, events: Sequence[MergedEvent]) -> list[BriefingItem]:
    by_date: dict[tuple[dt.date, str], list[tuple[str, str]]] = {}
    for event in sorted(events, key=lambda e: e.id):
        disputed = next((c for c in event.conflicts if c.field == "date"), None)
        if disputed is None:
            if event.date is not None:
                key = (event.date, event.date_precision)
                by_date.setdefault(key, []).append((writer.wording(event), event.id))
            continue
        # Outlets disagree on the day: the event stands under each outlet's day, said to be
        # theirs, and under none as fact.
        wording = writer.wording(event).rstrip(".")
        for value in disputed.values:
            day = _iso_day(value.value)
            if day is None:
                continue
            labels = _labels(value.source_ids, writer.sources)
            dates = "dates" if len(labels) == 1 else "date"
            text = _line(f"{wording} ({_join(labels)} {dates} it to this day)")
            by_date.setdefault((day, "day"), []).append((text, event.id))
    items = []
    for (date, precision), group in sorted(by_date.items()):
        headline = _format_date(date, precision)
        sentences = [(text, [event_id]) for text, event_id in group]
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
        response_schema=reply_schema(ComposeReply),
        prompt_version=PROMPT_VERSION,
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
    of sentences' first words (``briefer.composition._citations.check_item``).
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
