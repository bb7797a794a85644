"""Recordings, replay and the cache: one atomic JSON file per request, named by its key."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from llm_helpers import ANSWER_SCHEMA, Answer, ClientFactory, make_request

from briefer.errors import ReplayMissError, ServerError
from briefer.llm.base import LLMResponse, Message, RequestContext
from briefer.llm.fake import FakeClient
from briefer.llm.recording import CachingClient, RecordingClient
from briefer.llm.replay import ReplayClient
from briefer.llm.store import Recording, RecordingStore, default_cache_dir
from briefer.llm.structured import LLMRunner
from briefer.testing import FakeOpenAIServer, FakeReply

VALID = {"headline": "Sanctions agreed", "count": 5}


@pytest.fixture
def recording_schema(repo_root: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (repo_root / "schemas" / "recording.schema.json").read_text(encoding="utf-8")
    )
    return schema


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise AssertionError(f"a connection was opened to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.mark.usefixtures("api_key")
async def test_recording_is_named_by_key_and_valid_against_its_schema(
    server: FakeOpenAIServer,
    make_client: ClientFactory,
    tmp_path: Path,
    recording_schema: dict[str, Any],
) -> None:
    server.enqueue(FakeReply.json(VALID, cached_tokens=2))
    request = make_request()
    await RecordingClient(make_client(), tmp_path).complete(request)

    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [f"{request.key()}.json"]
    data = json.loads(files[0].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(recording_schema).validate(data)
    assert data["format"] == "briefer-recording/1" and data["key"] == request.key()
    assert data["request"]["context"] == {
        "stage": "extract",
        "source_id": "src-abc",
        "chunk_id": "src-abc:0",
    }
    assert {k: v for k, v in data["request"].items() if k != "context"} == json.loads(
        json.dumps(request.canonical())
    )
    assert json.loads(data["response"]["content"]) == VALID
    assert data["response"]["usage"]["cached_tokens"] == 2


@pytest.mark.usefixtures("api_key")
async def test_refusals_and_truncations_are_recorded_errors_are_not(
    server: FakeOpenAIServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    server.enqueue(FakeReply.refused("No."), FakeReply.truncated(), FakeReply.server_error(500))
    client = RecordingClient(make_client(max_retries=0), tmp_path)
    refused, truncated, failing = (make_request(f"r{i}") for i in range(3))
    assert (await client.complete(refused)).refusal == "No."
    assert (await client.complete(truncated)).finish_reason == "length"
    with pytest.raises(ServerError):
        await client.complete(failing)

    store = RecordingStore(tmp_path)
    assert store.keys() == sorted([refused.key(), truncated.key()])
    assert store.get(failing.key()) is None


def test_writes_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingStore(tmp_path)
    request = make_request()
    first = Recording.of(request, LLMResponse(content='{"headline": "old", "count": 1}'))
    path = store.put(first)
    before = path.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    second = Recording.of(request, LLMResponse(content='{"headline": "new", "count": 2}'))
    with pytest.raises(OSError, match="disk full"):
        store.put(second)

    assert path.read_bytes() == before  # the old recording, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temp file left
    monkeypatch.undo()
    store.put(second)
    assert json.loads(store.get(request.key()).response.content or "")["headline"] == "new"  # type: ignore[union-attr]
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.usefixtures("api_key")
async def test_replay_returns_the_recorded_reply_without_a_connection(
    make_client: ClientFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    asked = make_request()
    live = await RecordingClient(make_client(), tmp_path).complete(asked)
    request.getfixturevalue("no_connections")

    monkeypatch.delenv("OPENAI_API_KEY")
    replayed = await ReplayClient(tmp_path).complete(asked)
    assert replayed.content == live.content
    assert replayed.usage == live.usage and replayed.origin == "replay"


async def test_replay_miss_names_stage_source_chunk_key_and_the_fix(
    tmp_path: Path, no_connections: None
) -> None:
    request = make_request(stage="extract", source_id="src-9f2", chunk_id="src-9f2:3")
    with pytest.raises(ReplayMissError) as caught:
        await ReplayClient(tmp_path / "recordings").complete(request)
    message = str(caught.value)
    assert "\n" not in message
    assert "extract of src-9f2 chunk src-9f2:3" in message
    assert f"(key {request.key()})" in message
    assert f"--record {tmp_path / 'recordings'}" in message
    assert caught.value.key == request.key() and caught.value.chunk_id == "src-9f2:3"


@pytest.mark.usefixtures("api_key")
async def test_recording_and_cache_make_a_second_run_free(
    server: FakeOpenAIServer, make_client: ClientFactory, tmp_path: Path
) -> None:
    requests = [make_request(f"article {i}") for i in range(4)]

    async def run() -> tuple[list[Answer], int]:
        client = CachingClient(RecordingClient(make_client(), tmp_path / "rec"), tmp_path / "cache")
        runner = LLMRunner(client, model="gpt-4.1-mini")
        results = await runner.map(requests, Answer)
        return results, runner.usage.snapshot().cached_calls

    first, cached_first = await run()
    assert len(server.requests) == 4 and cached_first == 0
    second, cached_second = await run()
    assert len(server.requests) == 4  # nothing new reached the server
    assert second == first and cached_second == 4
    assert len(RecordingStore(tmp_path / "rec").keys()) == 4


async def test_cache_hit_is_marked_and_damaged_entries_are_replaced(tmp_path: Path) -> None:
    inner = FakeClient()
    cache = CachingClient(inner, tmp_path)
    request = make_request()
    first = await cache.complete(request)
    hit = await cache.complete(request)
    assert hit.origin == "cache" and hit.content == first.content and len(inner.requests) == 1

    (tmp_path / f"{request.key()}.json").write_text("{not json", encoding="utf-8")
    again = await cache.complete(request)
    assert again.origin == "fake" and len(inner.requests) == 2
    assert RecordingStore(tmp_path).get(request.key()) is not None


def test_default_cache_dir_follows_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFER_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("BRIEFER_CACHE_DIR")
    assert default_cache_dir().parts[-2:] == ("briefer", "responses")
    assert str(default_cache_dir()).startswith(os.environ["XDG_CACHE_HOME"])


# --- request keys ---------------------------------------------------------------------------


def test_key_is_stable_across_processes() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from llm_helpers import make_request; "
        "print(make_request().key())"
    )
    here = str(Path(__file__).parent)
    keys = {
        subprocess.run(
            [sys.executable, "-c", code, here],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert keys == {make_request().key()}


@pytest.mark.parametrize(
    "change",
    [
        {"prompt_version": "test/v2"},
        {"messages": (Message(role="user", content="Summarise the article!"),)},
        {"response_schema": {**ANSWER_SCHEMA, "required": ["headline"]}},
        {"schema_name": "other"},
        {"model": "gpt-4.1"},
        {"temperature": 0.2},
        {"seed": 8},
        {"max_tokens": 300},
    ],
    ids=lambda c: next(iter(c)),
)
def test_key_changes_with_what_decides_the_reply(change: dict[str, Any]) -> None:
    assert make_request(**change).key() != make_request().key()


def test_key_ignores_who_asked() -> None:
    other = make_request(context=RequestContext(stage="compose", source_id="x", chunk_id="x:1"))
    assert other.key() == make_request().key()
