"""LLMRunner over real HTTP: repairs, counting, concurrency bound, order, budget, sync use."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from llm_helpers import Answer, ClientFactory, make_request

from briefer.errors import BudgetExceededError, InvalidReplyError
from briefer.llm.base import LLMRequest, LLMResponse
from briefer.llm.fake import FakeClient
from briefer.llm.pricing import Price, estimate_request_tokens
from briefer.llm.structured import (
    LLMRunner,
    complete_sync,
    estimate_request_cost,
    gather_in_order,
)
from briefer.testing import FakeOpenAIServer, FakeReply

pytestmark = pytest.mark.usefixtures("api_key")

VALID = {"headline": "Sanctions agreed", "count": 5}


async def test_malformed_json_content_is_repaired(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(
        FakeReply.json('{"headline": "Sanctions agreed", "count": '), FakeReply.json(VALID)
    )
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    result = await runner.structured(make_request(), Answer)

    assert result == Answer(**VALID)
    usage = runner.usage.snapshot()
    assert (usage.calls, usage.repairs) == (2, 1)
    assert usage.stages["extract"].calls == 2
    repair = server.requests[1].body["messages"]
    assert repair[-2] == {
        "role": "assistant",
        "content": '{"headline": "Sanctions agreed", "count": ',
    }
    assert "not valid JSON" in repair[-1]["content"]


async def test_schema_breaking_reply_is_repaired_with_the_errors_fed_back(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.json({"headline": "x", "count": "five"}), FakeReply.json(VALID))
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    assert await runner.structured(make_request(), Answer) == Answer(**VALID)
    feedback = server.requests[1].body["messages"][-1]["content"]
    assert "count: 'five' is not of type 'integer'" in feedback
    assert runner.usage.snapshot().repairs == 1


async def test_still_invalid_after_repairs_raises_invalid_reply(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.handler = lambda body: FakeReply.json({"headline": 1})
    runner = LLMRunner(make_client(), model="gpt-4.1-mini", max_repairs=2)
    with pytest.raises(InvalidReplyError) as caught:
        await runner.structured(make_request(), Answer)

    assert len(server.requests) == 3
    assert caught.value.reply == '{"headline": 1}'
    assert any("count" in e for e in caught.value.errors)
    assert caught.value.chunk_id == "src-abc:0"
    assert runner.usage.snapshot().repairs == 2


async def test_client_retries_are_counted_in_stage_usage(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(FakeReply.server_error(500), FakeReply.rate_limited(0.01), FakeReply.json(VALID))
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    await runner.structured(make_request(stage="compose"), Answer)
    usage = runner.usage.snapshot()
    assert usage.stages["compose"].retries == 2 and usage.retries == 2 and usage.calls == 1


async def test_usage_tokens_and_cost_are_summed_across_repairs(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    server.enqueue(
        FakeReply.json("{}", prompt_tokens=1000, completion_tokens=100),
        FakeReply.json(VALID, prompt_tokens=1200, completion_tokens=50, cached_tokens=1000),
    )
    runner = LLMRunner(make_client(), model="gpt-4.1-mini")
    await runner.structured(make_request(), Answer)
    usage = runner.usage.snapshot()
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (2200, 150, 1000)
    # gpt-4.1-mini: 0.40 in, 0.10 cached in, 1.60 out per million tokens
    expected = (1000 * 0.40 + 100 * 1.60 + 200 * 0.40 + 1000 * 0.10 + 50 * 1.60) / 1e6
    assert usage.cost_usd == pytest.approx(expected)


async def test_concurrency_bound_holds_at_the_server_and_order_is_kept(
    make_client: ClientFactory, server: FakeOpenAIServer
) -> None:
    # Later requests finish first: reply delay shrinks with the request's index.
    def handler(body: dict[str, Any]) -> FakeReply:
        index = int(body["messages"][-1]["content"].split()[-1])
        return FakeReply.slow(
            0.02 * (10 - index), json.dumps({"headline": f"n {index}", "count": index})
        )

    server.handler = handler
    runner = LLMRunner(make_client(), model="gpt-4.1-mini", concurrency=3)
    requests = [make_request(f"item {i}") for i in range(10)]
    results = await gather_in_order(runner.structured(r, Answer) for r in requests)

    assert [r.count for r in results] == list(range(10))
    assert server.max_in_flight == 3
    assert len(server.requests) == 10


async def test_gather_in_order_keeps_input_order_whatever_finishes_first() -> None:
    release = [asyncio.Event() for _ in range(5)]
    finished: list[int] = []

    async def job(i: int) -> int:
        await release[i].wait()
        finished.append(i)
        if i > 0:
            release[i - 1].set()
        return i * 10

    release[4].set()  # the last finishes first, then the one before it, and so on
    assert await gather_in_order(job(i) for i in range(5)) == [0, 10, 20, 30, 40]
    assert finished == [4, 3, 2, 1, 0]


async def test_gather_in_order_cancels_the_rest_on_failure() -> None:
    never = asyncio.Event()
    cancelled: list[bool] = []

    async def waits() -> int:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return 0

    async def fails() -> int:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await gather_in_order([waits(), fails()])
    assert cancelled == [True]


async def test_budget_refuses_before_sending(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    request = make_request(max_tokens=1000)
    estimate = estimate_request_cost(request)
    runner = LLMRunner(make_client(), model="gpt-4.1-mini", max_cost=estimate * 0.5)
    with pytest.raises(BudgetExceededError) as caught:
        await runner.structured(request, Answer)

    assert server.requests == []
    message = str(caught.value)
    assert "stopped before a call for extract of src-abc:0" in message
    assert "spent $0.0000 on 0 calls" in message and "--max-cost" in message
    assert caught.value.limit == pytest.approx(estimate * 0.5)


async def test_budget_lets_calls_run_until_the_next_would_pass_it(
    server: FakeOpenAIServer, make_client: ClientFactory
) -> None:
    request = make_request(max_tokens=1000)
    estimate = estimate_request_cost(request)
    # Each reply costs what it was estimated to: the budget then holds exactly.
    prompt, completion = estimate_request_tokens(request)
    server.handler = lambda body: FakeReply.json(
        VALID, prompt_tokens=prompt, completion_tokens=completion
    )
    runner = LLMRunner(make_client(), model="gpt-4.1-mini", max_cost=estimate * 2.5)
    await runner.structured(make_request("one", max_tokens=1000), Answer)
    spent = runner.usage.cost_usd
    assert spent > 0
    calls_made = 1
    with pytest.raises(BudgetExceededError) as caught:
        while True:
            await runner.structured(make_request(f"n{calls_made}", max_tokens=1000), Answer)
            calls_made += 1
    assert runner.usage.cost_usd <= runner.max_cost  # type: ignore[operator]
    assert len(server.requests) == calls_made
    assert caught.value.spent == pytest.approx(runner.usage.cost_usd)


async def test_budget_counts_calls_in_flight() -> None:
    gate = asyncio.Event()

    class Gated:
        """Replies only once the gate opens, so calls stay in flight together."""

        def __init__(self) -> None:
            self.requests: list[LLMRequest] = []

        async def complete(self, request: LLMRequest) -> LLMResponse:
            self.requests.append(request)
            await gate.wait()
            return LLMResponse(content=json.dumps(VALID))

    client = Gated()
    request = make_request()
    prices = {"gpt-4.1-mini": Price(input=1.0, output=1.0, cached_input=1.0)}
    estimate = estimate_request_cost(request, prices)
    runner = LLMRunner(client, model="gpt-4.1-mini", max_cost=estimate * 2.5, prices=prices)
    tasks = [
        asyncio.create_task(runner.structured(make_request(f"r{i}"), Answer)) for i in range(3)
    ]
    await asyncio.sleep(0)  # let all three reach the budget check
    await asyncio.sleep(0)
    gate.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(isinstance(o, BudgetExceededError) for o in outcomes) == 1
    assert len(client.requests) == 2


def test_complete_sync_runs_outside_a_loop() -> None:
    response = complete_sync(FakeClient(), make_request())
    assert Answer.model_validate_json(response.content or "")


async def test_complete_sync_refuses_inside_a_running_loop() -> None:
    with pytest.raises(RuntimeError, match="running event loop"):
        complete_sync(FakeClient(), make_request())


def test_openai_client_works_from_sync_code_across_loops(
    make_client: ClientFactory, server: FakeOpenAIServer
) -> None:
    client = make_client()
    complete_sync(client, make_request("first"))
    complete_sync(client, make_request("second"))  # a new loop: a new connection pool
    assert len(server.requests) == 2
