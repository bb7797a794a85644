"""Measure a day of feeds: polite fetching against its bound, and a second run's downloads.

    .venv/bin/python scripts/bench_feeds.py [--feeds 20] [--entries 50] [--hosts 5]
        [--latency 0.05] [--per-host 2] [--interval 0.5]

Serves ``--hosts`` loopback HTTP servers (each a host: its own port), each answering after
``--latency`` seconds. The feeds are spread over the hosts, and so are their entries' articles
(every article is linked from one feed). One run reads every feed (RSS 2.0) through
``load_sources`` with the per-host limits given, an HTTP cache in a temporary folder and the
window wide open; a second run the same day reads them again.

Prints, for the first run: the wall time, and the bound the per-host rules set: on the busiest
host, ``n`` requests (its feeds, robots.txt, its articles) cannot take less than
``max((n - 1) * interval, ceil(n / per_host) * latency) + latency``, and the feeds must come
before their articles. For the second run: the requests made, how many were conditional, how
many bodies were sent again (articles and feeds), and the wall time.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from briefer.ingestion import FeedPolicy, FetchPolicy, load_sources

__all__ = ["main"]

_VALIDATED = "Mon, 02 Jun 2025 08:00:00 GMT"


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client closing a kept-alive connection is no news


class _Host:
    """One loopback server: static pages with validators, a latency, counts of what it sent."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def count(self, kind: str) -> None:
        with self.lock:
            self.requests[kind] += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        host = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                time.sleep(host.latency)
                kind = "article" if self.path.startswith("/a/") else "feed"
                kind = "robots" if self.path == "/robots.txt" else kind
                host.count(f"{kind} request")
                page = host.pages.get(self.path)
                if page is None:
                    self._send(404, b"not found", "text/plain", {})
                    return
                body, content_type = page
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
                    host.count(f"{kind} conditional")
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", None, {"ETag": etag})
                    return
                host.count(f"{kind} body")
                self._send(200, body, content_type, {"ETag": etag, "Last-Modified": _VALIDATED})

            def _send(
                self, status: int, body: bytes, content_type: str | None, headers: dict[str, str]
            ) -> None:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        return Handler


def _article(feed: int, entry: int) -> bytes:
    words = " ".join(f"detail{(feed * 7 + entry * 13 + n) % 97}" for n in range(60))
    paragraphs = "".join(
        f"<p>Story {feed}-{entry}: the council of district {feed} met on Monday about item "
        f"{entry}, and officials described part {n} of the plan: {words}.</p>"
        for n in range(5)
    )
    return (
        f"<!DOCTYPE html><html><head><title>Story {feed}-{entry}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>Story {feed}-{entry}</h1>{paragraphs}"
        "</article><footer>All rights reserved.</footer></body></html>"
    ).encode()


def _feed(feed: int, links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Entry {feed}-{n}</title><link>{link}</link>"
        f"<description>Summary of story {feed}-{n}.</description>"
        "<pubDate>Mon, 02 Jun 2025 09:00:00 +0000</pubDate></item>"
        for n, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {feed}'
        f"</title><link>https://example.org/</link><description>x</description>{items}"
        "</channel></rss>"
    ).encode()


@contextlib.contextmanager
def _hosts(count: int, latency: float) -> Iterator[list[_Host]]:
    hosts = [_Host(latency) for _ in range(count)]
    for host in hosts:
        host.thread.start()
    try:
        yield hosts
    finally:
        for host in hosts:
            host.server.shutdown()
            host.server.server_close()


def _totals(hosts: list[_Host]) -> Counter[str]:
    total: Counter[str] = Counter()
    for host in hosts:
        total.update(host.requests)
    return total


def _bound(hosts: list[_Host], per_host: int, interval: float, latency: float) -> float:
    worst = 0.0
    for host in hosts:
        n = sum(v for k, v in host.requests.items() if k.endswith("request"))
        worst = max(worst, max((n - 1) * interval, math.ceil(n / per_host) * latency) + latency)
    return worst


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)

    with _hosts(args.hosts, args.latency) as hosts, tempfile.TemporaryDirectory() as cache:
        feed_urls = []
        for f in range(args.feeds):
            links = []
            for e in range(args.entries):
                host = hosts[(f * args.entries + e) % args.hosts]
                path = f"/a/{f}/{e}"
                host.pages[path] = (_article(f, e), "text/html; charset=utf-8")
                links.append(host.base + path)
            home = hosts[f % args.hosts]
            home.pages[f"/feed/{f}.xml"] = (_feed(f, links), "application/rss+xml")
            feed_urls.append(f"{home.base}/feed/{f}.xml")
        policy = FetchPolicy(
            allow_private=True,
            per_host_connections=args.per_host,
            per_host_interval=args.interval,
            http_cache_dir=Path(cache),
            feeds=FeedPolicy(window=None),
        )
        started = time.perf_counter()
        first = load_sources(feed_urls, fetch_policy=policy)
        wall = time.perf_counter() - started
        counts = _totals(hosts)
        bound = _bound(hosts, args.per_host, args.interval, args.latency)
        print(
            f"first run: {len(first.documents)} documents, {len(first.excluded)} excluded, "
            f"{sum(v for k, v in counts.items() if k.endswith('request'))} requests "
            f"({counts['feed request']} feeds, {counts['robots request']} robots.txt, "
            f"{counts['article request']} articles)"
        )
        print(
            f"  wall {wall:.2f} s; per-host bound {bound:.2f} s "
            f"({args.hosts} hosts, {args.per_host} at once, {args.interval:g} s apart, "
            f"{args.latency * 1000:g} ms latency): {wall / bound:.2f}x the bound"
        )
        for host in hosts:
            host.requests.clear()
        started = time.perf_counter()
        again = load_sources(feed_urls, fetch_policy=policy)
        wall = time.perf_counter() - started
        counts = _totals(hosts)
        print(
            f"second run: {len(again.documents)} documents; "
            f"{sum(v for k, v in counts.items() if k.endswith('request'))} requests, "
            f"{counts['article conditional'] + counts['feed conditional']} conditional; "
            f"bodies sent again: {counts['article body']} articles, {counts['feed body']} feeds; "
            f"wall {wall:.2f} s"
        )


if __name__ == "__main__":
    main()
