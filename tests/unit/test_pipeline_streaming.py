"""The pipeline streams: extraction starts while inputs are still being read, a slow URL stalls
neither the other inputs nor the event loop, and the result is the one reading everything
first would give."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers.web_server import WebServer, web_server
from reliability.support import answer_normally, fenced_article, quoting_reply, write_articles

import briefer
from briefer import BriefOptions, FetchPolicy
from briefer.errors import ConfigError
from briefer.ingestion import load_sources, stream_sources
from briefer.llm import Endpoint, OpenAIClient
from briefer.llm.base import LLMRequest
from briefer.pipeline import abrief, aextract
from briefer.testing import FakeOpenAIServer, FunctionClient

__all__ = ["web_server"]  # the fixture, imported so pytest finds it

ALLOW = BriefOptions(fetch=FetchPolicy(allow_private=True, read_timeout=5))
PAGE = (
    "<html><head><title>Ferry routes approved</title></head><body><article><p>The Harbour "
    "council approved six new ferry routes on Monday after a long debate.</p><p>The mayor "
    "said the first boats would sail in the spring, and the port welcomed the decision.</p>"
    "</article></body></html>"
)


def _quoting(request: LLMRequest) -> dict[str, Any]:
    """Records whose quotes are sentences of the request's article."""
    article = fenced_article({"messages": [m.model_dump() for m in request.messages]})
    assert article is not None
    return quoting_reply(article)


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait, without blocking the loop, until ``condition()`` holds."""
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


async def test_the_first_call_goes_out_while_a_slow_url_is_held(
    web_server: WebServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-streaming")
    slow = web_server.route("/slow", body=PAGE, hold=True)
    [article] = write_articles(tmp_path / "articles", 1)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    with FakeOpenAIServer(answer_normally) as model:
        client = OpenAIClient(endpoint=Endpoint(base_url=model.base_url))
        run = asyncio.ensure_future(abrief([slow, article], client=client, options=ALLOW))
        ticker = asyncio.ensure_future(tick())
        try:
            # The file's extraction reaches the model while the page is still held ...
            await _until(lambda: len(model.requests) >= 1)
            # ... and the loop keeps running other tasks while it waits for the page.
            before = ticks
            await asyncio.sleep(0.2)
            assert ticks - before >= 10
            assert [path for path, _ in web_server.requests] == ["/slow"]
            web_server.released.set()
            briefing = await run
        finally:
            ticker.cancel()
            await client.aclose()
    # The page answered after the first call had gone out, and still leads the briefing's
    # sources, as it leads the inputs.
    assert [s.url or s.path for s in briefing.sources] == [slow, str(article)]
    assert not briefing.excluded
    extraction_calls = [r for r in model.requests if "<article>" in str(r.body)]
    assert len(extraction_calls) == 2


async def test_documents_and_exclusions_keep_the_input_order(
    web_server: WebServer, tmp_path: Path
) -> None:
    slow = web_server.route("/slow", body=PAGE, hold=True)
    fast = web_server.route("/fast", body=PAGE.replace("six", "seven"))
    missing = web_server.url("/missing")
    first, second = write_articles(tmp_path / "articles", 2)
    inputs: list[str | Path] = [slow, first, missing, fast, second, tmp_path / "absent.txt"]
    started: list[str] = []

    def reply(request: LLMRequest) -> dict[str, Any]:
        started.append(request.context.source_id or "")
        if len(started) == 3:  # the others are in: the slow page may come now
            web_server.released.set()
        return _quoting(request)

    outcome = await aextract(inputs, client=FunctionClient(reply), options=ALLOW)
    expected = load_sources(inputs, fetch_policy=ALLOW.fetch)
    assert [d.id for d in outcome.documents] == [d.id for d in expected.documents]
    assert [d.source.url or d.source.path for d in outcome.documents] == [
        slow,
        str(first),
        fast,
        str(second),
    ]
    assert list(outcome.chunks) == [d.id for d in expected.documents]
    ingest = [e for e in outcome.excluded if e.stage == "ingest"]
    assert ingest == expected.excluded
    # The slow page was extracted last, though it is first.
    assert started[-1] == outcome.documents[0].id
    assert {e.source_id for e in outcome.extraction.events} == {d.id for d in outcome.documents}


async def test_a_copy_read_before_its_original_gives_way_to_it(
    web_server: WebServer, tmp_path: Path
) -> None:
    text = "Ferry routes approved\n\nThe Harbour council approved six new ferry routes on Monday.\n"
    original = web_server.route("/story", body=text, content_type="text/plain", hold=True)
    copy = tmp_path / "copy.txt"
    copy.write_text(text, encoding="utf-8")
    asked: list[str | None] = []

    def reply(request: LLMRequest) -> dict[str, Any]:
        asked.append(request.context.source_id)
        web_server.released.set()  # the copy is being extracted: now the original comes
        return _quoting(request)

    outcome = await aextract([original, copy], client=FunctionClient(reply), options=ALLOW)
    [document] = outcome.documents
    assert document.source.url == original
    [duplicate] = outcome.excluded
    assert (duplicate.input, duplicate.reason) == (str(copy), f"duplicate of {original}")
    # The copy's extraction ran before the original arrived; the original was extracted too,
    # and its records are the ones kept.
    assert asked == [document.id, document.id]
    assert outcome.extraction.events


async def test_the_stream_gives_documents_as_they_come_then_the_result(tmp_path: Path) -> None:
    paths = write_articles(tmp_path / "articles", 3)
    stream = stream_sources([*paths, tmp_path / "absent.txt"])
    with pytest.raises(RuntimeError, match="iterate the stream first"):
        _ = stream.result
    seen = [document async for document in stream]
    assert seen == stream.result.documents == load_sources(paths).documents
    assert [e.reason for e in stream.result.excluded] == ["no such file or directory"]


def test_the_sync_twins_take_what_the_async_ones_take() -> None:
    assert inspect.signature(briefer.brief) == inspect.signature(abrief)
    assert inspect.signature(briefer.extract) == inspect.signature(aextract)
    assert (briefer.brief.__name__, briefer.extract.__name__) == ("brief", "extract")


async def test_the_sync_twin_refuses_a_running_loop(tmp_path: Path) -> None:
    [article] = write_articles(tmp_path, 1)
    with pytest.raises((RuntimeError, ConfigError), match="running event loop"):
        briefer.brief([article], client=FunctionClient(lambda request: {}))
