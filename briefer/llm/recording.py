"""Clients that write what they see: ``RecordingClient`` (write-through) and ``CachingClient``
(read-through). Both use a ``RecordingStore``, so a cache directory can be replayed and a
recording directory can serve as a cache.

Both key a request as the client they wrap will send it (``bind_request``): with the model it
sends and the server it asks, so two servers serving a model of one name never share replies.
"""

from __future__ import annotations

import logging
from pathlib import Path

from briefer.errors import ConfigError
from briefer.llm.base import LLMClient, LLMRequest, LLMResponse, bind_request
from briefer.llm.store import Recording, RecordingStore, default_cache_dir

__all__ = ["CachingClient", "RecordingClient"]

log = logging.getLogger(__name__)


class RecordingClient:
    """Calls ``inner`` and writes each reply it gets (refusals and truncations too, not errors)."""

    def __init__(self, inner: LLMClient, directory: Path | str) -> None:
        self.inner = inner
        self.store = RecordingStore(directory)

    def bind(self, request: LLMRequest) -> LLMRequest:
        return bind_request(self.inner, request)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        request = self.bind(request)
        response = await self.inner.complete(request)
        self.store.put(Recording.of(request, response))
        return response

    def is_free(self, request: LLMRequest) -> bool:
        """Whether ``inner`` answers ``request`` without a paid call (from a cache)."""
        is_free = getattr(self.inner, "is_free", None)
        return bool(is_free(request)) if callable(is_free) else False

    def forget(self, request: LLMRequest) -> None:
        """Passed on to ``inner`` (a cache drops the reply). The recording stays: it is a reply
        the run used, and replaying it must end the same way."""
        forget = getattr(self.inner, "forget", None)
        if callable(forget):
            forget(request)


class CachingClient:
    """Answers from ``directory`` when it holds the request (``origin="cache"``), else asks
    ``inner`` and stores the reply. Errors are never cached; replies that ended in failure are
    dropped again through ``forget``."""

    def __init__(self, inner: LLMClient, directory: Path | str | None = None) -> None:
        self.inner = inner
        self.store = RecordingStore(directory if directory is not None else default_cache_dir())

    def bind(self, request: LLMRequest) -> LLMRequest:
        return bind_request(self.inner, request)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        request = self.bind(request)
        key = request.key()
        try:
            recording = self.store.get(key)
        except ConfigError as exc:
            log.warning("ignoring a damaged cache entry: %s", exc)
            recording = None
        if recording is not None:
            return recording.to_response("cache")
        response = await self.inner.complete(request)
        self.store.put(Recording.of(request, response))
        return response

    def is_free(self, request: LLMRequest) -> bool:
        """Whether ``request`` is answered from the cache (costs nothing)."""
        try:
            return self.store.get(self.bind(request).key()) is not None
        except ConfigError:
            return False

    def forget(self, request: LLMRequest) -> None:
        """Drop the cached reply to ``request`` so the next run asks again: called for replies
        that ended in failure (refused, still invalid, cut off beyond splitting)."""
        self.store.remove(self.bind(request).key())
