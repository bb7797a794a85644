"""The fake server's Files and Batches APIs through the real openai SDK: uploads kept byte for
byte, the statuses a batch moves through, scripted endings and line failures, validation,
cancelling, listing, and a new server resuming from the folder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from briefer.testing import BatchScript, FakeOpenAIServer, FakeReply

SCHEMA = {
    "type": "object",
    "properties": {"a": {"type": "string"}},
    "required": ["a"],
    "additionalProperties": False,
}


def line(custom_id: str, text: str = "hello", model: str = "m") -> dict[str, Any]:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": text}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": SCHEMA, "strict": True},
        },
    }
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), "utf-8")
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(state_dir=tmp_path / "state") as running:
        yield running


def sdk(server: FakeOpenAIServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)


def submit(client: openai.OpenAI, path: Path) -> str:
    with path.open("rb") as handle:
        uploaded = client.files.create(file=(path.name, handle), purpose="batch")
    batch = client.batches.create(
        input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    return batch.id


def until_done(client: openai.OpenAI, batch_id: str, limit: int = 20) -> list[str]:
    seen = []
    for _ in range(limit):
        batch = client.batches.retrieve(batch_id)
        seen.append(batch.status)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            break
    return seen


def lines_of(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    text = client.files.content(file_id).text
    return [json.loads(x) for x in text.splitlines()]


def test_an_upload_is_kept_byte_for_byte_and_served_back(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    long_text = "x" * 200_000  # lines longer than the server reads at once
    path = write(tmp_path / "in.jsonl", [line("a", long_text), line("b", "short\r\nline")])
    client = sdk(server)
    with path.open("rb") as handle:
        uploaded = client.files.create(file=(path.name, handle), purpose="batch")
    assert uploaded.bytes == path.stat().st_size and uploaded.purpose == "batch"
    assert client.files.retrieve(uploaded.id).filename == "in.jsonl"
    assert client.files.content(uploaded.id).content == path.read_bytes()
    with pytest.raises(openai.BadRequestError, match="purpose 'batch'"):
        client.files.create(file=("x.jsonl", b"{}\n"), purpose="fine-tune")


def test_a_batch_moves_through_its_statuses_and_its_replies_come_in_another_order(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.script_batches(BatchScript(polls=2))
    client = sdk(server)
    ids = [f"req-{n}" for n in range(12)]
    batch_id = submit(client, write(tmp_path / "in.jsonl", [line(i, i) for i in ids]))
    seen = until_done(client, batch_id)
    assert seen == [
        "validating",
        "in_progress",
        "in_progress",
        "finalizing",
        "finalizing",
        "completed",
    ]
    batch = client.batches.retrieve(batch_id)
    assert batch.request_counts is not None
    assert (batch.request_counts.total, batch.request_counts.completed) == (12, 12)
    assert batch.error_file_id is None
    replies = lines_of(client, batch.output_file_id)
    assert sorted(r["custom_id"] for r in replies) == sorted(ids)
    assert [r["custom_id"] for r in replies] != ids
    first = replies[0]["response"]
    assert first["status_code"] == 200
    assert json.loads(first["body"]["choices"][0]["message"]["content"]).keys() == {"a"}


def test_scripted_line_failures_go_to_the_error_file(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.enqueue(FakeReply.json({"a": "ok"}), FakeReply.http_error(400, "Bad line.", code="x"))
    client = sdk(server)
    batch_id = submit(client, write(tmp_path / "in.jsonl", [line("one"), line("two")]))
    until_done(client, batch_id)
    batch = client.batches.retrieve(batch_id)
    assert batch.request_counts is not None and batch.request_counts.failed == 1
    (failed,) = lines_of(client, batch.error_file_id)
    assert failed["custom_id"] == "two"
    assert failed["response"]["status_code"] == 400
    assert failed["response"]["body"]["error"]["message"] == "Bad line."


def test_an_expired_batch_publishes_what_it_answered_and_lists_the_rest(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    server.script_batches(BatchScript(outcome="expired", answered=2))
    client = sdk(server)
    path = write(tmp_path / "in.jsonl", [line(f"k{n}") for n in range(5)])
    assert until_done(client, submit(client, path))[-1] == "expired"
    batch = client.batches.list(limit=1).data[0]
    assert len(lines_of(client, batch.output_file_id)) == 2
    expired = lines_of(client, batch.error_file_id)
    assert [e["error"]["code"] for e in expired] == ["batch_expired"] * 3


def test_validation_fails_a_batch_with_the_lines_at_fault(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    client = sdk(server)
    path = write(tmp_path / "in.jsonl", [line("same"), line("same"), line("other", model="n")])
    assert until_done(client, submit(client, path))[-1] == "failed"
    batch = client.batches.list(limit=1).data[0]
    assert batch.errors is not None and batch.errors.data is not None
    codes = {(e.code, e.line) for e in batch.errors.data}
    assert ("duplicate_custom_id", 2) in codes
    assert any(code == "mismatched_model" for code, _ in codes)


def test_a_cancelled_batch_ends_cancelled(server: FakeOpenAIServer, tmp_path: Path) -> None:
    client = sdk(server)
    batch_id = submit(client, write(tmp_path / "in.jsonl", [line("a"), line("b")]))
    assert client.batches.cancel(batch_id).status == "cancelling"
    assert client.batches.retrieve(batch_id).status == "cancelled"
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(batch_id)


def test_batches_are_listed_newest_first_page_by_page(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    client = sdk(server)
    path = write(tmp_path / "in.jsonl", [line("a")])
    made = [submit(client, path) for _ in range(3)]
    page = client.batches.list(limit=2)
    assert len(page.data) == 2 and page.has_more
    listed = [b.id for b in client.batches.list(limit=2)]  # the SDK follows `after`
    assert sorted(listed) == sorted(made)


def test_a_server_started_on_the_same_folder_goes_on_with_its_batches(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with FakeOpenAIServer(state_dir=state) as first:
        first.hold_batches()
        client = sdk(first)
        batch_id = submit(client, write(tmp_path / "in.jsonl", [line("a"), line("b")]))
        assert until_done(client, batch_id, limit=4)[-1] == "in_progress"
    with FakeOpenAIServer(state_dir=state) as second:
        client = sdk(second)
        assert until_done(client, batch_id)[-2:] == ["finalizing", "completed"]
        replies = lines_of(client, client.batches.retrieve(batch_id).output_file_id)
        assert sorted(r["custom_id"] for r in replies) == ["a", "b"]
