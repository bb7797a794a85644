"""briefer batch export / import, for a self-hosted engine (vLLM's run-batch): the requests a
briefing needs are written as Batch API lines, a stand-in for run-batch answers them like the
fake server (in vLLM's output shape, errors inline, in another order), the import loads the
replies into the cache, and brief then makes no call and writes the briefing a direct run
writes."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
from reliability.support import answer_normally, fenced_article, write_articles
from typer.testing import CliRunner, Result

from briefer.cli import app
from briefer.testing import FakeOpenAIServer

runner = CliRunner()


def cli(*args: str | Path) -> Result:
    return runner.invoke(app, list(map(str, args)))


def run_batch_standin(requests: Path, output: Path, *, fail: str | None = None) -> int:
    """What ``vllm run-batch -i REQUESTS -o OUTPUT`` writes, each line answered as the fake
    server answers it; a request whose article holds ``fail`` gets vLLM's inline error."""
    answering = FakeOpenAIServer(answer_normally)  # not started: only its replies are used
    lines = []
    for raw in requests.read_text("utf-8").splitlines():
        request = json.loads(raw)
        assert request["method"] == "POST" and request["url"] == "/v1/chat/completions"
        line: dict[str, Any] = {"id": f"vllm-{uuid.uuid4().hex}", "custom_id": request["custom_id"]}
        if fail is not None and fail in (fenced_article(request["body"]) or ""):
            response = {"status_code": 400, "request_id": f"vllm-batch-{uuid.uuid4().hex}"}
            line |= {"response": response, "error": "max_model_len exceeded for this request"}
        else:
            status, body = answering.answer(request["body"])
            response = {"status_code": status, "request_id": uuid.uuid4().hex, "body": body}
            line |= {"response": response, "error": None}
        lines.append(json.dumps(line))
    random.Random(7).shuffle(lines)
    output.write_text("".join(f"{line}\n" for line in lines), "utf-8")
    return len(lines)


def test_export_run_batch_import_then_brief_makes_no_call_and_matches_a_direct_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "articles"
    write_articles(folder, 3)

    # The direct run, recorded, with a cache of its own.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-export")
    cache = Path(str(tmp_path / "export-cache"))
    monkeypatch.setenv("BRIEFER_CACHE_DIR", str(tmp_path / "direct-cache"))
    with FakeOpenAIServer(answer_normally) as server:
        direct = cli(
            "brief", folder, "--base-url", server.base_url, "--no-store",
            "--record", tmp_path / "recordings", "-o", tmp_path / "direct.json",
        )  # fmt: skip
        assert direct.exit_code == 0, direct.stderr
    monkeypatch.setenv("BRIEFER_CACHE_DIR", str(cache))
    monkeypatch.delenv("OPENAI_API_KEY")  # export and import need no key, nor does the brief

    def export(name: str) -> Result:
        return cli("batch", "export", folder, "--no-store", "-o", tmp_path / name)

    first = export("requests-1.jsonl")
    assert first.exit_code == 0, first.stderr
    assert "wrote 3 requests to" in first.stderr and "briefer batch import" in first.stderr
    lines = [json.loads(x) for x in (tmp_path / "requests-1.jsonl").read_text("utf-8").splitlines()]
    assert {line["custom_id"][:3] for line in lines} == {"r1-"}
    assert all(line["body"]["response_format"]["type"] == "json_schema" for line in lines)
    assert not list(cache.glob("*.json"))

    # One line fails inline; one names a request no export holds.
    run_batch_standin(tmp_path / "requests-1.jsonl", tmp_path / "out-1.jsonl", fail="Calloway02")
    with (tmp_path / "out-1.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps({"id": "x", "custom_id": "r1-unknown", "response": None}) + "\n")
    imported = cli("batch", "import", tmp_path / "out-1.jsonl")
    assert imported.exit_code == 3, imported.stderr
    assert "imported 2 replies into" in imported.stderr
    assert "400: max_model_len exceeded for this request" in imported.stderr
    assert "r1-unknown: no exported request has this custom_id" in imported.stderr
    assert len(list(cache.glob("*.json"))) == 2

    # The failed extraction again (composition waits for every extraction), then the
    # composition, then nothing.
    rounds = []
    for n in (2, 3):
        exported = export(f"requests-{n}.jsonl")
        assert exported.exit_code == 0, exported.stderr
        rounds.append(
            run_batch_standin(tmp_path / f"requests-{n}.jsonl", tmp_path / f"out-{n}.jsonl")
        )
        done = cli("batch", "import", tmp_path / f"out-{n}.jsonl")
        assert done.exit_code == 0, done.stderr
    assert rounds == [1, 1]
    last = export("requests-4.jsonl")
    assert last.exit_code == 0 and "nothing to export" in last.stderr
    assert not (tmp_path / "requests-4.jsonl").exists()
    assert not list((cache / "batches" / "exports").iterdir())  # all imported: gone

    # No key, no server: every reply from the cache.
    made = cli("brief", folder, "--no-store", "-o", tmp_path / "imported.json")
    assert made.exit_code == 0, made.stderr
    replayed = cli(
        "brief", folder, "--replay", tmp_path / "recordings", "--no-store",
        "-o", tmp_path / "replayed.json",
    )  # fmt: skip
    assert replayed.exit_code == 0, replayed.stderr
    result = json.loads((tmp_path / "imported.json").read_text("utf-8"))
    for other in ("direct.json", "replayed.json"):
        expected = json.loads((tmp_path / other).read_text("utf-8"))
        for part in ("items", "events", "stances", "excluded", "sources"):
            assert result[part] == expected[part], (other, part)
    assert result["usage"]["cached_calls"] == result["usage"]["calls"] == 4


def test_import_refuses_a_file_it_cannot_read(tmp_path: Path) -> None:
    missing = cli("batch", "import", tmp_path / "nope.jsonl")
    assert missing.exit_code == 2 and "nope.jsonl" in missing.stderr
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n", "utf-8")
    bad = cli("batch", "import", junk)
    assert bad.exit_code == 1 and "line 1: not a JSON line" in bad.stderr
