"""Three days of one developing story through the real ``briefer`` command, on one story store.

``examples/days/`` holds a flood in Brežice told over three days: the evacuation (story A) and
the mayor's request for a disaster declaration (story B). Each day is replayed from the
recordings with ``--no-compose``, in a subprocess, with no key and an isolated home, as a user
runs it:

* day 1: both stories new, no "Since the last briefing" section;
* day 2: A updated (900 → 1,350 residents evacuated, first reported by Adriatic Wire), B
  continuing;
* day 3: A updated (Tina Golob takes a position), B continuing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAYS = ROOT / "examples" / "days"
RECORDINGS = DAYS / "recordings"
BRIEFER = Path(sys.executable).with_name("briefer")

# Eleven runs of the command, each loading briefer: about 10 s, more on a busy machine.
pytestmark = pytest.mark.slow

SINCE = "## Since the last briefing"
# Words of each story's summary, whichever outlet's summary heads it.
EVACUATION = "residents of Brežice remained evacuated"
DECLARATION = "declare the flooding in Brežice a natural disaster"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "BRIEFER_", "XDG_"))}
    (home / "config.toml").write_text("", encoding="utf-8")
    env.update(
        BRIEFER_CONFIG=str(home / "config.toml"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
    )
    return env


@dataclass
class Run:
    """The run of the three days: the store, the outputs, and a way to run more commands."""

    home: Path
    store: Path
    day1_md: str
    day2: dict[str, Any]
    day3: dict[str, Any]
    day3_md: str

    def briefer(self, *args: str, store: Path | None = None) -> subprocess.CompletedProcess[str]:
        command = [str(BRIEFER), *args]
        if args[0] in ("brief", "stories", "story") and "--no-store" not in args:
            command += ["--store", str(store or self.store)]
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=_env(self.home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{' '.join(args)}: exit {done.returncode}\n{done.stderr}"
        return done

    def brief(self, day: str, *args: str, store: Path | None = None) -> str:
        replay = ["--replay", str(RECORDINGS.relative_to(ROOT)), "--no-compose", "-q"]
        return self.briefer(
            "brief", str((DAYS / day).relative_to(ROOT)), *replay, *args, store=store
        ).stdout

    def copy_of_store(self, name: str) -> Path:
        copy = self.home / name
        shutil.copyfile(self.store, copy)
        return copy


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    if not BRIEFER.exists():
        pytest.skip(f"no briefer command next to {sys.executable}")
    home = tmp_path_factory.mktemp("daily-use")
    out = Run(home, home / "stories.db", "", {}, {}, "")
    out.briefer("brief", *_day_args("day1"), "-o", str(home / "day1.md"))
    out.day1_md = (home / "day1.md").read_text(encoding="utf-8")
    out.day2 = json.loads(out.brief("day2", "-f", "json"))
    out.day3 = json.loads(out.brief("day3", "-f", "json"))
    (home / "day3.json").write_text(json.dumps(out.day3), encoding="utf-8")
    out.day3_md = out.briefer("render", str(home / "day3.json"), "-f", "markdown").stdout
    return out


def _day_args(day: str) -> list[str]:
    return [
        str((DAYS / day).relative_to(ROOT)),
        "--replay",
        str(RECORDINGS.relative_to(ROOT)),
        "--no-compose",
    ]


def _story(briefing: dict[str, Any], words: str) -> dict[str, Any]:
    events: list[dict[str, Any]] = briefing["events"]
    found = [e for e in events if words in e["summary"] or _cites(e, words)]
    assert len(found) == 1, [e["summary"] for e in events]
    return found[0]


def _cites(event: dict[str, Any], words: str) -> bool:
    return any(words in e["quote"] for e in event["evidence"])


def _statuses(briefing: dict[str, Any]) -> dict[str, str]:
    return {e["story_id"]: e["status"] for e in briefing["events"]}


def test_day1_has_no_since_section(run: Run) -> None:
    assert run.day1_md.startswith("# Daily briefing, 16 November 2026")
    assert SINCE not in run.day1_md
    assert "Civil protection crews evacuated 900 residents" in run.day1_md


def test_day2_evacuation_figure_and_outlet_changed_declaration_continuing(run: Run) -> None:
    assert run.day2["previous"] == "2026-11-16"
    evacuation = _story(run.day2, "1,350 residents")
    assert evacuation["status"] == "updated"
    changes = {c["kind"]: c for c in evacuation["changes"]}
    assert set(changes) == {"figure", "outlet"}
    figure = changes["figure"]
    assert (figure["before"], figure["after"]) == ("900 residents", "1,350 residents")
    assert (figure["before_date"], figure["after_date"]) == ("2026-11-16", "2026-11-17")
    assert changes["outlet"]["outlet"] == "Adriatic Wire"
    declaration = _story(run.day2, DECLARATION)
    assert (declaration["status"], declaration["changes"]) == ("continuing", [])


def test_day3_evacuation_stance_declaration_continuing(run: Run) -> None:
    assert run.day3["previous"] == "2026-11-17"
    evacuation = _story(run.day3, EVACUATION)
    assert evacuation["status"] == "updated"
    assert [(c["kind"], c["holder"]) for c in evacuation["changes"]] == [("stance", "Tina Golob")]
    declaration = _story(run.day3, DECLARATION)
    assert (declaration["status"], declaration["changes"]) == ("continuing", [])
    assert evacuation["story_id"] == _story(run.day2, "1,350 residents")["story_id"]
    assert declaration["story_id"] == _story(run.day2, DECLARATION)["story_id"]


def test_day3_markdown_leads_with_what_is_new(run: Run) -> None:
    since = run.day3_md.split(SINCE, 1)[1].split("\n## ", 1)[0]
    assert run.day3_md.index(SINCE) < run.day3_md.index("## Top developments")
    assert "*Since the briefing of 17 November 2026*" in run.day3_md
    assert f"### Update: Some 1,350 {EVACUATION}" in since
    assert "Tina Golob took a position" in since
    assert f"**Continuing** — Mayor Gregor Pavlin asked the government to {DECLARATION}" in since


def test_stories_lists_both_with_their_days(run: Run) -> None:
    lines = run.briefer("stories", "--json").stdout.splitlines()
    stories = {s["id"]: s for s in map(json.loads, lines)}
    assert set(stories) == set(_statuses(run.day3))
    for story in stories.values():
        assert (story["first_day"], story["last_day"], story["days"]) == (
            "2026-11-16",
            "2026-11-18",
            3,
        )
    evacuation = stories[_story(run.day3, EVACUATION)["story_id"]]
    assert evacuation["outlets"] == ["Adriatic Wire", "Krka Valley Times", "Posavje Herald"]
    assert evacuation["last_change"] == "Tina Golob took a position"
    table = run.briefer("stories").stdout
    assert all(story_id[:8] in table for story_id in stories)


def test_story_in_three_formats(run: Run) -> None:
    story_id = _story(run.day3, EVACUATION)["story_id"]
    prefix = story_id[:8]
    markdown = run.briefer("story", prefix).stdout
    assert "## 16 November 2026 · New" in markdown
    assert "## 17 November 2026 · Update" in markdown
    assert "## 18 November 2026 · Update" in markdown
    assert "rose from 900 residents on Monday" in markdown
    timeline = json.loads(run.briefer("story", prefix, "-f", "json").stdout)
    assert timeline["summary"]["id"] == story_id
    assert [(d["day"], d["status"]) for d in timeline["days"]] == [
        ("2026-11-16", "new"),
        ("2026-11-17", "updated"),
        ("2026-11-18", "updated"),
    ]
    html = run.briefer("story", prefix, "-f", "html").stdout
    assert html.startswith("<!DOCTYPE html>") and "Tina Golob" in html


def test_rerun_of_day3_only_new_keeps_the_statuses_and_leaves_the_continuing_out(
    run: Run,
) -> None:
    store = run.copy_of_store("rerun.db")
    again = json.loads(run.brief("day3", "--only-new", "-f", "json", store=store))
    # The same statuses: the store's earlier days are the same, and no story is added.
    assert _statuses(again) == _statuses(run.day3)
    assert again["previous"] == "2026-11-17"
    lines = run.briefer("stories", "--json", store=store).stdout.splitlines()
    assert {json.loads(line)["id"] for line in lines} == set(_statuses(run.day3))
    # Only what is new is told: no item cites the continuing story.
    declaration = _story(again, DECLARATION)["id"]
    assert all(declaration not in item["citations"] for item in again["items"])
    assert not any(DECLARATION in item["text"] for item in again["items"])
    assert any(item["section"] == "since" for item in again["items"])
    assert any("reported again with nothing new" in note for note in again["notes"])


def test_no_store_gives_a_briefing_with_no_statuses(run: Run) -> None:
    briefing = json.loads(run.brief("day3", "-f", "json", "--no-store"))
    assert briefing["previous"] is None
    assert all(e["status"] is None and e["story_id"] is None for e in briefing["events"])
    assert not any(i["section"] == "since" for i in briefing["items"])
    assert not (run.home / "data" / "briefer" / "stories.db").exists()


def test_the_readme_shows_what_the_days_write(run: Run) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Every day", 1)[1].split("\n## Feeds and the daily run", 1)[0]
    shown = re.findall(r"```markdown\n(.*?)```", section, re.DOTALL)
    assert len(shown) == 2, "the README shows day 2's and day 3's sections"
    (run.home / "day2.json").write_text(json.dumps(run.day2), encoding="utf-8")
    day2_md = run.briefer("render", str(run.home / "day2.json"), "-f", "markdown").stdout
    assert shown[0].strip() in day2_md
    assert shown[1].strip() in run.day3_md
    table = re.findall(r"```\n(id .*?)```", section, re.DOTALL)
    listed = run.briefer("stories").stdout
    assert table and [line.rstrip() for line in table[0].splitlines()] == [
        line.rstrip() for line in listed.splitlines()
    ]
