"""Composition, the fourth stage: the briefing's items written from the merged records, by the
model (checked, asked again once) or by the deterministic composer.

Private modules: ``_compose`` (the composition call and the deterministic composer),
``_citations`` (every number, name and date of a sentence found in the evidence it cites).
"""

from __future__ import annotations

from briefer.composition._compose import (
    POLARITY_WORDS,
    ComposeResult,
    compose_items,
    date_span,
    event_wording,
    holder_label,
)

__all__ = [
    "POLARITY_WORDS",
    "ComposeResult",
    "compose_items",
    "date_span",
    "event_wording",
    "holder_label",
]
