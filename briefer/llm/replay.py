"""``ReplayClient``: answers only from recordings, never opens a connection, needs no key."""

from __future__ import annotations

from pathlib import Path

from briefer.errors import ReplayMissError
from briefer.llm.base import LLMRequest, LLMResponse
from briefer.llm.store import RecordingStore

__all__ = ["ReplayClient"]


class ReplayClient:
    """Replies from the recordings in ``directory`` (``origin="replay"``).

    A request with no recording raises ``ReplayMissError`` naming the stage, source, chunk and
    key, and how to record it.
    """

    def __init__(self, directory: Path | str) -> None:
        self.store = RecordingStore(directory)
        self.requests: list[LLMRequest] = []

    async def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        key = request.key()
        recording = self.store.get(key)
        if recording is None:
            ctx = request.context
            what = ctx.stage
            if ctx.source_id:
                what += f" of {ctx.source_id}"
            if ctx.chunk_id:
                what += f" chunk {ctx.chunk_id}"
            where = self.store.directory
            raise ReplayMissError(
                f"no recording for {what} (key {key}) in {where}; the request changed or was "
                f"never recorded: run once with --record {where} and an API key",
                key=key,
                stage=ctx.stage,
                source_id=ctx.source_id,
                chunk_id=ctx.chunk_id,
            )
        return recording.to_response("replay")
