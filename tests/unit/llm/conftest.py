"""Fixtures for the LLM layer: a fake OpenAI server on loopback, a key, clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llm_helpers import TEST_KEY, ClientFactory

from briefer.llm.openai import Endpoint, OpenAIClient, forget_json_modes
from briefer.testing import FakeOpenAIServer


@pytest.fixture(autouse=True)
def _fresh_json_modes() -> Iterator[None]:
    forget_json_modes()
    yield
    forget_json_modes()


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    return TEST_KEY


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def make_client(server: FakeOpenAIServer) -> ClientFactory:
    """OpenAIClient for ``server`` with short backoffs, so retry tests take milliseconds."""

    def make(*, timeout: float = 5.0, max_retries: int = 3, **kw: Any) -> OpenAIClient:
        endpoint = Endpoint(base_url=server.base_url, timeout=timeout)
        kw.setdefault("backoff_base", 0.01)
        kw.setdefault("backoff_max", 0.05)
        return OpenAIClient(endpoint=endpoint, max_retries=max_retries, **kw)

    return make
