"""What a day brings to a story seen before: its status and its changes.

A story's day is told by its event as that day's articles told it (the day's merged event).
Today's event is set against the story's earlier days, the stored days before today only, so a
re-run of a day gives the statuses of its first run:

* **figure**: a count of the same thing (``briefer.merging.same_count``) whose value differs
  from the one the latest earlier day giving it showed, when neither day has outlets
  disagreeing on it; ``before``/``after`` are the articles' words and days;
* **conflict_opened** / **conflict_settled**: outlets disagree on a count (or the date) today
  and did not on the latest earlier day giving it, or the reverse: the disagreement that day is
  over today (an outlet corrected itself, or both came to agree). Settling is the change: the
  value now agreed on is not also a figure change;
* **outlet**: an outlet whose name no earlier day of the story had (a copy of an earlier
  article of the story under another name is not new);
* **stance**: a holder taking a position tied to the story for the first time (see ``_recall``
  for how a stance is tied to an event).

A story with changes is ``updated``; matched with none it is ``continuing``; unmatched it is
``new``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from briefer.merging import same_count
from briefer.models import (
    Conflict,
    MergedEvent,
    MergedStance,
    Quantity,
    StoryChange,
    Update,
    UpdateValue,
)

__all__ = [
    "DayEvent",
    "describe",
    "figure_changes",
    "holder_key",
    "outlet_changes",
    "outlet_key",
    "series_updates",
    "stance_changes",
]


@dataclass(frozen=True)
class DayEvent:
    """A story's event as one day told it."""

    day: dt.date
    event: MergedEvent


def outlet_key(outlet: str | None) -> str:
    """An outlet's name as outlets are counted by: case, punctuation and a leading "the"
    aside ("The Baltic Courier" and "Baltic Courier" are one)."""
    key = re.sub(r"[^\w ]+", " ", (outlet or "").casefold())
    return " ".join(key.split()).removeprefix("the ")


def holder_key(stance: MergedStance) -> str:
    return outlet_key(stance.holder.canonical or stance.holder.name)


def _one_line(text: str) -> str:
    return " ".join(text.split()).casefold()


def _writing(event: MergedEvent, words: str) -> list[str]:
    """The sources whose quotes write ``words``; the representative's when none does."""
    wanted = _one_line(words)
    found = [e.source_id for e in event.evidence if wanted and wanted in _one_line(e.quote)]
    return list(dict.fromkeys(found)) or [event.source_id]


def _conflict_counts(conflict: Conflict) -> list[Quantity]:
    kind = conflict.field.removeprefix("quantities.")
    return [
        Quantity(kind=kind, value=float(v.value), text=v.text or f"{v.value:g}")
        for v in conflict.values
        if isinstance(v.value, float | int)
    ]


@dataclass(frozen=True)
class _Count:
    """One count of a day's event: the value shown, and whether outlets disagree on it."""

    day: dt.date
    quantity: Quantity
    conflict: Conflict | None


def _latest_update_day(event: MergedEvent, quantity: Quantity) -> dt.date | None:
    for update in event.updates:
        kind = update.field.removeprefix("quantities.")
        probe = Quantity(
            kind=kind, value=update.values[-1].value, text=update.values[-1].text or ""
        )
        if same_count(probe, quantity):
            return update.values[-1].date
    return None


def _counts(day: DayEvent) -> list[_Count]:
    event = day.event
    out = []
    for quantity in event.quantities:
        latest = _latest_update_day(event, quantity)
        conflict = next(
            (
                c
                for c in event.conflicts
                if c.field.startswith("quantities.")
                and (c.as_of is None or latest is None or c.as_of >= latest)
                and any(same_count(q, quantity) for q in _conflict_counts(c))
            ),
            None,
        )
        out.append(_Count(day.day, quantity, conflict))
    return out


def _date_conflict(event: MergedEvent) -> Conflict | None:
    return next((c for c in event.conflicts if c.field == "date"), None)


def figure_changes(today: DayEvent, earlier: Sequence[DayEvent]) -> list[StoryChange]:
    """The figure and conflict changes of ``today`` against the ``earlier`` days (in order)."""
    changes: list[StoryChange] = []
    earlier_counts = [c for day in earlier for c in _counts(day)]
    for now in _counts(today):
        before = next(
            (c for c in reversed(earlier_counts) if same_count(c.quantity, now.quantity)), None
        )
        if before is None:
            continue
        sources = _writing(today.event, now.quantity.text)
        if before.conflict is not None and now.conflict is None:
            changes.append(
                StoryChange(
                    kind="conflict_settled",
                    field=before.conflict.field,
                    before=None,
                    after=now.quantity.text,
                    after_date=now.quantity.date or today.day,
                    source_ids=sources,
                )
            )
        elif before.conflict is None and now.conflict is not None:
            changes.append(
                StoryChange(
                    kind="conflict_opened",
                    field=now.conflict.field,
                    source_ids=sorted({s for v in now.conflict.values for s in v.source_ids}),
                )
            )
        elif (
            before.conflict is None
            and now.conflict is None
            and before.quantity.value != now.quantity.value
        ):
            changes.append(
                StoryChange(
                    kind="figure",
                    field=_field_of(today.event, now.quantity),
                    before=before.quantity.text,
                    after=now.quantity.text,
                    before_date=before.quantity.date or before.day,
                    after_date=now.quantity.date or today.day,
                    source_ids=sources,
                )
            )
    changes += _date_changes(today, earlier)
    return changes


def _date_changes(today: DayEvent, earlier: Sequence[DayEvent]) -> list[StoryChange]:
    if today.event.ongoing or not earlier:
        return []
    now, before = _date_conflict(today.event), _date_conflict(earlier[-1].event)
    if now is not None and before is None:
        sources = sorted({s for v in now.values for s in v.source_ids})
        return [StoryChange(kind="conflict_opened", field="date", source_ids=sources)]
    if before is not None and now is None and today.event.date is not None:
        after = today.event.date_text or today.event.date.isoformat()
        return [
            StoryChange(
                kind="conflict_settled",
                field="date",
                after=after,
                after_date=today.event.date,
                source_ids=list(today.event.source_ids),
            )
        ]
    return []


def _field_of(event: MergedEvent, quantity: Quantity) -> str:
    for update in event.updates:
        probe = Quantity(
            kind=update.field.removeprefix("quantities."),
            value=update.values[-1].value,
            text=update.values[-1].text or "",
        )
        if same_count(probe, quantity):
            return update.field
    return f"quantities.{quantity.kind}"


def series_updates(
    today: DayEvent, earlier: Sequence[DayEvent], changes: Iterable[StoryChange]
) -> list[Update]:
    """The story event's updates: today's, and for each figure changed across days the value of
    each day that gave it (so "rose from 40 to 65" cites both days' quotes)."""
    updates = {u.field: u for u in today.event.updates}
    for change in changes:
        if change.kind != "figure" or change.field is None:
            continue
        probe = Quantity(
            kind=change.field.removeprefix("quantities."), value=0.0, text=change.after or ""
        )
        values: dict[dt.date, UpdateValue] = {}
        for day in [*earlier, today]:
            for count in _counts(day):
                if not same_count(count.quantity, probe) or count.conflict is not None:
                    continue
                when = count.quantity.date or day.day
                values[when] = UpdateValue(
                    value=count.quantity.value,
                    date=when,
                    source_ids=_writing(day.event, count.quantity.text),
                    text=count.quantity.text,
                )
        existing = updates.get(change.field)
        if existing is not None:
            for value in existing.values:
                values.setdefault(value.date, value)
        ordered = [values[d] for d in sorted(values)]
        # Consecutive days giving one value are one step of the series.
        steps = [v for n, v in enumerate(ordered) if n == 0 or v.value != ordered[n - 1].value]
        if len(steps) >= 2:
            updates[change.field] = Update(field=change.field, values=steps)
    return list(updates.values())


def outlet_changes(
    today: MergedEvent,
    outlets: Mapping[str, str | None],
    earlier_keys: set[str],
    copies: set[str],
) -> list[StoryChange]:
    """An outlet reporting the story for the first time: one change per outlet, with its
    sources of today. ``outlets`` maps today's source ids to their outlet names; ``copies``
    are today's sources that are copies of an earlier article of the story."""
    by_key: dict[str, tuple[str, list[str]]] = {}
    for sid in today.source_ids:
        name = outlets.get(sid)
        key = outlet_key(name)
        if not key or key in earlier_keys or sid in copies or name is None:
            continue
        by_key.setdefault(key, (name, []))[1].append(sid)
    return [
        StoryChange(kind="outlet", outlet=name, source_ids=sorted(sids))
        for _, (name, sids) in sorted(by_key.items())
    ]


def stance_changes(tied: Sequence[MergedStance], earlier_holders: set[str]) -> list[StoryChange]:
    """A holder taking a position tied to the story for the first time."""
    out: dict[str, StoryChange] = {}
    for stance in tied:
        key = holder_key(stance)
        if key and key not in earlier_holders and key not in out:
            out[key] = StoryChange(
                kind="stance", holder=stance.holder.canonical, source_ids=list(stance.source_ids)
            )
    return [out[k] for k in sorted(out)]


def describe(change: StoryChange) -> str:
    """A change in words, for a story's summary line."""
    field = (change.field or "quantity").removeprefix("quantities.")
    if change.kind == "figure":
        return f"{field}: {change.before} → {change.after}"
    if change.kind == "outlet":
        return f"first reported by {change.outlet}"
    if change.kind == "stance":
        return f"{change.holder} took a position"
    if change.kind == "conflict_opened":
        return f"outlets disagree on {field}"
    return f"outlets now agree on {field}" + (f": {change.after}" if change.after else "")
