"""Batch files: request lines cut into parts within the limits, reply lines of the OpenAI Batch
API and of vLLM read into replies or one-line reasons, and the batch prices."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from briefer.cli import app
from briefer.errors import ConfigError
from briefer.llm._batch_files import (
    BatchLimits,
    PartWriter,
    read_keys,
    read_result_line,
    request_line,
)
from briefer.llm.pricing import DEFAULT_PRICES, Price, estimate_cost
from briefer.settings import load_settings

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4.1-mini-2025-04-14",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": '{"a": "b"}', "refusal": None},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 120,
        "completion_tokens": 30,
        "prompt_tokens_details": {"cached_tokens": 20},
    },
}


def test_parts_are_cut_at_the_line_limit_and_at_the_byte_limit(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path / "lines", BatchLimits(lines=3))
    for n in range(7):
        writer.add(f"k{n}", request_line(f"k{n}", {"model": "m"}))
    parts = writer.close()
    assert [p.lines for p in parts] == [3, 3, 1]
    assert read_keys(parts[1].keys_path) == ["k3", "k4", "k5"]
    assert [json.loads(x)["custom_id"] for x in parts[2].path.read_text().splitlines()] == ["k6"]

    line = request_line("k", {"model": "m", "pad": "x" * 600})
    writer = PartWriter(tmp_path / "bytes", BatchLimits(bytes=1024 + len(line)))
    for n in range(5):
        writer.add(f"k{n}", line)
    parts = writer.close()
    assert all(p.bytes <= 1024 + len(line) for p in parts) and len(parts) == 3
    assert sum(p.path.stat().st_size for p in parts) == 5 * len(line)


def test_a_request_bigger_than_a_file_is_refused_by_name(tmp_path: Path) -> None:
    writer = PartWriter(tmp_path, BatchLimits(bytes=1024))
    with pytest.raises(ConfigError, match="the request big is 2,"):
        writer.add("big", request_line("big", {"pad": "x" * 2000}))
    with pytest.raises(ConfigError, match="1 to 50,000 requests"):
        BatchLimits(lines=50_001)


def test_a_request_line_is_what_the_batch_api_and_run_batch_take() -> None:
    data = json.loads(request_line("r1-abc", {"model": "m", "messages": []}))
    assert data == {
        "custom_id": "r1-abc",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "m", "messages": []},
    }


def out(custom_id: str, response: Any = None, error: Any = None) -> str:
    return json.dumps(
        {"id": "batch_req_1", "custom_id": custom_id, "response": response, "error": error}
    )


def test_a_reply_line_becomes_a_reply_with_its_usage() -> None:
    found = read_result_line(out("k", {"status_code": 200, "request_id": "r", "body": COMPLETION}))
    assert found.key == "k" and found.error is None and found.response is not None
    reply = found.response
    assert (reply.content, reply.origin, reply.model) == (
        '{"a": "b"}',
        "batch",
        COMPLETION["model"],
    )
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (120, 30)
    assert reply.usage.cached_tokens == 20


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        # OpenAI's error file: a request the server refused.
        (
            out("k", {"status_code": 400, "body": {"error": {"message": "Bad model."}}}),
            "400: Bad model.",
        ),
        # OpenAI's error file: what an expired batch did not run.
        (
            out("k", None, {"code": "batch_expired", "message": "Not run in time."}),
            "Not run in time. (batch_expired)",
        ),
        # vLLM's run-batch: the error inline, no body.
        (
            out("k", {"status_code": 400, "request_id": "v", "body": None}, "prompt too long"),
            "400: prompt too long",
        ),
        (
            out("k", {"status_code": 200, "body": {"object": "chat.completion"}}),
            "the reply has no choices; it is not a chat completion",
        ),
        (out("k"), "the line carries neither a reply nor an error"),
    ],
)
def test_a_line_without_a_reply_says_why_in_one_line(line: str, reason: str) -> None:
    found = read_result_line(line)
    assert found.response is None and found.error == reason


def test_a_line_that_names_no_request_is_refused() -> None:
    for text in ("not json", json.dumps({"id": "x"}), "[]"):
        with pytest.raises(ValueError):
            read_result_line(text)


def test_batch_prices_are_half_the_direct_ones_unless_the_table_gives_them() -> None:
    mini = DEFAULT_PRICES["gpt-4.1-mini"]
    assert mini.at("batch") == Price(input=0.20, output=0.80, cached_input=0.05)
    assert estimate_cost("gpt-4.1-mini", 1_000_000, 0, tier="batch") == pytest.approx(0.20)
    given = {"local": Price(input=1.0, output=2.0, cached_input=0.5, batch_input=0.9)}
    assert estimate_cost("local", 1_000_000, 1_000_000, overrides=given, tier="batch") == (
        pytest.approx(0.9 + 1.0)
    )


def test_batch_prices_can_be_set_beside_the_direct_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prices = {"local": {"input": 1, "output": 2, "cached_input": 0.5, "batch_output": 1.5}}
    monkeypatch.setenv("BRIEFER_PRICES", json.dumps(prices))
    table = load_settings().price_table()
    assert table["local"].at("batch") == Price(input=0.5, output=1.5, cached_input=0.25)


def test_estimate_gives_the_batch_price_beside_the_direct_one(repo_root: Path) -> None:
    articles = repo_root / "examples" / "articles"
    shown = CliRunner().invoke(app, ["estimate", str(articles), "--batch"])
    assert shown.exit_code == 0, shown.stderr
    assert "direct, ~$" in shown.stdout and " in batches, with gpt-4.1-mini" in shown.stdout
    data = json.loads(CliRunner().invoke(app, ["estimate", str(articles), "--json"]).stdout)
    assert data["batch_cost_usd"] == pytest.approx(data["cost_usd"] / 2, abs=2e-6)
