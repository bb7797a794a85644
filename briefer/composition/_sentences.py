"""The sentences of the deterministic composer, each written from record fields and the
articles' own words, and kept only when it passes the checks the model's sentences pass
(``_citations``).

Where outlets disagree on a value of an event, no sentence about that event states one side as
fact: the disagreement is told with each outlet beside its value, and the event is worded
without the disputed value (or by a quote its outlet is named for).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from briefer.composition._citations import format_number, sentence_failures
from briefer.composition._wording import (
    _POLARITY_BARE,
    _POLARITY_GERUND,
    _POLARITY_PAST,
    POLARITY_WORDS,
    Record,
    _actor_label,
    _clauses,
    _day_words,
    _days_apart,
    _field_what,
    _holder,
    _iso_day,
    _join,
    _labels,
    _line,
    _mentions,
    _one_line,
    _question,
    _quoted,
    _states_a_disputed_value,
    _without_disputed,
    holder_label,
)
from briefer.models import (
    Actor,
    Conflict,
    ConflictValue,
    MergedEvent,
    MergedStance,
    Source,
    StoryChange,
    Update,
)
from briefer.text.numbers import find_numbers, numbers_in

MAX_HEADLINE_CHARS = 100
# The order a day's changes of a story are told in: figures first, outlets and voices last.
_CHANGE_ORDER = ("figure", "conflict_opened", "conflict_settled", "outlet", "stance")

Told = tuple[str, list[Record]]  # a sentence and the records it rests on

# Words by which a quote says that something began (not only that it was going on).
_STARTS = re.compile(
    r"\b(?:began|begun|begins|start(?:ed|s)?|launch(?:ed|es)|broke out|walked (?:out|off)|"
    r"stopped work|went on strike|opened|erupted|set up|called (?:a|the) strike)\b",
    re.IGNORECASE,
)


def _records(records: Record | Sequence[Record]) -> list[Record]:
    return [records] if isinstance(records, MergedEvent | MergedStance) else list(records)


@dataclass(frozen=True)
class _Figure:
    """A value as a sentence of change tells it: its words, its number (None when its words
    give none), the day it held and the sources that give it."""

    words: str
    value: float | None
    date: dt.date | None
    source_ids: tuple[str, ...]


class _Writer:
    """Builds deterministic sentences that pass the checks for the records they cite."""

    def __init__(self, sources: Mapping[str, Source]) -> None:
        self.sources = sources
        self._wordings: dict[str, str | None] = {}

    def passes(self, records: Record | Sequence[Record], text: str) -> bool:
        return not sentence_failures(text, _records(records), self.sources)

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

    def quotes_of(self, records: Record | Sequence[Record], source_ids: Iterable[str]) -> list[str]:
        wanted = set(source_ids)
        return [ev.quote for r in _records(records) for ev in r.evidence if ev.source_id in wanted]

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
        actors = _distinct([_actor_label(a) for a in event.actors])
        targets = _distinct([_actor_label(a) for a in event.targets])
        if len(actors) > 1:
            acted = "were the actors"
        else:
            one = next((a for a in event.actors if _actor_label(a) == actors[0]), None)
            # A group named in the plural acts as many: "Durban dockworkers were the actors".
            acted = "were the actors" if one is not None and _plural(one) else "was the actor"
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
            lead = "It happened"
            if event.ongoing and told_day:
                # The day of a strike or a siege may be its first or just a day it went on:
                # "began" only where a quote says it began.
                starts = any(_STARTS.search(e.quote) for e in event.evidence)
                lead = "It began" if starts else "It was under way"
        text = _line(f"{lead} {' '.join(parts)}")
        return text if self.fits(event, text) else None

    def reported_by(self, event: MergedEvent) -> str:
        labels = _labels(sorted(event.source_ids, key=self._published), self.sources)
        text = f"{_join(labels)} reported it"
        if event.corroboration < len(labels):
            text += " (copies of a single report count once)"
        return _line(text)

    def conflict(self, event: MergedEvent, conflict: Conflict, *, now: bool = False) -> str:
        """The disagreement, each value beside its outlets; ``now`` for one that a day opened."""
        disagree = "Outlets now disagree" if now else "Outlets disagree"
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
            candidates.append(f"{disagree} on {what}: {told}")
        differ = "days" if conflict.field == "date" else "figures"
        candidates += [
            f"{disagree} on {what}: {outlets} give different {differ}",
            f"{disagree}: {outlets} give different {differ}",
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
        told = [
            _Figure(v.text or format_number(v.value), v.value, v.date, tuple(v.source_ids))
            for v in update.values
        ]
        candidates = self.figures(event, _field_what(update.field), told)
        # The update's values carry their article words, which its evidence counts.
        return self.first_supported(event, candidates) or _line(candidates[-1])

    def figures(
        self, records: Record | Sequence[Record], what: str, values: Sequence[_Figure]
    ) -> list[str]:
        """Wordings of a value over the days, in order, best first: "the number of ships
        waiting rose from 12 ships on Monday (Harbour Tribune) to 19 ships on Tuesday (Southern
        Wire)", each day named only as the quotes of ``records`` write it."""
        # A weekday names a day only within one week; further apart, only dates say which.
        weekday = _days_apart([v.date for v in values if v.date is not None]) < 7
        shown, plain = [], []
        for v in values:
            words = _figure_words(v.words)
            day = None
            if v.date is not None:
                day = _day_words(v.date, self.quotes_of(records, v.source_ids), weekday=weekday)
            when = f" on {day}" if day and day.lower() not in words.lower() else ""
            label = self.label(v.source_ids)
            by = f" ({label})" if label else ""
            shown.append(f"{words}{when}{by}")
            plain.append(f"{words}{by}")
        numbers = [v.value for v in values if v.value is not None]
        if len(numbers) < len(values):
            trend = "changed"
        elif all(a < b for a, b in pairwise(numbers)):
            trend = "rose"
        elif all(a > b for a, b in pairwise(numbers)):
            trend = "fell"
        else:
            trend = "changed"
        told = f"from {shown[0]} to {shown[1]}" + "".join(f", then to {s}" for s in shown[2:])
        candidates = [f"{what} {trend} {told}", f"the figure {trend} {told}"]
        candidates.append(f"The figures reported changed over the days: {', then '.join(plain)}")
        return candidates

    # --- what a day changed in a story ---------------------------------------------------------

    def changes(
        self,
        event: MergedEvent,
        changes: Sequence[StoryChange],
        stances: Sequence[MergedStance],
        earlier: Sequence[MergedEvent] = (),
    ) -> list[Told]:
        """What a day brought to a story seen before, in sentences a reader forwards, each with
        the records it rests on. ``event`` is the story's event (whose evidence, in a briefing,
        holds the earlier days' quotes too); ``earlier`` are the story's events of earlier days,
        where a figure it changed from is quoted (a stored story's days). A change that no
        sentence can tell with the words of its evidence is left out."""
        told: list[Told | None] = []
        for kind in _CHANGE_ORDER:
            of_kind = [c for c in changes if c.kind == kind]
            if kind == "outlet":
                # Outlets new to the story are told in one sentence.
                told.append(self._new_outlets(event, of_kind) if of_kind else None)
            for change in of_kind:
                if kind == "figure":
                    told.append(self._figure_change(event, change, earlier))
                elif kind == "conflict_opened":
                    told.append(self._conflict_opened(event, change))
                elif kind == "conflict_settled":
                    told.append(self._conflict_settled(event, change))
                elif kind == "stance":
                    told.append(self._first_stance(event, change, stances))
        return [t for t in told if t is not None]

    def _figure_change(
        self, event: MergedEvent, change: StoryChange, earlier: Sequence[MergedEvent]
    ) -> Told | None:
        if not change.before or not change.after:
            return None
        holder = self._holding(change.before, [*reversed(earlier)]) or event
        before = _Figure(
            change.before,
            _value(change.before),
            change.before_date,
            self._sources_of(holder, change, change.before, change.before_date),
        )
        after = _Figure(
            change.after,
            _value(change.after),
            change.after_date,
            tuple(change.source_ids) or self._sources_of(event, change, change.after, None),
        )
        cited: list[Record] = [holder, event] if holder is not event else [event]
        what = _field_what(change.field or "quantity")
        text = self.first_supported(cited, self.figures(cited, what, [before, after]))
        return (text, cited) if text else None

    def _holding(self, words: str, records: Sequence[MergedEvent]) -> MergedEvent | None:
        """The first of ``records`` whose quotes or counts write ``words``."""
        wanted = _one_line(words).lower()
        for record in records:
            texts = [q.text for q in record.quantities] + [e.quote for e in record.evidence]
            if any(wanted in _one_line(t).lower() for t in texts):
                return record
        return None

    def _sources_of(
        self, event: MergedEvent, change: StoryChange, words: str, day: dt.date | None
    ) -> tuple[str, ...]:
        """The sources that give a value of a change: the event's update of that field names
        them; else the quotes that write the value (of sources not bringing the change, when
        there are such: the value it changed from was an earlier day's)."""
        wanted = _one_line(words).lower()
        for update in event.updates:
            if update.field != change.field:
                continue
            for v in update.values:
                if (v.text and _one_line(v.text).lower() == wanted) or (day and v.date == day):
                    return tuple(v.source_ids)
        writing = [e.source_id for e in event.evidence if wanted in _one_line(e.quote).lower()]
        earlier = [sid for sid in writing if sid not in change.source_ids]
        return tuple(dict.fromkeys(earlier or writing))

    def _conflict_opened(self, event: MergedEvent, change: StoryChange) -> Told | None:
        conflict = _conflict_of(event, change.field)
        if conflict is not None:
            return self.conflict(event, conflict, now=True), [event]
        what = _field_what(change.field or "quantity")
        text = self.first_supported(event, [f"Outlets now disagree on {what}"])
        return (text, [event]) if text else None

    def _conflict_settled(self, event: MergedEvent, change: StoryChange) -> Told | None:
        what = _field_what(change.field or "quantity")
        # The outlets that disagreed are the story's: all of them now give one value.
        outlets = _labels(event.source_ids, self.sources)
        say = "both now say" if len(outlets) == 2 else "they now say"
        candidates = [f"The outlets no longer disagree on {what}"]
        if change.after:
            candidates.insert(0, f"{candidates[0]}: {say} {_figure_words(change.after)}")
        text = self.first_supported(event, candidates)
        return (text, [event]) if text else None

    def _new_outlets(self, event: MergedEvent, changes: Sequence[StoryChange]) -> Told | None:
        names: list[str] = []
        for change in changes:
            given = _labels(change.source_ids, self.sources)
            for name in given or ([change.outlet] if change.outlet else []):
                if name not in names:
                    names.append(name)
        if not names:
            return None
        verb = "reports" if len(names) == 1 else "report"
        text = self.first_supported(event, [f"{_join(names)} now {verb} it too"])
        return (text, [event]) if text else None

    def _first_stance(
        self, event: MergedEvent, change: StoryChange, stances: Sequence[MergedStance]
    ) -> Told | None:
        if not change.holder:
            return None
        stance = _stance_of(change, stances)
        if stance is None:
            text = self.first_supported(event, [f"{change.holder} took a position on it"])
            return (text, [event]) if text else None
        holder = _holder(stance.holder)
        brought = [e for e in stance.evidence if e.source_id in change.source_ids]
        quote = _quoted((brought or stance.evidence)[0].quote)
        if stance.polarity == "neutral":
            candidates = [
                f"{holder.label} spoke on {_question(stance)} for the first time, taking no "
                f"side: {quote}",
                f"{holder.label} spoke on it for the first time, taking no side: {quote}",
            ]
        else:
            side = _POLARITY_GERUND[stance.polarity]
            candidates = [
                f"{holder.label} took a position, {side} {_question(stance)}: {quote}",
                f"{holder.label} took a position, {side} {_one_line(stance.topic)}: {quote}",
            ]
        candidates.append(f"{holder.label} took a position: {quote}")
        # The sentence cites the position and the story's event it is about.
        cited: list[Record] = [event, stance]
        return self.first_supported(cited, candidates) or _line(quote), cited

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


def _plural(actor: Actor) -> bool:
    """Whether an actor is a group named in the plural ("Durban dockworkers", "the hauliers"):
    a state, a body or a company is one ("the United States", "Rescue Services")."""
    if actor.kind in ("civil_society", "other", "military", "person"):
        last = (actor.canonical.split() or [""])[-1]
        return last.islower() and last.endswith("s") and not last.endswith(("ss", "us", "is"))
    return False


def _distinct(labels: Sequence[str]) -> list[str]:
    """``labels`` without those another one says in full: "the hauliers" beside "Bulgarian
    hauliers" (outlets name one actor with its state and without) is one actor."""
    words = [frozenset(w for w in label.casefold().split() if w != "the") for label in labels]
    return [
        label
        for i, label in enumerate(labels)
        if not any(j != i and words[i] < words[j] for j in range(len(labels)))
    ]


def _figure_words(text: str) -> str:
    """A value's words as a sentence of change can carry them: "Four hundred workers" stays
    (lower-cased, mid-sentence), but a quantity whose words are a clause ("the number of
    strikers rose to 650") is told by its number and what follows it ("650")."""
    words = _one_line(text)
    found = find_numbers(words)
    if len(found) != 1:
        return words
    number = found[0]
    lead = words[: number.start].split()
    if [w.lower() for w in lead] in (["the"], ["a"]):
        words, lead = words[number.start :], []
    if len(lead) > 1:
        tail = words[number.start :].split()
        words = " ".join(tail) if len(tail) <= 3 else number.text
    if words[:1].isupper() and number.text[:1].isalpha() and words.startswith(number.text):
        words = words[:1].lower() + words[1:]
    return words


def _value(words: str) -> float | None:
    """The number a value's words give ("65 families" is 65), if any."""
    found = numbers_in(words)
    return found[0][1] if found else None


def _conflict_of(event: MergedEvent, field: str | None) -> Conflict | None:
    """The event's conflict over ``field`` ("quantity" stands for any count)."""
    for conflict in event.conflicts:
        if conflict.field == field:
            return conflict
    if field == "quantity":
        return next((c for c in event.conflicts if c.field.startswith("quantities.")), None)
    return None


def _stance_of(change: StoryChange, stances: Sequence[MergedStance]) -> MergedStance | None:
    """The position a ``stance`` change is about: its holder's, brought by the change's
    sources when one is."""
    wanted = _one_line(change.holder or "").lower().removeprefix("the ")

    def names(stance: MergedStance) -> set[str]:
        holder = stance.holder
        given = (holder.name, holder.canonical, holder_label(holder), _holder(holder).label)
        return {_one_line(n).lower().removeprefix("the ") for n in given}

    theirs = [s for s in stances if wanted in names(s)]
    brought = [s for s in theirs if set(s.source_ids) & set(change.source_ids)]
    found = brought or theirs
    return found[0] if found else None
