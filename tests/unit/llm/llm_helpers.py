"""Requests and output models shared by the LLM layer tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict

from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.llm.openai import OpenAIClient

TEST_KEY = "sk-test-0123456789abcdef"

# make_client(timeout=..., max_retries=..., **OpenAIClient options) -> OpenAIClient
ClientFactory = Callable[..., OpenAIClient]


class Answer(BaseModel):
    """The output model the tests ask for."""

    model_config = ConfigDict(extra="forbid")

    headline: str
    count: int


ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"headline": {"type": "string"}, "count": {"type": "integer"}},
    "required": ["headline", "count"],
    "additionalProperties": False,
}


def make_request(
    text: str = "Summarise the article.",
    *,
    stage: str = "extract",
    source_id: str | None = "src-abc",
    chunk_id: str | None = "src-abc:0",
    **overrides: Any,
) -> LLMRequest:
    fields: dict[str, Any] = {
        "model": "gpt-4.1-mini",
        "messages": (
            Message(role="system", content="You extract facts as JSON."),
            Message(role="user", content=text),
        ),
        "schema_name": "answer",
        "response_schema": ANSWER_SCHEMA,
        "prompt_version": "test/v1",
        "temperature": 0.0,
        "seed": 7,
        "max_tokens": 200,
        "context": RequestContext(stage=stage, source_id=source_id, chunk_id=chunk_id),
    }
    fields.update(overrides)
    return LLMRequest(**fields)
