"""The API key is used, and never written: not in recordings, the cache, or error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from llm_helpers import Answer, make_request

from briefer.errors import BrieferError
from briefer.llm.structured import LLMRunner
from briefer.settings import build_client, load_settings
from briefer.testing import FakeOpenAIServer, FakeReply

SENTINEL = "sk-test-SENTINEL-0123456789"


async def test_key_reaches_the_server_and_nothing_else(
    server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SENTINEL)
    settings = load_settings(
        base_url=server.base_url,
        record_dir=tmp_path / "rec",
        cache_dir=tmp_path / "cache",
        max_retries=1,
    )
    runner = LLMRunner(build_client(settings), model=settings.model)
    await runner.structured(make_request("fine"), Answer)

    messages: list[str] = []
    server.enqueue(
        FakeReply.http_error(401, f"Incorrect API key provided: {SENTINEL}"),
        FakeReply.http_error(400, f"Bad request for key {SENTINEL}"),
        FakeReply.server_error(500),
        FakeReply.server_error(500),
        FakeReply.json('{"headline": 1}'),
        FakeReply.json('{"headline": 2}'),
        FakeReply.json('{"headline": 3}'),
    )
    for text in ("auth", "bad", "down", "invalid"):
        with pytest.raises(BrieferError) as caught:
            await runner.structured(make_request(text), Answer)
        messages.append(str(caught.value))
        messages.append(repr(caught.value))

    assert server.requests[0].sent_key(SENTINEL)
    assert all(r.headers["authorization"] == "Bearer ***" for r in server.requests)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    # recorded: the good reply, and the invalid one with its two repairs; cached: the good
    # reply only (a call that ended invalid is dropped from the cache, to be asked again)
    assert len(written) == (1 + 3) + 1
    for path in written:
        assert SENTINEL not in path.read_text(encoding="utf-8"), path
    for message in messages:
        assert SENTINEL not in message and "SENTINEL" not in message, message
    assert not any(SENTINEL in str(r.body) for r in server.requests)
