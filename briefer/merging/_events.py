"""Merged events built from their clusters: the representative record, every member's evidence
and actors, and the values: counts and dates outlets disagree on as conflicts, counts that change
over days as updates (see "Values" in ``_merge``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from briefer.merging._clusters import _dedup_evidence, _UnionFind
from briefer.merging._counts import _meet, _Observation
from briefer.merging._features import _EventFeatures
from briefer.merging._text import _norm
from briefer.models import (
    Actor,
    Conflict,
    ConflictValue,
    EventRecord,
    MergedEvent,
    Quantity,
    Update,
    UpdateValue,
)

_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, "unknown": 4}


def _event_rank(record: EventRecord) -> tuple[int, int, float, str]:
    # The representative: most evidence, then the most precise date, then confidence.
    return (
        -len(record.evidence),
        _PRECISION_RANK[record.date_precision],
        -record.confidence,
        record.id,
    )


def _dedup_actors(actors: Iterable[Actor]) -> list[Actor]:
    seen: set[str] = set()
    out = []
    for actor in actors:
        key = _norm(actor.canonical)
        if key not in seen:
            seen.add(key)
            out.append(actor)
    return out


def _by_support(given: dict[float | str, set[str]], order: list[float | str]) -> list[float | str]:
    """Values given by more sources first; on a tie, the one met first (the representative's)."""
    return sorted(order, key=lambda v: (-len(given[v]), order.index(v)))


def _conflict(
    field_name: str, given: dict[float | str, set[str]], order: list[float | str]
) -> Conflict | None:
    if len(given) < 2:
        return None
    values = _by_support(given, order)
    return Conflict(
        field=field_name,
        values=[ConflictValue(value=v, source_ids=sorted(given[v])) for v in values],
    )


def _kind_groups(observations: list[_Observation]) -> list[list[_Observation]]:
    """Observations that count the same thing, together (in order of first appearance)."""
    uf = _UnionFind(len(observations))
    for i, x in enumerate(observations):
        for j in range(i + 1, len(observations)):
            if x.kind.same(observations[j].kind):
                uf.union(i, j)
    groups: dict[int, list[_Observation]] = defaultdict(list)
    for i, observation in enumerate(observations):
        groups[uf.find(i)].append(observation)
    return [groups[root] for root in sorted(groups)]


@dataclass
class _DayValues:
    """The values one kind of count takes on one day (or, for a fixed count, at all)."""

    given: dict[float, set[str]] = field(default_factory=dict)
    shown: dict[float, Quantity] = field(default_factory=dict)
    observations: list[_Observation] = field(default_factory=list)

    def add(self, observation: _Observation) -> None:
        value = observation.quantity.value
        self.given.setdefault(value, set()).add(observation.source_id)
        self.shown.setdefault(value, observation.quantity)
        self.observations.append(observation)

    def best(self) -> float:
        order = list(self.given)
        return max(order, key=lambda v: (len(self.given[v]), -order.index(v)))

    def sides(self) -> dict[float, int]:
        """Each value's side: values whose intervals share a point are on one side (on a line,
        intervals that meet pairwise share a point), found by a sweep from the lowest."""
        intervals: dict[float, tuple[float, float]] = {}
        for o in self.observations:
            low, high = intervals.get(o.quantity.value, (o.low, o.high))
            intervals[o.quantity.value] = (max(low, o.low), min(high, o.high))
        side, common = -1, (math.inf, -math.inf)
        out: dict[float, int] = {}
        for value, (low, high) in sorted(intervals.items(), key=lambda kv: (kv[1], kv[0])):
            if low <= common[1] and common[0] <= high:
                common = (max(low, common[0]), min(high, common[1]))
            else:
                side, common = side + 1, (low, high)
            out[value] = side
        return out

    def disagree(self) -> bool:
        obs = self.observations
        if len({o.source_id for o in obs}) < 2 or max(o.low for o in obs) <= min(
            o.high for o in obs
        ):
            return False  # one source, or every interval holds a common point
        return any(
            x.source_id != y.source_id and not _meet(x, y)
            for i, x in enumerate(obs)
            for y in obs[i + 1 :]
        )


def _accumulating(observation: _Observation, published: dict[str, int | None]) -> _Observation:
    if observation.accumulates:
        return observation
    q = observation.quantity
    day = q.date.toordinal() if q.date else published.get(observation.source_id)
    return dataclasses.replace(observation, accumulates=True, as_of=day)


def _quantities(
    ordered: list[EventRecord],
    features: dict[str, _EventFeatures],
    published: dict[str, int | None],
) -> tuple[list[Quantity], list[Conflict], list[Update]]:
    observations = [o for r in ordered for o in features[r.id].observations]
    quantities: list[Quantity] = []
    conflicts: list[Conflict] = []
    updates: list[Update] = []
    for group in _kind_groups(observations):
        label = group[0].label
        if any(o.accumulates for o in group):
            # One kind of count either accumulates or not: one report's "so far" dates all.
            group = [_accumulating(o, published) for o in group]
        days: dict[int | None, _DayValues] = {}
        for observation in group:
            days.setdefault(observation.as_of, _DayValues()).add(observation)
        dated = sorted((d, v) for d, v in days.items() if d is not None)
        for day, values in [*dated, *((None, v) for d, v in days.items() if d is None)]:
            if values.disagree():
                order: list[float | str] = list(values.given)
                given: dict[float | str, set[str]] = {v: set(s) for v, s in values.given.items()}
                sides = values.sides()
                conflicts.append(
                    Conflict(
                        field=f"quantities.{label}",
                        values=[
                            ConflictValue(
                                value=v,
                                source_ids=sorted(given[v]),
                                text=values.shown[float(v)].text,
                                side=sides[float(v)],
                            )
                            for v in _by_support(given, order)
                        ],
                        as_of=dt.date.fromordinal(day)
                        if day is not None and len(dated) > 1
                        else None,
                    )
                )
        latest = dated[-1][1] if dated else days[None]
        quantities.append(latest.shown[latest.best()])
        series = [(day, values) for day, values in dated]
        if len(series) > 1 and len({v.best() for _, v in series}) > 1:
            updates.append(
                Update(
                    field=f"quantities.{label}",
                    values=[
                        UpdateValue(
                            value=values.best(),
                            date=dt.date.fromordinal(day),
                            source_ids=sorted(values.given[values.best()]),
                            text=values.shown[values.best()].text,
                        )
                        for day, values in series
                    ],
                )
            )
    return quantities, conflicts, updates


def _merge_event(
    members: list[EventRecord],
    groups: dict[str, str],
    features: dict[str, _EventFeatures],
    published: dict[str, int | None],
) -> MergedEvent:
    ordered = sorted(members, key=_event_rank)
    rep = ordered[0]
    ongoing = any(features[r.id].ongoing for r in members)
    quantities, conflicts, updates = _quantities(ordered, features, published)

    date, date_text, precision = rep.date, rep.date_text, rep.date_precision
    if ongoing:
        # An ongoing event is dated by its first reported day; later days are its updates.
        precise = [r for r in ordered if r.date is not None and r.date_precision == "day"]
        if precise:
            first = min(precise, key=lambda r: (r.date, _event_rank(r)))
            date, date_text, precision = first.date, first.date_text, first.date_precision
    else:
        dates: dict[float | str, set[str]] = {}
        date_order: list[float | str] = []
        for record in ordered:
            if record.date is not None and record.date_precision == "day":
                iso = record.date.isoformat()
                if iso not in dates:
                    date_order.append(iso)
                dates.setdefault(iso, set()).add(record.source_id)
        found = _conflict("date", dates, date_order)
        if found:
            conflicts.append(found)

    # The place shown is the representative's; outlets' places are not set against each
    # other (see _differ): one place at different scales is no disagreement.
    location = rep.location or next((r.location for r in ordered if r.location), None)

    member_ids = sorted(r.id for r in members)
    source_ids = sorted({r.source_id for r in members})
    digest = hashlib.sha256("\n".join(member_ids).encode()).hexdigest()[:12]
    return MergedEvent(
        id=f"me-{digest}",
        type=rep.type,
        summary=rep.summary,
        actors=_dedup_actors(a for r in ordered for a in r.actors),
        targets=_dedup_actors(a for r in ordered for a in r.targets),
        date=date,
        date_text=date_text,
        date_precision=precision,
        location=location,
        quantities=quantities,
        factuality=rep.factuality,
        evidence=_dedup_evidence(ordered),
        confidence=max(r.confidence for r in members),
        source_id=rep.source_id,
        grounded=all(r.grounded for r in members),
        members=member_ids,
        source_ids=source_ids,
        corroboration=max(1, len({groups.get(s, s) for s in source_ids})),
        conflicts=conflicts,
        updates=updates,
        ongoing=ongoing,
    )
