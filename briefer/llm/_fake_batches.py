"""The fake server's Files and Batches APIs, kept in a folder so a new server resumes them.

``FakeBatches`` holds uploaded files and batches under ``folder`` (``files/<id>.json`` and
``.data``, ``batches/<id>.json`` and the replies it will publish). A batch moves one status each
time it is retrieved ``polls`` times: validating → in_progress → finalizing → completed, or
failed (validation), expired or cancelled, as its ``BatchScript`` says. Its lines are answered
when it starts (the server's own reply for each body, so scripted replies, handlers and
schema-valid defaults work as for direct calls), written in a shuffled order so a client that
matches by line order fails; failed lines go to the error file, as OpenAI's do.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Protocol

from briefer._files import write_atomic

__all__ = ["Answer", "BatchScript", "FakeBatches"]

# A request body -> (HTTP status, the JSON the server would answer it with).
Answer = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]

BatchOutcome = Literal["completed", "failed", "expired", "cancelled"]
_ENDPOINTS = {"/v1/chat/completions"}
_ACTIVE = ("validating", "in_progress", "finalizing", "cancelling")


@dataclass(frozen=True)
class BatchScript:
    """How one batch ends. ``answered``: the lines an expired or cancelled batch answered before
    it stopped (default: half); ``polls``: retrieves spent in each status; ``message``: why a
    failed batch failed validation."""

    outcome: BatchOutcome = "completed"
    answered: int | None = None
    polls: int = 1
    message: str = "The batch input file is not valid."


class _Lines(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def _now() -> int:
    return int(time.time())


class FakeBatches:
    """Files and batches of one fake server, in ``folder``."""

    def __init__(self, folder: Path, answer: Answer, *, seed: int = 0) -> None:
        self.folder = folder
        self.answer = answer
        self.seed = seed
        self.hold = False  # batches stay in_progress until released
        self.scripts: list[BatchScript] = []
        self._lock = threading.RLock()
        (folder / "files").mkdir(parents=True, exist_ok=True)
        (folder / "batches").mkdir(parents=True, exist_ok=True)

    # --- files -------------------------------------------------------------------------------

    def _file_meta(self, file_id: str) -> Path:
        return self.folder / "files" / f"{file_id}.json"

    def file_data(self, file_id: str) -> Path:
        return self.folder / "files" / f"{file_id}.data"

    def file(self, file_id: str) -> dict[str, Any] | None:
        if "/" in file_id or file_id.startswith("."):
            return None
        try:
            found: dict[str, Any] = json.loads(self._file_meta(file_id).read_text("utf-8"))
        except FileNotFoundError:
            return None
        return found

    def _add_file(self, data: Path, filename: str, purpose: str) -> dict[str, Any]:
        file_id = f"file-{uuid.uuid4().hex[:24]}"
        target = self.file_data(file_id)
        data.replace(target)
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": target.stat().st_size,
            "created_at": _now(),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        write_atomic(self._file_meta(file_id), json.dumps(meta))
        return meta

    def upload(self, stream: _Lines, length: int, content_type: str) -> tuple[int, dict[str, Any]]:
        """``POST /v1/files``: a multipart form with ``purpose`` and ``file``, copied to disk
        line by line (never held whole)."""
        marker = "boundary="
        if "multipart/form-data" not in content_type or marker not in content_type:
            return 400, _error("expected a multipart/form-data upload")
        boundary = content_type.split(marker, 1)[1].split(";")[0].strip().strip('"').encode()
        delimiter = b"--" + boundary
        spool = self.folder / "files" / f".upload-{uuid.uuid4().hex}"
        fields: dict[str, str] = {}
        filename = "upload.jsonl"
        remaining = length

        def read_line() -> bytes:
            nonlocal remaining
            if remaining <= 0:
                return b""
            line = stream.readline(min(remaining, 1 << 16))
            remaining -= len(line)
            return line

        line = read_line()
        while line and not line.startswith(delimiter):
            line = read_line()
        while line and not line.startswith(delimiter + b"--"):
            headers: dict[str, str] = {}
            line = read_line()
            while line and line.strip():
                name, _, value = line.decode("utf-8", "replace").partition(":")
                headers[name.strip().lower()] = value.strip()
                line = read_line()
            disposition = headers.get("content-disposition", "")
            name = _param(disposition, "name") or ""
            is_file = name == "file"
            if is_file:
                filename = _param(disposition, "filename") or filename
            sink: IO[bytes] | None = spool.open("wb") if is_file else None
            value_parts: list[bytes] = []
            held = b""
            line = read_line()
            while line and not line.startswith(delimiter):
                if sink is not None:
                    sink.write(held)
                else:
                    value_parts.append(held)
                held = line
                line = read_line()
            # The CRLF before a delimiter belongs to it, not to the part.
            tail = held[:-2] if held.endswith(b"\r\n") else held.rstrip(b"\n")
            if sink is not None:
                sink.write(tail)
                sink.close()
            else:
                value_parts.append(tail)
                fields[name] = b"".join(value_parts).decode("utf-8", "replace")
        while remaining > 0 and read_line():
            pass
        if not spool.exists():
            return 400, _error("the upload has no file part", param="file")
        purpose = fields.get("purpose", "")
        if purpose != "batch":
            spool.unlink(missing_ok=True)
            return 400, _error(f"this server takes files for purpose 'batch', not {purpose!r}")
        with self._lock:
            return 200, self._add_file(spool, filename, purpose)

    # --- batches -----------------------------------------------------------------------------

    def _batch_path(self, batch_id: str) -> Path:
        return self.folder / "batches" / f"{batch_id}.json"

    def _load(self, batch_id: str) -> dict[str, Any] | None:
        if "/" in batch_id or batch_id.startswith("."):
            return None
        try:
            found: dict[str, Any] = json.loads(self._batch_path(batch_id).read_text("utf-8"))
        except FileNotFoundError:
            return None
        return found

    def _save(self, batch: dict[str, Any]) -> None:
        write_atomic(self._batch_path(batch["id"]), json.dumps(batch))

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """``POST /v1/batches``."""
        file_id = body.get("input_file_id")
        endpoint = body.get("endpoint")
        if not isinstance(file_id, str) or self.file(file_id) is None:
            return 400, _error(f"no file {file_id!r}", param="input_file_id")
        if endpoint not in _ENDPOINTS:
            return 400, _error(f"this server batches {sorted(_ENDPOINTS)}, not {endpoint!r}")
        if body.get("completion_window") != "24h":
            return 400, _error("completion_window must be '24h'", param="completion_window")
        metadata = body.get("metadata") or {}
        if len(metadata) > 16 or any(len(str(v)) > 512 for v in metadata.values()):
            return 400, _error("metadata holds at most 16 values of 512 characters")
        with self._lock:
            script = self.scripts.pop(0) if self.scripts else BatchScript()
            now = _now()
            batch: dict[str, Any] = {
                "id": f"batch_{uuid.uuid4().hex[:24]}",
                "object": "batch",
                "endpoint": endpoint,
                "errors": None,
                "input_file_id": file_id,
                "completion_window": "24h",
                "status": "validating",
                "output_file_id": None,
                "error_file_id": None,
                "created_at": now,
                "in_progress_at": None,
                "expires_at": now + 24 * 3600,
                "finalizing_at": None,
                "completed_at": None,
                "failed_at": None,
                "expired_at": None,
                "cancelling_at": None,
                "cancelled_at": None,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
                "metadata": metadata or None,
                "model": None,
                "_script": script.__dict__,
                "_polls": 0,
            }
            self._save(batch)
        return 200, _public(batch)

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        """``GET /v1/batches/{id}``: the batch, one step further when it has waited enough."""
        with self._lock:
            batch = self._load(batch_id)
            if batch is None:
                return 404, _error(f"no batch {batch_id!r}", code="not_found")
            self._advance(batch)
            self._save(batch)
            return 200, _public(batch)

    def cancel(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            batch = self._load(batch_id)
            if batch is None:
                return 404, _error(f"no batch {batch_id!r}", code="not_found")
            if batch["status"] not in _ACTIVE:
                return 409, _error(f"the batch is {batch['status']}; it cannot be cancelled")
            if batch["status"] != "cancelling":
                batch["status"] = "cancelling"
                batch["cancelling_at"] = _now()
                batch["_polls"] = 0
                self._save(batch)
            return 200, _public(batch)

    def listing(self, limit: int = 20, after: str | None = None) -> dict[str, Any]:
        with self._lock:
            batches = []
            for path in (self.folder / "batches").glob("*.json"):
                loaded = self._load(path.stem)
                if loaded is not None:
                    batches.append(loaded)
        batches.sort(key=lambda b: (b["created_at"], b["id"]), reverse=True)
        if after is not None:
            ids = [b["id"] for b in batches]
            batches = batches[ids.index(after) + 1 :] if after in ids else []
        page = batches[: max(1, min(limit, 100))]
        return {
            "object": "list",
            "data": [_public(b) for b in page],
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(batches) > len(page),
        }

    def release(self) -> None:
        """Let held batches go on."""
        self.hold = False

    # --- the life of a batch -----------------------------------------------------------------

    def _advance(self, batch: dict[str, Any]) -> None:
        script = BatchScript(**batch["_script"])
        status = batch["status"]
        if status not in _ACTIVE:
            return
        batch["_polls"] += 1
        if batch["_polls"] < script.polls:
            return
        if status == "in_progress" and self.hold:
            return
        batch["_polls"] = 0
        now = _now()
        if status == "validating":
            problems = self._validate(batch)
            if problems or script.outcome == "failed":
                batch["status"] = "failed"
                batch["failed_at"] = now
                found = problems or [{"code": "invalid_file", "message": script.message}]
                batch["errors"] = {"object": "list", "data": found}
                return
            batch["status"] = "in_progress"
            batch["in_progress_at"] = now
            self._answer_lines(batch, script)
        elif status == "in_progress":
            if script.outcome == "expired":
                self._publish(batch, "expired")
            else:
                batch["status"] = "finalizing"
                batch["finalizing_at"] = now
        elif status == "finalizing":
            self._publish(batch, "completed")
        elif status == "cancelling":
            if not batch.get("_answered"):
                self._answer_lines(batch, BatchScript(outcome="cancelled", answered=0))
            self._publish(batch, "cancelled")

    def _lines(self, batch: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any] | None]]:
        """(line number, request or None when it is not a JSON object), one at a time."""
        with self.file_data(batch["input_file_id"]).open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    value = json.loads(raw)
                except json.JSONDecodeError:
                    value = None
                yield number, value if isinstance(value, dict) else None

    def _validate(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """What OpenAI checks before it runs a file: each line a request to the batch's
        endpoint, custom_ids unique, one model."""
        problems: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()
        count = 0
        for number, line in self._lines(batch):
            count += 1
            if line is None:
                problems.append({"code": "invalid_json", "line": number, "message": "not JSON"})
                continue
            custom_id = line.get("custom_id")
            body = line.get("body")
            if not isinstance(custom_id, str) or custom_id in seen:
                problems.append(
                    {
                        "code": "duplicate_custom_id" if custom_id in seen else "missing_custom_id",
                        "line": number,
                        "message": f"custom_id {custom_id!r} is missing or not unique",
                    }
                )
            else:
                seen.add(custom_id)
            if line.get("method") != "POST" or line.get("url") != batch["endpoint"]:
                problems.append(
                    {
                        "code": "mismatched_endpoint",
                        "line": number,
                        "message": f"the line is not a POST to {batch['endpoint']}",
                    }
                )
            if not isinstance(body, dict) or not isinstance(body.get("model"), str):
                problems.append({"code": "missing_model", "line": number, "message": "no model"})
            else:
                models.add(body["model"])
        if len(models) > 1:
            problems.append(
                {"code": "mismatched_model", "message": f"one model per file, not {sorted(models)}"}
            )
        if count == 0:
            problems.append({"code": "empty_file", "message": "the file holds no request"})
        batch["request_counts"] = {"total": count, "completed": 0, "failed": 0}
        batch["model"] = next(iter(models), None) if len(models) == 1 else None
        return problems

    def _answer_lines(self, batch: dict[str, Any], script: BatchScript) -> None:
        """Answer every line now; the files are published when the batch ends."""
        total = batch["request_counts"]["total"]
        stop = script.answered
        if stop is None:
            stop = total // 2 if script.outcome in ("expired", "cancelled") else total
        outputs: list[str] = []
        errors: list[str] = []
        why = {
            "expired": (
                "batch_expired",
                "This request could not be executed before the completion window expired.",
            ),
            "cancelled": ("batch_cancelled", "This request was not run: the batch was cancelled."),
        }
        for index, (_, parsed) in enumerate(self._lines(batch)):
            assert parsed is not None  # validated
            line: dict[str, Any] = parsed
            request_id = f"req_{uuid.uuid4().hex[:20]}"
            entry: dict[str, Any] = {
                "id": f"batch_req_{uuid.uuid4().hex[:20]}",
                "custom_id": line["custom_id"],
            }
            if index >= stop:
                code, message = why[script.outcome]
                entry |= {"response": None, "error": {"code": code, "message": message}}
                errors.append(json.dumps(entry))
                continue
            status, payload = self.answer(dict(line["body"]))
            entry |= {
                "response": {"status_code": status, "request_id": request_id, "body": payload},
                "error": None,
            }
            (outputs if status == 200 else errors).append(json.dumps(entry))
        rng = random.Random(f"{self.seed}:{batch['id']}")
        rng.shuffle(outputs)
        folder = self.folder / "batches"
        for name, rows in (("output", outputs), ("errors", errors)):
            write_atomic(folder / f"{batch['id']}.{name}.jsonl", "".join(r + "\n" for r in rows))
        batch["_answered"] = [len(outputs), len(errors)]

    def _publish(self, batch: dict[str, Any], status: str) -> None:
        """End the batch: its output and error files become files one can download."""
        answered, failed = batch.get("_answered") or [0, 0]
        folder = self.folder / "batches"
        for name, field, count in (
            ("output", "output_file_id", answered),
            ("errors", "error_file_id", failed),
        ):
            path = folder / f"{batch['id']}.{name}.jsonl"
            if count and path.exists():
                purpose = "batch_output" if name == "output" else "batch_error"
                meta = self._add_file(path, f"{batch['id']}_{name}.jsonl", purpose)
                batch[field] = meta["id"]
            else:
                path.unlink(missing_ok=True)
        total = batch["request_counts"]["total"]
        batch["request_counts"] = {"total": total, "completed": answered, "failed": failed}
        batch["status"] = status
        batch[f"{status}_at"] = _now()


def _public(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if not k.startswith("_")}


def _param(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == name:
            return value.strip().strip('"')
    return None


def _error(message: str, *, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }
