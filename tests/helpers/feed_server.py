"""A threaded HTTP server on 127.0.0.1 (port 0) for feeds and the articles they lead to.

Each path has a handler (a static page, or a function of the request); static pages carry an
ETag and a Last-Modified and answer ``If-None-Match`` / ``If-Modified-Since`` with 304, as news
sites do. Every request is counted, with the bodies actually sent; an optional latency is
added to each answer.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

__all__ = [
    "FeedServer",
    "Handler",
    "Item",
    "Reply",
    "Request",
    "article_html",
    "atom",
    "feed_server",
    "opml",
    "rdf",
    "rss",
    "static",
]

_LAST_MODIFIED = "Mon, 02 Jun 2025 08:00:00 GMT"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


def static(body: bytes | str, content_type: str, *, validators: bool = True) -> Handler:
    """A page that never changes: 304 to a request that names its ETag or date."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'

    def handle(request: Request) -> Reply:
        if validators and (
            request.headers.get("If-None-Match") == etag
            or request.headers.get("If-Modified-Since") == _LAST_MODIFIED
        ):
            return Reply(status=304, body=b"", content_type=None, headers={"ETag": etag})
        headers = {"ETag": etag, "Last-Modified": _LAST_MODIFIED} if validators else {}
        return Reply(body=data, content_type=content_type, headers=headers)

    return handle


class FeedServer:
    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.handlers: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.bodies_sent = 0  # answers that carried a body (not 304s, not errors)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.most_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def handle(self, path: str, handler: Handler) -> str:
        self.handlers[path] = handler
        return self.url(path)

    def page(
        self,
        path: str,
        body: bytes | str,
        content_type: str = "text/html; charset=utf-8",
        *,
        validators: bool = True,
    ) -> str:
        return self.handle(path, static(body, content_type, validators=validators))

    def count(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path == path)

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                request = Request(self.path, dict(self.headers.items()), time.monotonic())
                with server._lock:
                    server.requests.append(request)
                    server._in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server._in_flight)
                try:
                    handler = server.handlers.get(self.path)
                    reply = handler(request) if handler else Reply(404, b"not found")
                    if server.latency:
                        time.sleep(server.latency)
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self._answer(reply)
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _answer(self, reply: Reply) -> None:
                body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
                self.send_response(reply.status)
                if reply.content_type is not None:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if reply.status == 200 and body:
                    with server._lock:
                        server.bodies_sent += 1
                self.wfile.write(body)

        return Handler


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


# --- documents to serve -----------------------------------------------------------------------

_SENTENCES = (
    "Officials said the work would continue through the week despite the weather.",
    "Residents gathered near the harbour to watch the crews arrive before dawn.",
    "The council is expected to publish a full account of the costs next month.",
    "Engineers told reporters that the repairs had taken longer than planned.",
    "Several shops along the river stayed closed while the roads were cleared.",
    "A spokesperson for the ministry declined to give a date for the next phase.",
)


def article_html(title: str, subject: str, *, paragraphs: int = 6, site: str | None = None) -> str:
    """A news page with navigation and a footer around an article about ``subject``."""
    body = "".join(
        f"<p>{subject} {_SENTENCES[n % len(_SENTENCES)]} Paragraph {n + 1} of the report on "
        f"{subject.lower()} adds detail that only the full article carries.</p>"
        for n in range(paragraphs)
    )
    site_meta = f'<meta property="og:site_name" content="{site}">' if site else ""
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{site_meta}</head><body>"
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer>Copyright the publisher. All rights reserved.</footer></body></html>"
    )


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    summary: str = "A short summary of the story."
    date: str | None = "Mon, 02 Jun 2025 09:00:00 +0000"  # RFC 822 for RSS
    iso_date: str | None = "2025-06-02T09:00:00Z"  # RFC 3339 for Atom and RDF


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rss(title: str, items: list[Item], *, encoding: str = "utf-8") -> str:
    entries = "".join(
        f"<item><title>{_x(i.title)}</title><link>{_x(i.link)}</link>"
        f"<description>{_x(i.summary)}</description>"
        + (f"<pubDate>{i.date}</pubDate>" if i.date else "")
        + "</item>"
        for i in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{_x(title)}</title><link>https://example.org/</link>"
        f"<description>News</description>{entries}</channel></rss>"
    )


def atom(title: str, items: list[Item]) -> str:
    entries = "".join(
        f'<entry><title>{_x(i.title)}</title><link rel="alternate" href="{_x(i.link)}"/>'
        f"<id>{_x(i.link)}</id><summary>{_x(i.summary)}</summary>"
        + (f"<updated>{i.iso_date}</updated>" if i.iso_date else "")
        + "</entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{_x(title)}</title><id>urn:feed</id><updated>2025-06-02T10:00:00Z</updated>"
        f"{entries}</feed>"
    )


def rdf(title: str, items: list[Item]) -> str:
    entries = "".join(
        f'<item rdf:about="{_x(i.link)}"><title>{_x(i.title)}</title><link>{_x(i.link)}</link>'
        f"<description>{_x(i.summary)}</description>"
        + (f"<dc:date>{i.iso_date}</dc:date>" if i.iso_date else "")
        + "</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://example.org/"><title>{_x(title)}</title>'
        "<link>https://example.org/</link><description>News</description></channel>"
        f"{entries}</rdf:RDF>"
    )


def opml(feeds: list[tuple[str, str]]) -> str:
    outlines = "".join(
        f'<outline type="rss" text="{_x(name)}" title="{_x(name)}" xmlUrl="{_x(url)}"/>'
        for name, url in feeds
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0"><head><title>Mine'
        f'</title></head><body><outline text="News">{outlines}</outline></body></opml>'
    )
