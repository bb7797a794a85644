"""What both composers share: the records they read, which events are told first, and the
helpers that word a briefing (sources and actors named, dates written, disputed values left out,
sentences shortened at a clause).

Positions are worded one way throughout: a holder "supports", "opposes" or "takes no side on" a
question (``POLARITY_WORDS``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from briefer.composition._citations import source_label
from briefer.models import (
    Actor,
    BriefingItem,
    Conflict,
    MergedEvent,
    MergedStance,
    Source,
)
from briefer.text.countries import codes_for, country_name
from briefer.text.dates import (
    MONTH_ABBREVIATIONS,
    MONTH_NAMES,
    RELATIVE_DAYS,
    WEEKDAY_NAMES,
    month_name,
    weekday_name,
    written_date,
    written_month,
)
from briefer.text.numbers import find_numbers

__all__ = [
    "POLARITY_WORDS",
    "TOP_ITEMS",
    "Composer",
    "MergedRecords",
    "Record",
    "Section",
    "date_span",
    "holder_label",
    "rank_events",
    "top_candidates",
]

TOP_ITEMS = 8

Composer = Literal["llm", "deterministic"]
Section = Literal["since", "top", "disagreements", "stances", "timeline"]
Record = MergedEvent | MergedStance

# One wording of a position, everywhere a briefing states one.
POLARITY_WORDS: dict[str, str] = {
    "favor": "supports",
    "against": "opposes",
    "neutral": "takes no side on",
}
_POLARITY_PAST = {"favor": "supported", "against": "opposed", "neutral": "took no side on"}
_POLARITY_GERUND = {"favor": "supporting", "against": "opposing", "neutral": "taking no side on"}
_POLARITY_BARE = {"favor": "supports", "against": "opposes", "neutral": "takes no side"}

_WEEKDAY = "(?:" + "|".join(name.capitalize() for name in WEEKDAY_NAMES) + ")"
_MONTH_NAME = "(?:" + "|".join(name.capitalize() for name in MONTH_NAMES) + ")"
_MONTH_ABBR = "(?:" + "|".join(short.capitalize() for short in MONTH_ABBREVIATIONS) + r")\."
_RELATIVE_DAY = "(?:" + "|".join(f"[{w[0].upper()}{w[0]}]{w[1:]}" for w in RELATIVE_DAYS) + ")"
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


def top_candidates(events: Iterable[MergedEvent]) -> list[MergedEvent]:
    """The events a top development may be about: a story reported again with nothing new
    (``continuing``) is yesterday's news, told in one line of the "since" section instead.
    Without a store no event has a status, and every event is a candidate."""
    return [e for e in events if e.status != "continuing"]


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
    # A change of a story names the kind of value alone when it does not say which count.
    named = {"date": "the date", "location": "the place", "quantity": "the figure"}
    return named.get(name, name)


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
