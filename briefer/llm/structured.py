"""Structured calls: bounded concurrency, validation with repair, usage and budget.

``LLMRunner.structured(request, OutputModel)`` sends ``request`` through a client, validates the
reply against the schema that was sent (jsonschema) and the pydantic model, and re-asks with the
validation errors when it fails. Stages call only this; they never see a concrete client.

Counting: every call sent (first asks and repairs) is one ``calls``; repairs are also counted in
``repairs``; retries a client makes inside one call (429, 5xx, timeouts) are reported with
``note_retry()`` and counted in ``retries``. Usage is counted per stage, across all of these.

Caching: a call that ends refused or still invalid after its repairs is ``forget``-ed (the
client drops its cached replies, when it caches), so a later run asks again.

Budget: before a call starts, its cost is estimated as if the prompt had one token per four
characters of the messages and of the JSON Schema sent, and the reply used all of ``max_tokens``
(2,000 when unset), at the model's price. A call is refused (``BudgetExceededError``) when the
spend so far, plus the estimates of the calls in flight, plus its own estimate would pass
``max_cost``; a call never starts that could not be paid for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

import jsonschema
from pydantic import BaseModel, ValidationError

from briefer.errors import BudgetExceededError, InvalidReplyError, RefusalError, TruncatedError
from briefer.llm.base import LLMClient, LLMRequest, LLMResponse, Message
from briefer.models import StageUsage, Usage
from briefer.pricing import Price, estimate_cost

__all__ = [
    "DEFAULT_COMPLETION_ESTIMATE",
    "LLMRunner",
    "UsageMeter",
    "complete_sync",
    "estimate_request_cost",
    "gather_in_order",
    "note_retry",
    "run_sync",
    "validate_reply",
]

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R")

# Tokens a reply is assumed to use when the request sets no max_tokens (for the budget only).
DEFAULT_COMPLETION_ESTIMATE = 2_000

# Retries made inside the current call; set by the runner around each call (each asyncio task
# has its own copy of the context, so concurrent calls do not mix their counts).
_retries_in_call: ContextVar[list[int] | None] = ContextVar("briefer_retries", default=None)


def note_retry() -> None:
    """Called by a client each time it retries; counted in the current call's usage."""
    counter = _retries_in_call.get()
    if counter is not None:
        counter[0] += 1


def estimate_request_cost(
    request: LLMRequest, overrides: Mapping[str, Price] | None = None
) -> float:
    """Upper estimate of one call's cost in USD, before sending it (see the module docstring)."""
    characters = sum(len(m.content) for m in request.messages)
    characters += len(json.dumps(request.response_schema))
    completion = request.max_tokens or DEFAULT_COMPLETION_ESTIMATE
    return estimate_cost(
        request.model, characters // 4, completion, overrides=dict(overrides or {})
    )


async def gather_in_order(awaitables: Iterable[Awaitable[R]]) -> list[R]:
    """Await all concurrently; results in input order whatever order they finish in.

    On the first failure the others are cancelled and that error is raised.
    """
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def run_sync(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run ``coroutine`` to completion from synchronous code (``asyncio.run``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()
    raise RuntimeError(
        "this synchronous helper cannot run inside a running event loop; await the async "
        "version instead (e.g. await client.complete(request))"
    )


def complete_sync(client: LLMClient, request: LLMRequest) -> LLMResponse:
    """``client.complete(request)`` for synchronous code; refuses inside a running loop."""
    return run_sync(client.complete(request))


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

    def __init__(self, model: str, prices: Mapping[str, Price] | None = None) -> None:
        self.model = model
        self.prices = dict(prices or {})
        self.stages: dict[str, StageUsage] = {}

    def add_retries(self, stage: str, retries: int) -> None:
        self.stages.setdefault(stage, StageUsage()).retries += retries

    def add(
        self, stage: str, response: LLMResponse, *, repair: bool = False, retries: int = 0
    ) -> None:
        s = self.stages.setdefault(stage, StageUsage())
        cached = response.origin in ("cache", "replay")
        s.calls += 1
        s.repairs += int(repair)
        s.retries += retries
        s.cached_calls += int(cached)
        if not cached:
            u = response.usage
            s.prompt_tokens += u.prompt_tokens
            s.completion_tokens += u.completion_tokens
            s.cached_tokens += u.cached_tokens
            s.cost_usd += estimate_cost(
                self.model,
                u.prompt_tokens,
                u.completion_tokens,
                u.cached_tokens,
                overrides=self.prices,
            )

    @property
    def cost_usd(self) -> float:
        return sum(s.cost_usd for s in self.stages.values())

    @property
    def calls(self) -> int:
        return sum(s.calls for s in self.stages.values())

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
        prices: Mapping[str, Price] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.max_repairs = max_repairs
        self.max_cost = max_cost
        self.prices = dict(prices or {})
        self.usage = UsageMeter(model, self.prices)
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._on_call = on_call
        self._reserved = 0.0  # estimated cost of the calls in flight

    def _reserve(self, request: LLMRequest) -> float:
        """Book the estimate of ``request`` against the budget, or refuse to start it."""
        if self.max_cost is None:
            return 0.0
        estimate = estimate_request_cost(request, self.prices)
        spent = self.usage.cost_usd
        if spent + self._reserved + estimate > self.max_cost:
            ctx = request.context
            what = ctx.stage + (f" of {ctx.chunk_id or ctx.source_id}" if ctx.source_id else "")
            raise BudgetExceededError(
                f"stopped before a call for {what}: its estimated ${estimate:.4f} would pass "
                f"the budget of ${self.max_cost:.4f} (spent ${spent:.4f} on "
                f"{self.usage.calls} calls); raise --max-cost to go on",
                spent=spent,
                limit=self.max_cost,
            )
        self._reserved += estimate
        return estimate

    async def _send(self, request: LLMRequest) -> tuple[LLMResponse, int]:
        """One call; returns the reply and the retries the client made for it."""
        async with self._semaphore:
            estimate = self._reserve(request)
            if self._on_call is not None:
                self._on_call(request)
            counter = [0]
            token = _retries_in_call.set(counter)
            try:
                response = await self.client.complete(request)
            except BaseException:
                # A call that failed after retries still made them: count them.
                self.usage.add_retries(request.context.stage, counter[0])
                raise
            finally:
                _retries_in_call.reset(token)
                self._reserved -= estimate
            return response, counter[0]

    def forget(self, *requests: LLMRequest) -> None:
        """Tell a caching client to drop its replies to ``requests``: they ended in failure,
        and a later run should ask again rather than fail the same way for free."""
        forget = getattr(self.client, "forget", None)
        if callable(forget):
            for request in requests:
                forget(request)

    async def structured(self, request: LLMRequest, output_type: type[T]) -> T:
        ctx = request.context
        where = {"stage": ctx.stage, "source_id": ctx.source_id, "chunk_id": ctx.chunk_id}
        current = request
        sent: list[LLMRequest] = []
        for attempt in range(self.max_repairs + 1):
            response, retries = await self._send(current)
            sent.append(current)
            self.usage.add(ctx.stage, response, repair=attempt > 0, retries=retries)
            if response.refusal:
                self.forget(*sent)
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
                    self.forget(*sent)
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

    async def map(self, requests: Sequence[LLMRequest], output_type: type[T]) -> list[T]:
        """``structured`` for each request, concurrently; results in input order."""
        return await gather_in_order(self.structured(r, output_type) for r in requests)
