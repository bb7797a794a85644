"""LLM clients: the protocol, the runner, and the implementations.

``OpenAIClient`` and ``Endpoint`` are imported on first use, so that replaying or using the fakes
never pays for importing the ``openai`` SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from briefer.llm.base import (
    LLMClient,
    LLMRequest,
    LLMResponse,
    Message,
    RequestContext,
    TokenUsage,
    bind_request,
)
from briefer.llm.fake import FakeClient, FunctionClient
from briefer.llm.recording import CachingClient, RecordingClient
from briefer.llm.replay import ReplayClient
from briefer.llm.store import Recording, RecordingStore, default_cache_dir
from briefer.llm.structured import (
    LLMRunner,
    UsageMeter,
    complete_sync,
    gather_in_order,
    run_sync,
)

if TYPE_CHECKING:
    from briefer.llm.openai import Endpoint, OpenAIClient

__all__ = [
    "CachingClient",
    "Endpoint",
    "FakeClient",
    "FunctionClient",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "LLMRunner",
    "Message",
    "OpenAIClient",
    "Recording",
    "RecordingClient",
    "RecordingStore",
    "ReplayClient",
    "RequestContext",
    "TokenUsage",
    "UsageMeter",
    "bind_request",
    "complete_sync",
    "default_cache_dir",
    "gather_in_order",
    "run_sync",
]

_LAZY = {"Endpoint", "OpenAIClient"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from briefer.llm import openai as _openai

        return getattr(_openai, name)
    raise AttributeError(f"module 'briefer.llm' has no attribute {name!r}")
