"""The shipped fake server speaks the chat completions API to any HTTP client."""

from __future__ import annotations

import json

import httpx2
import jsonschema
import pytest
from llm_helpers import ANSWER_SCHEMA

import briefer.testing
from briefer.testing import FakeOpenAIServer, FakeReply


def _post(server: FakeOpenAIServer, body: dict[str, object], **headers: str) -> httpx2.Response:
    return httpx2.post(f"{server.base_url}/chat/completions", json=body, headers=headers)


def test_default_reply_is_a_chat_completion_valid_for_the_schema(server: FakeOpenAIServer) -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"schema": ANSWER_SCHEMA}},
    }
    reply = _post(server, body, authorization="Bearer sk-secret-value")
    data = reply.json()
    assert reply.status_code == 200 and data["object"] == "chat.completion"
    message = data["choices"][0]["message"]
    assert message["refusal"] is None
    jsonschema.validate(json.loads(message["content"]), ANSWER_SCHEMA)
    assert data["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    assert server.requests[0].headers["authorization"] == "Bearer ***"
    assert server.requests[0].sent_key("sk-secret-value")
    assert "sk-secret-value" not in repr(server.requests[0])


def test_json_object_mode_finds_the_schema_in_the_prompt(server: FakeOpenAIServer) -> None:
    prompt = "Extract.\n\nReply with one JSON object valid against this JSON Schema:\n"
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": prompt + json.dumps(ANSWER_SCHEMA)}],
        "response_format": {"type": "json_object"},
    }
    content = json.loads(_post(server, body).json()["choices"][0]["message"]["content"])
    assert set(content) == {"headline", "count"}


def test_scripted_replies_come_before_the_handler(server: FakeOpenAIServer) -> None:
    server.handler = lambda body: FakeReply.json({"from": "handler"})
    server.enqueue(FakeReply.rate_limited(3), FakeReply.server_error(503))
    first, second, third = (_post(server, {"messages": []}) for _ in range(3))
    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    assert first.json()["error"]["type"] == "invalid_request_error"
    assert second.status_code == 503
    assert json.loads(third.json()["choices"][0]["message"]["content"]) == {"from": "handler"}


def test_rejecting_json_schema_looks_like_openai(server: FakeOpenAIServer) -> None:
    server.enqueue(FakeReply.rejects_json_schema())
    error = _post(server, {}).json()["error"]
    assert error["param"] == "response_format" and error["code"] is None
    assert "json_schema" in error["message"]


def test_json_object_mode_follows_the_schema_in_response_format(server: FakeOpenAIServer) -> None:
    body: dict[str, object] = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_object", "schema": ANSWER_SCHEMA},
    }
    content = json.loads(_post(server, body).json()["choices"][0]["message"]["content"])
    jsonschema.validate(content, ANSWER_SCHEMA)


def test_local_servers_error_bodies_have_their_own_shapes(server: FakeOpenAIServer) -> None:
    server.enqueue(
        FakeReply.llama_cpp_python_rejects_json_schema(),
        FakeReply.llama_server_rejects_json_schema(),
        FakeReply.vllm_rejects_schema(),
        FakeReply.vllm_rejects_schema(nested=True),
        FakeReply.ollama_model_not_found("qwen2.5:7b"),
    )
    llama_cpp_python, llama_server, vllm_old, vllm_new, ollama = (
        _post(server, {}) for _ in range(5)
    )
    assert llama_cpp_python.status_code == 500
    error = llama_cpp_python.json()["error"]
    assert error["type"] == "internal_server_error" and "'response_format'" in error["message"]
    assert llama_server.status_code == 400
    assert llama_server.json() == {
        "error": {
            "code": 400,
            "message": 'response_format type must be one of "text" or "json_object", '
            "but got: json_schema",
            "type": "invalid_request_error",
        }
    }
    assert vllm_old.status_code == 400 and vllm_old.json()["object"] == "error"
    assert "xgrammar" in vllm_old.json()["message"] and "error" not in vllm_old.json()
    assert vllm_new.json()["error"]["type"] == "BadRequestError"
    assert ollama.status_code == 404
    assert ollama.json()["error"]["message"] == (
        'model "qwen2.5:7b" not found, try pulling it first'
    )


def test_unknown_route_is_404(server: FakeOpenAIServer) -> None:
    assert httpx2.post(f"{server.base_url}/embeddings", json={}).status_code == 404


def test_base_url_needs_a_running_server() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = FakeOpenAIServer().base_url


def test_testing_module_exports_what_it_lists() -> None:
    assert sorted(briefer.testing.__all__) == briefer.testing.__all__
    for name in briefer.testing.__all__:
        assert getattr(briefer.testing, name) is not None


def test_a_server_restarted_on_its_port_is_the_same_endpoint() -> None:
    with FakeOpenAIServer() as first:
        url, port = first.base_url, int(first.base_url.rsplit(":", 1)[1].split("/")[0])
    with FakeOpenAIServer(port=port) as again:
        assert again.base_url == url
        assert _post(again, {"messages": []}).status_code == 200
