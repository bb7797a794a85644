"""What the local servers answer, and what briefer does with it: each over real HTTP, through
the real openai SDK, against FakeOpenAIServer replying with the server's own error bodies
(docs/servers.md says where each comes from)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llm_helpers import ANSWER_SCHEMA, Answer, ClientFactory, make_request

from briefer.errors import LLMError
from briefer.llm.openai import Endpoint, OpenAIClient
from briefer.llm.structured import LLMRunner
from briefer.testing import FakeOpenAIServer, FakeReply

pytestmark = pytest.mark.usefixtures("api_key")

Handler = Callable[[dict[str, Any]], FakeReply]


def rejecting_json_schema(rejection: Callable[[], FakeReply]) -> Handler:
    """A server that refuses ``json_schema`` as ``rejection`` says, and answers anything else
    with a reply valid for the schema it finds (``response_format.schema`` or the prompt)."""

    def handle(body: dict[str, Any]) -> FakeReply:
        if body["response_format"]["type"] == "json_schema":
            return rejection()
        return FakeReply.schema_valid()

    return handle


def formats(server: FakeOpenAIServer) -> list[str]:
    return [r.body["response_format"]["type"] for r in server.requests]


@pytest.mark.parametrize(
    "rejection",
    [
        FakeReply.llama_cpp_python_rejects_json_schema,  # 500, pydantic's literal error
        FakeReply.llama_server_rejects_json_schema,  # 400, "response_format type must be..."
        FakeReply.vllm_rejects_schema,  # 400, top-level body, "JSON schema ... xgrammar"
        lambda: FakeReply.vllm_rejects_schema(nested=True),  # 400, body under "error"
    ],
    ids=["llama-cpp-python-500", "llama-server-400", "vllm-400", "vllm-400-nested"],
)
async def test_a_server_refusing_json_schema_gets_json_object_with_the_schema_at_once(
    server: FakeOpenAIServer, make_client: ClientFactory, rejection: Callable[[], FakeReply]
) -> None:
    server.handler = rejecting_json_schema(rejection)
    client = make_client(max_retries=4)
    runner = LLMRunner(client, model="gpt-4.1-mini")
    results = [await runner.structured(make_request(f"article {i}"), Answer) for i in range(3)]

    assert all(isinstance(r, Answer) for r in results)
    # One refusal, never retried; then json_object for every call, this one included.
    assert formats(server).count("json_schema") == 1 and len(server.requests) == 4
    assert client.retries == 0 and runner.usage.snapshot().retries == 0
    last = server.requests[-1].body["response_format"]
    assert last == {"type": "json_object", "schema": ANSWER_SCHEMA}
    assert client.json_mode == "json_object" and len(client.format_rejections) == 1


async def test_llama_cpp_python_500_under_strict_schema_fails_once_and_says_what_to_turn_off(
    server: FakeOpenAIServer,
) -> None:
    server.handler = rejecting_json_schema(FakeReply.llama_cpp_python_rejects_json_schema)
    endpoint = Endpoint(base_url=server.base_url, strict_schema=True)
    client = OpenAIClient(endpoint=endpoint, max_retries=4, backoff_base=0.01)
    with pytest.raises(LLMError) as caught:
        await client.complete(make_request())
    message = str(caught.value)
    assert type(caught.value) is LLMError and "\n" not in message
    assert "does not take the json_schema response format (500" in message
    assert "Input should be 'text' or 'json_object'" in message
    assert "BRIEFER_STRICT_SCHEMA" in message
    assert len(server.requests) == 1 and client.retries == 0  # not retried as a 5xx


async def test_llama_server_unsupported_param_is_an_error_not_a_format_fallback(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.llama_server_unsupported_param("best_of"))
    client = make_client(max_retries=4)
    with pytest.raises(
        LLMError, match="rejected the request \\(400\\): Unsupported param: best_of"
    ):
        await client.complete(make_request())
    assert formats(server) == ["json_schema"] and client.retries == 0
    assert client.json_mode == "json_schema"


async def test_a_plain_500_is_still_retried_and_not_taken_for_a_format_rejection(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.llama_server_error("slot unavailable", status=500))
    client = make_client(max_retries=2)
    response = await client.complete(make_request())
    assert response.content and formats(server) == ["json_schema", "json_schema"]
    assert client.retries == 1


async def test_a_server_refusing_the_schema_key_gets_plain_json_object(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    # OpenAI's API on an old model: no json_schema, and no unknown key in response_format.
    def handle(body: dict[str, Any]) -> FakeReply:
        fmt = body["response_format"]
        if fmt["type"] == "json_schema" or "schema" in fmt:
            return FakeReply.http_error(
                400, "Invalid value for 'response_format'.", param="response_format"
            )
        return FakeReply.schema_valid()

    server.handler = handle
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    assert isinstance(await runner.structured(make_request(), Answer), Answer)
    assert [r.body["response_format"] for r in server.requests][1:] == [
        {"type": "json_object", "schema": ANSWER_SCHEMA},
        {"type": "json_object"},
    ]
    # The schema still reaches the model, in the system prompt.
    assert "JSON Schema:" in server.requests[-1].body["messages"][0]["content"]


async def test_ollama_takes_json_schema_and_max_tokens(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    # Ollama reads max_tokens (as num_predict) and ignores max_completion_tokens.
    def handle(body: dict[str, Any]) -> FakeReply:
        assert "max_completion_tokens" not in body
        return FakeReply.schema_valid()

    server.handler = handle
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    assert isinstance(await runner.structured(make_request(), Answer), Answer)
    assert formats(server) == ["json_schema"] and server.requests[0].body["max_tokens"] == 200


async def test_ollama_model_not_pulled_is_one_error_naming_the_fix(
    server: FakeOpenAIServer,
) -> None:
    server.enqueue(FakeReply.ollama_model_not_found("llama3.1:8b"))
    client = OpenAIClient("llama3.1:8b", Endpoint(base_url=server.base_url), max_retries=4)
    with pytest.raises(LLMError) as caught:
        await client.complete(make_request())
    assert '(404): model "llama3.1:8b" not found, try pulling it first' in str(caught.value)
    assert len(server.requests) == 1 and client.retries == 0
