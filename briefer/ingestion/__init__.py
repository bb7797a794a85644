"""Ingestion, the first stage: files, folders, stdin and URLs in; ``Document``s and their token
``Chunk``s out.

Private modules: ``_sources`` (what each input is, and reading it), ``_fetch`` (URLs, safely),
``_chunk`` (token-aware chunks with exact offsets).
"""

from __future__ import annotations

from briefer.ingestion._chunk import chunk_document, split_chunk
from briefer.ingestion._fetch import FetchPolicy
from briefer.ingestion._sources import IngestResult, load_sources

__all__ = ["FetchPolicy", "IngestResult", "chunk_document", "load_sources", "split_chunk"]
