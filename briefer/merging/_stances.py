"""Stances merged: one position per holder, polarity and question, the misreadings of one
holder's words left out, and a later, different position of a holder kept as a change (see
"Stances" in ``_merge``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from briefer.merging._clusters import _dedup_evidence, _sort_date, _UnionFind
from briefer.merging._text import _content_tokens, _jaccard, _norm
from briefer.models import MergedStance, PositionChange, StanceRecord

__all__ = ["STANCE_CLAIM", "STANCE_TOPIC"]

STANCE_TOPIC = 0.5
STANCE_CLAIM = 0.3


@dataclass(frozen=True)
class _StanceFeatures:
    quotes: tuple[str, ...]
    topic: frozenset[str]
    claim: frozenset[str]


def _stance_features(s: StanceRecord) -> _StanceFeatures:
    return _StanceFeatures(
        quotes=tuple(q for q in (_norm(e.quote) for e in s.evidence) if q),
        topic=_content_tokens(f"{s.topic} {s.target or ''}"),
        claim=_content_tokens(s.claim),
    )


def _same_question(a: _StanceFeatures, b: _StanceFeatures) -> bool:
    if any(x in y or y in x for x in a.quotes for y in b.quotes):
        return True
    return _jaccard(a.topic, b.topic) >= STANCE_TOPIC


def _same_position(a: _StanceFeatures, b: _StanceFeatures) -> bool:
    if any(x in y or y in x for x in a.quotes for y in b.quotes):
        return True
    return _jaccard(a.topic, b.topic) >= STANCE_TOPIC and _jaccard(a.claim, b.claim) >= STANCE_CLAIM


def _merge_stance(members: list[StanceRecord]) -> MergedStance:
    ordered = sorted(members, key=lambda s: (-len(s.evidence), s.quote_type != "direct", s.id))
    rep = ordered[0]
    member_ids = sorted(s.id for s in members)
    digest = hashlib.sha256("\n".join(member_ids).encode()).hexdigest()[:12]
    dates = [s.date for s in members if s.date is not None]
    return MergedStance(
        id=f"ms-{digest}",
        holder=rep.holder,
        topic=rep.topic,
        target=rep.target,
        polarity=rep.polarity,
        quote_type=rep.quote_type,
        claim=rep.claim,
        evidence=_dedup_evidence(ordered),
        date=max(dates) if dates else None,
        source_id=rep.source_id,
        grounded=all(s.grounded for s in members),
        members=member_ids,
        source_ids=sorted({s.source_id for s in members}),
    )


def _majority_readings(stances: Sequence[StanceRecord]) -> list[StanceRecord]:
    """One holder's words read as opposite positions (a copy of one story, or one quote in
    two reports, given favor once and against twice): the reading most records give stands,
    the others are misreadings and are left out. A tie leaves every reading in."""
    features = [_stance_features(s) for s in stances]
    by_holder: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(stances):
        by_holder[_norm(s.holder.canonical)].append(i)
    dropped: set[int] = set()
    for indices in by_holder.values():
        for i in indices:
            same_words = [
                j
                for j in indices
                if any(x in y or y in x for x in features[i].quotes for y in features[j].quotes)
            ]
            votes: dict[str, int] = defaultdict(int)
            for j in same_words:
                votes[stances[j].polarity] += 1
            best = max(votes.values())
            if list(votes.values()).count(best) == 1 and votes[stances[i].polarity] < best:
                dropped.add(i)
    return [s for i, s in enumerate(stances) if i not in dropped]


def _merge_stances(stances: Sequence[StanceRecord]) -> list[MergedStance]:
    stances = _majority_readings(stances)
    uf = _UnionFind(len(stances))
    by_holder: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(stances):
        by_holder[_norm(s.holder.canonical)].append(i)
    # Features once per stance, not once per pair: a holder may have thousands of stances.
    features = [_stance_features(s) for s in stances]
    for indices in by_holder.values():
        for x, i in enumerate(indices):
            for j in indices[x + 1 :]:
                if (
                    stances[i].polarity == stances[j].polarity
                    and uf.find(i) != uf.find(j)
                    and _same_position(features[i], features[j])
                ):
                    uf.union(i, j)
    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(len(stances)):
        clusters[uf.find(i)].append(i)
    merged = {root: _merge_stance([stances[i] for i in group]) for root, group in clusters.items()}
    # A holder's later, different position on the same question is a change over time.
    changes: dict[int, list[PositionChange]] = defaultdict(list)
    roots = sorted(clusters)
    for x, a in enumerate(roots):
        for b in roots[x + 1 :]:
            ma, mb = merged[a], merged[b]
            if _norm(ma.holder.canonical) != _norm(mb.holder.canonical):
                continue
            if ma.polarity == mb.polarity or ma.date is None or mb.date is None:
                continue
            if ma.date == mb.date:
                continue
            related = any(
                _same_question(features[i], features[j]) for i in clusters[a] for j in clusters[b]
            )
            if not related:
                continue
            earlier, later = (a, b) if ma.date < mb.date else (b, a)
            me = merged[earlier]
            changes[later].append(
                PositionChange(stance_id=me.id, polarity=me.polarity, date=me.date)
            )
    out = [
        m.model_copy(update={"changed_from": sorted(changes[root], key=lambda c: c.stance_id)})
        if changes.get(root)
        else m
        for root, m in merged.items()
    ]
    return sorted(out, key=lambda m: (_norm(m.holder.canonical), _sort_date(m.date), m.id))
