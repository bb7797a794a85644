"""Ingestion, the first stage: files, folders, stdin and URLs in; ``Document``s and their token
``Chunk``s out.

Private modules, in the order of the flow: ``_inputs`` (what an input is; folders walked, stdin's
lists), ``_decode`` (bytes to text), ``_fetch`` (URLs, safely; limits and manners in ``_limits``,
turns per host, robots.txt and the HTTP cache in ``_polite``), ``_feeds`` (RSS, RDF, Atom and
OPML; the window; pages that are not the article), ``_canonical`` (one spelling per URL),
``_html`` and ``_plain`` (an article's text and metadata, with ``_meta``, ``_dates`` and
``_outlets``), ``_sources`` (the stage: documents and exclusions, read at once or as they come),
``_chunk`` (token-aware chunks with exact offsets).
"""

from __future__ import annotations

from briefer.ingestion._chunk import chunk_document, split_chunk
from briefer.ingestion._limits import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_USER_AGENT,
    FeedPolicy,
    FetchPolicy,
)
from briefer.ingestion._sources import IngestResult, SourceStream, load_sources, stream_sources

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_USER_AGENT",
    "FeedPolicy",
    "FetchPolicy",
    "IngestResult",
    "SourceStream",
    "chunk_document",
    "load_sources",
    "split_chunk",
    "stream_sources",
]
