"""Extraction, the second stage: one structured call per chunk, and the reply turned into
grounded event and stance records.

Private modules, read top-down: ``_records`` (the stage's entry: the calls, a chunk split when
its reply is cut off, each reply → records), ``_request`` (the request), ``_ground`` (each quote
located in the article), ``_injection`` (text addressed to a model rather than to readers),
``_events`` and ``_stances`` (a reply's items → records), ``_named_actors`` (the actors the
quotes name, and their states), ``_actors`` (actors under their standard names), ``_values``
(dates, counts and places read from the article), ``_ids`` (record ids).
"""

from __future__ import annotations

from briefer.extraction._records import ExtractionResult, extract_documents
from briefer.extraction._request import build_extraction_request

__all__ = [
    "ExtractionResult",
    "build_extraction_request",
    "extract_documents",
]
