"""A run says what it did: recordings capture what a run used, a run in which nothing worked
fails without touching the last good output, and a result that is not the recorded or the
model's one says so, even under -q."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from reliability.support import answer_normally, check_store, write_articles
from typer.testing import CliRunner, Result

from briefer.cli import app
from briefer.testing import FakeOpenAIServer, FakeReply

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"
RECORDINGS = ROOT / "examples" / "recordings"
GOOD = "# A good briefing from yesterday\n"

runner = CliRunner()


@pytest.fixture(autouse=True)
def _key_and_quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-honest")
    monkeypatch.setenv("BRIEFER_MAX_RETRIES", "1")
    monkeypatch.setenv("BRIEFER_BACKOFF", "0")


def brief(*args: str | Path) -> Result:
    return runner.invoke(app, ["brief", *map(str, args)])


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_recording_after_a_cached_run_keeps_every_reply_and_replays_the_same_briefing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 3)
    recordings = tmp_path / "recordings"
    with FakeOpenAIServer(answer_normally) as server:
        first = brief(folder, "--base-url", server.base_url, "-o", tmp_path / "first.json")
        assert first.exit_code == 0, first.stderr
        asked = len(server.requests)
        # The same run again, recording: every reply comes from the cache, none from the model.
        second = brief(
            folder,
            "--base-url",
            server.base_url,
            "--record",
            recordings,
            "-o",
            tmp_path / "second.json",
        )
        assert second.exit_code == 0, second.stderr
        assert len(server.requests) == asked
    assert len(check_store(recordings)) == asked
    replayed = brief(folder, "--replay", recordings, "-o", tmp_path / "replayed.json")
    assert replayed.exit_code == 0, replayed.stderr
    before = json.loads((tmp_path / "first.json").read_text("utf-8"))
    after = json.loads((tmp_path / "replayed.json").read_text("utf-8"))
    assert after["items"] == before["items"] and after["events"] == before["events"]
    assert after["usage"]["cached_calls"] == after["usage"]["calls"] == asked


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _previous_output(tmp_path: Path) -> Path:
    out = tmp_path / "today.md"
    out.write_text(GOOD, encoding="utf-8")
    return out


def test_a_run_against_a_closed_port_fails_in_one_line_and_keeps_the_good_output(
    tmp_path: Path,
) -> None:
    out = _previous_output(tmp_path)
    port = _closed_port()
    result = brief(ARTICLES, "--base-url", f"http://127.0.0.1:{port}/v1", "--no-cache", "-o", out)
    assert result.exit_code == 1, result.stderr
    assert out.read_text("utf-8") == GOOD
    (line,) = error_lines(result)
    assert "no model call succeeded (4 of 4 extraction calls failed)" in line
    assert f"127.0.0.1:{port}" in line
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            FakeReply.http_error(
                404, "The model `gpt-4.1-mini` does not exist", code="model_not_found"
            ),
            "404",
        ),
        (FakeReply.rate_limited(retry_after=0), "429"),
    ],
    ids=["unknown-model", "rate-limited"],
)
def test_a_run_whose_every_call_fails_is_an_error_naming_the_status(
    tmp_path: Path, reply: FakeReply, said: str
) -> None:
    out = _previous_output(tmp_path)
    with FakeOpenAIServer(lambda body: reply) as server:
        result = brief(ARTICLES, "--base-url", server.base_url, "--no-cache", "-o", out)
    assert result.exit_code == 1, result.stderr
    assert out.read_text("utf-8") == GOOD
    (line,) = error_lines(result)
    assert said in line and "127.0.0.1" in line, line


def test_replaying_from_recordings_that_hold_nothing_for_the_run_is_an_error(
    tmp_path: Path,
) -> None:
    out = _previous_output(tmp_path)
    empty = tmp_path / "recordings"
    empty.mkdir()
    result = brief(ARTICLES, "--replay", empty, "-o", out, "-q")
    assert result.exit_code == 1, result.stderr
    assert out.read_text("utf-8") == GOOD
    (line,) = error_lines(result)
    assert "no recording for extract" in line and "--record" in line


def test_a_model_whose_records_are_never_in_the_text_is_not_a_success(tmp_path: Path) -> None:
    out = _previous_output(tmp_path)
    # Schema-valid replies made up of nothing the articles say: what a weak model returns.
    with FakeOpenAIServer(lambda body: FakeReply.schema_valid()) as server:
        result = brief(
            ARTICLES, "--base-url", server.base_url, "-m", "tiny-local", "--no-cache", "-o", out
        )
    assert result.exit_code == 1, result.stderr
    assert out.read_text("utf-8") == GOOD
    (line,) = error_lines(result)
    assert "tiny-local" in line and "none is grounded (0%)" in line


def test_a_composition_missing_from_the_recordings_is_a_partial_result_even_under_q(
    tmp_path: Path,
) -> None:
    recordings = tmp_path / "recordings"
    shutil.copytree(RECORDINGS, recordings)
    (compose,) = [
        p
        for p in recordings.glob("*.json")
        if json.loads(p.read_text("utf-8"))["request"]["prompt_version"].startswith("compose/")
    ]
    compose.unlink()
    out = tmp_path / "b.json"
    result = brief(ARTICLES, "--replay", recordings, "-o", out, "-q")
    assert result.exit_code == 3, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("excluded:")]
    assert line.startswith("excluded: composition: the composition call failed (no recording")
    briefing = json.loads(out.read_text("utf-8"))
    assert briefing["composer"] == "deterministic" and briefing["items"]


def test_the_summary_counts_failed_calls_and_retries(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 3)

    def one_article_fails(body: dict[str, Any]) -> FakeReply:
        if "Harbour council report 01" in json.dumps(body):
            return FakeReply.server_error(503)
        return answer_normally(body)

    with FakeOpenAIServer(one_article_fails) as server:
        result = brief(folder, "--base-url", server.base_url, "--no-cache", "--no-compose")
    assert result.exit_code == 3, result.stderr
    summary = result.stderr.strip().splitlines()[-1]
    assert "2 calls (1 failed, 1 retries)" in summary, summary


def test_the_summary_of_a_run_without_records_says_so(tmp_path: Path) -> None:
    article = tmp_path / "quiet.txt"
    article.write_text("Title: A quiet day\n\nNothing happened in the harbour today.\n", "utf-8")
    with FakeOpenAIServer(lambda body: FakeReply.json({"events": [], "stances": []})) as server:
        result = brief(article, "--base-url", server.base_url, "--no-cache", "--no-compose")
    assert result.exit_code == 1, result.stderr
    assert "found no event or stance in 1 document" in error_lines(result)[0]


def test_files_in_a_folder_that_are_no_articles_are_skipped_with_a_note_not_a_partial_result(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "today"
    shutil.copytree(ARTICLES, folder)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(200))
    (folder / "notes.md").write_text("", encoding="utf-8")
    result = brief(folder, "--replay", RECORDINGS, "--no-compose", "-o", tmp_path / "b.md")
    assert result.exit_code == 0, result.stderr
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped:")]
    assert len(skipped) == 2 and not any(
        line.startswith("excluded:") for line in result.stderr.splitlines()
    )
    assert any(str(folder / "photo.jpg") in line for line in skipped)
    # Named directly, a file that is no article is a loss: the result is partial.
    named = brief(
        folder, folder / "notes.md", "--replay", RECORDINGS, "--no-compose", "-o", tmp_path / "c.md"
    )
    assert named.exit_code == 3, named.stderr
