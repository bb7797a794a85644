"""Model-server faults across a 50-article run of the real CLI, then a re-run with the faults
gone: the run ends, every article is accounted for, and a re-run reuses every reply obtained."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability.support import (
    answer_normally,
    article_title,
    assert_no_traceback,
    check_store,
    fenced_article,
    index_of,
    run_cli,
    write_articles,
)

from briefer.testing import FakeOpenAIServer, FakeReply

ARTICLES = 50
CLIENT_TIMEOUT = 0.5  # seconds; slow replies take longer than this

# Fault kinds by article index (i % 10); the rest answer normally.
TRANSIENT = {1: "rate limited", 2: "5xx burst", 5: "malformed body once"}
PERSISTENT = {
    3: "timeout",
    4: "dropped",
    6: "schema-breaking JSON",
    7: "refusal",
    8: "truncated",
    9: "malformed JSON",
}


class FaultyModel:
    """Answers by article, injecting the fault its index calls for (while ``faulty``)."""

    def __init__(self) -> None:
        self.faulty = True
        self.lock = threading.Lock()
        self.calls: Counter[int] = Counter()
        self.compose_calls = 0

    def __call__(self, body: dict[str, Any]) -> FakeReply:
        index = index_of(body)
        with self.lock:
            if index is None:
                self.compose_calls += 1
                seen = 0
            else:
                self.calls[index] += 1
                seen = self.calls[index]
        if index is None or not self.faulty:
            return answer_normally(body)
        kind = index % 10
        if kind == 1 and seen <= 2:
            return FakeReply.rate_limited(0.05)
        if kind == 2 and seen <= 2:
            return FakeReply.server_error(500 if seen == 1 else 503)
        if kind == 5 and seen == 1:
            return FakeReply.malformed_body()
        if kind == 3:
            return FakeReply.slow(CLIENT_TIMEOUT * 6)
        if kind == 4:
            return FakeReply.dropped()
        if kind == 6:
            return FakeReply.json({"events": [{"type": "NOT-A-TYPE"}], "stances": "none"})
        if kind == 7:
            return FakeReply.refused("I will not summarise this article.")
        if kind == 8:
            return FakeReply.truncated('{"events": [{"type": "AGREE", "summ')
        if kind == 9:
            return FakeReply(content='{"events": [}, "stances": ')
        return answer_normally(body)


def fault_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "OPENAI_API_KEY": "sk-dummy-reliability",
        "BRIEFER_CACHE_DIR": str(tmp_path / "cache"),
        "BRIEFER_TIMEOUT": str(CLIENT_TIMEOUT),
        "BRIEFER_MAX_RETRIES": "2",
        "BRIEFER_MAX_REPAIRS": "1",
        "BRIEFER_BACKOFF": "0.02",
        **extra,
    }


def briefing_command(folder: Path, server: FakeOpenAIServer, out: Path) -> list[str | Path]:
    return [
        "brief",
        folder,
        "--base-url",
        server.base_url,
        "-o",
        out,
        "--format",
        "json",
        "--concurrency",
        "4",
        "--quiet",
    ]


def outcome(briefing: dict[str, Any], paths: list[Path]) -> tuple[set[int], dict[int, str]]:
    """(articles used, {article: reason excluded}); asserts every article is one or the other."""
    by_path = {str(p): i for i, p in enumerate(paths)}
    by_title = {article_title(i): i for i in range(len(paths))}
    excluded: dict[int, str] = {}
    for item in briefing["excluded"]:
        index = by_path[item["input"]]
        assert item["reason"].strip() and "\n" not in item["reason"], item
        excluded[index] = item["reason"]
    sources = {by_title[s["title"]] for s in briefing["sources"]}
    assert sources | set(excluded) == set(range(len(paths))), "an article went missing"
    return sources - set(excluded), excluded


def record_ids(briefing: dict[str, Any]) -> set[str]:
    ids: set[str] = set()
    for group in ("events", "stances"):
        for merged in briefing[group]:
            ids.update(merged["members"])
    return ids


def run_twice(
    tmp_path: Path, model: Callable[[dict[str, Any]], FakeReply], heal: Callable[[], None]
) -> tuple[Any, ...]:
    folder = tmp_path / "articles"
    paths = write_articles(folder, ARTICLES)
    with FakeOpenAIServer(model) as server:
        first_out = tmp_path / "first.json"
        first = run_cli(briefing_command(folder, server, first_out), env=fault_env(tmp_path))
        assert_no_traceback(first)
        first_briefing = json.loads(first_out.read_text("utf-8"))
        heal()
        second_out = tmp_path / "second.json"
        second = run_cli(briefing_command(folder, server, second_out), env=fault_env(tmp_path))
        assert_no_traceback(second)
        second_briefing = json.loads(second_out.read_text("utf-8"))
    check_store(tmp_path / "cache")
    return paths, first, first_briefing, second, second_briefing


@pytest.mark.slow
def test_mixed_faults_end_partial_and_a_rerun_completes_without_repeating_calls(
    tmp_path: Path,
) -> None:
    model = FaultyModel()
    calls_in_first: Counter[int] = Counter()

    def heal() -> None:
        calls_in_first.update(model.calls)
        model.calls.clear()
        model.faulty = False

    paths, first, first_briefing, second, second_briefing = run_twice(tmp_path, model, heal)

    # Run 1 ends, partial: transient faults were survived, persistent ones excluded with reasons.
    assert first.code == 3, first.stderr
    used, excluded = outcome(first_briefing, paths)
    for index in range(ARTICLES):
        kind = index % 10
        if kind in PERSISTENT:
            assert index in excluded, f"{PERSISTENT[kind]} article {index} was not excluded"
            assert f"article-{index:02d}.txt" in first.stderr
        else:
            assert index in used, f"article {index} ({TRANSIENT.get(kind, 'no fault')}): " + str(
                excluded.get(index)
            )
    reasons = {index % 10: excluded[index] for index in excluded}
    assert "within 0.5 s" in reasons[3]
    assert "dropped" in reasons[4]
    assert "invalid" in reasons[6] and "invalid" in reasons[9]
    assert "refused" in reasons[7]
    assert "cut off" in reasons[8]
    assert first_briefing["usage"]["retries"] >= 3 * 10  # 429s, 5xx, timeouts, drops ...

    # Run 2, faults gone: complete, and no article that succeeded before is asked again.
    assert second.code == 0, second.stderr
    used_again, excluded_again = outcome(second_briefing, paths)
    assert not excluded_again and used_again == set(range(ARTICLES))
    repeated = {i: model.calls[i] for i in used if model.calls[i]}
    assert repeated == {}, f"replies obtained in run 1 were asked for again: {repeated}"
    assert set(model.calls) == set(excluded)
    # Records lost: none; every record of run 1 is in run 2.
    lost = record_ids(first_briefing) - record_ids(second_briefing)
    assert record_ids(first_briefing) and lost == set()
    assert len(record_ids(second_briefing)) > len(record_ids(first_briefing))


class DyingModel:
    """Answers the first ``healthy`` extraction requests, then hangs (one in five) or drops
    every request until revived."""

    def __init__(self, healthy: int) -> None:
        self.healthy = healthy
        self.dead = True
        self.lock = threading.Lock()
        self.count = 0
        self.calls: Counter[int] = Counter()

    def __call__(self, body: dict[str, Any]) -> FakeReply:
        index = index_of(body)
        with self.lock:
            self.count += 1
            count = self.count
            if index is not None:
                self.calls[index] += 1
        if not self.dead or count <= self.healthy or fenced_article(body) is None:
            return answer_normally(body)
        return FakeReply.slow(CLIENT_TIMEOUT * 6) if count % 5 == 0 else FakeReply.dropped()


@pytest.mark.slow
def test_a_server_that_stops_answering_part_way_ends_the_run_and_a_rerun_resumes(
    tmp_path: Path,
) -> None:
    model = DyingModel(healthy=20)
    calls_in_first: Counter[int] = Counter()

    def heal() -> None:
        calls_in_first.update(model.calls)
        model.calls.clear()
        model.dead = False

    paths, first, first_briefing, second, second_briefing = run_twice(tmp_path, model, heal)
    assert first.code == 3, first.stderr
    used, excluded = outcome(first_briefing, paths)
    assert len(used) == 20 and len(excluded) == ARTICLES - 20
    assert second.code == 0, second.stderr
    _, excluded_again = outcome(second_briefing, paths)
    assert not excluded_again
    assert not {i for i in used if model.calls[i]}, "a reply obtained in run 1 was asked again"
    assert sum(model.calls.values()) == ARTICLES - 20
    assert record_ids(first_briefing) <= record_ids(second_briefing)
