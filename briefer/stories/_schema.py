"""The store's schema and its migrations, numbered by ``PRAGMA user_version``.

A migration is a function applied once, in order, never edited after it ships; ``migrate``
applies the missing ones to a file inside one ``BEGIN IMMEDIATE`` transaction and sets
``user_version`` in that same transaction, so a file is at one version or the next, never
between. A file whose version is newer than ``SCHEMA_VERSION`` was written by a newer briefer
and is refused (the caller says: upgrade briefer).

Version 1 (the first design)::

    sources        one row per article: its Source (JSON), content hash, URL, outlet, the
                   outlet key corroboration counts by, the first day it was read, its text
                   (zlib-compressed, for the copy test across days)
    runs           one row per run: its day, the hash of its inputs, the briefing (JSON)
    run_sources    which sources each run read
    records        every grounded event and stance record of every run (JSON)
    stories        one row per story: title, first and last day, days, outlets, open
                   conflicts, last change in words, and the casefolded text searched
    story_days     one row per story and day: status, changes (JSON), the story's event as
                   that day told it (JSON), its quad class and the days it is compared within
    story_members  the records each day brought to each story
    story_stances  the stances tied to each story each day, with the holder's key

Version 2 adds ``story_keys``, the index recall looks candidates up in: one row per story
day and actor key (``briefer.merging.blocking_keys``) with its quad class and days, so a new
event loads only the stories that share a key and a quad class within its day window (with
an index of its rows by story, to replace a story day's), and an index of records by source
(who took a position in a story's earlier articles). The migration fills ``story_keys`` from
the stored days.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from briefer.merging import ONGOING_WINDOW, blocking_keys, compared_days
from briefer.models import EventRecord, MergedEvent

__all__ = ["SCHEMA_VERSION", "UNDATED_HIGH", "UNDATED_LOW", "day_span", "key_rows", "migrate"]

Migration = Callable[[sqlite3.Connection], None]

# The days an undated event is compared within: all of them.
UNDATED_LOW = 0
UNDATED_HIGH = 10**7


def day_span(event: EventRecord) -> tuple[int, int]:
    """The days (ordinals) an event is compared within across days: the days its date names,
    widened by ``ONGOING_WINDOW`` (a story followed from day to day is compared as an ongoing
    event is); every day for an undated event."""
    if event.date is None:
        return UNDATED_LOW, UNDATED_HIGH
    low, high = compared_days(event) or (0, 0)
    day = event.date.toordinal()
    return min(low, day - ONGOING_WINDOW), max(high, day + ONGOING_WINDOW)


def key_rows(
    story_id: str, day: str, event: EventRecord
) -> list[tuple[str, str, int, str, str, int]]:
    """The ``story_keys`` rows of one story day: (quad, key, hi, story id, day, lo)."""
    lo, hi = day_span(event)
    return [(event.quad_class, key, hi, story_id, day, lo) for key in sorted(blocking_keys(event))]


def _statements(conn: sqlite3.Connection, script: str) -> None:
    # One statement at a time: ``executescript`` would commit the open transaction first.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    _statements(
        conn,
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            url TEXT,
            outlet TEXT,
            outlet_key TEXT NOT NULL,
            published TEXT,
            first_day TEXT NOT NULL,
            source_json TEXT NOT NULL,
            text BLOB NOT NULL
        );
        CREATE INDEX sources_sha256 ON sources (sha256);
        CREATE INDEX sources_url ON sources (url);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            day TEXT NOT NULL,
            inputs TEXT NOT NULL,
            written_at TEXT NOT NULL,
            title TEXT NOT NULL,
            briefing_json TEXT NOT NULL,
            UNIQUE (day, inputs)
        );
        CREATE TABLE run_sources (
            run_id INTEGER NOT NULL REFERENCES runs (id),
            source_id TEXT NOT NULL REFERENCES sources (id),
            PRIMARY KEY (run_id, source_id)
        ) WITHOUT ROWID;
        CREATE TABLE records (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('event', 'stance')),
            source_id TEXT NOT NULL REFERENCES sources (id),
            day TEXT NOT NULL,
            record_json TEXT NOT NULL
        );
        CREATE TABLE stories (
            id TEXT PRIMARY KEY,
            first_day TEXT NOT NULL,
            last_day TEXT NOT NULL,
            days INTEGER NOT NULL,
            title TEXT NOT NULL,
            outlets_json TEXT NOT NULL,
            open_conflicts INTEGER NOT NULL,
            last_change TEXT,
            search TEXT NOT NULL
        );
        CREATE INDEX stories_last_day ON stories (last_day, first_day);
        CREATE TABLE story_days (
            story_id TEXT NOT NULL REFERENCES stories (id),
            day TEXT NOT NULL,
            run_id INTEGER NOT NULL REFERENCES runs (id),
            status TEXT NOT NULL CHECK (status IN ('new', 'updated', 'continuing')),
            changes_json TEXT NOT NULL,
            event_json TEXT NOT NULL,
            quad TEXT NOT NULL,
            lo INTEGER NOT NULL,
            hi INTEGER NOT NULL,
            PRIMARY KEY (story_id, day)
        ) WITHOUT ROWID;
        CREATE INDEX story_days_day ON story_days (day);
        CREATE TABLE story_members (
            story_id TEXT NOT NULL REFERENCES stories (id),
            day TEXT NOT NULL,
            record_id TEXT NOT NULL REFERENCES records (id),
            PRIMARY KEY (story_id, day, record_id)
        ) WITHOUT ROWID;
        CREATE TABLE story_stances (
            story_id TEXT NOT NULL REFERENCES stories (id),
            day TEXT NOT NULL,
            stance_id TEXT NOT NULL,
            holder_key TEXT NOT NULL,
            stance_json TEXT NOT NULL,
            PRIMARY KEY (story_id, day, stance_id)
        ) WITHOUT ROWID;
        """,
    )


def _v2(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE story_keys (
            quad TEXT NOT NULL,
            key TEXT NOT NULL,
            hi INTEGER NOT NULL,
            story_id TEXT NOT NULL REFERENCES stories (id),
            day TEXT NOT NULL,
            lo INTEGER NOT NULL,
            PRIMARY KEY (quad, key, hi, story_id, day)
        ) WITHOUT ROWID
        """
    )
    # Primary-key columns first: SQLite 3.40's integrity check misreads a WITHOUT ROWID table
    # whose other columns stand between them.
    conn.execute("CREATE INDEX story_keys_story ON story_keys (story_id, day)")
    conn.execute("CREATE INDEX records_source ON records (source_id, kind)")
    rows = conn.execute("SELECT story_id, day, event_json FROM story_days").fetchall()
    for story_id, day, event_json in rows:
        event = MergedEvent.model_validate_json(event_json)
        conn.executemany(
            "INSERT OR IGNORE INTO story_keys VALUES (?, ?, ?, ?, ?, ?)",
            key_rows(story_id, day, event),
        )


# Index i holds the migration to version i + 1.
MIGRATIONS: list[Migration] = [_v1, _v2]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring a file at ``version`` to ``SCHEMA_VERSION``; the caller holds the write
    transaction (``BEGIN IMMEDIATE``) and commits."""
    for number in range(version, SCHEMA_VERSION):
        MIGRATIONS[number](conn)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
