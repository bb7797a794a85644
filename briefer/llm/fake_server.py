"""A fake OpenAI-compatible server on 127.0.0.1, for tests and benchmarks of real HTTP clients.

``FakeOpenAIServer`` serves ``POST /v1/chat/completions`` from a background thread (one thread
per connection, so concurrent requests overlap). Each request is answered by the next scripted
``FakeReply`` if any are queued, else by ``handler(body)``, else with a reply valid against the
request's schema. ``FakeReply`` covers what real servers do: 429 with ``Retry-After``, 5xx,
slow replies, dropped connections, malformed bodies, refusals, truncation, a 400 rejecting
``json_schema``, and the error bodies of the local servers briefer is used with
(llama-cpp-python, llama.cpp's ``llama-server``, vLLM, Ollama; see docs/servers.md). Received
requests are kept with the ``Authorization`` header scrubbed.

    with FakeOpenAIServer() as server:
        client = OpenAIClient(endpoint=Endpoint(base_url=server.base_url))

It also serves the Files and Batches APIs (``POST /v1/files``, ``GET /v1/files/{id}`` and
``/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``,
``GET /v1/batches``): each line of a batch is answered as a direct call would be, and
``script_batches`` says how the next batches end (completed, failed, expired, cancelled, after
how many polls). With ``state_dir`` the files and batches are kept in that folder, so a new
server started on it (and on the same port) goes on with them, as after a restart::

    with FakeOpenAIServer(state_dir=tmp / "server", port=port) as server:
        server.script_batches(BatchScript(outcome="expired", answered=3))
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from briefer.llm._fake_batches import BatchScript, FakeBatches
from briefer.llm.fake import reply_from_schema

__all__ = ["BatchScript", "FakeOpenAIServer", "FakeReply", "ReceivedRequest", "ReplyHandler"]

# Where OpenAIClient puts the schema in json_object mode (the default reply looks for it).
_SCHEMA_MARKER = "JSON Schema:\n"


@dataclass(frozen=True)
class FakeReply:
    """One scripted answer. With neither ``content`` nor ``refusal``, a schema-valid reply."""

    status: int = 200
    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    raw_body: bytes | None = None
    error: Mapping[str, Any] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int = 0

    @classmethod
    def json(cls, value: str | Mapping[str, Any] | list[Any], **kw: Any) -> FakeReply:
        """A normal reply whose content is ``value`` (JSON text, or an object to serialise)."""
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return cls(content=text, **kw)

    @classmethod
    def schema_valid(cls, **kw: Any) -> FakeReply:
        return cls(**kw)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1.0, *, in_ms: bool = False) -> FakeReply:
        headers: dict[str, str] = {}
        if retry_after is not None:
            if in_ms:
                headers["retry-after-ms"] = f"{retry_after * 1000:g}"
            else:
                headers["retry-after"] = f"{retry_after:g}"
        return cls.http_error(429, "Rate limit reached; please try again later.", headers=headers)

    @classmethod
    def server_error(cls, status: int = 500) -> FakeReply:
        return cls.http_error(status, "The server had an error processing your request.")

    @classmethod
    def slow(cls, delay: float, content: str | None = None) -> FakeReply:
        return cls(content=content, delay=delay)

    @classmethod
    def dropped(cls) -> FakeReply:
        """Close the connection without answering."""
        return cls(drop=True)

    @classmethod
    def malformed_body(cls) -> FakeReply:
        """A 200 whose body is not JSON at all."""
        return cls(raw_body=b'{"id": "chatcmpl-broken", "choices": [')

    @classmethod
    def refused(cls, text: str = "I can't help with that.") -> FakeReply:
        return cls(refusal=text)

    @classmethod
    def truncated(cls, content: str = '{"items": [{"text": "cut off') -> FakeReply:
        return cls(content=content, finish_reason="length")

    @classmethod
    def rejects_json_schema(cls) -> FakeReply:
        return cls.http_error(
            400,
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported "
            "with this model.",
            param="response_format",
        )

    # --- what the servers in docs/servers.md answer, in their own words and shapes ----------

    @classmethod
    def llama_cpp_python_rejects_json_schema(cls) -> FakeReply:
        """llama-cpp-python's server (0.3.x) on ``response_format`` of type ``json_schema``: its
        request model takes only ``text`` and ``json_object``, and its route handler turns the
        validation error into a 500 holding the error list."""
        message = (
            "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
            "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
            "'ctx': {'expected': \"'text' or 'json_object'\"}}]"
        )
        error = {"message": message, "type": "internal_server_error", "param": None, "code": None}
        return cls(status=500, error=error)

    @classmethod
    def llama_server_error(cls, message: str, status: int = 400) -> FakeReply:
        """llama.cpp's ``llama-server``: ``{"error": {"code": 400, "message": ...,
        "type": "invalid_request_error"}}`` (a 500 is ``"server_error"``)."""
        kind = "invalid_request_error" if status < 500 else "server_error"
        return cls(status=status, error={"code": status, "message": message, "type": kind})

    @classmethod
    def llama_server_rejects_json_schema(cls) -> FakeReply:
        """A ``llama-server`` build without ``json_schema`` support."""
        return cls.llama_server_error(
            'response_format type must be one of "text" or "json_object", but got: json_schema'
        )

    @classmethod
    def llama_server_unsupported_param(cls, param: str = "best_of") -> FakeReply:
        """``llama-server`` on a parameter it does not implement: not about the format."""
        return cls.llama_server_error(f"Unsupported param: {param}")

    @classmethod
    def vllm_error(cls, message: str, status: int = 400, *, nested: bool = False) -> FakeReply:
        """vLLM's error body: top-level ``{"object": "error", "message", "type", "param",
        "code"}`` (up to 0.10), or nested under ``"error"`` (``nested``, later versions)."""
        kind = "BadRequestError" if status < 500 else "InternalServerError"
        if nested:
            return cls(
                status=status,
                error={"message": message, "type": kind, "param": None, "code": status},
            )
        body = {"object": "error", "message": message, "type": kind, "param": None}
        return cls(status=status, raw_body=json.dumps({**body, "code": status}).encode())

    @classmethod
    def vllm_rejects_schema(cls, *, nested: bool = False) -> FakeReply:
        """vLLM when its grammar backend (xgrammar) cannot compile the schema it was sent."""
        return cls.vllm_error(
            "The provided JSON schema contains features not supported by xgrammar.",
            nested=nested,
        )

    @classmethod
    def ollama_model_not_found(cls, model: str = "llama3.1:8b") -> FakeReply:
        """Ollama's ``/v1`` for a model that was not pulled. (Ollama never rejects a response
        format: it ignores ``response_format.schema`` and any type it does not know.)"""
        message = f'model "{model}" not found, try pulling it first'
        error = {"message": message, "type": "not_found_error", "param": None, "code": None}
        return cls(status=404, error=error)

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FakeReply:
        """An error in OpenAI's shape: ``{"error": {message, type, param, code}}``."""
        error = {"message": message, "type": type, "param": param, "code": code}
        return cls(status=status, error=error, headers=dict(headers or {}))


ReplyHandler = Callable[[dict[str, Any]], FakeReply]


@dataclass(frozen=True)
class ReceivedRequest:
    """What the server received. ``headers`` has ``authorization`` scrubbed; ``sent_key``
    checks the key that was sent without keeping it."""

    path: str
    body: dict[str, Any]
    headers: Mapping[str, str]
    _authorization_sha256: str | None = field(default=None, repr=False)
    method: str = "POST"

    def sent_key(self, key: str) -> bool:
        expected = hashlib.sha256(f"Bearer {key}".encode()).hexdigest()
        return self._authorization_sha256 == expected


def _schema_of(body: Mapping[str, Any]) -> dict[str, Any] | None:
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    if fmt.get("type") == "json_object" and isinstance(fmt.get("schema"), dict):
        found: dict[str, Any] = fmt["schema"]
        return found
    for message in body.get("messages") or []:
        text = message.get("content") if isinstance(message, dict) else None
        if isinstance(text, str) and _SCHEMA_MARKER in text:
            tail = text.rsplit(_SCHEMA_MARKER, 1)[1]
            try:
                found, _ = json.JSONDecoder().raw_decode(tail)
            except json.JSONDecodeError:
                return None
            return found if isinstance(found, dict) else None
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do
    # Headers and body go out in two writes; with Nagle on, the second waits for the client's
    # delayed ACK (~40 ms on Linux) and every call looks that much slower.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("content-length") or 0)
        route = urlsplit(self.path).path.rstrip("/")
        if route.endswith("/files"):
            self._upload(length)
            return
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparseable": raw.decode("utf-8", "replace")}
        owner._enter(self.path, body, dict(self.headers.items()))
        try:
            if route.endswith("/batches") or _BATCH_ACTION.search(route):
                self._batches("POST", route, body)
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}", "type": "x"}}, {})
                return
            reply = owner._reply_for(body)
            content = reply.content
            if content is None and reply.refusal is None:
                content = owner._default_content(body)
            tokens = reply.completion_tokens
            if tokens is None:
                tokens = max(1, len(content or reply.refusal or "") // 4)
            owner._pause(reply.delay + owner.latency + owner.per_token_latency * tokens)
            if reply.drop:
                self.close_connection = True
                return
            if reply.raw_body is not None:
                self._send_bytes(reply.status, reply.raw_body, reply.headers)
            elif reply.status != 200 or reply.error is not None:
                self._send(reply.status, {"error": dict(reply.error or {})}, reply.headers)
            else:
                self._send(200, owner._completion(body, reply, content, tokens), reply.headers)
        finally:
            owner._leave()

    def do_GET(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        route = parts.path.rstrip("/")
        owner._enter(self.path, {}, dict(self.headers.items()), method="GET")
        try:
            content = _FILE_CONTENT.search(route)
            if content:
                self._send_file(content.group(1))
                return
            found = _FILE.search(route)
            if found:
                meta = owner.batches.file(found.group(1))
                if meta is None:
                    self._send(404, {"error": {"message": "no such file", "type": "x"}}, {})
                else:
                    self._send(200, meta, {})
                return
            if route.endswith("/batches") or _BATCH.search(route):
                self._batches("GET", route, {}, parse_qs(parts.query))
                return
            self._send(404, {"error": {"message": f"no route {self.path}", "type": "x"}}, {})
        finally:
            owner._leave()

    def _batches(
        self,
        method: str,
        route: str,
        body: dict[str, Any],
        query: Mapping[str, list[str]] | None = None,
    ) -> None:
        book = self.server.owner.batches
        action = _BATCH_ACTION.search(route)
        one = _BATCH.search(route)
        if method == "POST" and action:
            status, payload = book.cancel(action.group(1))
        elif method == "POST":
            status, payload = book.create(body)
        elif one:
            status, payload = book.retrieve(one.group(1))
        else:
            query = query or {}
            limit = int((query.get("limit") or ["20"])[0])
            afters = query.get("after") or []
            status, payload = 200, book.listing(limit, afters[0] if afters else None)
        self._send(status, payload, {})

    def _upload(self, length: int) -> None:
        owner = self.server.owner
        content_type = self.headers.get("content-type", "")
        status, payload = owner.batches.upload(self.rfile, length, content_type)
        owner._enter(self.path, {"_upload": payload}, dict(self.headers.items()))
        try:
            self._send(status, payload, {})
        finally:
            owner._leave()

    def _send_file(self, file_id: str) -> None:
        book = self.server.owner.batches
        if book.file(file_id) is None:
            self._send(404, {"error": {"message": "no such file", "type": "x"}}, {})
            return
        path = book.file_data(file_id)
        self.send_response(200)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", str(path.stat().st_size))
        self.end_headers()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 16):
                self.wfile.write(chunk)

    def _send(self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        self._send_bytes(status, json.dumps(payload).encode("utf-8"), headers)

    def _send_bytes(self, status: int, data: bytes, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


_FILE = re.compile(r"/files/([^/]+)$")
_FILE_CONTENT = re.compile(r"/files/([^/]+)/content$")
_BATCH = re.compile(r"/batches/([^/]+)$")
_BATCH_ACTION = re.compile(r"/batches/([^/]+)/cancel$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a small backlog drops connections under concurrency
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (timeout, cancel) is expected, not an error


class FakeOpenAIServer:
    """A chat completions server on 127.0.0.1, run as a context manager.

    ``port`` 0 (the default) takes a free port; a given port lets a test restart "the same"
    server, whose replies are cached under the same endpoint. ``latency`` seconds are added to
    every reply, plus ``per_token_latency`` per completion token. ``requests`` holds what was
    received; ``max_in_flight`` the most requests that were being answered at once.
    ``state_dir`` keeps uploaded files and batches (a temporary folder when None).
    """

    __test__ = False

    def __init__(
        self,
        handler: ReplyHandler | None = None,
        *,
        replies: Iterable[FakeReply] = (),
        latency: float = 0.0,
        per_token_latency: float = 0.0,
        seed: int = 0,
        port: int = 0,
        state_dir: Path | str | None = None,
    ) -> None:
        self.handler = handler
        self.port = port
        self.latency = latency
        self.per_token_latency = per_token_latency
        self.seed = seed
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._queue: deque[FakeReply] = deque(replies)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Batches live in a folder so that a server started on it later resumes them.
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if state_dir:
            folder = Path(state_dir)
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="fake-batches-")
            folder = Path(self._scratch.name)
        self.batches = FakeBatches(folder, self.answer, seed=seed)

    # --- scripting ---------------------------------------------------------------------------

    def enqueue(self, *replies: FakeReply) -> None:
        """Answer the next requests with ``replies``, in order, before the handler."""
        with self._lock:
            self._queue.extend(replies)

    def script_batches(self, *scripts: BatchScript) -> None:
        """End the next batches created as ``scripts`` say, in order (then: completed)."""
        with self._lock:
            self.batches.scripts.extend(scripts)

    def hold_batches(self, hold: bool = True) -> None:
        """Keep every batch in_progress (``hold``) until called with False."""
        self.batches.hold = hold

    def answer(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """What the server answers a chat completions ``body`` with: (HTTP status, JSON), as a
        batch line gets it. A dropped connection or a body that is not JSON becomes a 500."""
        reply = self._reply_for(body)
        content = reply.content
        if content is None and reply.refusal is None:
            content = self._default_content(body)
        tokens = reply.completion_tokens
        if tokens is None:
            tokens = max(1, len(content or reply.refusal or "") // 4)
        if reply.drop or reply.raw_body is not None:
            message = "The server had an error while processing your request."
            return 500, {"error": {"message": message, "type": "server_error"}}
        if reply.status != 200 or reply.error is not None:
            return reply.status, {"error": dict(reply.error or {})}
        return 200, self._completion(body, reply, content, tokens)

    def _reply_for(self, body: dict[str, Any]) -> FakeReply:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
        if self.handler is not None:
            return self.handler(body)
        return FakeReply()

    def _default_content(self, body: Mapping[str, Any]) -> str:
        schema = _schema_of(body)
        if schema is None:
            return "{}"
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        rng = random.Random(f"{self.seed}:{digest}")
        return json.dumps(reply_from_schema(schema, rng), ensure_ascii=False)

    def _completion(
        self, body: Mapping[str, Any], reply: FakeReply, content: str | None, tokens: int
    ) -> dict[str, Any]:
        prompt = reply.prompt_tokens
        if prompt is None:
            prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
        return {
            "id": f"chatcmpl-fake{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": reply.refusal},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": tokens,
                "total_tokens": prompt + tokens,
                "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
            },
        }

    # --- bookkeeping -------------------------------------------------------------------------

    def _enter(
        self, path: str, body: dict[str, Any], headers: dict[str, str], method: str = "POST"
    ) -> None:
        scrubbed: dict[str, str] = {}
        digest = None
        for name, value in headers.items():
            if name.lower() == "authorization":
                digest = hashlib.sha256(value.encode()).hexdigest()
                value = value.split(" ", 1)[0] + " ***"
            elif name.lower() in ("api-key", "x-api-key", "cookie"):
                value = "***"
            scrubbed[name.lower()] = value
        with self._lock:
            self.requests.append(ReceivedRequest(path, body, scrubbed, digest, method))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)  # returns at once when the server closes

    # --- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.owner = self
        self._server = server
        self._closing.clear()
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
