"""Limits on what is read: a file's size (``DEFAULT_MAX_FILE_BYTES``) and a fetch's time, size
and redirects (``FetchPolicy``); ``format_size`` writes a size as a reason says it.

Kept apart from ``_fetch`` so that a run without URLs never imports the HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_FILE_BYTES", "FetchPolicy", "format_size"]

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for one fetch. Timeouts are in seconds, sizes in bytes."""

    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    # A server that drips one byte at a time never trips the read timeout; this bounds the whole.
    total_timeout: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    user_agent: str = "briefer/0.1"


def format_size(size: int) -> str:
    """``5242880`` → ``'5 MB'``; sizes are binary (1 MB = 1024 * 1024 bytes)."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"
