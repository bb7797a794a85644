"""A reply's event → the stored ``EventRecord``, when its quotes carry it: actors named where
the quotes stand, words in common with what it says, and its date, counts and place read from
the article (``_values``).
"""

from __future__ import annotations

import re

from briefer.extraction._actors import canonicalize_actor
from briefer.extraction._ground import GroundedItem, evidence_carries
from briefer.extraction._ids import _event_id
from briefer.extraction._named_actors import _event_actors, _unique_actors
from briefer.extraction._values import _event_date, _location, _quantities
from briefer.models import Document, EventRecord, ExtractedEvent


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def _event_record(
    doc: Document, grounded: GroundedItem[ExtractedEvent], mentioned: frozenset[str]
) -> EventRecord | None:
    """The stored record, or None when its quotes do not carry it: no actor named where the
    quotes stand, or quotes that share nothing with what the record says."""
    event = grounded.item
    summary = re.sub(r"\s+", " ", event.summary).strip()
    if grounded.grounded:
        actors = _event_actors(doc, event.actors, grounded.evidence, mentioned)
        targets = _event_actors(doc, event.targets, grounded.evidence, mentioned)
        said = [summary, *(a.name for a in event.actors), *(t.name for t in event.targets)]
        if not actors or not evidence_carries(said, grounded.evidence):
            return None
    else:
        actors = _unique_actors([canonicalize_actor(a) for a in event.actors])
        targets = _unique_actors([canonicalize_actor(a) for a in event.targets])
    date_text, date, precision = _event_date(doc, event, grounded.evidence)
    record = EventRecord(
        id="ev-pending",
        type=event.type,
        summary=summary,
        actors=actors,
        targets=targets,
        date=date,
        date_text=date_text,
        date_precision=precision,
        location=_location(doc, event.location, grounded.evidence),
        quantities=_quantities(doc, event, doc.source.published),
        factuality=event.factuality,
        evidence=grounded.evidence,
        confidence=_clamp(event.confidence),
        source_id=doc.id,
        grounded=grounded.grounded,
    )
    return record.model_copy(update={"id": _event_id(record)})
