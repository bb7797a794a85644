"""Recordings: one JSON file per request, named by the request's key, written atomically.

The same directory format serves ``--record``/``--replay`` and the response cache. A file is
``<key>.json`` holding a ``Recording`` (``schemas/recording.schema.json``); it never holds an API
key or a header, only the canonical request, who asked (``context``) and the reply.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from briefer._files import write_atomic
from briefer.errors import ConfigError
from briefer.llm.base import LLMRequest, LLMResponse, Message, RequestContext, TokenUsage

__all__ = [
    "RECORDING_FORMAT",
    "RecordedRequest",
    "RecordedResponse",
    "Recording",
    "RecordingStore",
    "default_cache_dir",
]

RECORDING_FORMAT: Literal["briefer-recording/1"] = "briefer-recording/1"


class RecordedRequest(BaseModel):
    """``LLMRequest.canonical()`` plus the context it was asked in."""

    model_config = ConfigDict(extra="forbid")

    model: str
    messages: list[Message]
    schema_name: str
    response_schema: dict[str, Any]
    prompt_version: str
    temperature: float
    seed: int | None
    max_tokens: int | None
    context: RequestContext


class RecordedResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    content: str | None
    refusal: str | None
    finish_reason: str
    usage: TokenUsage
    model: str | None


class Recording(BaseModel):
    """One request and the reply the server gave to it."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["briefer-recording/1"] = RECORDING_FORMAT
    key: str = Field(description="LLMRequest.key() of the request; also the file's name.")
    recorded_at: dt.datetime
    request: RecordedRequest
    response: RecordedResponse

    @classmethod
    def of(cls, request: LLMRequest, response: LLMResponse) -> Recording:
        return cls(
            key=request.key(),
            recorded_at=dt.datetime.now(dt.UTC),
            # The endpoint is in the key (the file's name); the recording format holds the
            # fields of a request to the default endpoint.
            request=RecordedRequest.model_validate(
                {
                    **{k: v for k, v in request.canonical().items() if k != "endpoint"},
                    "context": request.context,
                }
            ),
            response=RecordedResponse(
                content=response.content,
                refusal=response.refusal,
                finish_reason=response.finish_reason,
                usage=response.usage,
                model=response.model,
            ),
        )

    def to_response(self, origin: Literal["replay", "cache"]) -> LLMResponse:
        r = self.response
        return LLMResponse(
            content=r.content,
            refusal=r.refusal,
            finish_reason=r.finish_reason,
            usage=r.usage,
            model=r.model,
            origin=origin,
        )


def default_cache_dir() -> Path:
    """The user cache directory's ``briefer/responses`` (``BRIEFER_CACHE_DIR`` and the config
    file's ``cache_dir`` are read by ``briefer.settings``, which passes the directory)."""
    return Path(platformdirs.user_cache_dir("briefer")) / "responses"


class RecordingStore:
    """A directory of recordings, read and written by request key."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory).expanduser()

    def path_for(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError(f"not a request key: {key!r}")
        return self.directory / f"{key}.json"

    def get(self, key: str) -> Recording | None:
        """The recording for ``key``, None if there is none; ConfigError if it is unreadable."""
        path = self.path_for(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            recording = Recording.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = "/".join(map(str, first["loc"])) or "(root)"
            raise ConfigError(
                f"{path} is not a valid recording ({where}: {first['msg']}); "
                "delete it to record again"
            ) from None
        if recording.key != key:
            raise ConfigError(f"{path} holds the recording of {recording.key}; delete or rename it")
        return recording

    def put(self, recording: Recording) -> Path:
        path = self.path_for(recording.key)
        write_atomic(path, recording.model_dump_json(indent=2) + "\n")
        return path

    def remove(self, key: str) -> None:
        """Delete the recording of ``key``, if there is one."""
        self.path_for(key).unlink(missing_ok=True)

    def keys(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def by_request(self) -> dict[str, list[str]]:
        """The recordings' keys by the key their request has when sent to OpenAI's API (the
        file's own key for a recording made there; another for one made against another
        server, whose endpoint is in its key only). Damaged files are left out."""
        found: dict[str, list[str]] = {}
        for key in self.keys():
            try:
                recording = self.get(key)
            except (ConfigError, ValueError):
                continue
            if recording is None:
                continue
            recorded = recording.request
            request = LLMRequest(
                model=recorded.model,
                messages=tuple(recorded.messages),
                schema_name=recorded.schema_name,
                response_schema=recorded.response_schema,
                prompt_version=recorded.prompt_version,
                temperature=recorded.temperature,
                seed=recorded.seed,
                max_tokens=recorded.max_tokens,
            )
            found.setdefault(request.key(), []).append(key)
        return found
