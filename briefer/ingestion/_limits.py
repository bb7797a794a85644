"""Limits on what is read and how: a file's size (``DEFAULT_MAX_FILE_BYTES``), a fetch's time,
size and redirects, the manners of fetching (``FetchPolicy``), and what is taken from a feed
(``FeedPolicy``); ``format_size`` writes a size as a reason says it.

Kept apart from ``_fetch`` so that a run without URLs never imports the HTTP client.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from dataclasses import dataclass, field
from pathlib import Path

from briefer.errors import ConfigError

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_USER_AGENT",
    "FeedPolicy",
    "FetchPolicy",
    "format_size",
]

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


def _version() -> str:
    try:
        return importlib.metadata.version("briefer")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree never installed
        return "0"


# A real name and a place to read about it, as robots.txt authors and server operators expect.
DEFAULT_USER_AGENT = f"briefer/{_version()} (+https://github.com/briefer/briefer)"


@dataclass(frozen=True)
class FeedPolicy:
    """What a run takes from RSS, Atom and RDF feeds (and the feeds an OPML file lists).

    ``window``: only entries published or updated within this span before ``until`` are read
    (None: every entry); entries with no date are kept, with a note. ``until``: the end of the
    window, an aware datetime (the end of the briefing day); None is the time of the run.
    ``allow_summaries``: an entry whose page is a snippet or a paywall or consent wall is
    briefed from the feed's summary (marked ``Source.from_summary``) instead of excluded.
    """

    window: dt.timedelta | None = dt.timedelta(hours=24)
    until: dt.datetime | None = None
    allow_summaries: bool = False


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and manners for fetching. Timeouts and waits are in seconds, sizes in bytes.

    Per host (``host:port``): at most ``per_host_connections`` requests at once, and each
    request starts at least ``per_host_interval`` after the one before it. A 429 or 503 is
    tried again up to ``max_retries`` times, after the server's ``Retry-After`` or an
    exponential backoff from ``retry_backoff``, never waiting more than ``max_retry_wait``.
    ``http_cache_dir``: where validators (ETag, Last-Modified) and bodies are kept for
    conditional GETs; None keeps nothing. ``robots``: honour robots.txt for the pages a feed
    leads to (a URL given by the user is fetched as asked).
    """

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # A server that drips one byte at a time never trips the read timeout; this bounds the whole.
    total_timeout: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = DEFAULT_USER_AGENT
    per_host_connections: int = 2
    per_host_interval: float = 0.5
    max_retries: int = 2
    retry_backoff: float = 1.0
    max_retry_wait: float = 30.0
    http_cache_dir: Path | None = None
    robots: bool = True
    feeds: FeedPolicy = field(default_factory=FeedPolicy)

    def __post_init__(self) -> None:
        if self.per_host_connections < 1:
            raise ConfigError(
                f"per_host_connections must be at least 1, not {self.per_host_connections}"
            )
        for name in ("per_host_interval", "retry_backoff", "max_retry_wait"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative, not {getattr(self, name)}")


def format_size(size: int) -> str:
    """``5242880`` → ``'5 MB'``; sizes are binary (1 MB = 1024 * 1024 bytes)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"
