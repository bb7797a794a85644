"""LLM clients: the protocol, the runner, and the implementations."""

from briefer.llm.base import LLMClient, LLMRequest, LLMResponse, Message, RequestContext, TokenUsage
from briefer.llm.fake import FakeClient, FunctionClient
from briefer.llm.structured import LLMRunner, UsageMeter

__all__ = [
    "FakeClient",
    "FunctionClient",
    "LLMClient",
    "LLMRequest",
    "LLMResponse",
    "LLMRunner",
    "Message",
    "RequestContext",
    "TokenUsage",
    "UsageMeter",
]
