"""Merge: one mechanism decides which records report the same event, within an article and
across chunks, outlets and days; values that disagree are kept as conflicts, values that change
over days as updates.

Events
------
Candidates come from **blocking**, never from all pairs. Every event is indexed under
``(quad class, day, actor, word)`` for each canonical actor or target it names and each word of
its summary and evidence, and under ``(quad class, actor, word)`` whatever its date; an event
looks up only its ``RARE_TOKENS`` rarest words (names, places, programmes), so two reports are
compared when they share the quad class, an actor and a distinctive word, within a date window:

* a date covers the days it names (a day; "last week" its week; "in March" its month) and two
  dates compare when those spans come within **1 day** of each other;
* **ongoing** events (a strike, a siege, talks, a blockade, an evacuation, or words saying it
  goes on: "entered its second day", "continued") within **7 days**;
* an undated event compares with dated and undated ones alike, but joins only on a strong match.

Counts of the same thing (a quantity kind) also block, by type, day and the states involved, so
outlets that word one designation differently still meet.

A candidate pair is scored with ``text`` (the largest token-set Jaccard similarity between the
summaries, the evidence quotes, or one's summary and the other's evidence; stop words and numbers
left out, plural and past endings cut) and ``actors`` (Jaccard of the actors' and targets'
canonical names and their countries). Two records are **never** one event when:

* their types differ outside one quad class, or one is negated and the other is not;
* they act on **different targets**: both name their targets by distinctive proper names ("Belavia",
  "Belaruskali") and neither record's text mentions the other's (sanctions on two targets on one
  day are two events);
* they come from **one source** and differ on a value (a count that cannot be the same, the place,
  or the day): one article does not contradict itself, so two launches it reports at two places
  are two launches.

Otherwise they are one event when ``text >= MATCH_TEXT`` (``MATCH_TEXT_OTHER_TYPE`` across types
of one quad class; ``SAME_SOURCE_TEXT`` within one source, or shared evidence; ``UNDATED_TEXT``
when one has no date) and the actors overlap, or **structurally**: same type, same day (or both in
one ongoing window), actors overlapping by ``CONFLICT_ACTORS``, and a count of the same thing or a
named target in common. Records from different sources that differ on a value join only on
``text >= CONFLICT_TEXT`` with overlapping actors, or structurally. Clusters are built with
union-find, best pairs first; a union is refused when it would bring together two records that may
not be one event (the rules above), so they hold transitively.

Values: conflicts and updates
-----------------------------
Each quantity is read from its own words as an interval ("at least 12" is [12, ∞), "about 3,000"
is [2,700, 3,300], "between 30 and 40" is [30, 40]); two values **disagree** only when their
intervals do not meet. A count of something that accumulates (deaths, evacuations, ships waiting,
cancelled trains, anything in an ongoing event, or a count whose words give its own day: "65 by
Tuesday") holds for a day: the day its words give, else the day its article was published. Within
one event and one kind of count:

* values that disagree **on the same day** (or, for a fixed count such as "people sanctioned",
  at all) are a **conflict**: every value kept with its sources, never an average;
* values on **different days** that differ are an **update**: each value with its day, in order.

A date conflict is kept only for events that are not ongoing: outlets disagreeing on the day one
thing happened, not a story that ran for two days. The value shown is the latest day's, and within a
day the one most sources give.

Stances
-------
Grouped by the holder's canonical name. Two stances are one position only with the same polarity,
and either quotes that contain one another or topics that match (``STANCE_TOPIC``) with similar
claims. A holder on two sides of one question is shown twice; a later, different position of a
holder on the same question carries the earlier one in ``changed_from``.

Corroboration
-------------
Distinct outlets among an event's sources, where one outlet name counts once and documents that
are copies of one story, verbatim or edited (at least ``SYNDICATION_CONTAINMENT`` of the
shorter one's word 5-shingles in the other, found with MinHash and LSH banding so documents are
not compared all against all) count once.

Where
-----
``_features`` reads what each event is compared by (``_text``: its words; ``_counts``: its
counts); ``_blocking`` finds the candidate pairs and ``_compare`` scores them; clusters
(``_clusters``) become merged events in ``_events``; stances merge in ``_stances``, and
corroboration counts outlets (``_outlets``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from briefer.merging._blocking import _candidate_pairs
from briefer.merging._clusters import _sort_date, _UnionFind
from briefer.merging._compare import _incompatible, _pair_score
from briefer.merging._events import _merge_event
from briefer.merging._features import _EventFeatures, _features
from briefer.merging._outlets import outlet_groups
from briefer.merging._stances import _merge_stances
from briefer.models import (
    Document,
    EventRecord,
    MergedEvent,
    MergedStance,
    StanceRecord,
)

__all__ = ["MergeResult", "merge_records"]


@dataclass(frozen=True)
class MergeResult:
    """Merged events and stances in a deterministic order, and how much work blocking left."""

    events: list[MergedEvent]
    stances: list[MergedStance]
    comparisons: int = field(default=0, compare=False)


def _cluster_events(
    features: Sequence[_EventFeatures],
) -> tuple[list[list[EventRecord]], int]:
    scored: list[tuple[float, int, int]] = []
    comparisons = 0
    for i, j in _candidate_pairs(features):
        comparisons += 1
        score = _pair_score(features[i], features[j])
        if score is not None:
            scored.append((score, min(i, j), max(i, j)))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))

    uf = _UnionFind(len(features))
    members: dict[int, list[int]] = {i: [i] for i in range(len(features))}
    for _, i, j in scored:
        ri, rj = uf.find(i), uf.find(j)
        if ri == rj:
            continue
        if any(_incompatible(features[x], features[y]) for x in members[ri] for y in members[rj]):
            continue
        root = uf.union(ri, rj)
        other = rj if root == ri else ri
        members[root].extend(members.pop(other))

    clusters: dict[int, list[EventRecord]] = defaultdict(list)
    for i, f in enumerate(features):
        clusters[uf.find(i)].append(f.record)
    return list(clusters.values()), comparisons


# --- entry point ------------------------------------------------------------------------------


def merge_records(
    events: list[EventRecord], stances: list[StanceRecord], documents: list[Document]
) -> MergeResult:
    """Cluster records into merged events and stances; see the module docstring for the rules.

    The result does not depend on the order of the inputs: records are sorted by id first.
    """
    ordered_docs = sorted(documents, key=lambda d: d.id)
    groups = outlet_groups(ordered_docs)
    published = {
        d.id: d.source.published.toordinal() if d.source.published else None for d in ordered_docs
    }
    ordered_events = sorted(events, key=lambda e: e.id)
    features = [_features(e, published) for e in ordered_events]
    by_id = {f.record.id: f for f in features}
    clusters, comparisons = _cluster_events(features)
    merged_events = sorted(
        (_merge_event(c, groups, by_id, published) for c in clusters),
        key=lambda m: (_sort_date(m.date), m.type, m.id),
    )
    merged_stances = _merge_stances(sorted(stances, key=lambda s: s.id))
    return MergeResult(events=merged_events, stances=merged_stances, comparisons=comparisons)
