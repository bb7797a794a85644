"""The one seam between briefer and a model: ``LLMClient.complete(LLMRequest) -> LLMResponse``.

Clients stack like httpx transports: a ``RecordingClient`` wraps an ``OpenAIClient``, a
``ReplayClient`` stands in for both. This module knows requests and JSON Schemas, never records.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_BASE_URL",
    "KEY_ALGORITHM",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "Message",
    "RequestContext",
    "TokenUsage",
    "bind_request",
    "canonical_json",
    "normalize_base_url",
]

# Bumped whenever the canonical form of a request changes, so old keys never match by accident.
# (Adding the endpoint did not change the form of a request to the default endpoint: see
# ``LLMRequest.canonical``.)
KEY_ALGORITHM = "r1"

# The OpenAI SDK's own default; a request to it keys as if no endpoint were named.
DEFAULT_BASE_URL = "https://api.openai.com/v1"

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the form request keys are hashed from."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalize_base_url(url: str | None) -> str | None:
    """The server a base URL names, in one spelling; None for OpenAI's own API.

    Scheme and host are lower-cased, a default port and trailing slashes dropped, and so are
    user info, query and fragment, which can carry credentials and never name another server:
    ``http://LOCALHOST:11434/v1/`` and ``http://localhost:11434/v1`` are one endpoint.
    """
    text = (url or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if not parts.scheme or not parts.hostname:
        # Not a URL the SDK could use either; kept as written (minus a trailing slash) so two
        # such values still key apart.
        return text.rstrip("/") or None
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    normalized = f"{scheme}://{netloc}{parts.path.rstrip('/')}"
    return None if normalized == DEFAULT_BASE_URL else normalized


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
    endpoint: str | None = Field(
        default=None,
        description="The server that answers (normalised base URL; None: OpenAI's API). Set "
        "by the client that sends the request (``bind_request``), never by a stage.",
    )
    context: RequestContext = Field(default_factory=RequestContext)

    @field_validator("endpoint")
    @classmethod
    def _normalized_endpoint(cls, value: str | None) -> str | None:
        return normalize_base_url(value)

    def canonical(self) -> dict[str, Any]:
        """Everything that decides the reply; never headers, keys or the context.

        Two servers serving a model of one name give different replies, so the endpoint is
        part of it. It is left out for OpenAI's own API, so that the key of a request to the
        default endpoint is the one it had before endpoints were keyed (recordings made then
        still replay).
        """
        canonical: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in self.messages],
            "schema_name": self.schema_name,
            "response_schema": self.response_schema,
            "prompt_version": self.prompt_version,
            "temperature": self.temperature,
            "seed": self.seed,
            "max_tokens": self.max_tokens,
        }
        if self.endpoint is not None:
            canonical["endpoint"] = self.endpoint
        return canonical

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
    # "batch": a batch's reply (the Batch API's, or another engine's), priced as a batch.
    origin: Literal["live", "batch", "replay", "cache", "fake"] = "live"


@runtime_checkable
class LLMClient(Protocol):
    """Anything that answers a request. Implementations raise ``briefer.errors.LLMError``s.

    A client that decides what is sent (another model name, a server) also has
    ``bind(request) -> LLMRequest``: the request as it will go out, which is what its key,
    its recording and its price must follow (see ``bind_request``).
    """

    async def complete(self, request: LLMRequest) -> LLMResponse: ...


def bind_request(client: object, request: LLMRequest) -> LLMRequest:
    """``request`` as ``client`` will send it: with the model it sends and the server it asks.

    Clients that change neither (fakes, replay without options) leave it as it is.
    """
    bind = getattr(client, "bind", None)
    if callable(bind):
        bound = bind(request)
        if isinstance(bound, LLMRequest):
            return bound
    return request
