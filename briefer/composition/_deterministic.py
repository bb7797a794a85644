"""The deterministic composer: the whole briefing with no model (since the last briefing, top
developments, where sources disagree, who said what, timeline), and the sections the model
composer leaves to it.

The other sections restate record fields and need no writing, so they always come from here;
a model item that fails its checks twice is replaced by the text written here for the records
it cites.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from briefer.composition._sentences import _figure_words, _Writer
from briefer.composition._since import continuing_events, since_items
from briefer.composition._wording import (
    TOP_ITEMS,
    MergedRecords,
    Record,
    _field_what,
    _format_date,
    _Holder,
    _holder,
    _iso_day,
    _item,
    _join,
    _labels,
    _line,
    _one_line,
    _question,
    date_span,
    holder_label,
    rank_events,
    top_candidates,
)
from briefer.models import BriefingItem, MergedEvent, MergedStance, Source

__all__ = ["compose_deterministic", "event_wording", "only_new_note"]


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


def _event_item(writer: _Writer, event: MergedEvent) -> BriefingItem:
    """A "top" item: the event's wording, what outlets disagree on, who, when, and who reported."""
    sentences = [(s, [event.id]) for s in _event_sentences(writer, event, full=True)]
    return _item("top", writer.event_headline(event), sentences, "deterministic")


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
            for told_day, text in _days_told(writer, event):
                precision: str = event.date_precision if told_day == event.date else "day"
                by_date.setdefault((told_day, precision), []).append((text, event.id))
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


def _days_told(writer: _Writer, event: MergedEvent) -> list[tuple[dt.date, str]]:
    """What the timeline says of ``event``, day by day. An event whose figures changed over the
    days (a strike that grew) is told in its latest words on the day of its latest figure, and
    on each earlier day by the figure that day gave ("The number of workers on strike: four
    hundred workers (Trójmiasto Today)"): its latest words are not the news of its first day."""
    if event.date is None:
        return []
    latest: dt.date | None = None
    earlier: list[tuple[dt.date, str]] = []
    for update in event.updates:
        days = [v for v in update.values if v.date is not None]
        if not days:
            continue
        last = max(v.date for v in days if v.date is not None)
        latest = last if latest is None else max(latest, last)
        what = _field_what(update.field)
        for value in days:
            if value.date is None or value.date == last or not value.text:
                continue
            by = writer.label(value.source_ids)
            text = _line(
                f"{what[:1].upper()}{what[1:]}: {_figure_words(value.text)}"
                + (f" ({by})" if by else "")
            )
            if writer.fits(event, text):
                earlier.append((value.date, text))
    if latest is None or latest <= event.date:
        return [(event.date, writer.wording(event))]
    return [*earlier, (latest, writer.wording(event))]


def _secondary_sections(
    writer: _Writer,
    events: Sequence[MergedEvent],
    stances: Sequence[MergedStance],
    *,
    only_new: bool = False,
) -> list[BriefingItem]:
    """Where sources disagree, who said what, timeline; ``only_new`` leaves out the events
    reported again with nothing new."""
    if only_new:
        events = [e for e in events if e.status != "continuing"]
    return [
        *_disagreement_items(writer, events),
        *_stance_items(writer, stances),
        *_timeline_items(writer, events),
    ]


def only_new_note(events: Sequence[MergedEvent], *, only_new: bool) -> list[str]:
    """What a briefing asked for new and updated events only leaves out, said once."""
    left_out = len(continuing_events(events)) if only_new else 0
    if not left_out:
        return []
    stories, are = ("story", "is") if left_out == 1 else ("stories", "are")
    return [
        f"{left_out} {stories} reported again with nothing new since the last briefing {are} "
        "not shown: only new and updated events were asked for"
    ]


def compose_deterministic(
    merged: MergedRecords, sources: list[Source], *, only_new: bool = False
) -> list[BriefingItem]:
    """The whole briefing with no model: since the last briefing (when events have statuses),
    top developments, disagreements, stances, timeline.

    ``merged`` is the merge stage's result (anything with ``events`` and ``stances``); items are
    written from the records alone. A story reported again with nothing new (``continuing``) is
    not a top development; ``only_new`` leaves it out of every section.
    """
    writer = _Writer({s.id: s for s in sources})
    ranked = rank_events(merged.events)
    since = since_items(writer, ranked, merged.stances, only_new=only_new)
    top = [_event_item(writer, e) for e in top_candidates(ranked)[:TOP_ITEMS]]
    secondary = _secondary_sections(writer, ranked, merged.stances, only_new=only_new)
    return [*since, *top, *secondary]
