"""The command line a user reads: help, version, settings and where they come from, progress
while waiting, and output files that look like any other file."""

from __future__ import annotations

import datetime as dt
import json
import locale
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability.support import answer_normally, write_articles
from typer.testing import CliRunner

import briefer
import briefer.cli
from briefer.cli import app
from briefer.testing import FakeOpenAIServer, FakeReply, FunctionClient

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"
RECORDINGS = ROOT / "examples" / "recordings"

runner = CliRunner()

JARGON = re.compile(r"<bool>|<str>|<int|<float|<path>|<list\[|range>|\[x>=|%Y|<%")


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"briefer {briefer.__version__}"


@pytest.mark.parametrize("command", ["brief", "extract", "estimate", "render", "schema"])
def test_help_speaks_plainly_and_names_defaults_key_and_config(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert not JARGON.search(result.stdout), JARGON.findall(result.stdout)
    if command in ("brief", "extract"):
        for said in ("[default: gpt-4.1-mini]", "[default: 8]", "OPENAI_API_KEY", "config.toml"):
            assert said in result.stdout, said
    if command in ("brief", "render"):
        assert "--format FORMAT" in result.stdout and "markdown, json or html" in result.stdout


def test_settings_show_each_value_and_where_it_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    Path(os.environ["BRIEFER_CONFIG"]).write_text('model = "gpt-4.1"\n', encoding="utf-8")
    monkeypatch.setenv("BRIEFER_CONCURRENCY", "3")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-printed")
    result = runner.invoke(app, ["settings"])
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert (
        lines["model"].endswith(f"[{os.environ['BRIEFER_CONFIG']}]") and "gpt-4.1" in lines["model"]
    )
    assert lines["concurrency"].split()[1] == "3" and lines["concurrency"].endswith(
        "[BRIEFER_CONCURRENCY]"
    )
    assert lines["timeout"].endswith("[default]")
    assert "sk-never-printed" not in result.stdout
    assert "set (read from $OPENAI_API_KEY)" in result.stdout


def test_a_config_file_named_but_missing_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.toml"
    monkeypatch.setenv("BRIEFER_CONFIG", str(missing))
    result = runner.invoke(app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: BRIEFER_CONFIG names {missing}, which does not exist; create it or unset "
        "BRIEFER_CONFIG"
    )


def test_timeout_flag_bounds_each_model_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("BRIEFER_MAX_RETRIES", "0")
    folder = tmp_path / "articles"
    write_articles(folder, 1)
    with FakeOpenAIServer(lambda body: FakeReply.slow(5.0)) as server:
        result = runner.invoke(
            app,
            [
                "brief",
                str(folder),
                "--base-url",
                server.base_url,
                "--timeout",
                "0.3",
                "--no-cache",
                "-q",
            ],
        )
    assert result.exit_code == 1
    assert "timed out" in result.stderr or "timeout" in result.stderr.lower(), result.stderr


@pytest.fixture
def quick_progress(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(briefer.cli, "PROGRESS_INTERVAL", 0.1)
    yield


@pytest.mark.usefixtures("quick_progress")
def test_progress_lines_keep_coming_while_a_server_is_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    folder = tmp_path / "articles"
    write_articles(folder, 2)

    def slow(body: dict[str, object]) -> FakeReply:
        reply = answer_normally(body)
        return FakeReply(content=reply.content, delay=0.6)

    with FakeOpenAIServer(slow) as server:
        result = runner.invoke(
            app, ["brief", str(folder), "--base-url", server.base_url, "--no-cache", "-j", "1"]
        )
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "model calls done" in line]
    assert len(lines) >= 3, result.stderr
    assert lines[0].startswith("briefer: 0 of 3 model calls done, 1 in flight")
    assert any(line.startswith("briefer: 1 of 3") and "s left" in line for line in lines), lines


def test_retries_and_their_waits_are_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    folder = tmp_path / "articles"
    write_articles(folder, 1)
    with FakeOpenAIServer(answer_normally) as server:
        server.enqueue(FakeReply.rate_limited(retry_after=0.2))
        result = runner.invoke(
            app, ["brief", str(folder), "--base-url", server.base_url, "--no-cache"]
        )
    assert result.exit_code == 0, result.stderr
    (line,) = [line for line in result.stderr.splitlines() if "retrying in" in line]
    assert re.fullmatch(r"briefer: extract of src-\w+:0: rate limited.*; retrying in 0\.2 s", line)


def test_verbose_says_where_calls_go_and_each_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    folder = tmp_path / "articles"
    write_articles(folder, 1)
    with FakeOpenAIServer(answer_normally) as server:
        url = server.base_url
        result = runner.invoke(
            app,
            [
                "brief",
                str(folder),
                "--base-url",
                url,
                "--no-compose",
                "-v",
                "--record",
                str(tmp_path / "rec"),
            ],
        )
    assert result.exit_code == 0, result.stderr
    said = result.stderr
    assert f"recording every reply in {tmp_path / 'rec'}" in said
    assert f"calling {url.rstrip('/')}" in said
    assert re.search(r"calling gpt-4\.1-mini for extract of src-\w+:0", said)
    assert re.search(r"extract of src-\w+:0: ok", said)


def test_output_files_get_the_usual_mode_and_keep_their_own(tmp_path: Path) -> None:
    new = tmp_path / "new.md"
    kept = tmp_path / "kept.md"
    kept.write_text("old\n", encoding="utf-8")
    kept.chmod(0o640)
    previous = os.umask(0o022)
    try:
        for out in (new, kept):
            result = runner.invoke(
                app, ["brief", str(ARTICLES), "--replay", str(RECORDINGS), "-o", str(out), "-q"]
            )
            assert result.exit_code in (0, 3), result.stderr
    finally:
        os.umask(previous)
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert kept.read_text("utf-8").startswith("# ")


def _a_locale_with_other_month_names() -> str | None:
    for name in ("de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8"):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        return name
    return None


def test_dates_in_the_briefing_do_not_follow_the_locale(tmp_path: Path) -> None:
    previous = locale.setlocale(locale.LC_TIME)
    name = _a_locale_with_other_month_names()
    if name is None:
        pytest.skip("no German or French locale is installed")
    try:
        article = tmp_path / "a.txt"
        article.write_text(
            "Title: Ferry vote\nPublished: 2026-01-06\n\n"
            "The harbour council approved three ferry routes on Monday.\n",
            encoding="utf-8",
        )
        vote = {
            "type": "AGREE",
            "summary": "The harbour council approved three ferry routes.",
            "actors": [
                {"name": "harbour council", "canonical": "Harbour Council", "country": None}
                | {"kind": "government"}
            ],
            "targets": [],
            "date_text": "on Monday",
            "location": None,
            "quantities": [],
            "factuality": "asserted",
            "quotes": ["The harbour council approved three ferry routes on Monday"],
            "confidence": 0.9,
        }
        briefing = briefer.brief(
            [article],
            client=FunctionClient(lambda request: {"events": [vote], "stances": []}),
            options=briefer.BriefOptions(compose=False, date=dt.date(2026, 1, 6)),
        )
        pages = [briefer.render(briefing, "markdown"), briefer.render(briefing, "html")]
    finally:
        locale.setlocale(locale.LC_TIME, previous)
    assert briefing.title == "Daily briefing, 6 January 2026", name
    assert briefing.events
    for page in pages:
        assert "January 2026" in page
        assert not re.search(r"\b(Januar|janvier|Montag|lundi)\b", page), name


def test_the_fake_server_runs_on_its_own_for_other_tools(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "briefer.testing", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(f"serving http://127.0.0.1:{port}/v1")
        body = json.dumps(
            {"model": "any", "messages": [{"role": "user", "content": "hello"}]}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            data=body,
            headers={"content-type": "application/json", "authorization": "Bearer anything"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            completion = json.loads(reply.read())
        assert completion["choices"][0]["message"]["content"] == "{}"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
    assert code == 0


def test_a_server_on_this_machine_needs_no_key(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 1)
    with FakeOpenAIServer(answer_normally) as server:
        result = runner.invoke(
            app, ["brief", str(folder), "--base-url", server.base_url, "--no-cache", "-q"]
        )
        sent = server.requests
    assert result.exit_code == 0, result.stderr
    assert sent and all(r.sent_key("no-key-needed") for r in sent)


def test_api_key_flag_is_sent_and_never_shown(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 1)
    key = "sk-from-the-flag-1234567890"
    with FakeOpenAIServer(answer_normally) as server:
        result = runner.invoke(
            app,
            [
                "brief",
                str(folder),
                "--base-url",
                server.base_url,
                "--api-key",
                key,
                "--no-cache",
                "-v",
            ],
        )
        sent = server.requests
    assert result.exit_code == 0, result.stderr
    assert sent and all(r.sent_key(key) for r in sent)
    assert key not in result.stderr and key not in result.stdout


def test_a_remote_server_without_a_key_is_a_usage_error_naming_the_variable(
    tmp_path: Path,
) -> None:
    result = runner.invoke(
        app,
        [
            "brief",
            str(ARTICLES),
            "--base-url",
            "https://models.example.invalid/v1",
            "--no-cache",
            "-o",
            str(tmp_path / "b.md"),
        ],
    )
    assert result.exit_code == 2, result.stderr
    assert "OPENAI_API_KEY is not set" in result.stderr and "--api-key" in result.stderr
