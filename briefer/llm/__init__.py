"""LLM clients: the protocol, the runner, and the implementations.

``BatchClient`` answers a run's calls with batches (the OpenAI Batch API, or vLLM's
``run-batch`` through ``export_to`` and ``import_results``); ``run_in_batches`` makes a run in
as many passes as its batches take (the pipeline does, for a client stack that holds one).

Every name is imported on first use, so that replaying or using the fakes never pays for
importing the ``openai`` SDK, and a module that needs the request types does not import the
runner's validators.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from briefer.llm._batch import (
        BatchClient,
        BatchEngine,
        ImportReport,
        OpenAIBatchEngine,
        find_batch_client,
        import_results,
        run_in_batches,
    )
    from briefer.llm._batch_files import BatchLimits
    from briefer.llm._pending import BatchPendingError, BatchState, ReplyPendingError
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
    "BatchClient",
    "BatchEngine",
    "BatchLimits",
    "BatchPendingError",
    "BatchState",
    "CachingClient",
    "Endpoint",
    "FakeClient",
    "FunctionClient",
    "ImportReport",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "LLMRunner",
    "Message",
    "OpenAIBatchEngine",
    "OpenAIClient",
    "Recording",
    "RecordingClient",
    "RecordingStore",
    "ReplayClient",
    "ReplyPendingError",
    "RequestContext",
    "TokenUsage",
    "UsageMeter",
    "bind_request",
    "complete_sync",
    "default_cache_dir",
    "find_batch_client",
    "gather_in_order",
    "import_results",
    "run_in_batches",
    "run_sync",
]

_WHERE: dict[str, str] = {
    "BatchClient": "briefer.llm._batch",
    "BatchEngine": "briefer.llm._batch",
    "BatchLimits": "briefer.llm._batch_files",
    "BatchPendingError": "briefer.llm._pending",
    "BatchState": "briefer.llm._pending",
    "CachingClient": "briefer.llm.recording",
    "Endpoint": "briefer.llm.openai",
    "FakeClient": "briefer.llm.fake",
    "FunctionClient": "briefer.llm.fake",
    "ImportReport": "briefer.llm._batch",
    "LLMClient": "briefer.llm.base",
    "LLMRequest": "briefer.llm.base",
    "LLMResponse": "briefer.llm.base",
    "LLMRunner": "briefer.llm.structured",
    "Message": "briefer.llm.base",
    "OpenAIBatchEngine": "briefer.llm._batch",
    "OpenAIClient": "briefer.llm.openai",
    "Recording": "briefer.llm.store",
    "RecordingClient": "briefer.llm.recording",
    "RecordingStore": "briefer.llm.store",
    "ReplayClient": "briefer.llm.replay",
    "ReplyPendingError": "briefer.llm._pending",
    "RequestContext": "briefer.llm.base",
    "TokenUsage": "briefer.llm.base",
    "UsageMeter": "briefer.llm.structured",
    "bind_request": "briefer.llm.base",
    "complete_sync": "briefer.llm.structured",
    "default_cache_dir": "briefer.llm.store",
    "find_batch_client": "briefer.llm._batch",
    "gather_in_order": "briefer.llm.structured",
    "import_results": "briefer.llm._batch",
    "run_in_batches": "briefer.llm._batch",
    "run_sync": "briefer.llm.structured",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'briefer.llm' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
