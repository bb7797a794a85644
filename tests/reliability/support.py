"""Shared parts of the reliability suite: generated articles, a model that quotes them, and the
real ``briefer`` command run as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from briefer.llm.store import RecordingStore
from briefer.testing import FakeReply

REPO = Path(__file__).resolve().parents[2]
BRIEFER = Path(sys.executable).with_name("briefer")
RECORDING_SCHEMA = json.loads((REPO / "schemas" / "recording.schema.json").read_text("utf-8"))

_ARTICLE = re.compile(r"<article>\n?(.*?)\n?</article>", re.S)
_TITLE = re.compile(r"^Title: (.*)$", re.M)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")

TOWNS = [
    *("Arden", "Bellmore", "Calloway", "Dunmere", "Eastwick", "Farrow", "Glenholt", "Harwick"),
    *("Ivybridge", "Jessop", "Kilmory", "Larchmont", "Merriton", "Northam", "Oakhurst"),
    *("Pellston", "Quarrydale", "Redfern", "Saltash", "Thornbury", "Upwey", "Valemont"),
    *("Westerby", "Yarrowby", "Zennor"),
]


def article_title(index: int) -> str:
    return f"Harbour council report {index:02d}"


def write_articles(folder: Path, count: int) -> list[Path]:
    """``count`` short, distinct plain-text articles; each title names its index."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        town = f"{TOWNS[i % len(TOWNS)]}{i:02d}"
        text = (
            f"Title: {article_title(i)}\n"
            f"Outlet: Coastal Ledger {i:02d}\n"
            f"Published: 2026-03-{1 + i % 28:02d}\n\n"
            f"The {town} council approved {i + 3} new ferry routes on Monday after a debate.\n\n"
            f"Mayor Ada {town} said the routes would open before the summer season.\n\n"
            f"Fishermen in {town} protested outside the harbour office, citing lost moorings.\n\n"
            f"The regional transport board pledged {i + 40} thousand euros for the {town} pier.\n"
        )
        path = folder / f"article-{i:02d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def user_message(body: Mapping[str, Any]) -> str:
    messages = body.get("messages") or []
    users = [m.get("content", "") for m in messages if m.get("role") == "user"]
    return str(users[0]) if users else ""


def fenced_article(body: Mapping[str, Any]) -> str | None:
    """The text between the article fences of the request's user message, if any."""
    match = _ARTICLE.search(user_message(body))
    return match.group(1) if match else None


def title_of(body: Mapping[str, Any]) -> str | None:
    match = _TITLE.search(user_message(body))
    return match.group(1).strip() if match else None


def index_of(body: Mapping[str, Any]) -> int | None:
    """The generated article a request is about (from its title line), if any."""
    title = title_of(body) or ""
    match = re.fullmatch(r"Harbour council report (\d+)", title)
    return int(match.group(1)) if match else None


def actor(name: str, kind: str = "government") -> dict[str, Any]:
    return {"name": name, "canonical": name, "country": None, "kind": kind}


def quoting_reply(article: str) -> dict[str, Any]:
    """An extraction reply whose quotes are real sentences of ``article``."""
    sentences = [s.strip() for s in _SENTENCE.findall(article) if len(s.split()) > 3]
    events = []
    stances = []
    for n, sentence in enumerate(sentences):
        who = sentence.split()[1] if len(sentence.split()) > 1 else "Council"
        if n % 2 == 0:
            events.append(
                {
                    "type": "AGREE" if n == 0 else "AID",
                    "summary": f"Event {n}: {sentence}",
                    "actors": [actor(f"{who} authority {n}")],
                    "targets": [],
                    "date_text": None,
                    "location": None,
                    "quantities": [],
                    "factuality": "asserted",
                    "quotes": [sentence],
                    "confidence": 0.9,
                }
            )
        else:
            stances.append(
                {
                    "holder": actor(f"{who} speaker {n}", "person"),
                    "topic": "ferry routes",
                    "target": None,
                    "polarity": "favor",
                    "quote_type": "direct",
                    "claim": f"Position {n}",
                    "quotes": [sentence],
                }
            )
    return {"events": events, "stances": stances}


def answer_normally(body: Mapping[str, Any]) -> FakeReply:
    """What a well-behaved model says: quotes for an article, an empty composition otherwise."""
    article = fenced_article(body)
    if article is None:
        return FakeReply.json({"items": []})
    return FakeReply.json(quoting_reply(article))


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(
    args: Sequence[str | Path],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> Run:
    """``briefer ARGS`` as a subprocess, with the test's environment plus ``env``."""
    full_env = {**os.environ, **(env or {}), "NO_COLOR": "1", "COLUMNS": "200"}
    done = subprocess.run(
        [str(BRIEFER), *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert "Traceback" not in run.stdout, run.stdout


def check_store(directory: Path) -> list[Path]:
    """Every entry in a recording/cache directory parses and validates; no temp file is an
    entry. Returns the entries."""
    entries = sorted(directory.glob("*.json")) if directory.is_dir() else []
    validator = jsonschema.Draft202012Validator(RECORDING_SCHEMA)
    for path in entries:
        data = json.loads(path.read_text("utf-8"))
        errors = [e.message for e in validator.iter_errors(data)]
        assert not errors, f"{path.name}: {errors[:3]}"
        assert data["key"] == path.stem
    assert RecordingStore(directory).keys() == [path.stem for path in entries]
    if directory.is_dir():
        for path in directory.iterdir():
            assert path.name.endswith(".json") or path.name.endswith(".tmp"), path.name
            assert not (path.name.startswith(".") and path.name.endswith(".json")), path.name
    return entries
