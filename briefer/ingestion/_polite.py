"""Manners for a run's fetching: per-host turns, robots.txt, and validators kept between runs.

One ``Manners`` serves one run (``load_sources`` or ``stream_sources``) and every thread of it:

- **turns per host** (``host:port``): at most ``FetchPolicy.per_host_connections`` fetches at
  once, each starting at least ``per_host_interval`` after the one before it. A fetch holds its
  turn through its redirects and retries: a server that asked us to wait is not asked by
  another thread meanwhile;
- **robots.txt**, for the pages a feed leads to: fetched once per host per run through the
  same safe fetcher (turns included) and read by ``urllib.robotparser`` for briefer's agent
  token (``briefer``). As RFC 9309 says: a robots.txt that is missing or refused with a 4xx
  status allows everything; one that cannot be had (5xx after retries, a network failure)
  disallows the host's pages for the run;
- **an HTTP cache** of validators and bodies (``FetchPolicy.http_cache_dir``): a response with
  an ``ETag`` or ``Last-Modified`` is kept, the next request for that URL sends
  ``If-None-Match`` / ``If-Modified-Since``, and a ``304 Not Modified`` is answered with the
  body kept. A response marked ``Cache-Control: no-store`` is not kept. Each entry is two
  files named by the sha256 of the URL, written atomically; an entry whose body does not match
  its record is ignored.

Nothing here imports the HTTP client; ``_fetch`` does the requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
import urllib.robotparser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from briefer._files import write_atomic
from briefer.errors import InputError
from briefer.ingestion._limits import FetchPolicy

__all__ = ["CachedResponse", "HttpCache", "Manners", "host_key"]

_ROBOTS_AGENT = "briefer"


def host_key(url: str) -> str:
    """``host:port`` of ``url`` (default ports written out): what a turn is taken for."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


class _HostTurns:
    """At most ``limit`` holders at once; starts spaced ``interval`` seconds apart."""

    def __init__(self, limit: int, interval: float) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._interval = interval
        self._next_start = 0.0

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        with self._slots:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next_start)
                self._next_start = start + self._interval
            if start > now:
                time.sleep(start - now)
            yield


# --- the HTTP cache ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedResponse:
    """A kept response: its validators, its content type and its body."""

    url: str
    etag: str | None
    last_modified: str | None
    content_type: str
    body: bytes

    def conditions(self) -> dict[str, str]:
        """The headers that ask the server whether this body is still current."""
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class HttpCache:
    """Validators and bodies by URL, in a directory (two files per URL, written atomically)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _paths(self, url: str) -> tuple[Path, Path]:
        name = hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]
        return self.directory / f"{name}.json", self.directory / f"{name}.body"

    def lookup(self, url: str) -> CachedResponse | None:
        record_path, body_path = self._paths(url)
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
            body = body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if (
            not isinstance(record, dict)
            or record.get("url") != url
            or record.get("sha256") != hashlib.sha256(body).hexdigest()
        ):
            return None  # half-replaced or damaged: fetch afresh
        return CachedResponse(
            url=url,
            etag=record.get("etag"),
            last_modified=record.get("last_modified"),
            content_type=str(record.get("content_type", "")),
            body=body,
        )

    def store(self, response: CachedResponse) -> None:
        """Keep ``response``; a cache that cannot be written costs only the next download."""
        record_path, body_path = self._paths(response.url)
        record = {
            "url": response.url,
            "etag": response.etag,
            "last_modified": response.last_modified,
            "content_type": response.content_type,
            "sha256": hashlib.sha256(response.body).hexdigest(),
        }
        with contextlib.suppress(OSError):
            # The body first: a record always names a body that was written whole.
            write_atomic(body_path, response.body)
            write_atomic(record_path, json.dumps(record, sort_keys=True))


# --- robots.txt -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RobotsRules:
    parser: urllib.robotparser.RobotFileParser | None  # None: every page allowed
    refusal: str | None = None  # set: no page of the host is fetched, for this reason

    def refuses(self, url: str) -> str | None:
        if self.refusal is not None:
            return self.refusal
        if self.parser is not None and not self.parser.can_fetch(_ROBOTS_AGENT, url):
            return "disallowed by the site's robots.txt"
        return None


class Manners:
    """A run's turns per host, robots.txt rules per host and HTTP cache (see the module)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self.policy = policy
        self.cache = HttpCache(policy.http_cache_dir) if policy.http_cache_dir else None
        self._lock = threading.Lock()
        self._turns: dict[str, _HostTurns] = {}
        self._robots: dict[str, _RobotsRules] = {}
        self._robots_locks: dict[str, threading.Lock] = {}

    def turn(self, url: str) -> contextlib.AbstractContextManager[None]:
        """Wait for a turn at ``url``'s host; hold it for the fetch."""
        key = host_key(url)
        with self._lock:
            turns = self._turns.get(key)
            if turns is None:
                turns = _HostTurns(self.policy.per_host_connections, self.policy.per_host_interval)
                self._turns[key] = turns
        return turns.turn()

    def robots_refusal(
        self, url: str, fetch_robots: Callable[[str], tuple[int, str]]
    ) -> str | None:
        """Why robots.txt forbids ``url``, or None. ``fetch_robots(robots_url)`` gives the
        status and text of a robots.txt, or raises InputError when none could be had."""
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{host_key(url)}"
        with self._lock:
            lock = self._robots_locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch per host; the others wait for its rules
            rules = self._robots.get(origin)
            if rules is None:
                rules = self._read_robots(f"{origin}/robots.txt", fetch_robots)
                self._robots[origin] = rules
        return rules.refuses(url)

    @staticmethod
    def _read_robots(
        robots_url: str, fetch_robots: Callable[[str], tuple[int, str]]
    ) -> _RobotsRules:
        try:
            status, text = fetch_robots(robots_url)
        except InputError as exc:
            return _RobotsRules(None, f"robots.txt could not be read ({exc.reason})")
        if 400 <= status < 500:
            return _RobotsRules(None)
        if not 200 <= status < 300:
            return _RobotsRules(None, f"robots.txt could not be read (HTTP {status})")
        parser = urllib.robotparser.RobotFileParser(robots_url)
        parser.parse(text.splitlines())
        return _RobotsRules(parser)
