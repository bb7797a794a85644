"""Recall: today's merged events matched against the stored stories, with the merge's rules.

Each stored story keeps, per day, its event as that day told it (the day's merged event). For
each of today's merged events, the index (``story_keys``) gives the stories that share an actor
key and the quad class with it, on a stored day before today, within its day window (the
window ``briefer.merging`` compares it within: a day or so, a week for an ongoing strike or
siege; an undated event looks 30 days back). Only those story days are loaded (at most the
latest ``DAYS_PER_CANDIDATE`` of each story), so a store holding a year costs what the day's
neighbourhood costs.

Matching is merging: today's events and the candidate story days go through
``merge_records`` together, each as one record; a today's event that lands in a cluster with a
story's days joins that story (the story with most days in the cluster, on a tie the latest),
and today's events that join one story are one event of it. The others are new stories.

A stance is tied to an event of its own article (a source of both) whose words it names: its
topic, target and claim share the most compared words (``briefer.merging.content_words``)
with the event's summary and its actors' and targets' names; a stance that names none of them
is tied to no event.

The event handed back is the whole story's: today's event with the earlier days' members,
evidence and sources (of the latest ``DAYS_IN_EVENT`` days), the first reported day of an
ongoing event, the figures' values over the days, and the status, changes and first day.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from briefer.merging import (
    MergeResult,
    blocking_keys,
    cluster_across_days,
    content_words,
    same_count,
    syndicated_pairs,
)
from briefer.models import (
    Actor,
    Document,
    EventRecord,
    Evidence,
    MergedEvent,
    MergedStance,
    Quantity,
    Source,
    StanceRecord,
    StoryChange,
    StoryStatus,
)
from briefer.stories._changes import (
    DayEvent,
    figure_changes,
    outlet_changes,
    outlet_key,
    series_updates,
    stance_changes,
)
from briefer.stories._rows import decompress, load_sources
from briefer.stories._schema import day_span

__all__ = [
    "DAYS_IN_EVENT",
    "DAYS_PER_CANDIDATE",
    "Recall",
    "StoryLink",
    "one_day",
    "recall",
    "story_event",
]

DAYS_PER_CANDIDATE = 3  # the latest stored days of a candidate story that matching loads
DAYS_IN_EVENT = 14  # the latest stored days whose evidence the story's event carries
UNDATED_DAYS = 30  # how far back an undated event looks
COPY_CANDIDATES = 3  # earlier articles a document is tested against as a copy
STATE_CANDIDATES = 12  # the latest story days sharing only a state that are looked at


@dataclass(frozen=True)
class StoryLink:
    """What ``save`` writes for one story of the run."""

    story_id: str
    status: StoryStatus
    changes: tuple[StoryChange, ...]
    day_event: MergedEvent  # the story's event as today's articles tell it
    event: MergedEvent  # the whole story's event, as handed to composition
    stances: tuple[MergedStance, ...]  # today's stances tied to the story
    first_day: dt.date


@dataclass(frozen=True)
class Recall:
    """Today's events annotated against the store (``events``, in the order of the merge),
    today's stances, the earlier days' sources the events now cite, and the last stored day
    before today (``previous_day``, None on a first day). ``links`` is what ``save`` writes."""

    events: list[MergedEvent]
    stances: list[MergedStance]
    earlier_sources: list[Source]
    previous_day: dt.date | None
    day: dt.date
    links: tuple[StoryLink, ...] = field(default=(), repr=False)


def _as_record(event: MergedEvent, rid: str | None = None) -> EventRecord:
    values = {name: getattr(event, name) for name in EventRecord.model_fields}
    if rid is not None:
        values["id"] = rid
    return EventRecord.model_construct(**values)


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- candidates -------------------------------------------------------------------------------


def _candidates(
    conn: sqlite3.Connection, events: Sequence[MergedEvent], day: dt.date
) -> dict[tuple[str, str], MergedEvent]:
    """The stored story days today's events may join, by (story id, day)."""
    today = day.isoformat()
    found: dict[str, set[str]] = defaultdict(set)
    by_state: dict[str, set[str]] = {}
    query = (
        "SELECT story_id, day FROM story_keys WHERE quad = ? AND key = ? AND hi >= ? AND lo <= ?"
        " AND day < ?"
    )
    for event in events:
        if event.date is None:
            lo, hi = day.toordinal() - UNDATED_DAYS, day.toordinal()
        else:
            lo, hi = day_span(event)
        for key in blocking_keys(event):
            args = (event.quad_class, key, lo, hi, today)
            if key[0] == "@":
                # A state ("@FRA") is shared by many stories: only the latest few story days
                # are candidates through it.
                sql = query + f" ORDER BY hi DESC LIMIT {STATE_CANDIDATES}"
                for story_id, stored_day in conn.execute(sql, args):
                    by_state.setdefault(story_id, set()).add(stored_day)
            else:
                for story_id, stored_day in conn.execute(query, args):
                    found[story_id].add(stored_day)
    for story_id, days in by_state.items():
        found[story_id] |= days
    wanted = [
        (story_id, d)
        for story_id, days in found.items()
        for d in sorted(days)[-DAYS_PER_CANDIDATE:]
    ]
    out: dict[tuple[str, str], MergedEvent] = {}
    for start in range(0, len(wanted), 400):
        chunk = wanted[start : start + 400]
        marks = ",".join("(?, ?)" for _ in chunk)
        rows = conn.execute(
            f"SELECT story_id, day, event_json FROM story_days WHERE (story_id, day) IN "
            f"(VALUES {marks})",
            [v for pair in chunk for v in pair],
        )
        for story_id, d, event_json in rows:
            out[(story_id, d)] = MergedEvent.model_validate_json(event_json)
    return out


def _quotes(event: MergedEvent) -> set[str]:
    return {" ".join(e.quote.casefold().split()) for e in event.evidence}


def _match(
    conn: sqlite3.Connection,
    events: Sequence[MergedEvent],
    documents: Sequence[Document],
    day: dt.date,
) -> dict[str, str]:
    """Today's event id → the stored story it joins."""
    candidates = _candidates(conn, events, day)
    if not candidates:
        return {}
    stored_ids = {f"{story}@{d}": story for story, d in candidates}
    stored_day = {f"{story}@{d}": d for story, d in candidates}
    records = [_as_record(e) for e in events]
    records += [_as_record(e, f"{s}@{d}") for (s, d), e in candidates.items()]
    today_ids = {d.id for d in documents}
    earlier = load_sources(conn, {e.source_id for e in candidates.values()} - today_ids)
    sources = [*(d.source for d in documents), *earlier.values()]
    joined: dict[str, str] = {}
    for cluster in cluster_across_days(records, sources):
        stories: dict[str, list[str]] = defaultdict(list)
        for member in cluster:
            if member in stored_ids:
                stories[stored_ids[member]].append(stored_day[member])
        if not stories:
            continue
        best = max(stories, key=lambda s: (len(stories[s]), max(stories[s]), s))
        for member in cluster:
            if member not in stored_ids:
                joined[member] = best
    # The same words quoted for an event of the same type, from a copy of an earlier article
    # or the article again: the same event, whatever else its copy's extraction says.
    for event in events:
        if event.id in joined:
            continue
        quotes = _quotes(event)
        same = [
            (d, s)
            for (s, d), stored in candidates.items()
            if stored.type == event.type and quotes & _quotes(stored)
        ]
        if same:
            joined[event.id] = max(same)[1]
    return joined


# --- the story's event ------------------------------------------------------------------------


def _dedup_actors(actors: Sequence[Actor]) -> list[Actor]:
    seen: set[str] = set()
    out = []
    for actor in actors:
        key = " ".join(actor.canonical.casefold().split())
        if key not in seen:
            seen.add(key)
            out.append(actor)
    return out


def _dedup_evidence(evidence: Sequence[Evidence]) -> list[Evidence]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for e in evidence:
        key = (e.source_id, e.start, e.end)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return out


def _union_quantities(events: Sequence[MergedEvent]) -> list[Quantity]:
    out: list[Quantity] = []
    for event in events:
        for q in event.quantities:
            if not any(same_count(q, kept) for kept in out):
                out.append(q)
    return out


def one_day(events: Sequence[MergedEvent]) -> MergedEvent:
    """Today's events that joined one story, as one event (the first leads)."""
    if len(events) == 1:
        return events[0]
    lead = events[0]
    return lead.model_copy(
        update={
            "actors": _dedup_actors([a for e in events for a in e.actors]),
            "targets": _dedup_actors([a for e in events for a in e.targets]),
            "quantities": _union_quantities(events),
            "evidence": _dedup_evidence([x for e in events for x in e.evidence]),
            "members": sorted({m for e in events for m in e.members}),
            "source_ids": sorted({s for e in events for s in e.source_ids}),
            "corroboration": max(e.corroboration for e in events),
            "conflicts": [c for e in events for c in e.conflicts],
            "updates": [u for e in events for u in e.updates],
            "ongoing": any(e.ongoing for e in events),
            "confidence": max(e.confidence for e in events),
        }
    )


def story_event(
    today: DayEvent,
    earlier: Sequence[DayEvent],
    outlets: dict[str, str],
    changes: Sequence[StoryChange],
) -> MergedEvent:
    """The whole story's event: today's, carrying the earlier days' records (see module)."""
    event = today.event
    days = [*earlier[-DAYS_IN_EVENT:], today]
    source_ids = sorted({s for d in days for s in d.event.source_ids})
    update: dict[str, object] = {
        "actors": _dedup_actors([a for d in reversed(days) for a in d.event.actors]),
        "targets": _dedup_actors([a for d in reversed(days) for a in d.event.targets]),
        "evidence": _dedup_evidence([x for d in days for x in d.event.evidence]),
        "members": sorted({m for d in days for m in d.event.members}),
        "source_ids": source_ids,
        "corroboration": max(1, len({outlets.get(s) or s for s in source_ids})),
        "updates": series_updates(today, earlier, changes),
        "ongoing": any(d.event.ongoing for d in days),
    }
    if update["ongoing"]:
        # An ongoing event is dated by its first reported day.
        dated = [d.event for d in days if d.event.date and d.event.date_precision == "day"]
        if dated:
            first = min(dated, key=lambda e: e.date or dt.date.max)
            update |= {"date": first.date, "date_text": first.date_text}
            update["date_precision"] = first.date_precision
    return event.model_copy(update=update)


# --- stances ----------------------------------------------------------------------------------


def _words_of_event(event: MergedEvent) -> frozenset[str]:
    names = [n for a in (*event.actors, *event.targets) for n in (a.name, a.canonical)]
    return content_words(" ".join([event.summary, *names]))


def _done_by(event: MergedEvent, holder: frozenset[str]) -> bool:
    """Whether the holder of a stance (the content words of its names) is an actor of
    ``event``."""
    if not holder:
        return False
    for actor in event.actors:
        names = content_words(" ".join([actor.name, actor.canonical]))
        if holder <= names or (names and names <= holder):
            return True
    return False


def _said_together(event: MergedEvent, stance: MergedStance) -> bool:
    """Whether a quote of the stance and one of the event overlap in an article: one sentence
    telling the act by which the stance was said ("accused Estonia of piracy, said Orlova")."""
    return any(
        e.source_id == q.source_id and e.start < q.end and q.start < e.end
        for e in event.evidence
        for q in stance.evidence
    )


def _ties(
    stances: Sequence[MergedStance], events: Sequence[MergedEvent]
) -> dict[str, list[MergedStance]]:
    """Event id → the stances tied to it (see the module docstring)."""
    words = {e.id: _words_of_event(e) for e in events}
    tied: dict[str, list[MergedStance]] = defaultdict(list)
    for stance in stances:
        about = content_words(" ".join([stance.topic, stance.target or ""]))
        claim = content_words(stance.claim)
        holder = content_words(" ".join([stance.holder.name, stance.holder.canonical]))
        scored = []
        for event in events:
            if not set(event.source_ids) & set(stance.source_ids):
                continue  # not in the stance's article
            shared = about & words[event.id]
            if shared:
                # What the stance is about, against what the event is: the closest event wins.
                jaccard = len(shared) / len(about | words[event.id])
                # A holder's own act ("the ministry accused Estonia of piracy over the
                # detention") is how the stance was said, not what it is about: the event
                # it is about is another, when the article reports one.
                own = _done_by(event, holder) or _said_together(event, stance)
                # A stance is a reaction to what was done more often than to what was said:
                # an accusation or a statement in the article is a reaction itself.
                done = not event.quad_class.startswith("verbal")
                scored.append((not own, done, jaccard, len(claim & words[event.id]), event.id))
        if scored:
            tied[max(scored)[-1]].append(stance)
    return tied


# --- recall -----------------------------------------------------------------------------------


def _story_id(members: Sequence[str]) -> str:
    return "st-" + hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()[:12]


def _earlier_days(conn: sqlite3.Connection, story_id: str, day: dt.date) -> list[DayEvent]:
    rows = conn.execute(
        "SELECT day, event_json FROM story_days WHERE story_id = ? AND day < ? ORDER BY day",
        (story_id, day.isoformat()),
    ).fetchall()
    return [DayEvent(_day(d), MergedEvent.model_validate_json(j)) for d, j in rows]


def _earlier_outlets(conn: sqlite3.Connection, story_id: str, day: dt.date) -> set[str]:
    rows = conn.execute(
        "SELECT DISTINCT s.outlet_key FROM story_members m JOIN records r ON r.id = m.record_id"
        " JOIN sources s ON s.id = r.source_id WHERE m.story_id = ? AND m.day < ?",
        (story_id, day.isoformat()),
    )
    return {key for (key,) in rows if key}


def _earlier_holders(
    conn: sqlite3.Connection, story_id: str, day: dt.date, earlier: Sequence[DayEvent]
) -> set[str]:
    """Who took a position in the story before: the holders of its earlier tied stances and
    of every stance of its earlier articles (a holder speaking again is not news, whichever
    event that day's stance was tied to)."""
    rows = conn.execute(
        "SELECT DISTINCT holder_key FROM story_stances WHERE story_id = ? AND day < ?",
        (story_id, day.isoformat()),
    )
    keys = {key for (key,) in rows}
    ids = sorted({s for d in earlier for s in d.event.source_ids})
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = conn.execute(
            "SELECT record_json FROM records WHERE kind = 'stance' AND source_id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        )
        for (record_json,) in found:
            holder = StanceRecord.model_validate_json(record_json).holder
            keys.add(outlet_key(holder.canonical or holder.name))
    return keys


def _copies(
    conn: sqlite3.Connection,
    today: MergedEvent,
    documents: Sequence[Document],
    earlier: Sequence[DayEvent],
) -> set[str]:
    """Today's documents that are copies of an earlier article of the story: a document
    quoting for this event words an earlier article quoted for it, and holding that article's
    text (``syndicated_pairs``: most of its 5-word shingles)."""
    out: set[str] = set()
    for doc in documents:
        said = {
            " ".join(e.quote.casefold().split()) for e in today.evidence if e.source_id == doc.id
        }
        quoted = {
            e.source_id
            for d in earlier
            for e in d.event.evidence
            if " ".join(e.quote.casefold().split()) in said
        }
        if not quoted:
            continue
        quoted = set(sorted(quoted)[:COPY_CANDIDATES])
        rows = conn.execute(
            f"SELECT source_json, text FROM sources WHERE id IN ({','.join('?' * len(quoted))})",
            sorted(quoted),
        ).fetchall()
        olds = [Document(source=Source.model_validate_json(j), text=decompress(t)) for j, t in rows]
        if any(doc.id in pair for pair in syndicated_pairs([doc, *olds])):
            out.add(doc.id)
    return out


def recall(
    conn: sqlite3.Connection,
    merged: MergeResult,
    documents: Sequence[Document],
    day: dt.date,
) -> Recall:
    """See the module docstring; reads only (the caller holds a read transaction)."""
    events = list(merged.events)
    joined = _match(conn, events, documents, day)
    outlets = {d.id: d.source.outlet for d in documents}
    ties = _ties(merged.stances, events)
    today_keys = {sid: outlet_key(name) for sid, name in outlets.items() if name}

    groups: dict[str, list[MergedEvent]] = {}
    for event in events:
        key = joined.get(event.id) or f"new:{event.id}"
        groups.setdefault(key, []).append(event)

    annotated: list[MergedEvent] = []
    links: list[StoryLink] = []
    cited: set[str] = set()
    for key, members in groups.items():
        today = DayEvent(day, one_day(members))
        tied = tuple(s for e in members for s in ties.get(e.id, []))
        if key.startswith("new:"):
            story_id = _story_id(today.event.members)
            earlier: list[DayEvent] = []
            status: StoryStatus = "new"
            changes: list[StoryChange] = []
            first_day = day
        else:
            story_id = key
            earlier = _earlier_days(conn, story_id, day)
            first_day = earlier[0].day if earlier else day
            new_outlets = outlet_changes(
                today.event, outlets, _earlier_outlets(conn, story_id, day), set()
            )
            if new_outlets:
                named = {c.source_ids[0] for c in new_outlets} | {
                    s for c in new_outlets for s in c.source_ids
                }
                copies = _copies(
                    conn, today.event, [d for d in documents if d.id in named], earlier
                )
                new_outlets = outlet_changes(
                    today.event, outlets, _earlier_outlets(conn, story_id, day), copies
                )
            changes = [
                *figure_changes(today, earlier),
                *new_outlets,
                *stance_changes(tied, _earlier_holders(conn, story_id, day, earlier)),
            ]
            status = "updated" if changes else "continuing"
        keys = today_keys | _stored_outlet_keys(
            conn, {s for d in earlier for s in d.event.source_ids}
        )
        event = story_event(today, earlier, keys, changes).model_copy(
            update={
                "story_id": story_id,
                "status": status,
                "changes": changes,
                "first_seen": first_day,
            }
        )
        cited |= set(event.source_ids)
        annotated.append(event)
        links.append(
            StoryLink(story_id, status, tuple(changes), today.event, event, tied, first_day)
        )

    today_ids = {d.id for d in documents}
    earlier_sources = load_sources(conn, cited - today_ids)
    row = conn.execute("SELECT MAX(day) FROM runs WHERE day < ?", (day.isoformat(),)).fetchone()
    previous = _day(row[0]) if row and row[0] else None
    return Recall(
        events=annotated,
        stances=list(merged.stances),
        earlier_sources=[earlier_sources[s] for s in sorted(earlier_sources)],
        previous_day=previous,
        day=day,
        links=tuple(links),
    )


def _stored_outlet_keys(conn: sqlite3.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(
        f"SELECT id, outlet_key FROM sources WHERE id IN ({','.join('?' * len(ids))})",
        sorted(ids),
    )
    return {sid: key for sid, key in rows if key}
