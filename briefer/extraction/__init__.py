"""Extraction, the second stage: one structured call per chunk, and the reply turned into
grounded event and stance records.

Private modules: ``_records`` (the request, the reply → records: dates, quantities, actors,
polarity), ``_ground`` (each quote located in the article), ``_injection`` (text addressed to a
model rather than to readers), ``_actors`` (actors under their standard names).
"""

from __future__ import annotations

from briefer.extraction._records import (
    ExtractionResult,
    build_extraction_request,
    extract_documents,
    extraction_prompt_version,
)

__all__ = [
    "ExtractionResult",
    "build_extraction_request",
    "extract_documents",
    "extraction_prompt_version",
]
