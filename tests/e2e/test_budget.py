"""--max-cost through the CLI and a real HTTP model server: calls stop before the budget is
passed, and what was done still makes a briefing that says what was left out."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from reliability.support import answer_normally, fenced_article, quoting_reply, write_articles
from typer.testing import CliRunner

import briefer
from briefer import BriefOptions
from briefer.cli import app
from briefer.errors import BudgetExceededError
from briefer.estimate import estimate as estimate_run
from briefer.llm.tokens import count_tokens
from briefer.testing import FakeOpenAIServer, FakeReply, FunctionClient

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"

runner = CliRunner()


def test_budget_stops_calls_and_keeps_a_partial_briefing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-budget")

    # Each reply quotes its article and reports a million prompt tokens: $0.40 at
    # gpt-4.1-mini's input price.
    def expensive(body: dict[str, object]) -> FakeReply:
        article = fenced_article(body) or ""
        return FakeReply.json(quoting_reply(article), prompt_tokens=1_000_000)

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


def _generated(tmp_path: Path, count: int = 4) -> Path:
    folder = tmp_path / "articles"
    write_articles(folder, count)
    return folder


def test_a_budget_just_above_the_estimate_extracts_every_article(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-budget")
    folder = _generated(tmp_path)
    estimated = json.loads(runner.invoke(app, ["estimate", str(folder), "--json"]).stdout)
    budget = estimated["cost_usd"] * 1.05
    out = tmp_path / "b.json"

    def counted(body: dict[str, Any]) -> FakeReply:
        """The usage a real server reports: the tokens of what was sent and of the reply."""
        reply = answer_normally(body)
        content = reply.content or ""
        sent = sum(count_tokens(m["content"]) + 4 for m in body["messages"])
        return replace(reply, prompt_tokens=sent, completion_tokens=count_tokens(content))

    with FakeOpenAIServer(counted) as server:
        result = runner.invoke(
            app,
            [
                "brief",
                str(folder),
                "--base-url",
                server.base_url,
                "--no-cache",
                "--max-cost",
                f"{budget:.6f}",
                "-o",
                str(out),
            ],
        )
    assert result.exit_code == 0, result.stderr
    briefing = json.loads(out.read_text(encoding="utf-8"))
    assert briefing["excluded"] == []
    assert briefing["usage"]["cost_usd"] <= budget


def test_replayed_replies_cost_nothing_against_a_budget(tmp_path: Path) -> None:
    out = tmp_path / "b.json"
    result = runner.invoke(
        app,
        [
            "brief",
            str(ARTICLES),
            "--replay",
            str(ROOT / "examples" / "recordings"),
            "--max-cost",
            "0.001",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["excluded"] == []


def test_cached_replies_cost_nothing_against_a_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-budget")
    folder = _generated(tmp_path)
    with FakeOpenAIServer(answer_normally) as server:
        args = ["brief", str(folder), "--base-url", server.base_url, "--no-compose"]
        assert runner.invoke(app, args).exit_code == 0
        asked = len(server.requests)
        again = runner.invoke(app, [*args, "--max-cost", "0.000001"])
        assert len(server.requests) == asked
    assert again.exit_code == 0, again.stderr


def test_a_budget_for_a_model_without_a_price_is_refused_with_how_to_give_one(
    tmp_path: Path,
) -> None:
    result = runner.invoke(
        app,
        [
            "brief",
            str(ARTICLES),
            "-m",
            "llama3.1:8b",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--max-cost",
            "1",
            "-o",
            str(tmp_path / "b.md"),
        ],
    )
    assert result.exit_code == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "no price is known for the model llama3.1:8b" in line
    assert "BRIEFER_PRICES" in line and "[prices." in line


def test_the_library_raises_budget_exceeded_when_the_budget_allows_no_call() -> None:
    client = FunctionClient(lambda request: {"events": [], "stances": []})
    with pytest.raises(BudgetExceededError, match="nothing was extracted") as caught:
        briefer.brief([str(ARTICLES)], client=client, options=BriefOptions(max_cost=0))
    assert client.requests == []
    assert len(caught.value.excluded) == 4


def test_estimate_prices_a_model_from_the_config_file(tmp_path: Path) -> None:
    Path(os.environ["BRIEFER_CONFIG"]).write_text(
        '[prices."house-model"]\ninput = 1.0\noutput = 4.0\ncached_input = 0.5\n', "utf-8"
    )
    result = runner.invoke(app, ["estimate", str(ARTICLES), "-m", "house-model", "--json"])
    assert result.exit_code == 0, result.stderr
    estimated = json.loads(result.stdout)
    assert estimated["priced"] is True
    expected = (estimated["prompt_tokens"] * 1.0 + estimated["completion_tokens"] * 4.0) / 1e6
    assert estimated["cost_usd"] == pytest.approx(expected, abs=1e-6)


def test_malformed_prices_in_the_environment_are_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BRIEFER_PRICES", '{"gpt-4.1-mini": {"input": 0.4,')
    result = runner.invoke(app, ["estimate", str(ARTICLES)])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: BRIEFER_PRICES is not a JSON object; fix or unset it")
    # The library takes prices as options; it never reads (or chokes on) the variable.
    assert estimate_run([str(ARTICLES)]).cost_usd > 0
