"""The story store through the real CLI: where it is, what happens when it cannot be used, and a
review of stored days written from it alone."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from typer.testing import CliRunner

from briefer.cli import app
from briefer.stories import Store

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"
RECORDINGS = ROOT / "examples" / "recordings"

runner = CliRunner()


def _brief(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "--quiet", *args]
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_default_store_is_in_the_user_data_directory(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    code, _, stderr = _brief("-o", str(out))
    assert code == 0, stderr
    # conftest points XDG_DATA_HOME into the test's own home.
    default = Path(os.environ["XDG_DATA_HOME"]) / "briefer" / "stories.db"
    assert default.is_file(), "the run kept no store in <user data dir>/briefer/stories.db"
    briefing = json.loads(out.read_text(encoding="utf-8"))
    with Store(default) as store:
        assert [b.day.isoformat() for b in store.briefings()] == [briefing["date"]]
        assert store.stories()
    events = briefing["events"]
    assert {e["status"] for e in events} == {"new"}
    assert all(e["story_id"] for e in events)


def test_a_damaged_store_stops_the_run_before_any_call_and_no_store_gets_the_briefing(
    tmp_path: Path,
) -> None:
    damaged = tmp_path / "stories.db"
    damaged.write_bytes(b"this is not a database\n" * 200)
    out = tmp_path / "b.md"
    code, _, stderr = _brief("--store", str(damaged), "-o", str(out))
    assert code == 2
    assert not out.exists()
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert str(damaged) in lines[0] and "--no-store" in lines[0]
    assert "Traceback" not in stderr

    code, _, stderr = _brief("--store", str(damaged), "--no-store", "-o", str(out))
    assert code == 0, stderr
    assert out.read_text(encoding="utf-8").startswith("# ")
    assert damaged.read_bytes() == b"this is not a database\n" * 200  # left as it was


def test_no_store_from_the_environment_keeps_nothing(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    out = tmp_path / "b.json"
    result = runner.invoke(
        app,
        ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-q", "-o", str(out)],
        env={"BRIEFER_STORE": str(store), "BRIEFER_NO_STORE": "1"},
    )
    assert result.exit_code == 0, result.stderr
    assert not store.exists()
    assert {e["status"] for e in json.loads(out.read_text(encoding="utf-8"))["events"]} == {None}


def test_a_review_is_written_from_the_store_alone(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    day = tmp_path / "day.json"
    code, _, stderr = _brief("--store", str(store), "-o", str(day))
    assert code == 0, stderr
    last = dt.date.fromisoformat(json.loads(day.read_text(encoding="utf-8"))["date"])
    out = tmp_path / "review.json"
    # No recordings, no key: a review makes no call.
    result = runner.invoke(
        app, ["brief", "--days", "7", "--store", str(store), "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    review = json.loads(out.read_text(encoding="utf-8"))
    assert review["date"] == last.isoformat()
    assert review["period_start"] == (last - dt.timedelta(days=6)).isoformat()
    assert review["usage"]["calls"] == 0 and review["composer"] == "deterministic"
    assert review["events"] and review["items"]
    cited = {c for item in review["items"] for c in item["citations"]}
    known = {e["id"] for e in review["events"]} | {s["id"] for s in review["stances"]}
    assert cited <= known
    assert {s["id"] for s in review["sources"]} >= {
        sid for e in review["events"] for sid in e["source_ids"]
    }


def test_review_and_story_commands_say_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    Store(empty).close()
    cases = [
        (["brief", str(ARTICLES), "--days", "3", "--store", str(empty)], "no SOURCE"),
        (["brief", "--days", "3", "--store", str(empty)], "holds no briefing"),
        (["brief", "--days", "3", "--no-store"], "--no-store"),
        (["brief", "--since", "2022-01-01", "--days", "2", "--store", str(empty)], "not both"),
        (["brief", "--store", str(empty)], "SOURCE"),
        (["stories", "--store", str(tmp_path / "missing.db")], "no story store"),
        (["story", "zzz", "--store", str(empty)], "zzz"),
    ]
    for args, said in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and said in lines[0], (args, result.stderr)


def test_stories_and_a_story_from_the_cli(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    code, _, stderr = _brief("--store", str(store), "-o", str(tmp_path / "day.md"))
    assert code == 0, stderr
    listed = runner.invoke(app, ["stories", "--store", str(store), "--json"])
    assert listed.exit_code == 0, listed.stderr
    stories = [json.loads(line) for line in listed.stdout.splitlines()]
    assert stories and all(s["first_day"] <= s["last_day"] for s in stories)
    table = runner.invoke(app, ["stories", "--store", str(store)], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and stories[0]["id"][:8] in table.stdout
    missile = runner.invoke(app, ["stories", "missile", "--store", str(store), "--json"])
    assert missile.exit_code == 0
    assert 0 < len(missile.stdout.splitlines()) <= len(stories)
    for fmt, start in (("markdown", "# "), ("json", "{"), ("html", "<!doctype html>")):
        shown = runner.invoke(
            app, ["story", stories[0]["id"][:8], "--store", str(store), "-f", fmt]
        )
        assert shown.exit_code == 0, shown.stderr
        assert shown.stdout.lstrip().lower().startswith(start), shown.stdout[:80]
