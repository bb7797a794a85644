"""briefer brief --batch end to end: the real CLI and the real openai SDK over loopback HTTP to
the fake server's Batch API. A briefing through batches is the briefing of a direct run; a run
killed while it waits is resumed by the same command without a second submission; failed and
expired lines are excluded (exit 3) and asked again by the next run; --no-wait exits 75."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from reliability.support import BRIEFER, answer_normally, fenced_article, write_articles
from typer.testing import CliRunner, Result

from briefer.cli import app
from briefer.testing import BatchScript, FakeOpenAIServer, FakeReply

runner = CliRunner()


@pytest.fixture(autouse=True)
def _key_and_quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-batch")
    monkeypatch.setenv("BRIEFER_MAX_RETRIES", "1")
    monkeypatch.setenv("BRIEFER_BACKOFF", "0")
    monkeypatch.setenv("BRIEFER_BATCH_POLL", "0.01")


def brief(*args: str | Path) -> Result:
    return runner.invoke(app, ["brief", *map(str, args)])


def posts(server: FakeOpenAIServer, path: str) -> list[Any]:
    return [r for r in server.requests if r.method == "POST" and r.path.endswith(path)]


def briefing(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def test_a_briefing_through_batches_is_the_briefing_of_a_direct_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 3)
    recordings = tmp_path / "recordings"
    with FakeOpenAIServer(answer_normally) as server:
        batched = brief(
            folder,
            "--batch",
            "--base-url",
            server.base_url,
            "--no-store",
            "--record",
            recordings,
            "-o",
            tmp_path / "batch.json",
        )
        assert batched.exit_code == 0, batched.stderr
        assert not posts(server, "/chat/completions")
        # Three extractions in one batch, then the composition in a second.
        assert len(posts(server, "/batches")) == 2
        assert "submitted batch batch_" in batched.stderr
        assert "requests answered" in batched.stderr

        monkeypatch.setenv("BRIEFER_CACHE_DIR", str(tmp_path / "direct-cache"))
        direct = brief(
            folder, "--base-url", server.base_url, "--no-store", "-o", tmp_path / "d.json"
        )
        assert direct.exit_code == 0, direct.stderr
        assert len(posts(server, "/chat/completions")) == 4

    through, alone = briefing(tmp_path / "batch.json"), briefing(tmp_path / "d.json")
    for part in ("items", "events", "stances", "excluded"):
        assert through[part] == alone[part], part
    # What the batches reported, at the batch price: half of the direct run's cost.
    assert through["usage"]["calls"] == 4 and through["usage"]["cached_calls"] == 0
    assert through["usage"]["prompt_tokens"] == alone["usage"]["prompt_tokens"]
    assert through["usage"]["cost_usd"] == pytest.approx(alone["usage"]["cost_usd"] / 2)

    # The recordings replay the batched run exactly, with no server.
    replayed = brief(folder, "--replay", recordings, "--no-store", "-o", tmp_path / "r.json")
    assert replayed.exit_code == 0, replayed.stderr
    again = briefing(tmp_path / "r.json")
    assert again["items"] == through["items"] and again["events"] == through["events"]


def test_without_waiting_nothing_is_written_and_the_same_command_collects_the_batch(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 2)
    out = tmp_path / "briefing.md"
    with FakeOpenAIServer(answer_normally) as server:
        server.script_batches(BatchScript(polls=2))
        args = [folder, "--batch", "--base-url", server.base_url, "--no-store", "-o", out]
        first = brief(*args, "--no-wait")
        assert first.exit_code == 75, first.stderr
        assert not out.exists()
        assert "pending: 2 requests are in 1 running batch(es) (batch_" in first.stderr
        assert "batch batch_" in first.stderr and "validating" in first.stderr
        assert "error:" not in first.stderr

        second = brief(*args)
        assert second.exit_code == 0, second.stderr
        assert out.read_text("utf-8").startswith("# ")
        # The extraction batch was collected by its id, then the composition submitted.
        assert len(posts(server, "/batches")) == 2
        assert len(posts(server, "/files")) == 2


def test_failed_and_expired_lines_are_excluded_and_the_next_run_asks_only_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 4)
    monkeypatch.setenv("BRIEFER_BATCH_MAX_LINES", "2")

    def article_01_fails(body: dict[str, Any]) -> FakeReply:
        if "Bellmore01" in (fenced_article(body) or ""):
            return FakeReply.server_error(500)
        return answer_normally(body)

    with FakeOpenAIServer(article_01_fails) as server:
        # Two files of two: the first with article 01's line failing, the second expiring
        # after answering one of its lines; then the composition.
        server.script_batches(BatchScript(), BatchScript(outcome="expired", answered=1))
        args = [folder, "--batch", "--base-url", server.base_url, "--no-store"]
        first = brief(*args, "-o", tmp_path / "first.json")
        assert first.exit_code == 3, first.stderr
        excluded = [line for line in first.stderr.splitlines() if line.startswith("excluded:")]
        assert len(excluded) == 2, first.stderr
        assert any("article-01.txt" in line and "failed it (500:" in line for line in excluded)
        assert any("expired before answering it" in line for line in excluded)
        assert all("the next run submits it again" in line for line in excluded)
        written = briefing(tmp_path / "first.json")
        assert len(written["excluded"]) == 2
        assert len(posts(server, "/batches")) == 3  # two files, then the composition

        server.handler = answer_normally
        uploads = len(posts(server, "/files"))
        second = brief(*args, "-o", tmp_path / "second.json")
        assert second.exit_code == 0, second.stderr
        files = posts(server, "/files")[uploads:]
        first_new = files[0].body["_upload"]["id"]
        lines = server.batches.file_data(first_new).read_text("utf-8").splitlines()
        assert len(lines) == 2  # only the two that were missing
        assert not briefing(tmp_path / "second.json")["excluded"]


def test_batch_flags_are_checked_before_any_work(tmp_path: Path) -> None:
    lone = brief(tmp_path, "--no-wait")
    assert lone.exit_code == 2 and "go with --batch" in lone.stderr
    uncached = brief(tmp_path, "--batch", "--no-cache")
    assert uncached.exit_code == 2 and "drop --no-cache" in uncached.stderr
    replaying = brief(tmp_path, "--batch", "--replay", tmp_path)
    assert replaying.exit_code == 2 and "drop --batch" in replaying.stderr
    stdin = runner.invoke(app, ["brief", "-", "--batch"], input="Title: x\n\nSome text.\n")
    assert stdin.exit_code == 2 and "save stdin to a file" in stdin.stderr


@pytest.mark.slow
def test_a_run_killed_while_it_waits_is_resumed_without_a_second_submission(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 2)
    out = tmp_path / "briefing.md"
    with FakeOpenAIServer(answer_normally) as server:
        server.hold_batches()
        args = [folder, "--batch", "--base-url", server.base_url, "--no-store", "-o", out]
        env = {**os.environ, "NO_COLOR": "1", "BRIEFER_BATCH_POLL": "0.05"}
        waiting = subprocess.Popen(
            [str(BRIEFER), "brief", *map(str, args)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            checks = 0
            while time.monotonic() < deadline and checks < 3:
                checks = sum(r.method == "GET" and "/batches/" in r.path for r in server.requests)
                time.sleep(0.05)
            assert checks >= 3, "the run never waited on its batch"
        finally:
            waiting.send_signal(signal.SIGKILL)
            waiting.wait(timeout=10)
        assert len(posts(server, "/batches")) == 1
        assert not out.exists()

        server.hold_batches(False)
        resumed = brief(*args)
        assert resumed.exit_code == 0, resumed.stderr
        assert out.exists()
        # The extraction batch was picked up by its id; only the composition was submitted.
        assert len(posts(server, "/batches")) == 2
        assert len(posts(server, "/files")) == 2


def test_extract_through_batches_writes_the_records_of_a_direct_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 2)
    with FakeOpenAIServer(answer_normally) as server:
        batched = runner.invoke(
            app,
            ["extract", str(folder), "--batch", "--base-url", server.base_url],
        )
        assert batched.exit_code == 0, batched.stderr
        assert len(posts(server, "/batches")) == 1 and not posts(server, "/chat/completions")
        monkeypatch.setenv("BRIEFER_CACHE_DIR", str(tmp_path / "direct-cache"))
        direct = runner.invoke(app, ["extract", str(folder), "--base-url", server.base_url])
        assert direct.exit_code == 0, direct.stderr
    assert batched.stdout == direct.stdout and batched.stdout.count("\n") >= 4
