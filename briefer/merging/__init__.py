"""Merging, the third stage: the same event or position told by several chunks, outlets and days
becomes one merged record; disagreements are kept as conflicts, changes over days as updates.

Private modules, read top-down: ``_merge`` (the stage's entry, and its rules), ``_blocking``
(candidate pairs), ``_compare`` (may two events be one, and how alike are they), ``_features``
(what an event is compared by), ``_counts`` (what a count counts, its interval and its day),
``_text`` (the words compared), ``_events`` (merged events, conflicts and updates),
``_stances`` (merged positions), ``_outlets`` (corroboration), ``_clusters`` (union-find).

Besides ``merge_records``, the face shows what a caller that keeps records across runs (the
story store) needs to apply the same rules: the keys and days an event is compared under
(``blocking_keys``, ``compared_days``), the outlet groups of documents (``outlet_groups``,
``syndicated_pairs``), and ``merge_events``, which builds merged events from clusters the
caller already holds; ``cluster_across_days`` clusters events as merging does, each compared
within ``ONGOING_WINDOW`` days (a story followed from day to day); ``same_count`` and
``content_words`` say, as merging does, whether two counts count one thing and which words of
a text are compared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from briefer.merging._counts import _kind_of
from briefer.merging._events import _merge_event
from briefer.merging._features import (
    _SPAN,
    DAY_WINDOW,
    IMPRECISE_WINDOW,
    ONGOING_WINDOW,
    _block_keys,
    _features,
    _is_ongoing,
)
from briefer.merging._merge import MergeResult, _cluster_events, merge_records
from briefer.merging._outlets import outlet_groups, syndicated_pairs
from briefer.merging._text import _content_tokens
from briefer.models import EventRecord, MergedEvent, Quantity, Source

__all__ = [
    "ONGOING_WINDOW",
    "MergeResult",
    "blocking_keys",
    "cluster_across_days",
    "compared_days",
    "content_words",
    "merge_events",
    "merge_records",
    "outlet_groups",
    "same_count",
    "syndicated_pairs",
]


def blocking_keys(record: EventRecord) -> frozenset[str]:
    """The keys blocking files an event under, besides its quad class: the states of its actors
    and targets (``@PRK``) and their whole canonical names. Two events are compared only when
    they share one."""
    return _block_keys((*record.actors, *record.targets))


def compared_days(record: EventRecord) -> tuple[int, int] | None:
    """The days (ordinals) within which an event is compared with others: the days its date
    names, widened by its window (``ONGOING_WINDOW`` for a strike, a siege, talks...). Two dated
    events are compared only when their spans meet; None for an undated event, which is
    compared whatever the other's date."""
    if record.date is None:
        return None
    if _is_ongoing(record):
        window = ONGOING_WINDOW
    else:
        window = DAY_WINDOW if record.date_precision == "day" else IMPRECISE_WINDOW
    day = record.date.toordinal()
    return day - window, day + _SPAN[record.date_precision] + window


def merge_events(
    clusters: Sequence[Sequence[EventRecord]],
    sources: Sequence[Source],
    groups: Mapping[str, str],
) -> list[MergedEvent]:
    """Each cluster as one merged event, built as ``merge_records`` builds the events of its
    clusters (representative, evidence, actors, conflicts, updates), whether or not merging
    would have put the records together. ``sources`` give the publication dates counts are
    dated by; ``groups`` maps each source id to its outlet group (as ``outlet_groups`` makes
    them), which corroboration counts."""
    published = {s.id: s.published.toordinal() if s.published else None for s in sources}
    merged = []
    for cluster in clusters:
        records = sorted(cluster, key=lambda e: e.id)
        features = {e.id: _features(e, published) for e in records}
        merged.append(_merge_event(records, dict(groups), features, published))
    return merged


def same_count(a: Quantity, b: Quantity) -> bool:
    """Whether two quantities count the same thing, as merging decides it when it sets their
    values against each other ("detained" and "arrests"; "lorries" and "trucks")."""
    return _kind_of(a).same(_kind_of(b))


def content_words(text: str) -> frozenset[str]:
    """The words of ``text`` that merging compares: stop words and numbers left out, plural and
    past endings cut."""
    return _content_tokens(text)


def cluster_across_days(
    events: Sequence[EventRecord], sources: Sequence[Source]
) -> list[list[str]]:
    """The ids of ``events`` clustered as ``merge_records`` clusters them, with one difference:
    every dated event is compared within ``ONGOING_WINDOW`` days, the window of an ongoing
    event, as a story followed from one day to the next is. ``sources`` date the counts."""
    published = {s.id: s.published.toordinal() if s.published else None for s in sources}
    features = [
        dataclasses.replace(_features(e, published), window=ONGOING_WINDOW)
        for e in sorted(events, key=lambda e: e.id)
    ]
    clusters, _ = _cluster_events(features)
    return [sorted(r.id for r in cluster) for cluster in clusters]
