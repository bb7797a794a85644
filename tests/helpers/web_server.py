"""A scriptable HTTP server on 127.0.0.1 (port 0) for tests that need real HTTP.

Routes are set per test: status, headers, body, redirects, large streamed bodies, and
responses held back until the test releases them (to trigger client timeouts without sleeping).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

__all__ = ["Route", "WebServer", "web_server"]

_CHUNK = 64 * 1024
# A held response waits at most this long, so a forgotten release cannot hang the suite.
_HOLD_LIMIT_SECONDS = 30.0


@dataclass
class Route:
    """What the server answers on one path."""

    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Redirect target (sets the Location header).
    location: str | None = None
    # Stream this many filler bytes instead of ``body`` (for size limits).
    filler_bytes: int | None = None
    # Send Content-Length (off: the client must count while streaming).
    send_length: bool = True
    # Wait until the server is released before answering (for timeouts).
    hold: bool = False


class WebServer:
    """A threaded HTTP server with per-path routes; records every path it was asked for."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.released = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        # A short poll interval keeps shutdown (once per test) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def route(self, path: str, route: Route | None = None, /, **settings: object) -> str:
        """Set the answer for ``path`` (a Route, or Route fields as keywords); returns its URL."""
        self.routes[path] = route if route is not None else Route(**settings)  # type: ignore[arg-type]
        return self.url(path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path, Route(status=404, body=b"not found"))
                if route.hold:
                    server.released.wait(_HOLD_LIMIT_SECONDS)
                # The client may give up mid-answer (size limit, timeout): expected.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._answer(route)

            def _answer(self, route: Route) -> None:
                body = route.body.encode("utf-8") if isinstance(route.body, str) else route.body
                length = route.filler_bytes if route.filler_bytes is not None else len(body)
                self.send_response(route.status)
                if route.content_type is not None:
                    self.send_header("Content-Type", route.content_type)
                if route.location is not None:
                    self.send_header("Location", route.location)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                if route.send_length:
                    self.send_header("Content-Length", str(length))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if route.filler_bytes is None:
                    self.wfile.write(body)
                    return
                filler = b"<p>" + b"x" * (_CHUNK - 8) + b"</p>\n\n"
                sent = 0
                while sent < route.filler_bytes:
                    part = filler[: route.filler_bytes - sent]
                    self.wfile.write(part)
                    sent += len(part)

        return Handler


@pytest.fixture
def web_server() -> Iterator[WebServer]:
    """A started WebServer, stopped (and every held response released) after the test."""
    server = WebServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
