"""Batch files: the JSONL lines of requests, written in parts within the API's limits, and the
lines of replies read back by ``custom_id``.

A request line is what the OpenAI Batch API and vLLM's ``run-batch`` both take::

    {"custom_id": "<request key>", "method": "POST", "url": "/v1/chat/completions",
     "body": <the chat completions body, exactly as a direct call sends it>}

A reply line (the output and error files of both) is ``{"id", "custom_id", "response":
{"status_code", "request_id", "body"}, "error"}``. Lines are written to disk as they come and
read back one at a time through an index of offsets, so a day's 50,000 requests are never held
in memory at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from briefer.errors import ConfigError
from briefer.llm.base import LLMResponse, TokenUsage

__all__ = [
    "BATCH_URL",
    "MAX_BATCH_BYTES",
    "MAX_BATCH_LINES",
    "BatchLimits",
    "LineResult",
    "PartFile",
    "PartWriter",
    "read_keys",
    "read_line_at",
    "read_result_line",
    "request_line",
    "response_from_body",
    "scan_results",
]

BATCH_URL = "/v1/chat/completions"
# The OpenAI Batch API's limits on one input file.
MAX_BATCH_LINES = 50_000
MAX_BATCH_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class BatchLimits:
    """Where a batch input file is cut: at most ``lines`` requests and ``bytes`` bytes."""

    lines: int = MAX_BATCH_LINES
    bytes: int = MAX_BATCH_BYTES

    def __post_init__(self) -> None:
        if not 1 <= self.lines <= MAX_BATCH_LINES:
            raise ConfigError(f"a batch holds 1 to {MAX_BATCH_LINES:,} requests, not {self.lines}")
        if not 1024 <= self.bytes <= MAX_BATCH_BYTES:
            raise ConfigError(
                f"a batch file holds 1 KiB to {MAX_BATCH_BYTES:,} bytes, not {self.bytes}"
            )


def request_line(key: str, body: Mapping[str, Any]) -> bytes:
    """One request line, newline included."""
    line = {"custom_id": key, "method": "POST", "url": BATCH_URL, "body": body}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


@dataclass
class PartFile:
    """One input file of a submission, and the keys of its lines in order (``.keys``)."""

    path: Path
    lines: int = 0
    bytes: int = 0

    @property
    def keys_path(self) -> Path:
        return self.path.with_suffix(".keys")


@dataclass
class PartWriter:
    """Writes request lines to ``folder/part-001.jsonl``, ``part-002.jsonl``…, starting a new
    part when the next line would pass a limit; the keys go beside each part, one a line."""

    folder: Path
    limits: BatchLimits = field(default_factory=BatchLimits)
    parts: list[PartFile] = field(default_factory=list)
    _lines: IO[bytes] | None = None
    _keys: IO[str] | None = None

    def add(self, key: str, line: bytes) -> None:
        if len(line) > self.limits.bytes:
            raise ConfigError(
                f"the request {key} is {len(line):,} bytes, more than a batch file holds "
                f"({self.limits.bytes:,}); lower the chunk size"
            )
        part = self.parts[-1] if self.parts else None
        full = part is not None and (
            part.lines >= self.limits.lines or part.bytes + len(line) > self.limits.bytes
        )
        if part is None or full:
            part = self._open_part()
        assert self._lines is not None and self._keys is not None
        self._lines.write(line)
        self._keys.write(key + "\n")
        part.lines += 1
        part.bytes += len(line)

    def _open_part(self) -> PartFile:
        self._close_files()
        self.folder.mkdir(parents=True, exist_ok=True)
        part = PartFile(self.folder / f"part-{len(self.parts) + 1:03d}.jsonl")
        self._lines = part.path.open("wb")
        self._keys = part.keys_path.open("w", encoding="utf-8")
        self.parts.append(part)
        return part

    def _close_files(self) -> None:
        for handle in (self._lines, self._keys):
            if handle is not None:
                handle.flush()
                os.fsync(handle.fileno())
                handle.close()
        self._lines = self._keys = None

    def close(self) -> list[PartFile]:
        self._close_files()
        return self.parts


def read_keys(path: Path) -> list[str]:
    """The keys of a part, in line order."""
    with path.open(encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


@dataclass(frozen=True)
class LineResult:
    """One reply line: the reply, or why there is none (one line a person can read)."""

    key: str
    response: LLMResponse | None = None
    error: str | None = None


def _message(value: Any) -> str | None:
    """An error as a reply line carries it: a string, ``{"message"}``, ``{"error": {...}}``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping):
        inner = value.get("error")
        if inner is not None and inner is not value:
            found = _message(inner)
            if found:
                return found
        message = value.get("message")
        code = value.get("code")
        if isinstance(message, str) and message.strip():
            return f"{message.strip()} ({code})" if isinstance(code, str) and code else message
        if isinstance(code, str) and code:
            return code
    return None


def response_from_body(body: Mapping[str, Any]) -> LLMResponse:
    """A chat completion's JSON as an ``LLMResponse`` (``origin="batch"``); ValueError if the
    body is not one."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        raise ValueError("the reply has no choices; it is not a chat completion")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, Mapping):
        raise ValueError("the reply's first choice has no message")
    content = message.get("content")
    refusal = message.get("refusal")
    found = body.get("usage")
    usage: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, Mapping) else 0
    return LLMResponse(
        content=content if isinstance(content, str) else None,
        refusal=refusal if isinstance(refusal, str) and refusal else None,
        finish_reason=str(choice.get("finish_reason") or "stop"),
        usage=TokenUsage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            cached_tokens=int(cached or 0),
        ),
        model=body.get("model") if isinstance(body.get("model"), str) else None,
        origin="batch",
    )


def read_result_line(text: str | bytes) -> LineResult:
    """One line of an output or error file; ValueError when it names no request."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a JSON line ({exc.msg})") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("custom_id"), str):
        raise ValueError("the line has no custom_id")
    key = data["custom_id"]
    response = data.get("response")
    error = _message(data.get("error"))
    status = response.get("status_code") if isinstance(response, Mapping) else None
    body = response.get("body") if isinstance(response, Mapping) else None
    if error is None and status == 200 and isinstance(body, Mapping):
        try:
            return LineResult(key, response=response_from_body(body))
        except ValueError as exc:
            return LineResult(key, error=str(exc))
    said = error or (_message(body) if isinstance(body, Mapping) else None)
    if status is not None and status != 200:
        return LineResult(key, error=f"{status}: {said or 'no message'}")
    return LineResult(key, error=said or "the line carries neither a reply nor an error")


def scan_results(path: Path) -> Iterator[tuple[int, LineResult]]:
    """(offset, result) of each line of a reply file; lines naming no request are skipped."""
    with path.open("rb") as handle:
        offset = 0
        for raw in handle:
            result = _result_or_none(raw)
            if result is not None:
                yield offset, result
            offset += len(raw)


def _result_or_none(raw: bytes) -> LineResult | None:
    if not raw.strip():
        return None
    try:
        return read_result_line(raw)
    except ValueError:
        return None


def read_line_at(path: Path, offset: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.readline()
