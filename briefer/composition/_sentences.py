"""The sentences of the deterministic composer, each written from record fields and the
articles' own words, and kept only when it passes the checks the model's sentences pass
(``_citations``).

Where outlets disagree on a value of an event, no sentence about that event states one side as
fact: the disagreement is told with each outlet beside its value, and the event is worded
without the disputed value (or by a quote its outlet is named for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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
)
from briefer.models import Conflict, ConflictValue, MergedEvent, MergedStance, Source, Update

MAX_HEADLINE_CHARS = 100


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
