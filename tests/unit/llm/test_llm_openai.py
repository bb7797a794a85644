"""OpenAIClient over real HTTP: the real openai SDK against FakeOpenAIServer on 127.0.0.1."""

from __future__ import annotations

import json
import time

import httpx2
import openai
import pytest
from llm_helpers import ANSWER_SCHEMA, TEST_KEY, Answer, ClientFactory, make_request
from openai.types.chat import ChatCompletion

from briefer.errors import (
    AuthError,
    BrieferError,
    LLMError,
    LLMTimeoutError,
    RateLimitError,
    RefusalError,
    ServerError,
    TruncatedError,
)
from briefer.llm.openai import (
    SCHEMA_IN_PROMPT,
    Endpoint,
    OpenAIClient,
    _map_error,
    build_params,
    is_local_server,
    parse_completion,
)
from briefer.llm.structured import LLMRunner
from briefer.testing import FakeOpenAIServer, FakeReply

pytestmark = pytest.mark.usefixtures("api_key")


async def test_normal_reply_is_parsed_from_the_wire(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.json({"headline": "Talks resume", "count": 2}, cached_tokens=3))
    response = await make_client().complete(make_request())

    assert json.loads(response.content or "") == {"headline": "Talks resume", "count": 2}
    assert response.origin == "live" and response.finish_reason == "stop"
    assert response.usage.cached_tokens == 3 and response.usage.completion_tokens > 0
    sent = server.requests[0].body
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    assert sent["response_format"]["json_schema"]["schema"] == ANSWER_SCHEMA
    assert sent["seed"] == 7 and sent["temperature"] == 0.0 and sent["max_tokens"] == 200


async def test_default_server_reply_is_valid_for_the_schema(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    result = await runner.structured(make_request(), Answer)
    assert isinstance(result, Answer)
    assert runner.usage.snapshot().repairs == 0


async def test_429_waits_at_least_retry_after_then_succeeds(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.rate_limited(0.2), FakeReply.json({"headline": "ok", "count": 1}))
    client = make_client()
    started = time.monotonic()
    response = await client.complete(make_request())
    waited = time.monotonic() - started

    assert json.loads(response.content or "")["headline"] == "ok"
    assert waited >= 0.2
    assert len(server.requests) == 2 and client.retries == 1


async def test_retry_after_ms_is_honoured(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(
        FakeReply.rate_limited(0.15, in_ms=True), FakeReply.json({"headline": "", "count": 0})
    )
    started = time.monotonic()
    await make_client().complete(make_request())
    assert time.monotonic() - started >= 0.15


async def test_429_forever_raises_rate_limit_error_with_retry_after(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.handler = lambda body: FakeReply.rate_limited(0.01)
    client = make_client(max_retries=2)
    with pytest.raises(RateLimitError) as caught:
        await client.complete(make_request())

    assert caught.value.retry_after == pytest.approx(0.01)
    assert len(server.requests) == 3 and client.retries == 2
    assert "429" in str(caught.value) and "--concurrency" in str(caught.value)
    assert caught.value.stage == "extract" and caught.value.chunk_id == "src-abc:0"


async def test_5xx_burst_is_retried_then_succeeds(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(
        FakeReply.server_error(500),
        FakeReply.server_error(503),
        FakeReply.server_error(500),
        FakeReply.json({"headline": "after the storm", "count": 3}),
    )
    client = make_client(max_retries=3)
    response = await client.complete(make_request())
    assert json.loads(response.content or "")["count"] == 3
    assert len(server.requests) == 4 and client.retries == 3


async def test_5xx_forever_raises_server_error_with_status(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.handler = lambda body: FakeReply.server_error(503)
    with pytest.raises(ServerError) as caught:
        await make_client(max_retries=1).complete(make_request())
    assert caught.value.status == 503 and len(server.requests) == 2


async def test_slow_reply_past_the_timeout_raises_timeout_error(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.handler = lambda body: FakeReply.slow(3.0)
    client = make_client(timeout=0.2, max_retries=1)
    started = time.monotonic()
    with pytest.raises(LLMTimeoutError) as caught:
        await client.complete(make_request())

    assert time.monotonic() - started < 2.5  # gave up long before the reply would come
    assert len(server.requests) == 2 and client.retries == 1
    assert "0.2 s" in str(caught.value)


async def test_dropped_connection_is_retried_then_succeeds(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.dropped(), FakeReply.json({"headline": "back", "count": 1}))
    client = make_client()
    response = await client.complete(make_request())
    assert json.loads(response.content or "")["headline"] == "back"
    assert client.retries == 1


async def test_dropped_connections_forever_raise_server_error(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.handler = lambda body: FakeReply.dropped()
    with pytest.raises(ServerError, match="connection"):
        await make_client(max_retries=2).complete(make_request())
    assert len(server.requests) == 3


async def test_malformed_body_is_retried_as_a_server_fault(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.malformed_body(), FakeReply.json({"headline": "fine", "count": 0}))
    client = make_client()
    response = await client.complete(make_request())
    assert json.loads(response.content or "")["headline"] == "fine" and client.retries == 1


async def test_refusal_raises_refusal_error_with_the_words(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.refused("I cannot help with that request."))
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    with pytest.raises(RefusalError) as caught:
        await runner.structured(make_request(), Answer)
    assert caught.value.refusal == "I cannot help with that request."
    assert len(server.requests) == 1


async def test_length_finish_raises_truncated_without_a_repair_call(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.truncated('{"headline": "cut'))
    runner = LLMRunner(make_client(), model="gpt-4.1-mini", max_repairs=2)
    with pytest.raises(TruncatedError, match="split"):
        await runner.structured(make_request(), Answer)
    assert len(server.requests) == 1
    assert runner.usage.snapshot().calls == 1


async def test_json_schema_rejected_falls_back_once_and_remembers(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.rejects_json_schema())
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    first = await runner.structured(make_request("first"), Answer)
    second = await runner.structured(make_request("second"), Answer)

    assert isinstance(first, Answer) and isinstance(second, Answer)
    modes = [r.body["response_format"]["type"] for r in server.requests]
    assert modes == ["json_schema", "json_object", "json_object"]
    system = server.requests[2].body["messages"][0]
    assert system["role"] == "system" and SCHEMA_IN_PROMPT in system["content"]
    assert json.dumps(ANSWER_SCHEMA, sort_keys=True, separators=(",", ":")) in system["content"]
    # Another client for the same endpoint goes straight to json_object too.
    await make_client().complete(make_request("third"))
    assert server.requests[3].body["response_format"]["type"] == "json_object"


async def test_every_format_rejected_is_an_error_not_a_loop(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.handler = lambda body: FakeReply.rejects_json_schema()
    client = make_client()
    with pytest.raises(LLMError, match="response_format") as caught:
        await client.complete(make_request())
    formats = [r.body["response_format"] for r in server.requests]
    assert [f["type"] for f in formats] == ["json_schema", "json_object", "json_object"]
    assert "schema" in formats[1] and "schema" not in formats[2]
    assert "does not take the json_object_plain response format (400" in str(caught.value)
    assert client.retries == 0 and len(client.format_rejections) == 3


async def test_missing_key_raises_auth_error_before_any_request(
    server: FakeOpenAIServer, make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")
    remote = OpenAIClient(endpoint=Endpoint(base_url="https://models.example.invalid/v1"))
    with pytest.raises(AuthError, match="OPENAI_API_KEY is not set") as caught:
        await remote.complete(make_request())
    assert caught.value.exit_code == 2
    # A server on this machine (or a private network) takes any key: none is needed.
    await make_client().complete(make_request())
    assert server.requests[0].sent_key("no-key-needed")


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:11434/v1", True),
        ("http://127.0.0.1:8000/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://192.168.1.20:8000/v1", True),
        ("http://10.0.0.5/v1", True),
        ("http://ollama.localhost/v1", True),
        ("https://api.openai.com/v1", False),
        ("https://models.example.com/v1", False),
        ("http://8.8.8.8/v1", False),
        (None, False),
    ],
)
def test_which_servers_need_no_key(url: str | None, local: bool) -> None:
    assert is_local_server(url) is local


async def test_key_variable_is_configurable(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_LLM_KEY", "local-key")
    client = OpenAIClient(endpoint=Endpoint(base_url=server.base_url, api_key_env="LOCAL_LLM_KEY"))
    await client.complete(make_request())
    assert server.requests[0].sent_key("local-key")
    monkeypatch.delenv("LOCAL_LLM_KEY")
    remote = Endpoint(base_url="https://models.example.invalid/v1", api_key_env="LOCAL_LLM_KEY")
    with pytest.raises(AuthError, match="LOCAL_LLM_KEY"):
        await OpenAIClient(endpoint=remote).complete(make_request())


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_raises_auth_error_without_retrying(
    server: FakeOpenAIServer, make_client: ClientFactory, status: int
) -> None:
    server.handler = lambda body: FakeReply.http_error(
        status, f"Incorrect API key provided: {TEST_KEY[:7]}***cdef", type="invalid_api_key"
    )
    with pytest.raises(AuthError) as caught:
        await make_client().complete(make_request())
    assert "the key in OPENAI_API_KEY was rejected" in str(caught.value)
    assert TEST_KEY[:7] not in str(caught.value)
    assert len(server.requests) == 1


async def test_other_4xx_carries_the_server_message(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.http_error(404, "The model `gpt-9` does not exist", param="model"))
    with pytest.raises(LLMError, match="does not exist") as caught:
        await make_client().complete(make_request())
    assert type(caught.value) is LLMError and len(server.requests) == 1


async def test_model_override_is_sent_instead_of_the_request_model(
    server: FakeOpenAIServer,
) -> None:
    client = OpenAIClient("llama3.1:8b", Endpoint(base_url=server.base_url))
    response = await client.complete(make_request())
    assert server.requests[0].body["model"] == "llama3.1:8b"
    assert response.model == "llama3.1:8b"


# --- pure functions ---------------------------------------------------------------------------


def test_build_params_json_object_puts_the_schema_in_the_system_prompt() -> None:
    request = make_request(max_tokens=None, seed=None)
    params = build_params(request, json_mode="json_object")
    # llama.cpp's servers constrain decoding with response_format.schema
    assert params["response_format"] == {"type": "json_object", "schema": ANSWER_SCHEMA}
    assert params["messages"][0]["content"].startswith("You extract facts as JSON.")
    assert SCHEMA_IN_PROMPT in params["messages"][0]["content"]
    assert "seed" not in params and "max_completion_tokens" not in params
    assert request.messages[0].content == "You extract facts as JSON."  # left untouched
    plain = build_params(request, json_mode="json_object_plain")
    assert plain["response_format"] == {"type": "json_object"}
    assert plain["messages"] == params["messages"]


def test_build_params_names_the_token_limit_as_asked() -> None:
    request = make_request()
    assert build_params(request, json_mode="json_schema")["max_completion_tokens"] == 200
    params = build_params(request, json_mode="json_schema", token_limit_param="max_tokens")
    assert params["max_tokens"] == 200 and "max_completion_tokens" not in params


def test_parse_completion_reads_refusal_usage_and_model() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4.1-mini-2025-04-14",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": None, "refusal": "No."},
                }
            ],
            "usage": {
                "prompt_tokens": 100,
                "completion_tokens": 5,
                "total_tokens": 105,
                "prompt_tokens_details": {"cached_tokens": 64},
            },
        }
    )
    response = parse_completion(completion)
    assert response.content is None and response.refusal == "No."
    assert (response.usage.prompt_tokens, response.usage.cached_tokens) == (100, 64)
    assert response.model == "gpt-4.1-mini-2025-04-14"


def test_parse_completion_without_choices_is_a_server_error() -> None:
    completion = ChatCompletion.model_construct(choices=[], model="m")
    with pytest.raises(ServerError):
        parse_completion(completion)


def _every_sdk_error() -> list[BaseException]:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    errors: list[BaseException] = [
        openai.APITimeoutError(request=request),
        openai.APIConnectionError(request=request),
        openai.APIResponseValidationError(httpx2.Response(200, request=request), None),
        openai.OpenAIError("something else"),
        json.JSONDecodeError("bad", "x", 0),
    ]
    for status in (400, 401, 403, 404, 409, 422, 429, 500, 502, 503):
        response = httpx2.Response(status, request=request)
        errors.append(openai.APIStatusError(f"Error code: {status}", response=response, body=None))
    return errors


@pytest.mark.parametrize("exc", _every_sdk_error(), ids=lambda e: type(e).__name__)
def test_every_sdk_error_maps_to_a_briefer_error(exc: BaseException) -> None:
    mapped = _map_error(exc, Endpoint(base_url="http://127.0.0.1:9/v1"))
    assert isinstance(mapped, BrieferError)
    assert "\n" not in str(mapped)


async def test_retry_after_longer_than_a_minute_is_not_waited_out(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.rate_limited(3600))
    client = make_client(max_retries=3)
    with pytest.raises(RateLimitError, match="wait 3600 s") as caught:
        await client.complete(make_request())
    assert caught.value.retry_after == 3600 and len(server.requests) == 1


@pytest.mark.parametrize(("strict", "expected"), [(False, "json_object"), (True, None)])
async def test_strict_schema_setting_decides_the_mode(
    server: FakeOpenAIServer, strict: bool, expected: str | None
) -> None:
    server.handler = lambda body: (
        FakeReply.rejects_json_schema()
        if body["response_format"]["type"] == "json_schema"
        else FakeReply.schema_valid()
    )
    client = OpenAIClient(endpoint=Endpoint(base_url=server.base_url, strict_schema=strict))
    if expected is None:  # strict: the rejection is an error, never a silent fallback
        with pytest.raises(LLMError, match="json_schema"):
            await client.complete(make_request())
        assert len(server.requests) == 1
    else:  # not strict: json_object from the first request, nothing rejected
        await client.complete(make_request())
        assert server.requests[0].body["response_format"] == {
            "type": "json_object",
            "schema": ANSWER_SCHEMA,
        }


def test_the_client_reads_no_setting_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings are read in one place (briefer.settings); a client is told its endpoint.
    monkeypatch.setenv("BRIEFER_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("BRIEFER_TIMEOUT", "12.5")
    assert OpenAIClient().endpoint == Endpoint()
    assert Endpoint().name == "https://api.openai.com/v1"
