"""The story store through its public API, on real SQLite files: schema and migration, one
transaction per run, same-day re-runs, queries, and the statuses of the multi-day stories."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import briefer
from benchmarks.quality.days import Day, DayStory, load_day_stories
from benchmarks.quality.days_score import DayRun, DayStoryRun, _record_labels, score_day_story
from briefer.errors import StoreError
from briefer.llm import FunctionClient, LLMRequest
from briefer.merging import merge_records
from briefer.models import Briefing, Document, EventRecord, MergedEvent, StanceRecord
from briefer.rendering import render_story
from briefer.stories import SCHEMA_VERSION, Recall, Store
from briefer.stories._schema import MIGRATIONS

TABLES = (
    "sources",
    "runs",
    "run_sources",
    "records",
    "stories",
    "story_days",
    "story_members",
    "story_stances",
    "story_keys",
)


@dataclasses.dataclass
class Ran:
    recall: Recall
    briefing: Briefing
    run_id: int
    labels: dict[str, list[str]]
    outlets: dict[str, str | None]
    documents: list[Document]


def run_day(store: Store, story: DayStory, day: Day) -> Ran:
    """One day of a story through the stages, as the pipeline runs them with a store:
    extract → merge → recall → (a briefing of the recalled events) → save."""
    paths = [str(p) for p in day.articles.values()]
    loaded = briefer.load_sources(paths)
    stem_of = {d.id: Path(d.source.path or "").stem for d in loaded.documents}

    def answer(request: LLMRequest) -> str:
        return json.dumps(story.reply(stem_of[request.context.source_id or ""]))

    options = briefer.BriefOptions(date=day.date, compose=False)
    outcome = briefer.extract(paths, client=FunctionClient(answer), options=options)
    documents = outcome.documents
    events, stances = outcome.extraction.events, outcome.extraction.stances
    merged = merge_records(events, stances, documents)
    assert day.date is not None
    recall = store.recall(merged, documents, day=day.date)
    briefing = Briefing(
        date=day.date,
        title=f"Briefing {day.name}",
        generated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        model="test",
        composer="deterministic",
        items=[],
        events=recall.events,
        stances=recall.stances,
        sources=[*(d.source for d in documents), *recall.earlier_sources],
        excluded=[],
        usage=outcome.runner.usage.snapshot(),
        previous=recall.previous_day,
    )
    run_id = store.save(recall, briefing, (events, stances), documents)
    return Ran(
        recall,
        briefing,
        run_id,
        _record_labels(story, stem_of, outcome),
        {d.id: d.source.outlet for d in documents},
        documents,
    )


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.fixture
def gdansk() -> DayStory:
    return load_day_stories(names=["01-gdansk-yard-strike"])[0]


def test_a_new_store_is_made_with_its_folder_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "stories.db"
    with Store(path) as store:
        assert store.stories() == []
        assert store.briefings() == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_of_version_1_is_migrated_on_open(tmp_path: Path, gdansk: DayStory) -> None:
    # A store written by the first schema, with one day in it: v1 had no key index.
    path = tmp_path / "stories.db"
    with Store(path) as store:
        run_day(store, gdansk, gdansk.days[0])
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE story_keys")
        conn.execute("DROP INDEX records_source")
        conn.execute("PRAGMA user_version = 1")
    with sqlite3.connect(path) as conn:
        assert "story_keys" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    with Store(path) as store:
        # The index is rebuilt from the stored days, so the next day finds its stories.
        ran = run_day(store, gdansk, gdansk.days[1])
    assert {e.status for e in ran.recall.events} == {"updated", "continuing"}
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT COUNT(*) FROM story_keys").fetchone()[0] > 0


def test_the_first_migration_makes_the_first_schema(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "v1.db", isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    MIGRATIONS[0](conn)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()
    with Store(tmp_path / "v1.db") as store:
        assert store.stories() == []
    assert counts(tmp_path / "v1.db")["story_keys"] == 0


def one_line_error(path: Path, *words: str) -> None:
    with pytest.raises(StoreError) as caught:
        Store(path).close()
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message
    assert caught.value.exit_code == 2


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    one_line_error(path, "upgrade briefer", "--no-store")


def test_a_file_that_is_no_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    path.write_bytes(b"this is not a database, it is a note " * 200)
    one_line_error(path, "move it aside", "--no-store")


def test_a_folder_in_place_of_the_file_is_refused(tmp_path: Path) -> None:
    one_line_error(tmp_path, "BRIEFER_STORE")


def test_statuses_over_three_days(tmp_path: Path, gdansk: DayStory) -> None:
    with Store(tmp_path / "stories.db") as store:
        ran = [run_day(store, gdansk, day) for day in gdansk.days]
    first, second, third = (r.recall for r in ran)
    assert first.previous_day is None
    assert second.previous_day == gdansk.days[0].date
    assert {e.status for e in first.events} == {"new"}
    strike = next(e for e in second.events if e.type == "PROTEST")
    assert strike.status == "updated"
    assert strike.first_seen == gdansk.days[0].date
    kinds = {c.kind for c in strike.changes}
    assert kinds == {"figure", "outlet"}
    figure = next(c for c in strike.changes if c.kind == "figure")
    assert (figure.before, figure.after) == (
        "Four hundred workers",
        "the number of strikers rose to 650",
    )
    # The story's event carries the first day's records and sources too.
    assert set(first.events[0].members) <= set(strike.members) or any(
        set(e.members) <= set(strike.members) for e in first.events
    )
    assert second.earlier_sources
    assert {s.id for s in second.earlier_sources} <= set(strike.source_ids)
    # ... and an update giving both days' values, so "rose from 400 to 650" cites both.
    assert any(len(u.values) == 2 for u in strike.updates)
    third_strike = next(e for e in third.events if e.type == "PROTEST")
    assert third_strike.status == "updated"
    assert [c.kind for c in third_strike.changes] == ["stance"]
    assert next(e for e in third.events if e.type == "REQUEST").status == "continuing"


def test_a_same_day_rerun_adds_nothing_and_gives_the_same_statuses(
    tmp_path: Path, gdansk: DayStory
) -> None:
    path = tmp_path / "stories.db"
    with Store(path) as store:
        run_day(store, gdansk, gdansk.days[0])
        first = run_day(store, gdansk, gdansk.days[1])
        before = counts(path)
        again = run_day(store, gdansk, gdansk.days[1])
    assert counts(path) == before
    assert again.run_id == first.run_id

    def shown(recall: Recall) -> list[tuple[str | None, str | None, list[Any]]]:
        return [(e.story_id, e.status, e.changes) for e in recall.events]

    assert shown(again.recall) == shown(first.recall)


def test_saving_one_run_twice_is_one_run(tmp_path: Path, gdansk: DayStory) -> None:
    path = tmp_path / "stories.db"
    with Store(path) as store:
        ran = run_day(store, gdansk, gdansk.days[0])
        before = counts(path)
        records: tuple[list[EventRecord], list[StanceRecord]] = (
            [],
            [],
        )  # in already: nothing is lost by leaving them out
        assert store.save(ran.recall, ran.briefing, records, ran.documents) == ran.run_id
    assert counts(path) == before


def test_queries(tmp_path: Path, gdansk: DayStory) -> None:
    with Store(tmp_path / "stories.db") as store:
        ran = [run_day(store, gdansk, day) for day in gdansk.days]
        stories = store.stories()
        assert len(stories) == 2
        strike = next(s for s in stories if "strike" in s.title.lower() and s.days == 3)
        assert strike.first_day == gdansk.days[0].date
        assert strike.last_day == gdansk.days[2].date
        assert "PolWire" in strike.outlets
        assert strike.last_change and "took a position" in strike.last_change
        assert [s.id for s in store.stories(text="WISŁA SHIP")] != []
        assert store.stories(text="no such words anywhere") == []
        assert len(store.stories(limit=1)) == 1
        assert store.stories(since=dt.date(2030, 1, 1)) == []

        timeline = store.story(strike.id[:6])
        assert [d.status for d in timeline.days] == ["new", "updated", "updated"]
        assert {s for d in timeline.days for s in d.event.source_ids} <= {
            s.id for s in timeline.sources
        }
        assert any(s.holder.canonical == "Ewa Malinowska" for s in timeline.stances)
        render_story(timeline, "markdown")
        with pytest.raises(LookupError, match="briefer stories"):
            store.story("st-nothing")
        with pytest.raises(LookupError, match="several"):
            store.story("st-")

        listed = store.briefings()
        assert [b.run_id for b in listed] == [r.run_id for r in reversed(ran)]
        again = store.briefing(ran[1].run_id)
        assert again.model_dump() == ran[1].briefing.model_dump()
        with pytest.raises(LookupError):
            store.briefing(999)

        review = store.review(gdansk.days[1].date or dt.date.min, gdansk.days[2].date)
        statuses = {e.type: e.status for e in review.events}
        assert statuses == {"PROTEST": "updated", "REQUEST": "continuing"}
        assert review.previous_day == gdansk.days[0].date
        whole = store.review(gdansk.days[0].date or dt.date.min)
        assert {e.status for e in whole.events} == {"new"}
        assert all(isinstance(e, MergedEvent) and e.evidence for e in whole.events)


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "stories.db")
    store.close()
    with pytest.raises(RuntimeError, match="closed"):
        store.stories()


def test_statuses_of_the_multi_day_stories(tmp_path: Path) -> None:
    """Status accuracy over every (day, gold story) pair of ``evals/days`` ≥ 0.95."""
    right = measured = 0
    mistakes: list[str] = []
    for n, story in enumerate(load_day_stories()):
        labels: dict[str, list[str]] = {}
        outlets: dict[str, str | None] = {}
        runs = []
        with Store(tmp_path / f"{n}.db") as store:
            for day in story.days:
                ran = run_day(store, story, day)
                labels.update(ran.labels)
                outlets.update(ran.outlets)
                runs.append(DayRun(day.name, day.date, set(day.articles), ran.briefing))
        figures = score_day_story(DayStoryRun(story, runs, labels, True, outlets))
        right += figures.status_right
        measured += figures.status_measured
        mistakes += figures.mistakes
    assert measured >= 39
    assert right / measured >= 0.95, mistakes
