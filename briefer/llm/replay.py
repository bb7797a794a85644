"""``ReplayClient``: answers only from recordings, never opens a connection, needs no key."""

from __future__ import annotations

from pathlib import Path

from briefer.errors import ReplayMissError
from briefer.llm.base import LLMRequest, LLMResponse, normalize_base_url
from briefer.llm.store import Recording, RecordingStore

__all__ = ["ReplayClient"]


class ReplayClient:
    """Replies from the recordings in ``directory`` (``origin="replay"``).

    Requests are looked up as the client that recorded them sent them. ``model`` is the model
    that client sent, when it was not the request's own (``OpenAIClient("llama3.1:8b")``).
    ``base_url`` takes only the recordings made against that server. Without it, a request is
    looked up as sent to OpenAI's API (how recordings made with the defaults,
    ``examples/recordings`` among them, are keyed), and else as sent to whatever server the
    directory's recordings were made against, so that recordings made against a local server
    replay in CI with no server and no URL; a request recorded against two servers then needs
    ``base_url`` to choose.

    A request with no recording raises ``ReplayMissError`` naming the stage, source, chunk and
    key, and how to record it.
    """

    def __init__(
        self, directory: Path | str, *, base_url: str | None = None, model: str | None = None
    ) -> None:
        self.store = RecordingStore(directory)
        self.endpoint = normalize_base_url(base_url)
        self.model = model
        self.requests: list[LLMRequest] = []
        self._by_request: dict[str, list[str]] | None = None  # read at the first miss

    def bind(self, request: LLMRequest) -> LLMRequest:
        model = self.model or request.model
        if request.model == model and request.endpoint == self.endpoint:
            return request
        return request.model_copy(update={"model": model, "endpoint": self.endpoint})

    def is_free(self, request: LLMRequest) -> bool:
        """Always: a replay never makes a paid call."""
        return True

    async def complete(self, request: LLMRequest) -> LLMResponse:
        request = self.bind(request)
        self.requests.append(request)
        key = request.key()
        recording = self.store.get(key)
        if recording is None and self.endpoint is None:
            recording = self._recorded_against_another_server(request)
        if recording is None:
            raise self._miss(request, "")
        return recording.to_response("replay")

    def _recorded_against_another_server(self, request: LLMRequest) -> Recording | None:
        if self._by_request is None:
            self._by_request = self.store.by_request()
        found = [k for k in self._by_request.get(request.key(), []) if k != request.key()]
        if len(found) > 1:
            raise self._miss(
                request,
                f"; it was recorded against {len(found)} servers: replay with the base URL "
                "of the one to use",
            )
        return self.store.get(found[0]) if found else None

    def _miss(self, request: LLMRequest, why: str) -> ReplayMissError:
        ctx = request.context
        what = ctx.stage
        if ctx.source_id:
            what += f" of {ctx.source_id}"
        if ctx.chunk_id:
            what += f" chunk {ctx.chunk_id}"
        where = self.store.directory
        key = request.key()
        if not why:
            other = f", or was recorded against another server than {self.endpoint}"
            why = f"; the request changed{other if self.endpoint else ''} or was never recorded"
        return ReplayMissError(
            f"no recording for {what} (key {key}) in {where}{why}: run once with --record "
            f"{where} and an API key",
            key=key,
            stage=ctx.stage,
            source_id=ctx.source_id,
            chunk_id=ctx.chunk_id,
        )
