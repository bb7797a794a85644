"""--max-cost through the CLI and a real HTTP model server: calls stop before the budget is
passed, and what was done still makes a briefing that says what was left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefer.cli import app
from briefer.testing import FakeOpenAIServer, FakeReply

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"

runner = CliRunner()


def test_budget_stops_calls_and_keeps_a_partial_briefing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-budget")
    # Each reply reports a million prompt tokens: $0.40 at gpt-4.1-mini's input price.
    expensive = lambda body: FakeReply.schema_valid(prompt_tokens=1_000_000)  # noqa: E731
    out = tmp_path / "b.json"
    with FakeOpenAIServer(handler=expensive) as server:
        result = runner.invoke(
            app,
            [
                "brief",
                str(ARTICLES),
                "--base-url",
                server.base_url,
                "--model",
                "gpt-4.1-mini",
                "--max-cost",
                "0.5",
                "--concurrency",
                "1",
                "--no-cache",
                "-o",
                str(out),
            ],
        )
        calls = len(server.requests)
    assert result.exit_code == 3, result.stderr
    assert "Traceback" not in result.stderr
    # A call starts only while what was spent plus its estimate stays within $0.50: the
    # second starts ($0.40 spent), the third would pass it, so it and the rest are not sent.
    assert calls == 2
    briefing = json.loads(out.read_text(encoding="utf-8"))
    assert briefing["usage"]["calls"] == 2
    skipped = [e for e in briefing["excluded"] if "not extracted" in e["reason"]]
    assert len(skipped) == 2
    assert all("--max-cost" in e["reason"] for e in skipped)
    assert briefing["composer"] == "deterministic"
