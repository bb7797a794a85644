"""Settings merge defaults < file < environment < flags; build_client assembles the stack."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from llm_helpers import Answer, make_request

from briefer.errors import AuthError, ConfigError
from briefer.llm.openai import OpenAIClient
from briefer.llm.recording import CachingClient, RecordingClient
from briefer.llm.replay import ReplayClient
from briefer.llm.structured import LLMRunner
from briefer.settings import build_client, load_settings
from briefer.testing import FakeOpenAIServer


def _write_config(text: str) -> Path:
    path = Path(os.environ["BRIEFER_CONFIG"])
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    settings = load_settings()
    assert (settings.model, settings.concurrency, settings.max_repairs) == ("gpt-4.1-mini", 8, 2)
    assert settings.cache is True and settings.max_cost is None and settings.timeout == 60.0


def test_file_then_environment_then_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    _write_config(
        'model = "gpt-4.1"\nconcurrency = 4\nmax_cost = 1.5\ntimeout = 30\n'
        "[prices.my-model]\ninput = 1.0\noutput = 2.0\ncached_input = 0.5\n"
    )
    settings = load_settings()
    assert (settings.model, settings.concurrency, settings.max_cost) == ("gpt-4.1", 4, 1.5)
    assert settings.price_table()["my-model"].output == 2.0

    monkeypatch.setenv("BRIEFER_CONCURRENCY", "12")
    monkeypatch.setenv("BRIEFER_MODEL", "gpt-4.1-nano")
    monkeypatch.setenv("BRIEFER_CACHE", "off")
    settings = load_settings()
    assert (settings.model, settings.concurrency, settings.cache) == ("gpt-4.1-nano", 12, False)
    assert settings.timeout == 30

    settings = load_settings(concurrency=2, model=None, max_cost=None)  # None: flag not given
    assert (settings.model, settings.concurrency, settings.max_cost) == ("gpt-4.1-nano", 2, 1.5)


def test_bad_values_name_where_they_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFER_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="concurrency from BRIEFER_CONCURRENCY"):
        load_settings()
    monkeypatch.delenv("BRIEFER_CONCURRENCY")
    with pytest.raises(ConfigError, match="--max-cost"):
        load_settings(max_cost=-1)
    path = _write_config('modle = "gpt-4.1"\n')
    with pytest.raises(ConfigError, match=f"unknown setting.*modle.*{path.name}"):
        load_settings()
    _write_config("model = \n")
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_settings()


def test_replay_stack_needs_no_key(tmp_path: Path) -> None:
    client = build_client(load_settings(replay_dir=tmp_path, record_dir=tmp_path / "r"))
    assert isinstance(client, ReplayClient)


def test_default_stack_is_recording_over_cache_over_openai(tmp_path: Path) -> None:
    # Recording is outermost, so it keeps the replies the cache answers too.
    client = build_client(load_settings(record_dir=tmp_path / "rec"))
    assert isinstance(client, RecordingClient)
    assert isinstance(client.inner, CachingClient)
    assert client.inner.store.directory == Path(os.environ["BRIEFER_CACHE_DIR"])
    assert isinstance(client.inner.inner, OpenAIClient)
    assert isinstance(build_client(load_settings(cache=False)), OpenAIClient)


async def test_a_fully_cached_run_needs_no_key_and_a_miss_asks_for_one_off_this_machine(
    server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-abcdef123456")
    settings = load_settings(base_url=server.base_url)
    await LLMRunner(build_client(settings), model=settings.model).structured(make_request(), Answer)
    assert len(server.requests) == 1

    monkeypatch.delenv("OPENAI_API_KEY")
    runner = LLMRunner(build_client(settings), model=settings.model)
    assert isinstance(await runner.structured(make_request(), Answer), Answer)
    assert len(server.requests) == 1 and runner.usage.snapshot().cached_calls == 1
    # A miss goes to the server; one on this machine takes no key.
    await runner.structured(make_request("not cached"), Answer)
    assert len(server.requests) == 2 and server.requests[1].sent_key("no-key-needed")
    remote = load_settings(base_url="https://models.example.invalid/v1")
    with pytest.raises(AuthError, match="OPENAI_API_KEY is not set"):
        await LLMRunner(build_client(remote), model=remote.model).structured(
            make_request("not cached"), Answer
        )
