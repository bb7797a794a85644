"""Structured calls: bounded concurrency, validation with repair, usage and budget.

``LLMRunner.structured(request, OutputModel)`` sends ``request`` through a client, validates the
reply against the schema that was sent (jsonschema) and the pydantic model, and re-asks with the
validation errors when it fails. Stages call only this; they never see a concrete client.

Counting: every call answered (first asks and repairs) is one ``calls``; repairs are also counted
in ``repairs``; a call that failed after the client's retries is one ``failed``; retries a client
makes inside one call (429, 5xx, timeouts) are reported with ``note_retry()`` and counted in
``retries``. Usage is counted per stage, across all of these. Every error a call ended in is kept
in ``LLMRunner.failures``, so a run can tell "every call failed" from "some input was bad".

Caching: a call that ends refused or still invalid after its repairs is ``forget``-ed (the
client drops its cached replies, when it caches), so a later run asks again.

Budget: before a call starts, its cost is estimated with ``pricing.estimate_request_cost``
(the estimate ``briefer estimate`` prints). A call is refused (``BudgetExceededError``) when the
spend so far, plus the estimates of the calls in flight, plus its own estimate would pass
``max_cost``; when a reply comes, its estimate is replaced by what it cost. A call the client
answers from a cache or recordings (``client.is_free(request)``) costs nothing and is never
refused.

Batches: a call queued for a batch (``ReplyPendingError``) keeps its estimate booked, at the
batch price, so that the calls a run queues are held to the budget as the calls it sends are;
a reply that came from a batch is counted at the batch price.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Coroutine, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

import jsonschema
from pydantic import BaseModel, ValidationError

from briefer.errors import (
    BrieferError,
    BudgetExceededError,
    InvalidReplyError,
    RefusalError,
    TruncatedError,
)
from briefer.llm._pending import ReplyPendingError
from briefer.llm.base import LLMClient, LLMRequest, LLMResponse, Message, bind_request
from briefer.llm.pricing import Price, estimate_cost, estimate_request_cost, require_price
from briefer.llm.usage import StageUsage, Usage

__all__ = [
    "CallFailure",
    "CallObserver",
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


class CallObserver(Protocol):
    """Told when each call starts, retries and ends; the CLI draws progress from it."""

    def call_started(self, request: LLMRequest) -> None: ...

    def call_retrying(self, request: LLMRequest, reason: str, delay: float) -> None: ...

    def call_finished(self, request: LLMRequest, error: BaseException | None) -> None: ...


class _Retries:
    """The retries made inside one call, and whom to tell about them."""

    def __init__(self, request: LLMRequest, observer: CallObserver | None) -> None:
        self.request = request
        self.observer = observer
        self.count = 0


# Set by the runner around each call (each asyncio task has its own copy of the context, so
# concurrent calls do not mix their counts).
_retries_in_call: ContextVar[_Retries | None] = ContextVar("briefer_retries", default=None)


def note_retry(reason: str = "", delay: float = 0.0) -> None:
    """Called by a client each time it retries (``reason``: why, in a few words; ``delay``:
    seconds it waits first); counted in the current call's usage and shown as progress."""
    retries = _retries_in_call.get()
    if retries is not None:
        retries.count += 1
        if retries.observer is not None:
            retries.observer.call_retrying(retries.request, reason, delay)


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


class _Boxed(Generic[R]):
    """A result held so that printing the task that returned it costs nothing: ``asyncio.run``
    formats its main task (result included, in full) while it restores the SIGINT handler, which
    for a briefing of a thousand articles is seconds of ``repr``."""

    __slots__ = ("value",)

    def __init__(self, value: R) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<result>"


async def _boxed(coroutine: Coroutine[Any, Any, R]) -> _Boxed[R]:
    return _Boxed(await coroutine)


def run_sync(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run ``coroutine`` to completion from synchronous code (``asyncio.run``)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_boxed(coroutine)).value
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

    def add_failure(self, stage: str, retries: int) -> None:
        s = self.stages.setdefault(stage, StageUsage())
        s.failed += 1
        s.retries += retries

    def add(
        self,
        stage: str,
        response: LLMResponse,
        *,
        repair: bool = False,
        retries: int = 0,
        model: str | None = None,
    ) -> None:
        """Count one answered call; ``model`` is the model it was sent to (default: the
        meter's)."""
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
                model or self.model,
                u.prompt_tokens,
                u.completion_tokens,
                u.cached_tokens,
                overrides=self.prices,
                tier="batch" if response.origin == "batch" else "direct",
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


@dataclass(frozen=True)
class CallFailure:
    """A structured call that ended in an error: which call, and the error."""

    request: LLMRequest
    error: BrieferError


class LLMRunner:
    """Runs structured calls through ``client`` with at most ``concurrency`` in flight.

    ``observer`` is told when each call starts, retries and ends. With ``max_cost``, the model
    must have a price (``ConfigError`` otherwise): a budget in dollars cannot be kept for calls
    priced at nothing.
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        model: str,
        concurrency: int = 8,
        max_repairs: int = 2,
        max_cost: float | None = None,
        observer: CallObserver | None = None,
        prices: Mapping[str, Price] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.max_repairs = max_repairs
        self.max_cost = max_cost
        self.prices = dict(prices or {})
        if max_cost is not None:
            require_price(model, self.prices)
        self.usage = UsageMeter(model, self.prices)
        self.failures: list[CallFailure] = []
        self.answered: dict[str, int] = {}  # stage -> structured calls that returned a value
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._observer = observer
        self._reserved = 0.0  # estimated cost of the calls in flight

    def _is_free(self, request: LLMRequest) -> bool:
        """Whether the client answers ``request`` without a paid call (cache, recordings)."""
        is_free = getattr(self.client, "is_free", None)
        return bool(is_free(request)) if callable(is_free) else False

    def _price_tier(self, request: LLMRequest) -> Literal["direct", "batch"]:
        """How the client sends ``request``: directly, or in a batch (a batch client, wherever
        it is in the stack, says)."""
        client: object = self.client
        for _ in range(32):
            tier = getattr(client, "price_tier", None)
            if callable(tier):
                return "batch" if tier(request) == "batch" else "direct"
            client = getattr(client, "inner", None)
            if client is None:
                break
        return "direct"

    def _reserve(self, request: LLMRequest) -> float:
        """Book the estimate of ``request`` against the budget, or refuse to start it."""
        if self.max_cost is None or self._is_free(request):
            return 0.0
        estimate = estimate_request_cost(request, self.prices, self._price_tier(request))
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
            observer = self._observer
            if observer is not None:
                observer.call_started(request)
            retries = _Retries(request, observer)
            token = _retries_in_call.set(retries)
            queued = False
            try:
                response = await self.client.complete(request)
            except BaseException as exc:
                # A call queued for a batch will be paid for: its estimate stays booked.
                queued = isinstance(exc, ReplyPendingError)
                # A call that failed after retries still made them: count them.
                self.usage.add_failure(request.context.stage, retries.count)
                if observer is not None:
                    observer.call_finished(request, exc)
                raise
            finally:
                _retries_in_call.reset(token)
                if not queued:
                    self._reserved -= estimate
            if observer is not None:
                observer.call_finished(request, None)
            return response, retries.count

    def forget(self, *requests: LLMRequest) -> None:
        """Tell a caching client to drop its replies to ``requests``: they ended in failure,
        and a later run should ask again rather than fail the same way for free."""
        forget = getattr(self.client, "forget", None)
        if callable(forget):
            for request in requests:
                forget(request)

    async def structured(self, request: LLMRequest, output_type: type[T]) -> T:
        # As the client will send it: its model is what the call is estimated and priced at.
        request = bind_request(self.client, request)
        try:
            value = await self._structured(request, output_type)
        except BrieferError as exc:
            if isinstance(exc, ReplyPendingError):
                # Its messages are in the batch's file already: a day's queued prompts are
                # not held in memory a second time.
                request = request.model_copy(update={"messages": ()})
            self.failures.append(CallFailure(request, exc))
            raise
        stage = request.context.stage
        self.answered[stage] = self.answered.get(stage, 0) + 1
        return value

    async def _structured(self, request: LLMRequest, output_type: type[T]) -> T:
        ctx = request.context
        where = {"stage": ctx.stage, "source_id": ctx.source_id, "chunk_id": ctx.chunk_id}
        current = request
        sent: list[LLMRequest] = []
        for attempt in range(self.max_repairs + 1):
            response, retries = await self._send(current)
            sent.append(current)
            self.usage.add(
                ctx.stage, response, repair=attempt > 0, retries=retries, model=request.model
            )
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
