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
from briefer.llm.base import LLMRequest, LLMResponse, Message, RequestContext, bind_request
from briefer.llm.fake import FakeClient
from briefer.llm.openai import Endpoint, OpenAIClient
from briefer.llm.recording import CachingClient, RecordingClient
from briefer.llm.replay import ReplayClient
from briefer.llm.store import Recording, RecordingStore, default_cache_dir
from briefer.llm.structured import LLMRunner, gather_in_order
from briefer.settings import build_client, load_settings
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
    client = RecordingClient(make_client(), tmp_path)
    await client.complete(make_request())
    request = client.bind(make_request())  # as sent: to the fake server's endpoint

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
    canonical = {k: v for k, v in request.canonical().items() if k != "endpoint"}
    assert {k: v for k, v in data["request"].items() if k != "context"} == json.loads(
        json.dumps(canonical)
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
    assert store.keys() == sorted([client.bind(refused).key(), client.bind(truncated).key()])
    assert store.get(client.bind(failing).key()) is None


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
    # Replayed as the recording client sent it: to the same server.
    replay = ReplayClient(tmp_path, base_url=make_client().endpoint.base_url)
    replayed = await replay.complete(asked)
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
        results = await gather_in_order(runner.structured(r, Answer) for r in requests)
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


def test_the_cache_directory_comes_from_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIEFER_CACHE_DIR", str(tmp_path / "c"))
    client = build_client(load_settings())
    assert isinstance(client, CachingClient) and client.store.directory == tmp_path / "c"
    # The store's own default reads no variable: only the user cache directory.
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


# --- the endpoint and the model sent are part of the key ------------------------------------


@pytest.mark.usefixtures("api_key")
async def test_two_servers_serving_one_model_name_do_not_share_cached_replies(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    with FakeOpenAIServer() as first, FakeOpenAIServer() as second:
        first.handler = lambda body: FakeReply.json({"headline": "from the first", "count": 1})
        second.handler = lambda body: FakeReply.json({"headline": "from the second", "count": 2})
        replies = []
        for server in (first, second):
            client = CachingClient(OpenAIClient(endpoint=Endpoint(base_url=server.base_url)), cache)
            replies.append(await client.complete(make_request()))

    assert [json.loads(r.content or "")["count"] for r in replies] == [1, 2]
    assert [r.origin for r in replies] == ["live", "live"]
    assert len(first.requests) == len(second.requests) == 1
    assert len(RecordingStore(cache).keys()) == 2


def test_the_endpoint_is_keyed_normalised_and_without_credentials() -> None:
    plain = make_request(endpoint="http://127.0.0.1:8080/v1")
    assert plain.endpoint == "http://127.0.0.1:8080/v1"
    for spelling in ("HTTP://127.0.0.1:8080/v1/", " http://127.0.0.1:8080/v1?key=sk-x "):
        assert make_request(endpoint=spelling).key() == plain.key()
    with_user = make_request(endpoint="https://user:sk-secret@llm.example.org:443/v1")
    assert with_user.endpoint == "https://llm.example.org/v1"
    assert "sk-secret" not in json.dumps(with_user.canonical())
    assert make_request(endpoint="http://127.0.0.1:8081/v1").key() != plain.key()
    assert make_request(endpoint="http://localhost:8080/v1").key() != plain.key()


def test_openai_default_endpoint_keys_as_before_so_old_recordings_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    request = make_request()
    assert "endpoint" not in request.canonical()
    for endpoint in (Endpoint(), Endpoint(base_url="https://api.openai.com/v1/")):
        assert OpenAIClient(endpoint=endpoint).bind(request).key() == request.key()


def test_committed_example_recordings_are_found_under_their_keys(repo_root: Path) -> None:
    # Each recording's request, asked again of the default endpoint, has the file's key.
    paths = sorted((repo_root / "examples" / "recordings").glob("*.json"))
    assert paths
    for path in paths:
        recording = Recording.model_validate_json(path.read_text(encoding="utf-8"))
        recorded = recording.request.model_dump()
        request = LLMRequest.model_validate({**recorded, "messages": tuple(recorded["messages"])})
        assert request.key() == recording.key == path.stem
        client = OpenAIClient(recording.request.model, Endpoint())
        assert client.bind(request).key() == path.stem


@pytest.mark.usefixtures("api_key")
async def test_the_model_a_client_sends_is_the_model_its_replies_are_keyed_by(
    server: FakeOpenAIServer, tmp_path: Path
) -> None:
    client = RecordingClient(OpenAIClient("gpt-4o", Endpoint(base_url=server.base_url)), tmp_path)
    await client.complete(make_request(model="gpt-4.1-mini"))

    assert server.requests[0].body["model"] == "gpt-4o"
    [key] = RecordingStore(tmp_path).keys()
    recording = RecordingStore(tmp_path).get(key)
    assert recording is not None and recording.request.model == "gpt-4o"
    assert key == make_request(model="gpt-4o", endpoint=server.base_url).key()
    assert key != make_request(model="gpt-4.1-mini", endpoint=server.base_url).key()
    assert bind_request(client, make_request()).model == "gpt-4o"


@pytest.mark.usefixtures("api_key")
async def test_openai_base_url_from_the_environment_is_the_endpoint_asked_and_keyed(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    settings = load_settings(cache=False)
    client = build_client(settings)
    assert isinstance(client, OpenAIClient)
    await client.complete(make_request())
    assert len(server.requests) == 1
    assert client.bind(make_request()).endpoint == server.base_url.rstrip("/")
    assert client.endpoint.name == server.base_url.rstrip("/")
    # BRIEFER_BASE_URL wins over the SDK's variable.
    monkeypatch.setenv("BRIEFER_BASE_URL", "http://127.0.0.1:9/v1")
    assert load_settings().base_url == "http://127.0.0.1:9/v1"


@pytest.mark.usefixtures("api_key")
async def test_recordings_made_against_a_local_server_replay_with_no_server_named(
    server: FakeOpenAIServer, make_client: ClientFactory, tmp_path: Path, no_connections: None
) -> None:
    # Record once against a local server, replay in CI with no server and no URL.
    asked = make_request()
    recorded = make_client().bind(asked)
    RecordingStore(tmp_path).put(Recording.of(recorded, LLMResponse(content='{"count": 3}')))

    assert (await ReplayClient(tmp_path).complete(asked)).content == '{"count": 3}'
    same_server = ReplayClient(tmp_path, base_url=server.base_url + "/")
    assert (await same_server.complete(asked)).content == '{"count": 3}'
    other = "http://127.0.0.1:9/v1"
    with pytest.raises(ReplayMissError, match=f"recorded against another server than {other}"):
        await ReplayClient(tmp_path, base_url=other).complete(asked)

    # Recorded against two servers: which one is for the caller to say.
    second = asked.model_copy(update={"endpoint": other})
    RecordingStore(tmp_path).put(Recording.of(second, LLMResponse(content='{"count": 4}')))
    with pytest.raises(ReplayMissError, match="recorded against 2 servers"):
        await ReplayClient(tmp_path).complete(asked)
    assert (await ReplayClient(tmp_path, base_url=other).complete(asked)).content == (
        '{"count": 4}'
    )
