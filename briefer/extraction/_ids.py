"""Record ids: a hash of what a record says and where its first quote stands, so a re-run gives
the same ids; records that hash alike within a document are numbered apart.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TypeVar

from briefer.models import EventRecord, StanceRecord

RecordT = TypeVar("RecordT", EventRecord, StanceRecord)


def _norm_words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _record_id(prefix: str, parts: list[object]) -> str:
    digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:10]}"


def _event_id(event: EventRecord) -> str:
    first = event.evidence[0]
    return _record_id(
        "ev",
        [
            event.source_id,
            event.type,
            _norm_words(event.summary),
            sorted(a.canonical for a in event.actors),
            [first.start, first.end],
        ],
    )


def _stance_id(stance: StanceRecord) -> str:
    first = stance.evidence[0]
    return _record_id(
        "st",
        [
            stance.source_id,
            stance.holder.canonical,
            stance.polarity,
            _norm_words(stance.claim),
            [first.start, first.end],
        ],
    )


def _with_unique_ids(records: list[RecordT]) -> list[RecordT]:
    """Give records that hash alike distinct ids, in order, so every id names one record."""
    seen: dict[str, int] = {}
    unique: list[RecordT] = []
    for record in records:
        count = seen.get(record.id, 0)
        seen[record.id] = count + 1
        unique.append(
            record.model_copy(update={"id": f"{record.id}-{count + 1}"}) if count else record
        )
    return unique
