"""Benchmark the batch engine: N extraction requests through the fake server's Batch API.

    .venv/bin/python scripts/bench_batch.py [--requests 10000] [--max-lines 50000]

The fake server runs in a process of its own, so what is measured is briefer's side only:

1. Peak memory (tracemalloc) of queueing N requests, writing their JSONL, uploading it,
   downloading and indexing the replies and answering every request from them, next to the
   size of the JSONL: the lines are streamed to and from disk, never held.
2. briefer's own CPU time per 1,000 requests, by step (queue + write the lines, upload, check
   and download + index, answer + validate + store in the cache), and the wall time.
3. The cost ratio batch / direct of the N requests, from the price table.

The requests are real extraction requests (the extraction prompt and schema, an article of
examples/articles), each one's article text made distinct.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

from briefer.extraction import build_extraction_request
from briefer.ingestion import load_sources
from briefer.llm import (
    BatchClient,
    BatchLimits,
    CachingClient,
    LLMRequest,
    Message,
    OpenAIClient,
    ReplyPendingError,
)
from briefer.llm.openai import Endpoint
from briefer.llm.pricing import estimate_request_cost
from briefer.llm.structured import validate_reply
from briefer.models import ExtractionReply
from briefer.pipeline import BriefOptions, plan_chunks

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "continental-ledger-2022-01-15.txt"

SERVER = """
import sys
from briefer.testing import FakeOpenAIServer
server = FakeOpenAIServer(state_dir=sys.argv[1]).start()
print(server.base_url, flush=True)
sys.stdin.read()
server.close()
"""


def base_request(model: str) -> LLMRequest:
    loaded = load_sources([str(ARTICLE)])
    (document,) = loaded.documents
    chunk = plan_chunks([document], BriefOptions(model=model))[document.id][0]
    return build_extraction_request(document, chunk, model=model)


def requests(base: LLMRequest, count: int) -> Iterator[LLMRequest]:
    """``count`` distinct requests, made one at a time (none is kept)."""
    system, user = base.messages
    for n in range(count):
        text = user.content.replace("</article>", f"\n(Edition {n}.)\n</article>")
        yield base.model_copy(update={"messages": (system, Message(role="user", content=text))})


async def bench(count: int, max_lines: int, work: Path, *, trace: bool) -> None:
    """One run; with ``trace``, its peak memory (tracemalloc slows it: times are not kept)."""
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(work / "server")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        model = "gpt-4.1-mini"
        base = base_request(model)
        endpoint = Endpoint(base_url=base_url, api_key="sk-bench", timeout=600)
        cache = CachingClient(OpenAIClient(endpoint=endpoint), work / "cache")
        client = BatchClient(cache, poll=0.2, limits=BatchLimits(lines=max_lines))
        cpu: dict[str, float] = {}

        def step(name: str, started: float) -> None:
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - started

        if trace:
            tracemalloc.start()
        wall = time.perf_counter()
        started = time.process_time()
        for request in requests(base, count):
            with contextlib.suppress(ReplyPendingError):
                await client.complete(request)
        step("queue and write the lines", started)
        started = time.process_time()
        refs = await client._submit()
        step("upload", started)
        jsonl = sum(p.bytes for s in client._submissions.values() for p in s.parts)
        server_started = time.perf_counter()
        started = time.process_time()
        assert await client._collect(refs)
        step("check, download and index", started)
        waited = time.perf_counter() - server_started
        started = time.process_time()
        invalid = 0
        for request in requests(base, count):
            reply = await client.complete(request)
            try:
                validate_reply(reply.content, request.response_schema, ExtractionReply)
            except ValueError:
                invalid += 1
        step("answer, validate and store in the cache", started)
        wall = time.perf_counter() - wall
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        client._close_used()
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)

    if trace:
        print(f"peak memory (tracemalloc, briefer's side): {peak / 1e6:.1f} MB")
        return
    direct = sum(estimate_request_cost(r) for r in requests(base, count))
    batched = sum(estimate_request_cost(r, tier="batch") for r in requests(base, count))
    total_cpu = sum(cpu.values())
    parts = -(-count // max_lines)
    size = f"JSONL {jsonl / 1e6:.1f} MB"
    print(f"{count:,} extraction requests ({model}), {parts} batch file(s), {size}")
    print("briefer's CPU time per 1,000 requests:")
    for name, seconds in cpu.items():
        print(f"  {name:<42} {seconds / count * 1000:7.3f} s")
    print(f"  {'total':<42} {total_cpu / count * 1000:7.3f} s")
    print(f"wall time {wall:.1f} s, of which {waited:.1f} s waiting for the fake server's batch")
    print(f"replies that failed validation: {invalid} (made up by the fake server)")
    print(
        f"cost from the price table: direct ${direct:.2f}, batch ${batched:.2f}, "
        f"ratio {batched / direct:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--max-lines", type=int, default=50_000)
    args = parser.parse_args()
    for trace in (False, True):
        with tempfile.TemporaryDirectory(prefix="bench-batch-") as work:
            asyncio.run(bench(args.requests, args.max_lines, Path(work), trace=trace))


if __name__ == "__main__":
    main()
