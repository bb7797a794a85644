"""The batch client over real HTTP: a run's calls queued, split into files, uploaded and
submitted through the openai SDK to the fake server's Batch API, the replies matched by
custom_id, kept in the cache, failures per request, resuming by the kept ids."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from llm_helpers import Answer, make_request

from briefer.errors import BrieferError
from briefer.llm import (
    BatchClient,
    BatchLimits,
    BatchPendingError,
    CachingClient,
    OpenAIClient,
    RecordingStore,
    run_in_batches,
)
from briefer.llm.base import LLMRequest
from briefer.llm.openai import Endpoint
from briefer.llm.pricing import estimate_cost
from briefer.llm.structured import LLMRunner, gather_in_order
from briefer.testing import BatchScript, FakeOpenAIServer, FakeReply

pytestmark = pytest.mark.usefixtures("api_key")


def stack(server: FakeOpenAIServer, cache: Path, **batch: Any) -> tuple[BatchClient, CachingClient]:
    """BatchClient over a cache over the endpoint of ``server``: the stack --batch builds."""
    endpoint = Endpoint(base_url=server.base_url, timeout=5.0)
    cached = CachingClient(OpenAIClient(endpoint=endpoint, max_retries=1, backoff_base=0.01), cache)
    batch.setdefault("poll", 0.01)
    return BatchClient(cached, **batch), cached


def requests(count: int, prefix: str = "article") -> list[LLMRequest]:
    return [make_request(f"{prefix} {n}", chunk_id=f"src-{n}:0") for n in range(count)]


async def ask_all(
    client: BatchClient, asked: Sequence[LLMRequest], **runner: Any
) -> tuple[list[Answer | str], LLMRunner]:
    """One run: every request asked through a fresh runner; an error becomes its first line."""
    made: list[LLMRunner] = []

    async def once(progress: Any) -> list[Answer | str]:
        run = LLMRunner(client, model="gpt-4.1-mini", observer=progress, **runner)
        made.append(run)

        async def one(request: LLMRequest) -> Answer | str:
            try:
                return await run.structured(request, Answer)
            except BrieferError as exc:
                return str(exc)

        return await gather_in_order(one(r) for r in asked)

    result = await run_in_batches(client, once)
    return result, made[-1]


def batch_creations(server: FakeOpenAIServer) -> int:
    return sum(r.method == "POST" and r.path.endswith("/batches") for r in server.requests)


async def test_a_run_through_one_batch_is_answered_by_custom_id_and_kept_in_the_cache(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer() as server:
        client, cached = stack(server, tmp_path / "cache", run_label="brief today")
        results, runner = await ask_all(client, requests(5))

        assert all(isinstance(r, Answer) for r in results), results
        assert batch_creations(server) == 1
        assert not any(r.path.endswith("/chat/completions") for r in server.requests)
        created = next(r for r in server.requests if r.path.endswith("/batches"))
        assert created.body["completion_window"] == "24h"
        assert created.body["metadata"]["created_by"] == "briefer"
        assert created.body["metadata"]["briefer_run"] == "brief today"
        upload = next(r for r in server.requests if r.path.endswith("/files"))
        assert upload.body["_upload"]["purpose"] == "batch"
        assert sorted(RecordingStore(tmp_path / "cache").keys()) == sorted(
            client.bind(r).key() for r in requests(5)
        )
        usage = runner.usage.snapshot()
        assert usage.calls == 5 and usage.cached_calls == 0
        # The batch's reported usage, at the batch price (half the direct one).
        direct = estimate_cost("gpt-4.1-mini", usage.prompt_tokens, usage.completion_tokens)
        assert usage.cost_usd == pytest.approx(direct / 2)
        # The run is done: what it submitted is gone, its replies are in the cache.
        assert not list((tmp_path / "cache" / "batches" / "submissions").iterdir())

    # Again, with no server at all: every reply from the cache.
    with FakeOpenAIServer() as other:
        again, _ = stack(other, tmp_path / "cache")
        again.inner = cached  # the same endpoint as before, so the same keys
        second, runner = await ask_all(again, requests(5))
        assert second == results and runner.usage.snapshot().cached_calls == 5
        assert not other.requests


async def test_every_request_line_is_the_body_of_a_direct_call_under_its_key(
    tmp_path: Path,
) -> None:
    seen: list[dict[str, Any]] = []

    with FakeOpenAIServer() as server:

        def keep(body: dict[str, Any]) -> FakeReply:
            seen.append(body)
            return FakeReply.json({"headline": "x", "count": 1})

        server.handler = keep
        client, cached = stack(server, tmp_path / "cache")
        await ask_all(client, requests(2))
        in_batch = list(seen)
        seen.clear()
        direct = cached.inner
        assert isinstance(direct, OpenAIClient)
        for request in requests(2, prefix="other"):
            await direct.complete(request)
    assert sorted(b["messages"][1]["content"] for b in in_batch) == ["article 0", "article 1"]
    assert in_batch[0].keys() == seen[0].keys()
    assert in_batch[0]["response_format"]["type"] == "json_schema"
    assert in_batch[0]["response_format"]["json_schema"]["strict"] is True


async def test_requests_past_the_line_limit_go_in_more_batches(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        client, _ = stack(server, tmp_path / "cache", limits=BatchLimits(lines=2))
        results, _ = await ask_all(client, requests(5))
    assert all(isinstance(r, Answer) for r in results)
    assert batch_creations(server) == 3
    uploads = [r.body["_upload"]["bytes"] for r in server.requests if r.path.endswith("/files")]
    assert len(uploads) == 3


async def test_failed_and_expired_lines_fail_their_requests_and_the_next_run_asks_only_those(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer() as server:

        def some_fail(body: dict[str, Any]) -> FakeReply:
            text = body["messages"][-1]["content"]
            if text == "article 1":
                return FakeReply.http_error(400, "This request is not valid.", code="bad")
            return FakeReply.json({"headline": text, "count": 1})

        server.handler = some_fail
        # Two files of three: the first ends with one failed line, the second expires after
        # answering one of its three.
        server.script_batches(BatchScript(), BatchScript(outcome="expired", answered=1))
        client, _ = stack(server, tmp_path / "cache", limits=BatchLimits(lines=3))
        results, runner = await ask_all(client, requests(6))

        answered = [r for r in results if isinstance(r, Answer)]
        failed = [r for r in results if isinstance(r, str)]
        assert len(answered) == 3 and len(failed) == 3
        assert "failed it (400: This request is not valid." in results[1]
        assert sum("expired before answering it" in f for f in failed) == 2
        assert all(f.endswith("the next run submits it again") for f in failed)
        assert runner.usage.snapshot().failed == 3

        # The next run submits the three that are missing, and only those.
        server.handler = lambda body: FakeReply.json({"headline": "later", "count": 2})
        before = batch_creations(server)
        client, _ = stack(server, tmp_path / "cache", limits=BatchLimits(lines=3))
        again, runner = await ask_all(client, requests(6))
        assert all(isinstance(r, Answer) for r in again)
        assert batch_creations(server) == before + 1
        files = [r for r in server.requests if r.path.endswith("/files") and r.method == "POST"]
        last = files[-1].body["_upload"]["id"]
        lines = server.batches.file_data(last).read_text("utf-8").splitlines()
        assert len(lines) == 3
        assert runner.usage.snapshot().cached_calls == 3


async def test_a_failed_batch_fails_each_of_its_requests_with_the_reason(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        server.script_batches(BatchScript(outcome="failed", message="the file is too large"))
        client, _ = stack(server, tmp_path / "cache")
        results, _ = await ask_all(client, requests(2))
    why = "failed validation (the file is too large)"
    assert all(isinstance(r, str) and why in r for r in results)


async def test_without_waiting_the_run_stops_and_the_next_one_collects_the_same_batch(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer() as server:
        server.script_batches(BatchScript(polls=3))
        client, _ = stack(server, tmp_path / "cache", wait=False)
        with pytest.raises(BatchPendingError) as stopped:
            await ask_all(client, requests(4))
        assert stopped.value.requests == 4 and len(stopped.value.batches) == 1
        assert stopped.value.exit_code == 75
        assert "run the same command again later" in str(stopped.value)
        assert batch_creations(server) == 1

        client, _ = stack(server, tmp_path / "cache")
        results, _ = await ask_all(client, requests(4))
        assert all(isinstance(r, Answer) for r in results)
        assert batch_creations(server) == 1  # picked up by its id, never submitted twice


async def test_a_batch_whose_id_was_not_written_down_is_found_by_its_metadata(
    tmp_path: Path,
) -> None:
    with FakeOpenAIServer() as server:
        server.hold_batches()
        client, _ = stack(server, tmp_path / "cache", wait=False)
        with pytest.raises(BatchPendingError):
            await ask_all(client, requests(3))
        # As if the process died between creating the batch and writing its id down.
        (kept,) = (tmp_path / "cache" / "batches" / "submissions").glob("*/submission.json")
        state = json.loads(kept.read_text("utf-8"))
        state["parts"][0] |= {"batch_id": None, "creating": True, "status": None}
        kept.write_text(json.dumps(state), "utf-8")
        server.hold_batches(False)

        client, _ = stack(server, tmp_path / "cache")
        results, _ = await ask_all(client, requests(3))
    assert all(isinstance(r, Answer) for r in results)
    assert batch_creations(server) == 1


async def test_a_server_restarted_mid_batch_resumes_it_from_its_folder(tmp_path: Path) -> None:
    state = tmp_path / "server"
    with FakeOpenAIServer(state_dir=state) as first:
        port = int(first.base_url.rsplit(":", 1)[1].split("/")[0])
        first.hold_batches()
        client, _ = stack(first, tmp_path / "cache", wait=False)
        with pytest.raises(BatchPendingError):
            await ask_all(client, requests(3))
    with FakeOpenAIServer(state_dir=state, port=port) as second:
        client, _ = stack(second, tmp_path / "cache")
        results, _ = await ask_all(client, requests(3))
        assert all(isinstance(r, Answer) for r in results)
        assert batch_creations(second) == 0


async def test_repairs_go_in_a_second_batch_or_directly(tmp_path: Path) -> None:
    for route, batches, direct in (("batch", 2, 0), ("direct", 1, 1)):
        with FakeOpenAIServer() as server:
            # The first reply lacks a field; the repair is answered by the handler.
            server.enqueue(FakeReply.json({"headline": "no count"}))
            server.handler = lambda body: FakeReply.json({"headline": "fixed", "count": 3})
            client, _ = stack(server, tmp_path / route, repairs=route)
            results, runner = await ask_all(client, requests(1))
            assert results == [Answer(headline="fixed", count=3)]
            assert batch_creations(server) == batches
            chat = sum(r.path.endswith("/chat/completions") for r in server.requests)
            assert chat == direct
            assert runner.usage.snapshot().repairs == 1


async def test_queued_calls_are_held_to_the_budget_at_the_batch_price(tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        client, _ = stack(server, tmp_path / "cache", wait=False)
        from briefer.llm.pricing import estimate_request_cost

        one = estimate_request_cost(client.bind(requests(1)[0]), tier="batch")
        with pytest.raises(BatchPendingError) as stopped:
            await ask_all(client, requests(4), max_cost=one * 2.5)
    # Two fit in the budget; the others were refused before they were queued, as direct
    # calls past the budget are refused before they are sent.
    assert stopped.value.requests == 2
    assert batch_creations(server) == 1
