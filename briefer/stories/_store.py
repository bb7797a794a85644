"""``Store``: the story store's face, and the writing of a run.

A ``Store`` opens its file at once (so a damaged, locked or too new file shows before any model
call) and keeps one connection per thread, opened on first use in that thread and in a child
process after a fork; ``close()`` (or leaving a ``with`` block) closes them all. A connection is
never shared between threads.

``save`` writes a run in one transaction: its sources, its records, every story it extended or
began with the day's status, changes and event, the stances tied to them, and the briefing's
JSON. Everything is keyed by content: a source by the id its text gives, a record by its id, a
story day by story and day, a run by its day and the hash of its inputs; so writing the same
day's run again adds nothing twice (it replaces that run's briefing and story days).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import briefer.stories._queries as _queries
from briefer.merging import MergeResult
from briefer.models import (
    Briefing,
    Document,
    EventRecord,
    MergedEvent,
    StanceRecord,
    StoryChange,
    StorySummary,
    StoryTimeline,
)
from briefer.stories._changes import describe, holder_key, outlet_key
from briefer.stories._connection import BUSY_TIMEOUT, connect, damaged, read, write
from briefer.stories._recall import Recall, StoryLink, one_day, recall
from briefer.stories._rows import compress
from briefer.stories._schema import day_span, key_rows

__all__ = ["Store"]

Records = tuple[Sequence[EventRecord], Sequence[StanceRecord]]


class Store:
    """The story store in the SQLite file at ``path`` (created with its folder on first use).

    ``timeout`` is how long a run waits for another run's write, per attempt, in seconds.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = BUSY_TIMEOUT) -> None:
        self.path = Path(path).expanduser()
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[tuple[int, sqlite3.Connection]] = []
        self._closed = False
        self._connection()

    # --- connections --------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise RuntimeError(f"the story store {self.path} is closed")
        pid = os.getpid()
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "held", None)
        if held is not None and held[0] == pid:
            return held[1]
        conn = connect(self.path, self.timeout)
        with self._lock:
            self._opened.append((pid, conn))
        self._local.held = (pid, conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened in this process."""
        with self._lock:
            opened, self._opened = self._opened, []
            self._closed = True
        pid = os.getpid()
        for owner, conn in opened:
            if owner == pid:
                conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    def check(self) -> None:
        """Run SQLite's whole integrity check; ``StoreError`` when the file is damaged."""
        conn = self._connection()

        def checked() -> list[str]:
            return [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]

        found = read(conn, self.path, checked)
        if found != ["ok"]:
            raise damaged(self.path, f"fails its integrity check ({found[0]})")

    # --- a run --------------------------------------------------------------------------------

    def recall(self, merged: MergeResult, documents: Sequence[Document], *, day: dt.date) -> Recall:
        """Today's merged events against the stored stories of the days before ``day``: each
        annotated with its story, status, changes and first day (see ``briefer.stories``).
        Reads only."""
        conn = self._connection()
        return read(conn, self.path, lambda: recall(conn, merged, documents, day))

    def save(
        self,
        recall: Recall,
        briefing: Briefing,
        records: Records,
        documents: Sequence[Document],
    ) -> int:
        """Write the run in one transaction; its run id. Writing it again adds nothing twice."""
        conn = self._connection()
        return write(conn, self.path, lambda: _save(conn, recall, briefing, records, documents))

    # --- queries ------------------------------------------------------------------------------

    def stories(
        self,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        text: str | None = None,
        limit: int | None = None,
    ) -> list[StorySummary]:
        """Stored stories, newest first: those reported between ``since`` and ``until``, whose
        title, actors or quotes hold ``text`` (any case)."""
        conn = self._connection()
        return read(conn, self.path, lambda: _queries.stories(conn, since, until, text, limit))

    def story(self, story_id: str) -> StoryTimeline:
        """A story day by day; ``story_id`` may be a unique prefix (``LookupError`` else)."""
        conn = self._connection()
        return read(conn, self.path, lambda: _queries.story(conn, story_id))

    def briefings(self) -> list[_queries.StoredBriefing]:
        """Every stored briefing, newest first."""
        conn = self._connection()
        return read(conn, self.path, lambda: _queries.briefings(conn))

    def briefing(self, run_id: int) -> Briefing:
        """The briefing run ``run_id`` wrote (``LookupError`` for an unknown run)."""
        conn = self._connection()
        return read(conn, self.path, lambda: _queries.briefing(conn, run_id))

    def review(self, since: dt.date, until: dt.date | None = None) -> Recall:
        """The stories active from ``since`` to ``until`` (the last stored day when None),
        from the store alone, as a review of the period: each story's event over the period
        with its evidence and sources, new if first seen in the period, updated if it changed
        in it, continuing otherwise."""
        conn = self._connection()
        return read(conn, self.path, lambda: _queries.review(conn, since, until))


# --- writing a run ----------------------------------------------------------------------------


def _inputs(documents: Sequence[Document]) -> str:
    return hashlib.sha256(
        "\n".join(sorted(d.source.sha256 for d in documents)).encode()
    ).hexdigest()


def _save(
    conn: sqlite3.Connection,
    recall: Recall,
    briefing: Briefing,
    records: Records,
    documents: Sequence[Document],
) -> int:
    day = recall.day.isoformat()
    for doc in documents:
        s = doc.source
        conn.execute(
            "INSERT OR IGNORE INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                s.id,
                s.sha256,
                s.url,
                s.outlet,
                outlet_key(s.outlet),
                s.published.isoformat() if s.published else None,
                day,
                s.model_dump_json(),
                compress(doc.text),
            ),
        )
    run_id = _run(conn, day, _inputs(documents), briefing)
    conn.executemany(
        "INSERT OR IGNORE INTO run_sources VALUES (?, ?)", [(run_id, d.id) for d in documents]
    )
    events, stances = records
    known_sources = {d.id for d in documents}
    kept: set[str] = set()
    rows = []
    both: list[tuple[str, EventRecord | StanceRecord]] = [("event", e) for e in events]
    both += [("stance", s) for s in stances]
    for kind, record in both:
        if record.source_id in known_sources:
            kept.add(record.id)
            rows.append((record.id, kind, record.source_id, day, record.model_dump_json()))
    conn.executemany("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?)", rows)
    for link in recall.links:
        _save_story(conn, link, day, run_id, kept, documents)
    return run_id


def _run(conn: sqlite3.Connection, day: str, inputs: str, briefing: Briefing) -> int:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    found = conn.execute("SELECT id FROM runs WHERE day = ? AND inputs = ?", (day, inputs))
    row = found.fetchone()
    if row is not None:
        conn.execute(
            "UPDATE runs SET written_at = ?, title = ?, briefing_json = ? WHERE id = ?",
            (now, briefing.title, briefing.model_dump_json(), row[0]),
        )
        return int(row[0])
    cursor = conn.execute(
        "INSERT INTO runs (day, inputs, written_at, title, briefing_json) VALUES (?, ?, ?, ?, ?)",
        (day, inputs, now, briefing.title, briefing.model_dump_json()),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _save_story(
    conn: sqlite3.Connection,
    link: StoryLink,
    day: str,
    run_id: int,
    records: set[str],
    documents: Sequence[Document],
) -> None:
    sid = link.story_id
    event = link.event
    day_event = link.day_event
    status, changes = link.status, list(link.changes)
    other = conn.execute(
        "SELECT run_id, status, changes_json, event_json FROM story_days WHERE story_id = ?"
        " AND day = ?",
        (sid, day),
    ).fetchone()
    if other is not None and other[0] != run_id:
        # Another run of the same day (other inputs) told this story too: the day is both.
        day_event = one_day([MergedEvent.model_validate_json(other[3]), day_event])
        earlier = [StoryChange.model_validate(c) for c in json.loads(other[2])]
        changes = [*earlier, *(c for c in changes if c not in earlier)]
        if "updated" in (status, other[1]) or changes:
            status = "updated" if changes else status
        elif "new" in (status, other[1]):
            status = "new"
    changes_json = "[" + ",".join(c.model_dump_json() for c in changes) + "]"
    existing = conn.execute(
        "SELECT outlets_json, search, last_day, last_change FROM stories WHERE id = ?", (sid,)
    ).fetchone()
    outlets = {d.id: d.source.outlet for d in documents}
    names = sorted({n for s in day_event.source_ids if (n := outlets.get(s))})
    if existing is None:
        conn.execute(
            "INSERT INTO stories VALUES (?, ?, ?, 1, ?, '[]', 0, NULL, '')",
            (sid, day, day, event.summary),
        )
        existing = ("[]", "", day, None)
    lo, hi = day_span(day_event)
    conn.execute(
        "INSERT OR REPLACE INTO story_days VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sid,
            day,
            run_id,
            status,
            changes_json,
            day_event.model_dump_json(),
            day_event.quad_class,
            lo,
            hi,
        ),
    )
    conn.execute("DELETE FROM story_keys WHERE story_id = ? AND day = ?", (sid, day))
    conn.executemany(
        "INSERT OR IGNORE INTO story_keys VALUES (?, ?, ?, ?, ?, ?)",
        key_rows(sid, day, day_event),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO story_members VALUES (?, ?, ?)",
        [(sid, day, m) for m in day_event.members if m in records],
    )
    conn.execute("DELETE FROM story_stances WHERE story_id = ? AND day = ?", (sid, day))
    conn.executemany(
        "INSERT OR REPLACE INTO story_stances VALUES (?, ?, ?, ?, ?)",
        [(sid, day, s.id, holder_key(s), s.model_dump_json()) for s in link.stances],
    )
    known = set(json.loads(existing[0]))
    search = existing[1]
    parts = [event.summary, *(a.canonical for a in (*event.actors, *event.targets))]
    parts += [e.quote for e in day_event.evidence]
    for part in parts:
        words = " ".join(part.casefold().split())
        if words and words not in search:
            search += ("\n" if search else "") + words
    span = conn.execute(
        "SELECT MIN(day), MAX(day), COUNT(*) FROM story_days WHERE story_id = ?", (sid,)
    ).fetchone()
    conn.execute(
        "UPDATE stories SET first_day = ?, last_day = ?, days = ?, outlets_json = ?, search = ?"
        " WHERE id = ?",
        (span[0], span[1], span[2], json.dumps(sorted(known | set(names))), search, sid),
    )
    if day >= existing[2]:
        # The latest day tells the story's title, its open conflicts and its last change.
        last_change = "; ".join(describe(c) for c in changes) or existing[3]
        conn.execute(
            "UPDATE stories SET title = ?, open_conflicts = ?, last_change = ? WHERE id = ?",
            (event.summary, len(event.conflicts), last_change, sid),
        )
