"""The story store: briefer's memory across days.

A ``Store`` is one SQLite file holding every source read, the grounded records of every run,
the stories (the same event across days) with what each day brought them, and every briefing
written. A run with a store recalls today's merged events against the stories of the earlier
days, so each one is ``new``, ``updated`` (with its changes: a figure, an outlet, a stance, a
conflict opened or settled) or ``continuing``; then it saves the run, in one transaction::

    with Store(path) as store:
        recall = store.recall(merged, documents, day=date)   # read-only
        ...compose with recall.events, recall.stances, recall.earlier_sources...
        run_id = store.save(recall, briefing, (events, stances), documents)
        store.stories(since=date - timedelta(days=7))         # StorySummary, newest first
        store.story("st-1a2b")                                # StoryTimeline, by id prefix

Private modules, read top-down: ``_store`` (the ``Store`` and the writing of a run),
``_connection`` (opening the file, WAL, transactions, retries, errors), ``_schema`` (tables
and migrations), ``_recall`` (matching today's events to the stored stories), ``_changes``
(statuses and changes), ``_queries`` (reading back), ``_rows`` (compressed texts, sources).
See ``docs/stories.md`` for the schema, the concurrency design and the figures measured.
"""

from __future__ import annotations

from briefer.stories._queries import StoredBriefing
from briefer.stories._recall import Recall
from briefer.stories._schema import SCHEMA_VERSION
from briefer.stories._store import Store

__all__ = ["SCHEMA_VERSION", "Recall", "Store", "StoredBriefing"]
