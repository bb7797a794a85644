"""Structured calls: bounded concurrency, validation with repair, usage and budget.

``LLMRunner.structured(request, OutputModel)`` sends ``request`` through a client, validates the
reply against the schema that was sent (jsonschema) and the pydantic model, and re-asks with the
validation errors when it fails. Stages call only this; they never see a concrete client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

import jsonschema
from pydantic import BaseModel, ValidationError

from briefer.errors import BudgetExceededError, InvalidReplyError, RefusalError, TruncatedError
from briefer.llm.base import LLMClient, LLMRequest, LLMResponse, Message
from briefer.models import StageUsage, Usage
from briefer.pricing import estimate_cost

__all__ = ["LLMRunner", "UsageMeter", "validate_reply"]

T = TypeVar("T", bound=BaseModel)

REPAIR_INSTRUCTION = (
    "Your previous reply did not match the required JSON schema. Errors:\n{errors}\n"
    "Reply again with the complete JSON object only, fixing these errors."
)


def validate_reply(content: str | None, schema: dict[str, Any], output_type: type[T]) -> T:
    """Parse and validate a reply; raise ``ValueError`` listing every problem found."""
    if content is None:
        raise ValueError("the reply has no content")
    try:
        data = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the reply is not valid JSON: {exc}") from None
    errors = [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(data)
    ]
    if errors:
        raise ValueError("\n".join(errors[:20]))
    try:
        return output_type.model_validate(data)
    except ValidationError as exc:
        raise ValueError(
            "\n".join(f"{'/'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:20])
        ) from None


class UsageMeter:
    """Calls and tokens per stage, counted across retries and repairs, and their cost."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.stages: dict[str, StageUsage] = {}

    def add(self, stage: str, response: LLMResponse, *, repair: bool = False) -> None:
        s = self.stages.setdefault(stage, StageUsage())
        cached = response.origin in ("cache", "replay")
        s.calls += 1
        s.repairs += int(repair)
        s.cached_calls += int(cached)
        if not cached:
            u = response.usage
            s.prompt_tokens += u.prompt_tokens
            s.completion_tokens += u.completion_tokens
            s.cached_tokens += u.cached_tokens
            s.cost_usd += estimate_cost(
                self.model, u.prompt_tokens, u.completion_tokens, u.cached_tokens
            )

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd for s in self.stages.values())

    def snapshot(self) -> Usage:
        total = Usage(stages={k: v.model_copy() for k, v in sorted(self.stages.items())})
        for s in self.stages.values():
            for field in StageUsage.model_fields:
                setattr(total, field, getattr(total, field) + getattr(s, field))
        return total


class LLMRunner:
    """Runs structured calls through ``client`` with at most ``concurrency`` in flight."""

    def __init__(
        self,
        client: LLMClient,
        *,
        model: str,
        concurrency: int = 8,
        max_repairs: int = 2,
        max_cost: float | None = None,
        on_call: Callable[[LLMRequest], None] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.max_repairs = max_repairs
        self.max_cost = max_cost
        self.usage = UsageMeter(model)
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._on_call = on_call

    def _check_budget(self, request: LLMRequest) -> None:
        if self.max_cost is None:
            return
        # Estimate before sending: ~4 characters per prompt token, completion at max_tokens.
        prompt = sum(len(m.content) for m in request.messages) // 4
        projected = self.usage.cost_usd + estimate_cost(
            request.model, prompt, request.max_tokens or 2_000
        )
        if projected > self.max_cost:
            raise BudgetExceededError(
                f"the next call would pass the budget of ${self.max_cost:.4f} "
                f"(spent ${self.usage.cost_usd:.4f}); raise --max-cost to go on",
                spent=self.usage.cost_usd,
                limit=self.max_cost,
            )

    async def _send(self, request: LLMRequest) -> LLMResponse:
        async with self._semaphore:
            self._check_budget(request)
            if self._on_call is not None:
                self._on_call(request)
            return await self.client.complete(request)

    async def structured(self, request: LLMRequest, output_type: type[T]) -> T:
        ctx = request.context
        where = {"stage": ctx.stage, "source_id": ctx.source_id, "chunk_id": ctx.chunk_id}
        current = request
        for attempt in range(self.max_repairs + 1):
            response = await self._send(current)
            self.usage.add(ctx.stage, response, repair=attempt > 0)
            if response.refusal:
                raise RefusalError(
                    f"the model refused: {response.refusal}", refusal=response.refusal, **where
                )
            if response.finish_reason == "length":
                raise TruncatedError(
                    "the reply was cut off at the token limit; split the input", **where
                )
            try:
                return validate_reply(response.content, request.response_schema, output_type)
            except ValueError as exc:
                errors = str(exc)
                if attempt == self.max_repairs:
                    raise InvalidReplyError(
                        f"the reply is still invalid after {self.max_repairs} repairs: "
                        f"{errors.splitlines()[0]}",
                        reply=response.content,
                        errors=errors.splitlines(),
                        **where,
                    ) from None
                current = current.model_copy(
                    update={
                        "messages": (
                            *request.messages,
                            Message(role="assistant", content=response.content or ""),
                            Message(role="user", content=REPAIR_INSTRUCTION.format(errors=errors)),
                        )
                    }
                )
        raise AssertionError("unreachable")
