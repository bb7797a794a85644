"""Test doubles for code built on briefer: no network, no key, deterministic.

- ``FakeClient``: schema-valid or scripted replies, remembers ``requests``.
- ``FunctionClient``: replies with a function of the request.
- ``FakeOpenAIServer`` and ``FakeReply``: a real HTTP server on 127.0.0.1 speaking the chat
  completions API, scriptable per request (rate limits, 5xx, timeouts, refusals …), to test
  code that talks to an OpenAI-compatible endpoint.
- ``reply_from_schema``: a value valid against a strict JSON Schema.
"""

from __future__ import annotations

from briefer.llm.fake import FakeClient, FunctionClient, Reply, reply_from_schema
from briefer.llm.fake_server import FakeOpenAIServer, FakeReply, ReceivedRequest, ReplyHandler

__all__ = [
    "FakeClient",
    "FakeOpenAIServer",
    "FakeReply",
    "FunctionClient",
    "ReceivedRequest",
    "Reply",
    "ReplyHandler",
    "reply_from_schema",
]
