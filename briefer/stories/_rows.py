"""Rows in and out: texts compressed, sources read back as ``Source``."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterable

from briefer.models import Source

__all__ = ["compress", "decompress", "load_sources"]


def compress(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), 6)


def decompress(blob: bytes) -> str:
    return zlib.decompress(blob).decode("utf-8")


def load_sources(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, Source]:
    """The stored sources among ``ids``, by id."""
    wanted = sorted(set(ids))
    out: dict[str, Source] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            f"SELECT id, source_json FROM sources WHERE id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        for sid, source_json in rows:
            out[sid] = Source.model_validate_json(source_json)
    return out
