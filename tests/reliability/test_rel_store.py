"""The story store under real processes: killed (SIGKILL) while it writes, written by two
runs at once, damaged, and locked by another run. After each, the file opens, passes SQLite's
integrity check and holds whole runs only; errors are one line naming the file."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from briefer.errors import StoreError
from briefer.llm.usage import Usage
from briefer.merging import MergeResult
from briefer.models import Briefing
from briefer.stories import Store

REPO = Path(__file__).resolve().parents[2]
DAY = dt.date(2025, 6, 1)
NOTHING = MergeResult(events=[], stances=[])
DOCUMENTS = 30  # per run: enough that a run's transaction takes a while to write

# Writes runs in a loop, one a day from a start day, printing each run id once saved: a
# developing story told by several outlets with a figure that changes, and other news.
WRITER = r"""
import datetime as dt, hashlib, sys
from briefer.merging import merge_records
from briefer.models import Actor, Briefing, Document, EventRecord, Evidence, Quantity, Source
from briefer.llm.usage import Usage
from briefer.stories import Store

path, seed = sys.argv[1], sys.argv[2]
first, count, documents = (int(a) for a in sys.argv[3:6])
PORT = Actor(name="Port workers", canonical="Harbour Port Workers", country="GBR",
             kind="civil_society")
CITY = Actor(name="the council", canonical="Harbour City Council", country="GBR",
             kind="government")

def run(n):
    day = dt.date(2025, 1, 1) + dt.timedelta(days=n)
    docs, events = [], []
    for k in range(documents):
        striking = 100 + 10 * n + (k % 2)
        text = (f"HARBOUR ({seed} {n} {k}) — {striking} port workers stayed on strike on "
                f"day {n}. Report {k} of run {n} by writer {seed}. "
                + "Filler words about the harbour. " * 60)
        digest = hashlib.sha256(text.encode()).hexdigest()
        sid = "src-" + digest[:12]
        source = Source(id=sid, title=f"Report {k}", url=f"https://example.org/{seed}/{n}/{k}",
                        path=None, outlet=f"Outlet {k % 7}", published=day, sha256=digest,
                        tokens=len(text.split()), chars=len(text))
        docs.append(Document(source=source, text=text))
        quote = text[: text.index(".")]
        count_ = Quantity(kind="workers on strike", value=float(striking),
                          text=f"{striking} port workers")
        events.append(EventRecord(
            id=f"ev-{sid[4:]}", type="PROTEST", summary="Port workers stayed on strike.",
            actors=[PORT], targets=[CITY], date=day, date_text=None, date_precision="day",
            location="Harbour", quantities=[count_], factuality="asserted",
            evidence=[Evidence(source_id=sid, quote=quote, start=0, end=len(quote))],
            confidence=0.9, source_id=sid))
    return day, docs, events

with Store(path, timeout=30) as store:
    for n in range(first, first + count):
        day, docs, events = run(n)
        merged = merge_records(events, [], docs)
        recall = store.recall(merged, docs, day=day)
        briefing = Briefing(
            date=day, title=f"Run {n}", generated_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            model="test", composer="deterministic", items=[], events=recall.events,
            stances=[], sources=[d.source for d in docs], excluded=[], usage=Usage())
        print(store.save(recall, briefing, (events, []), docs), flush=True)
"""


def writer(path: Path, seed: str, first: int, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-c", WRITER, str(path), seed, str(first), str(count), str(DOCUMENTS)]
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def whole_runs(path: Path) -> int:
    """Open the store after whatever happened: it passes the integrity check and holds whole
    runs only (every run with all its sources, records and story days; nothing of a run
    that is not there). The number of runs."""
    with Store(path) as store:
        store.check()
        stories = store.stories()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        runs = conn.execute("SELECT id FROM runs").fetchall()
        for (run_id,) in runs:
            n = conn.execute("SELECT COUNT(*) FROM run_sources WHERE run_id = ?", (run_id,))
            assert n.fetchone()[0] == DOCUMENTS
        orphans = [
            "SELECT COUNT(*) FROM sources WHERE id NOT IN (SELECT source_id FROM run_sources)",
            "SELECT COUNT(*) FROM records WHERE source_id NOT IN (SELECT id FROM sources)",
            "SELECT COUNT(*) FROM story_days WHERE run_id NOT IN (SELECT id FROM runs)",
            "SELECT COUNT(*) FROM records WHERE day NOT IN (SELECT day FROM runs)",
            # Every event of every run is in a story: no run's story day was written over.
            "SELECT COUNT(*) FROM records WHERE id NOT IN (SELECT record_id FROM story_members)",
        ]
        for query in orphans:
            assert conn.execute(query).fetchone()[0] == 0, query
        records = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        assert records == DOCUMENTS * len(runs)
    finally:
        conn.close()
    assert (len(stories) >= 1) == bool(runs)
    return len(runs)


@pytest.mark.slow
def test_a_run_killed_while_it_writes_leaves_whole_runs(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    rng = random.Random(13)
    day = 0
    for _ in range(5):
        process = writer(path, "k", day, 1000)
        time.sleep(rng.uniform(0.8, 2.5))
        process.send_signal(signal.SIGKILL)
        out, _ = process.communicate()
        day += len(out.split()) + 1  # the next runs' days come after the last one begun
        before = whole_runs(path)
        # The next run completes, on top of what the killed one left.
        done = writer(path, "k", day, 1)
        out, err = done.communicate(timeout=120)
        assert done.returncode == 0, err
        day += 1
        assert whole_runs(path) == before + 1
    assert whole_runs(path) > 5


@pytest.mark.slow
def test_two_runs_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    Store(path).close()
    runs = 4
    first, second = writer(path, "a", 0, runs), writer(path, "b", 0, runs)
    results = [p.communicate(timeout=300) for p in (first, second)]
    for process, (out, err) in zip((first, second), results, strict=True):
        assert process.returncode == 0, err
        assert len(out.split()) == runs
    ids = {int(i) for out, _ in results for i in out.split()}
    assert len(ids) == 2 * runs  # no run overwrote another
    assert whole_runs(path) == 2 * runs


def test_a_damaged_file_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    process = writer(path, "d", 0, 2)
    assert process.wait(timeout=120) == 0
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    assert pages > 4
    with path.open("r+b") as f:
        for page in range(2, pages):
            f.seek(page * size)
            f.write(os.urandom(size // 2))
    with pytest.raises(StoreError) as caught, Store(path) as store:
        store.check()
        store.stories(text="strike")
        store.story(store.stories()[0].id)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "move it aside" in message


@pytest.mark.slow
def test_a_file_another_run_holds_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "stories.db"
    process = writer(path, "l", 0, 1)
    assert process.wait(timeout=120) == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "conn.execute('BEGIN EXCLUSIVE')\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        blocked = writer(path, "l", 1, 1)
        # The writer waits its 30 s per attempt; a store told to wait less gives up sooner.
        with Store(path, timeout=0.2) as store, pytest.raises(StoreError) as caught:
            store.save(store.recall(NOTHING, [], day=DAY), _briefing(), ([], []), [])
        assert time.monotonic() - started < 10
        message = str(caught.value)
        assert "\n" not in message and str(path) in message
        assert "another briefer run holds it: wait" in message
        blocked.kill()
        blocked.communicate()
    finally:
        holder.kill()
        holder.communicate()
    assert whole_runs(path) == 1


def _briefing() -> Briefing:
    return Briefing(
        date=DAY,
        title="Locked",
        generated_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
        model="test",
        composer="deterministic",
        items=[],
        events=[],
        stances=[],
        sources=[],
        excluded=[],
        usage=Usage(),
    )
