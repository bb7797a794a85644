"""The runner counts what happened to every call and tells an observer as it happens."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from briefer.errors import BudgetExceededError, ConfigError, ServerError
from briefer.llm.base import LLMRequest, LLMResponse, Message, RequestContext
from briefer.llm.pricing import estimate_request_cost
from briefer.llm.structured import LLMRunner, note_retry

SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}


class Answer(BaseModel):
    answer: str


def request(text: str = "question", stage: str = "extract") -> LLMRequest:
    return LLMRequest(
        model="gpt-4.1-mini",
        messages=(Message(role="system", content="Answer."), Message(role="user", content=text)),
        schema_name="answer",
        response_schema=SCHEMA,
        prompt_version="test/v1",
        context=RequestContext(stage=stage, source_id="src-1", chunk_id="src-1:0"),
    )


class Flaky:
    """Retries once (as a real client would, telling the runner), then answers or fails."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[LLMRequest] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.sent.append(request)
        note_retry("rate limited (429)", 2.0)
        if self.fail:
            raise ServerError("http://127.0.0.1:9/v1 failed (503)", status=503)
        return LLMResponse(content=json.dumps({"answer": "yes"}))


class Observer:
    def __init__(self) -> None:
        self.events: list[str] = []

    def call_started(self, request: LLMRequest) -> None:
        self.events.append("started")

    def call_retrying(self, request: LLMRequest, reason: str, delay: float) -> None:
        self.events.append(f"retrying: {reason} in {delay:g} s")

    def call_finished(self, request: LLMRequest, error: BaseException | None) -> None:
        self.events.append("finished" if error is None else "failed")


async def test_the_observer_hears_each_start_retry_and_end() -> None:
    observer = Observer()
    runner = LLMRunner(Flaky(), model="gpt-4.1-mini", observer=observer)
    await runner.structured(request(), Answer)
    assert observer.events == ["started", "retrying: rate limited (429) in 2 s", "finished"]
    stage = runner.usage.snapshot().stages["extract"]
    assert (stage.calls, stage.retries, stage.failed) == (1, 1, 0)
    assert runner.answered == {"extract": 1} and runner.failures == []


async def test_a_failed_call_is_counted_and_kept_with_its_error() -> None:
    observer = Observer()
    runner = LLMRunner(Flaky(fail=True), model="gpt-4.1-mini", observer=observer)
    with pytest.raises(ServerError):
        await runner.structured(request(), Answer)
    assert observer.events[-1] == "failed"
    usage = runner.usage.snapshot()
    assert (usage.calls, usage.failed, usage.retries) == (0, 1, 1)
    (failure,) = runner.failures
    assert failure.request.context.chunk_id == "src-1:0"
    assert "503" in str(failure.error)


class Cached(Flaky):
    """Answers some requests from a store of its own: those cost nothing."""

    def __init__(self, free: set[str]) -> None:
        super().__init__()
        self.free = free

    def is_free(self, request: LLMRequest) -> bool:
        return request.key() in self.free


async def test_a_call_answered_from_a_cache_is_never_refused_by_the_budget() -> None:
    cached, fresh = request("cached"), request("fresh")
    runner = LLMRunner(Cached({cached.key()}), model="gpt-4.1-mini", max_cost=0.0)
    assert (await runner.structured(cached, Answer)).answer == "yes"
    with pytest.raises(BudgetExceededError):
        await runner.structured(fresh, Answer)


async def test_the_budget_reserves_the_estimate_briefer_estimate_prints() -> None:
    call = request("x " * 300)
    estimate = estimate_request_cost(call)
    assert (
        await LLMRunner(Flaky(), model="gpt-4.1-mini", max_cost=estimate).structured(call, Answer)
    ).answer == "yes"
    with pytest.raises(BudgetExceededError):
        await LLMRunner(Flaky(), model="gpt-4.1-mini", max_cost=estimate * 0.99).structured(
            call, Answer
        )


def test_a_budget_needs_a_price_for_the_model() -> None:
    with pytest.raises(ConfigError, match="no price is known for the model llama3"):
        LLMRunner(Flaky(), model="llama3", max_cost=1.0)
    LLMRunner(Flaky(), model="llama3")  # without a budget, an unpriced model is fine
