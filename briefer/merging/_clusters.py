"""Records gathered into clusters: union-find (the smaller index wins, so a result does not
depend on the order of its inputs), each cluster's evidence once, and the order of dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from briefer.models import EventRecord, Evidence, StanceRecord


class _UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:  # path compression
            self.parent[i], i = root, self.parent[i]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        keep, drop = min(ra, rb), max(ra, rb)  # the smaller index wins: order-independent
        self.parent[drop] = keep
        return keep


def _dedup_evidence(records: Iterable[EventRecord | StanceRecord]) -> list[Evidence]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for record in records:
        for ev in record.evidence:
            key = (ev.source_id, ev.start, ev.end)
            if key not in seen:
                seen.add(key)
                out.append(ev)
    return out


def _sort_date(date: dt.date | None) -> int:
    return date.toordinal() if date else dt.date.max.toordinal()
