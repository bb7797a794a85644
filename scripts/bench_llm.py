"""Benchmark the client layer (LLMRunner + OpenAIClient) against FakeOpenAIServer.

    .venv/bin/python scripts/bench_llm.py [--calls 500] [--latency 0.2] [--latency-calls 100]

1. Throughput at zero server latency: calls per second through the whole layer (request
   building, the openai SDK over HTTP on loopback, parsing, jsonschema + pydantic validation).
2. Wall time of N calls at a fixed server latency for several concurrency bounds, next to the
   ideal ``ceil(N / c) * latency``.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
from typing import Any

from pydantic import BaseModel, ConfigDict

from briefer.llm.base import LLMRequest, Message
from briefer.llm.openai import Endpoint, OpenAIClient
from briefer.llm.structured import LLMRunner
from briefer.testing import FakeOpenAIServer

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "headline": {"type": "string"},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"text": {"type": "string"}, "score": {"type": "number"}},
                "required": ["text", "score"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["headline", "items"],
    "additionalProperties": False,
}


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    score: float


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headline: str
    items: list[Item]


def _request(i: int) -> LLMRequest:
    return LLMRequest(
        model="gpt-4.1-mini",
        messages=(
            Message(role="system", content="Extract the facts as JSON."),
            Message(role="user", content=f"Article {i}: " + "lorem ipsum " * 200),
        ),
        schema_name="reply",
        response_schema=SCHEMA,
        prompt_version="bench/v1",
        max_tokens=500,
    )


async def _run(server: FakeOpenAIServer, calls: int, concurrency: int) -> float:
    client = OpenAIClient(endpoint=Endpoint(base_url=server.base_url))
    runner = LLMRunner(client, model="gpt-4.1-mini", concurrency=concurrency)
    started = time.perf_counter()
    results = await runner.map([_request(i) for i in range(calls)], Reply)
    elapsed = time.perf_counter() - started
    await client.aclose()
    assert len(results) == calls and runner.usage.snapshot().calls == calls
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--latency-calls", type=int, default=100)
    parser.add_argument("--bounds", default="1,8,32")
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")

    with FakeOpenAIServer() as server:
        asyncio.run(_run(server, 20, args.concurrency))  # warm up imports and connections
        elapsed = asyncio.run(_run(server, args.calls, args.concurrency))
    print(f"throughput, zero latency: {args.calls} calls, concurrency {args.concurrency}")
    print(
        f"  {elapsed:.2f} s  = {args.calls / elapsed:,.0f} calls/s "
        f"({1000 * elapsed / args.calls:.2f} ms per call)"
    )
    print()
    n, latency = args.latency_calls, args.latency
    print(f"{n} calls at {latency * 1000:g} ms server latency")
    print(f"  {'concurrency':>11}  {'wall s':>8}  {'bound s':>8}  {'overhead':>8}")
    with FakeOpenAIServer(latency=latency) as server:
        for bound in (int(b) for b in args.bounds.split(",")):
            wall = asyncio.run(_run(server, n, bound))
            ideal = math.ceil(n / bound) * latency
            print(f"  {bound:>11}  {wall:>8.2f}  {ideal:>8.2f}  {100 * (wall / ideal - 1):>7.1f}%")


if __name__ == "__main__":
    main()
