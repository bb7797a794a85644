"""LLM clients: the protocol, the runner, and the implementations.

Every name is imported on first use, so that replaying or using the fakes never pays for
importing the ``openai`` SDK, and a module that needs the request types does not import the
runner's validators.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from briefer.llm.openai import Endpoint, OpenAIClient
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

_WHERE: dict[str, str] = {
    "CachingClient": "briefer.llm.recording",
    "Endpoint": "briefer.llm.openai",
    "FakeClient": "briefer.llm.fake",
    "FunctionClient": "briefer.llm.fake",
    "LLMClient": "briefer.llm.base",
    "LLMRequest": "briefer.llm.base",
    "LLMResponse": "briefer.llm.base",
    "LLMRunner": "briefer.llm.structured",
    "Message": "briefer.llm.base",
    "OpenAIClient": "briefer.llm.openai",
    "Recording": "briefer.llm.store",
    "RecordingClient": "briefer.llm.recording",
    "RecordingStore": "briefer.llm.store",
    "ReplayClient": "briefer.llm.replay",
    "RequestContext": "briefer.llm.base",
    "TokenUsage": "briefer.llm.base",
    "UsageMeter": "briefer.llm.structured",
    "bind_request": "briefer.llm.base",
    "complete_sync": "briefer.llm.structured",
    "default_cache_dir": "briefer.llm.store",
    "gather_in_order": "briefer.llm.structured",
    "run_sync": "briefer.llm.structured",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'briefer.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
