"""Clients that write what they see: ``RecordingClient`` (write-through) and ``CachingClient``
(read-through). Both use a ``RecordingStore``, so a cache directory can be replayed and a
recording directory can serve as a cache.
"""

from __future__ import annotations

import logging
from pathlib import Path

from briefer.errors import ConfigError
from briefer.llm.base import LLMClient, LLMRequest, LLMResponse
from briefer.llm.store import Recording, RecordingStore, default_cache_dir

__all__ = ["CachingClient", "RecordingClient"]

log = logging.getLogger(__name__)


class RecordingClient:
    """Calls ``inner`` and writes each reply it gets (refusals and truncations too, not errors)."""

    def __init__(self, inner: LLMClient, directory: Path | str) -> None:
        self.inner = inner
        self.store = RecordingStore(directory)

    async def complete(self, request: LLMRequest) -> LLMResponse:
        response = await self.inner.complete(request)
        self.store.put(Recording.of(request, response))
        return response


class CachingClient:
    """Answers from ``directory`` when it holds the request (``origin="cache"``), else asks
    ``inner`` and stores the reply. Errors are never cached; replies that ended in failure are
    dropped again through ``forget``."""

    def __init__(self, inner: LLMClient, directory: Path | str | None = None) -> None:
        self.inner = inner
        self.store = RecordingStore(directory if directory is not None else default_cache_dir())
        self.hits = 0
        self.misses = 0

    async def complete(self, request: LLMRequest) -> LLMResponse:
        key = request.key()
        try:
            recording = self.store.get(key)
        except ConfigError as exc:
            log.warning("ignoring a damaged cache entry: %s", exc)
            recording = None
        if recording is not None:
            self.hits += 1
            return recording.to_response("cache")
        self.misses += 1
        response = await self.inner.complete(request)
        self.store.put(Recording.of(request, response))
        return response

    def forget(self, request: LLMRequest) -> None:
        """Drop the cached reply to ``request`` so the next run asks again: called for replies
        that ended in failure (refused, still invalid, cut off beyond splitting)."""
        self.store.remove(request.key())
