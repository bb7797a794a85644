"""Reading the store back: the list of stories, a story day by day, past briefings, and a
review of a period built from the store alone.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from pydantic import TypeAdapter

from briefer.models import (
    Briefing,
    MergedEvent,
    MergedStance,
    StoryChange,
    StoryDay,
    StoryStatus,
    StorySummary,
    StoryTimeline,
)
from briefer.stories._changes import DayEvent
from briefer.stories._recall import Recall, story_event
from briefer.stories._rows import load_sources

__all__ = ["StoredBriefing", "briefing", "briefings", "review", "stories", "story"]

_SUMMARY = (
    "SELECT id, title, first_day, last_day, days, outlets_json, open_conflicts, last_change "
    "FROM stories"
)


@dataclass(frozen=True)
class StoredBriefing:
    """A line of the stored briefings: ``Store.briefing(run_id)`` loads it."""

    run_id: int
    day: dt.date
    title: str
    written_at: dt.datetime


def _summary(row: tuple[object, ...]) -> StorySummary:
    sid, title, first, last, days, outlets, conflicts, change = row
    return StorySummary.model_construct(
        id=str(sid),
        title=str(title),
        first_day=dt.date.fromisoformat(str(first)),
        last_day=dt.date.fromisoformat(str(last)),
        days=int(str(days)),
        outlets=json.loads(str(outlets)),
        open_conflicts=int(str(conflicts)),
        last_change=None if change is None else str(change),
    )


_SUMMARIES: TypeAdapter[list[StorySummary]] = TypeAdapter(list[StorySummary])


def stories(
    conn: sqlite3.Connection,
    since: dt.date | None,
    until: dt.date | None,
    text: str | None,
    limit: int | None,
) -> list[StorySummary]:
    where, args = [], []
    if since is not None:
        where.append("last_day >= ?")
        args.append(since.isoformat())
    if until is not None:
        where.append("first_day <= ?")
        args.append(until.isoformat())
    if text:
        where.append("instr(search, ?) > 0")
        args.append(" ".join(text.casefold().split()))
    sql = _SUMMARY + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY last_day DESC, first_day DESC, id"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(str(max(0, limit)))
    # The rows become one JSON array in SQLite and are validated in one call: a year's
    # thousands of stories list in a fraction of the time row-by-row objects take.
    found = conn.execute(
        "SELECT json_group_array(json_object('id', id, 'title', title, 'first_day', first_day,"
        " 'last_day', last_day, 'days', days, 'outlets', json(outlets_json), 'open_conflicts',"
        f" open_conflicts, 'last_change', last_change)) FROM ({sql})",
        args,
    ).fetchone()
    return _SUMMARIES.validate_json(found[0])


def _resolve(conn: sqlite3.Connection, prefix: str) -> str:
    prefix = prefix.strip()
    rows = conn.execute(
        "SELECT id FROM stories WHERE id >= ? AND id < ? ORDER BY id LIMIT 3",
        (prefix, prefix + "\U0010ffff"),
    ).fetchall()
    if not prefix or not rows:
        raise LookupError(f"no stored story has the id {prefix!r}: `briefer stories` lists them")
    if len(rows) > 1:
        shown = ", ".join(r[0] for r in rows[:2])
        raise LookupError(f"{prefix!r} is the start of several story ids ({shown}…): give more")
    return str(rows[0][0])


def _days(
    conn: sqlite3.Connection, sid: str, since: str = "", until: str = "9999"
) -> list[tuple[StoryDay, list[MergedStance]]]:
    rows = conn.execute(
        "SELECT day, status, changes_json, event_json FROM story_days WHERE story_id = ? "
        "AND day >= ? AND day <= ? ORDER BY day",
        (sid, since, until),
    ).fetchall()
    stance_rows = conn.execute(
        "SELECT day, stance_json FROM story_stances WHERE story_id = ? AND day >= ? AND day <= ?"
        " ORDER BY day, stance_id",
        (sid, since, until),
    ).fetchall()
    stances: dict[str, list[MergedStance]] = {}
    for d, stance_json in stance_rows:
        stances.setdefault(d, []).append(MergedStance.model_validate_json(stance_json))
    out = []
    for d, status, changes_json, event_json in rows:
        changes = [StoryChange.model_validate(c) for c in json.loads(changes_json)]
        event = MergedEvent.model_validate_json(event_json)
        day = dt.date.fromisoformat(d)
        out.append(
            (
                StoryDay(
                    day=day,
                    status=status,
                    changes=changes,
                    event=event.model_copy(
                        update={"story_id": sid, "status": status, "changes": changes}
                    ),
                ),
                stances.get(d, []),
            )
        )
    return out


def _unique_stances(stances: list[MergedStance]) -> list[MergedStance]:
    return list({s.id: s for s in stances}.values())


def story(conn: sqlite3.Connection, story_id: str) -> StoryTimeline:
    sid = _resolve(conn, story_id)
    row = conn.execute(_SUMMARY + " WHERE id = ?", (sid,)).fetchone()
    summary = _summary(row)
    days = _days(conn, sid)
    first = summary.first_day
    story_days = [d.model_copy(update={"event": _seen(d.event, first)}) for d, _ in days]
    cited = {s for d, _ in days for s in d.event.source_ids}
    sources = load_sources(conn, cited)
    return StoryTimeline(
        summary=summary,
        days=story_days,
        stances=_unique_stances([s for _, st in days for s in st]),
        sources=[sources[s] for s in sorted(sources)],
    )


def _seen(event: MergedEvent, first: dt.date) -> MergedEvent:
    return event.model_copy(update={"first_seen": first})


def briefings(conn: sqlite3.Connection) -> list[StoredBriefing]:
    rows = conn.execute("SELECT id, day, title, written_at FROM runs ORDER BY day DESC, id DESC")
    return [
        StoredBriefing(int(r), dt.date.fromisoformat(d), t, dt.datetime.fromisoformat(w))
        for r, d, t, w in rows
    ]


def briefing(conn: sqlite3.Connection, run_id: int) -> Briefing:
    row = conn.execute("SELECT briefing_json FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise LookupError(f"no stored briefing has the run id {run_id}: see Store.briefings()")
    return Briefing.model_validate_json(row[0])


def review(conn: sqlite3.Connection, since: dt.date, until: dt.date | None) -> Recall:
    """See ``Store.review``: one event per story active in the period."""
    if until is None:
        last = conn.execute("SELECT MAX(day) FROM runs").fetchone()[0]
        until = dt.date.fromisoformat(last) if last else since
    start, end = since.isoformat(), until.isoformat()
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT story_id FROM story_days WHERE day >= ? AND day <= ?", (start, end)
        )
    ]
    events: list[MergedEvent] = []
    stances: list[MergedStance] = []
    for sid in ids:
        first_day = conn.execute("SELECT first_day FROM stories WHERE id = ?", (sid,)).fetchone()
        days = _days(conn, sid, start, end)
        stances += [s for _, st in days for s in st]
        period = [DayEvent(d.day, d.event) for d, _ in days]
        changes = [c for d, _ in days if d.status == "updated" for c in d.changes]
        first = dt.date.fromisoformat(first_day[0])
        status: StoryStatus
        if first >= since:
            status, changes = "new", []
        elif changes:
            status = "updated"
        else:
            status = "continuing"
        cited = sorted({x for d in period for x in d.event.source_ids})
        rows = conn.execute(
            f"SELECT id, outlet_key FROM sources WHERE id IN ({','.join('?' * len(cited))})",
            cited,
        )
        outlets = {source_id: key for source_id, key in rows if key}
        event = story_event(period[-1], period[:-1], outlets, changes)
        events.append(
            event.model_copy(
                update={"story_id": sid, "status": status, "changes": changes, "first_seen": first}
            )
        )
    events.sort(key=lambda e: (e.first_seen or since, e.story_id or ""))
    sources = load_sources(conn, {s for e in events for s in e.source_ids})
    row = conn.execute("SELECT MAX(day) FROM runs WHERE day < ?", (start,)).fetchone()
    return Recall(
        events=events,
        stances=_unique_stances(stances),
        earlier_sources=[sources[s] for s in sorted(sources)],
        previous_day=dt.date.fromisoformat(row[0]) if row and row[0] else None,
        day=until,
    )
