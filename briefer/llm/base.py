"""The one seam between briefer and a model: ``LLMClient.complete(LLMRequest) -> LLMResponse``.

Clients stack like httpx transports: a ``RecordingClient`` wraps an ``OpenAIClient``, a
``ReplayClient`` stands in for both. This module knows requests and JSON Schemas, never records.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "KEY_ALGORITHM",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "Message",
    "RequestContext",
    "TokenUsage",
    "canonical_json",
]

# Bumped whenever the canonical form of a request changes, so old keys never match by accident.
KEY_ALGORITHM = "r1"


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the form request keys are hashed from."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class RequestContext(BaseModel):
    """Who asked: used in messages and progress, never part of the request key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: str = "unknown"
    source_id: str | None = None
    chunk_id: str | None = None


class LLMRequest(BaseModel):
    """One structured call. Its ``key()`` names its recording and its cache entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    messages: tuple[Message, ...]
    schema_name: str = Field(description="Name sent with the json_schema response format.")
    response_schema: dict[str, Any] = Field(description="Strict JSON Schema of the reply.")
    prompt_version: str = Field(description="e.g. 'extract/v1'; editing a prompt bumps it.")
    temperature: float = 0.0
    seed: int | None = None
    max_tokens: int | None = None
    context: RequestContext = Field(default_factory=RequestContext)

    def canonical(self) -> dict[str, Any]:
        """Everything that decides the reply; never headers, keys or the context."""
        return {
            "model": self.model,
            "messages": [m.model_dump() for m in self.messages],
            "schema_name": self.schema_name,
            "response_schema": self.response_schema,
            "prompt_version": self.prompt_version,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
        }

    def key(self) -> str:
        digest = hashlib.sha256(canonical_json(self.canonical()).encode("utf-8")).hexdigest()
        return f"{KEY_ALGORITHM}-{digest}"


class TokenUsage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0


class LLMResponse(BaseModel):
    """A reply as the server gave it: content or refusal, why it stopped, what it cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    content: str | None
    refusal: str | None = None
    finish_reason: str = "stop"
    usage: TokenUsage = Field(default_factory=TokenUsage)
    model: str | None = Field(default=None, description="The model the server named.")
    origin: Literal["live", "replay", "cache", "fake"] = "live"


@runtime_checkable
class LLMClient(Protocol):
    """Anything that answers a request. Implementations raise ``briefer.errors.LLMError``s."""

    async def complete(self, request: LLMRequest) -> LLMResponse: ...
