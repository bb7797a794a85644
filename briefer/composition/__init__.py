"""Composition, the fourth stage: the briefing's items written from the merged records, by the
model (checked, asked again once) or by the deterministic composer.

Private modules, read top-down: ``_compose`` (the stage's entry: the composition call, its
checks and its follow-up), ``_deterministic`` (the deterministic composer: items and sections),
``_since`` (what changed since the last briefing, and a stored story's days), ``_sentences``
(the sentences it writes, each checked), ``_wording`` (what both composers share: ranking,
names, dates, disputed values), ``_citations`` (every number, name and date of a sentence found
in the evidence it cites).
"""

from __future__ import annotations

from briefer.composition._citations import source_label
from briefer.composition._compose import ComposeResult, compose_items
from briefer.composition._deterministic import event_wording
from briefer.composition._since import story_day_sentences
from briefer.composition._wording import POLARITY_WORDS, date_span, holder_label

__all__ = [
    "POLARITY_WORDS",
    "ComposeResult",
    "compose_items",
    "date_span",
    "event_wording",
    "holder_label",
    "source_label",
    "story_day_sentences",
]
