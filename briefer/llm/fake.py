"""Clients for tests, shipped so library users can test their own code offline.

``FunctionClient`` answers with whatever a function of the request returns. ``FakeClient``
answers from a mapping (prompt version, schema name or request key -> reply) and otherwise
makes up a schema-valid reply, deterministic per ``seed``. Both remember every request.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from typing import Any

from briefer.llm.base import LLMRequest, LLMResponse, TokenUsage

__all__ = ["FakeClient", "FunctionClient", "Reply", "reply_from_schema"]

# A scripted reply: JSON text, a JSON-able object, a full response, or an exception to raise.
Reply = str | dict[str, Any] | LLMResponse | BaseException


def _as_response(reply: Reply, request: LLMRequest) -> LLMResponse:
    if isinstance(reply, BaseException):
        raise reply
    if isinstance(reply, LLMResponse):
        return reply
    content = reply if isinstance(reply, str) else json.dumps(reply, ensure_ascii=False)
    prompt = sum(len(m.content) for m in request.messages) // 4
    return LLMResponse(
        content=content,
        finish_reason="stop",
        usage=TokenUsage(prompt_tokens=prompt, completion_tokens=len(content) // 4),
        model=request.model,
        origin="fake",
    )


class FunctionClient:
    """Replies with ``function(request)``; keeps ``requests`` for assertions."""

    __test__ = False

    def __init__(self, function: Callable[[LLMRequest], Reply]) -> None:
        self.function = function
        self.requests: list[LLMRequest] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        return _as_response(self.function(request), request)


def reply_from_schema(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value valid against a strict JSON Schema (objects, arrays, enums, scalars, anyOf)."""
    defs = schema.get("$defs", {})

    def make(node: dict[str, Any], depth: int) -> Any:
        if "$ref" in node:
            return make(defs[node["$ref"].rsplit("/", 1)[-1]], depth)
        if "enum" in node:
            return rng.choice(node["enum"])
        if "const" in node:
            return node["const"]
        if "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"] or node["anyOf"]
            return make(rng.choice(options), depth)
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            return {k: make(v, depth + 1) for k, v in node.get("properties", {}).items()}
        if kind == "array":
            least = int(node.get("minItems", 0))
            count = least if depth > 3 else max(least, rng.randint(1, 2))
            return [make(node.get("items", {}), depth + 1) for _ in range(count)]
        if kind == "string":
            return f"text-{rng.randint(0, 9999)}"
        if kind == "integer":
            return rng.randint(0, 10)
        if kind == "number":
            return round(rng.random(), 3)
        if kind == "boolean":
            return rng.random() < 0.5
        return None

    return make(schema, 0)


class FakeClient:
    """Scripted or schema-valid replies with no network and no key.

    ``replies`` maps a request key, a prompt version (``"extract/v1"``) or a schema name to a
    reply, or to a list of replies given in turn. Anything unmatched gets a made-up reply valid
    against the request's schema (its quotes are invented, so they will not ground).
    """

    __test__ = False

    def __init__(self, replies: Mapping[str, Reply | list[Reply]] | None = None, seed: int = 0):
        self.replies = {
            k: list(v) if isinstance(v, list) else [v] for k, v in (replies or {}).items()
        }
        self.seed = seed
        self.requests: list[LLMRequest] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        for name in (request.key(), request.prompt_version, request.schema_name):
            queue = self.replies.get(name)
            if queue:
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
                return _as_response(reply, request)
        rng = random.Random(f"{self.seed}:{request.key()}")
        return _as_response(reply_from_schema(request.response_schema, rng), request)
