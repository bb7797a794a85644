"""Merge: the same event from several chunks and outlets becomes one record, conflicts kept.

Events
------
Candidates come from **blocking**, never from all pairs. Every event is indexed under
``(quad class, day, actor, word)`` for each canonical actor or target it names and each word of
its summary and evidence; an event looks up only its ``RARE_TOKENS`` rarest summary words and
rarest evidence words (rarest across the input: names, places, programmes), so two reports
are compared when they share the quad class, an actor and a distinctive word, within the date
window. Frequent words never open a block of the whole day, which keeps the work near-linear:

* day-precision dates compare within **1 day**; when either date is coarser than a day
  (week, month, year, unknown precision) the window is **3 days**;
* an event with **no date** compares only with other undated events (same quad class, a shared
  actor): an undated report cannot be placed against a dated one, so joining it would be a guess.

A candidate pair is then scored:

* ``text`` = the larger of the token-set Jaccard similarities of the summaries and of the
  evidence quotes (lower-cased words, stop words and numbers removed, plural/past endings cut);
* ``actors`` = Jaccard similarity of the actor-and-target sets: canonical names and their
  countries, so a ministry and its state share something.

Two records are the same event when ``text >= MATCH_TEXT`` (``MATCH_TEXT_OTHER_TYPE`` when the
types differ within the quad class) and neither is negated while the other is not, or when they
match **structurally**: same type, same day (both day-precise), actors overlapping by at least
``CONFLICT_ACTORS`` and a count of the same kind ("people sanctioned"): outlets word one
designation differently, and the words alone would keep the reports apart. What is counted is
also a blocking key, so such reports meet as candidates. When they
**differ** on a value — a quantity of the same kind, the place, or the day of a day-precise
date — the rule is:

* from the **same source**: always two events (two launches on one day with different counts
  or places are two launches; one article does not contradict itself);
* from **different sources**: one event with a conflict only when the similarity is high
  (``text >= CONFLICT_TEXT`` and ``actors >= CONFLICT_ACTORS``), e.g. "five people sanctioned"
  and "six people sanctioned" told of the same designation by two outlets; otherwise two.

Clusters are built with union-find, pairs taken best first; a union is refused when it would put
two records of one source that differ on a value into one cluster, so the same-source rule holds
transitively.

Stances
-------
Grouped by the holder's canonical name; two stances merge when one quote contains the other
(whitespace and case normalised) or when the topics match and the claims are near-identical
(``STANCE_CLAIM`` Jaccard).

Corroboration
-------------
Distinct outlets among an event's sources, where one outlet name counts once and documents that
are syndicated copies of one story (word 5-shingle Jaccard ``>= SYNDICATION_JACCARD``, found with
MinHash and LSH banding so documents are not compared all against all) count once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from briefer.models import (
    Actor,
    Conflict,
    ConflictValue,
    Document,
    EventRecord,
    Evidence,
    MergedEvent,
    MergedStance,
    Quantity,
    StanceRecord,
)

__all__ = [
    "CONFLICT_ACTORS",
    "CONFLICT_TEXT",
    "MATCH_TEXT",
    "MATCH_TEXT_OTHER_TYPE",
    "RARE_TOKENS",
    "STANCE_CLAIM",
    "SYNDICATION_JACCARD",
    "MergeResult",
    "merge_records",
    "outlet_groups",
    "syndicated_pairs",
]

MATCH_TEXT = 0.3
MATCH_TEXT_OTHER_TYPE = 0.5
CONFLICT_TEXT = 0.4
CONFLICT_ACTORS = 0.5
STANCE_CLAIM = 0.8
SYNDICATION_JACCARD = 0.8

RARE_TOKENS = 3
DAY_WINDOW = 1
# Largest block of same-type, same-day records counting the same thing that is still walked.
MAX_COUNTED_BLOCK = 32
IMPRECISE_WINDOW = 3

_SHINGLE = 5
_MINHASH_PERMS = 64
_LSH_BANDS = 16  # 16 bands of 4 rows: pairs near Jaccard 0.5 and above become candidates

_STOP = frozenset(
    """a an the and or but of in on at to for from by with as into over after before about
    its it is are was were be been has have had that this these those which who whom whose
    their them they he she his her said says say also than then there here not no new more
    most other such both all any some would will could can may might should must""".split()  # noqa: SIM905
)
# Number words are left out like digits: outlets that disagree on a count still tell one story.
_NUMBER_WORDS = frozenset(
    [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
        "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "hundred", "thousand",
        "million", "billion", "dozen", "dozens", "hundreds", "thousands", "millions",
    ]
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, "unknown": 4}


@dataclass(frozen=True)
class MergeResult:
    """Merged events and stances in a deterministic order, and how much work blocking left."""

    events: list[MergedEvent]
    stances: list[MergedStance]
    comparisons: int = field(default=0, compare=False)


# --- text helpers -----------------------------------------------------------------------------


def _stem(word: str) -> str:
    # A light suffix cut so "sanctions"/"sanctioned"/"sanction" meet; not a real stemmer.
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _content_tokens(text: str) -> frozenset[str]:
    return frozenset(
        _stem(w)
        for w in (m.group(0).lower() for m in _WORD.finditer(text))
        if w not in _STOP and w not in _NUMBER_WORDS
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _quantity_kind(kind: str) -> str:
    return " ".join(_stem(w) for w in _norm(kind).split())


# --- union-find -------------------------------------------------------------------------------


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


# --- syndication and outlets ------------------------------------------------------------------


def _shingles(text: str) -> set[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < _SHINGLE:
        words = words or [""]
        grams = [" ".join(words)]
    else:
        grams = [" ".join(words[i : i + _SHINGLE]) for i in range(len(words) - _SHINGLE + 1)]
    # A stable 64-bit hash (Python's hash() is salted per process).
    return {
        int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") for g in grams
    }


def _minhash(shingles: set[int]) -> list[int]:
    """One-permutation MinHash: one pass puts each shingle's hash in one of ``_MINHASH_PERMS``
    bins, keeping each bin's minimum; empty bins borrow from the next filled bin (rotation
    densification). Cheap on long articles; candidates are verified with the exact Jaccard."""
    empty = 1 << 64
    signature = [empty] * _MINHASH_PERMS
    for h in shingles:
        b, v = h % _MINHASH_PERMS, h // _MINHASH_PERMS
        if v < signature[b]:
            signature[b] = v
    filled = [i for i, v in enumerate(signature) if v != empty]
    if not filled:
        return signature
    for i in range(_MINHASH_PERMS):
        if signature[i] == empty:
            distance = next(
                d for d in range(1, _MINHASH_PERMS) if signature[(i + d) % _MINHASH_PERMS] != empty
            )
            signature[i] = signature[(i + distance) % _MINHASH_PERMS] + distance * empty
    return signature


def syndicated_pairs(documents: Sequence[Document]) -> list[tuple[str, str]]:
    """Pairs of source ids whose texts are copies of one story (shingle Jaccard ≥ 0.8).

    MinHash signatures are split into bands; only documents that share a band are compared
    exactly, so a day of hundreds of articles is not compared all against all.
    """
    shingles = [_shingles(d.text) for d in documents]
    rows = _MINHASH_PERMS // _LSH_BANDS
    buckets: dict[tuple[int, tuple[int, ...]], list[int]] = defaultdict(list)
    for index, sh in enumerate(shingles):
        sig = _minhash(sh)
        for band in range(_LSH_BANDS):
            buckets[(band, tuple(sig[band * rows : (band + 1) * rows]))].append(index)
    candidates: set[tuple[int, int]] = set()
    for members in buckets.values():
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                candidates.add((members[x], members[y]))
    pairs = []
    for i, j in sorted(candidates):
        a, b = shingles[i], shingles[j]
        if len(a & b) / len(a | b) >= SYNDICATION_JACCARD:
            pairs.append((documents[i].id, documents[j].id))
    return pairs


def outlet_groups(documents: Sequence[Document]) -> dict[str, str]:
    """Source id → outlet group: one outlet name counts once, syndicated copies count once."""
    ids = [d.id for d in documents]
    index = {sid: i for i, sid in enumerate(ids)}
    uf = _UnionFind(len(ids))
    by_outlet: dict[str, int] = {}
    for i, doc in enumerate(documents):
        outlet = _norm(doc.source.outlet or "")
        if outlet:
            uf.union(by_outlet.setdefault(outlet, i), i)
    for a, b in syndicated_pairs(documents):
        uf.union(index[a], index[b])
    return {sid: ids[uf.find(i)] for i, sid in enumerate(ids)}


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventFeatures:
    record: EventRecord
    summary: frozenset[str]
    evidence: frozenset[str]
    actors: frozenset[str]
    quantities: dict[str, frozenset[float]]
    location: str | None
    day: int | None
    window: int


def _features(record: EventRecord) -> _EventFeatures:
    quantities: dict[str, set[float]] = defaultdict(set)
    for q in record.quantities:
        quantities[_quantity_kind(q.kind)].add(q.value)
    precise = record.date_precision == "day"
    return _EventFeatures(
        record=record,
        summary=_content_tokens(record.summary),
        evidence=_content_tokens(" ".join(e.quote for e in record.evidence)),
        actors=_actor_keys((*record.actors, *record.targets)),
        quantities={k: frozenset(v) for k, v in quantities.items()},
        location=_norm(record.location) if record.location else None,
        day=record.date.toordinal() if record.date else None,
        window=DAY_WINDOW if precise else IMPRECISE_WINDOW,
    )


def _actor_keys(actors: Iterable[Actor]) -> frozenset[str]:
    """Canonical names plus their countries: "US Department of the Treasury" and "United
    States" name different actors but the same state, which is how outlets differ in telling."""
    keys: set[str] = set()
    for actor in actors:
        keys.add(_norm(actor.canonical))
        if actor.country:
            keys.add(f"@{actor.country.upper()}")
    return frozenset(keys)


def _differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Do two records give different values for something both state?"""
    for kind in a.quantities.keys() & b.quantities.keys():
        if a.quantities[kind] != b.quantities[kind]:
            return True
    if a.location and b.location and a.location != b.location:
        return True
    both_precise = a.record.date_precision == "day" == b.record.date_precision
    return both_precise and a.day is not None and a.day != b.day


def _pair_score(a: _EventFeatures, b: _EventFeatures) -> float | None:
    """The similarity when ``a`` and ``b`` are one event under the module's rules, else None."""
    if (a.record.factuality == "negated") != (b.record.factuality == "negated"):
        return None
    text = max(_jaccard(a.summary, b.summary), _jaccard(a.evidence, b.evidence))
    threshold = MATCH_TEXT if a.record.type == b.record.type else MATCH_TEXT_OTHER_TYPE
    structural = _structural_match(a, b)
    if text < threshold and not structural:
        return None
    if _differ(a, b):
        if a.record.source_id == b.record.source_id:
            return None
        if not structural and (
            text < CONFLICT_TEXT or _jaccard(a.actors, b.actors) < CONFLICT_ACTORS
        ):
            return None
    return max(text, CONFLICT_TEXT) if structural else text


def _rare_tokens(sets: Sequence[frozenset[str]]) -> list[list[str]]:
    """Each set's rarest tokens to probe the index with: its rarest token always, and up to
    ``RARE_TOKENS`` in all among those used by at most 1% of the records (32 at least)."""
    frequency: dict[str, int] = defaultdict(int)
    for tokens in sets:
        for token in tokens:
            frequency[token] += 1
    common = max(32, len(sets) // 100)
    out = []
    for tokens in sets:
        ranked = sorted(tokens, key=lambda t: (frequency[t], t))[:RARE_TOKENS]
        out.append(ranked[:1] + [t for t in ranked[1:] if frequency[t] <= common])
    return out


def _kind_tokens(f: _EventFeatures) -> set[str]:
    # What is counted ("people sanctioned") blocks like a rare word: outlets that word a report
    # differently still count the same thing.
    return {f"#{kind}" for kind in f.quantities}


def _parties(f: _EventFeatures) -> str:
    """The states involved (actors' and targets' countries), else the actors' names: the same
    for "the Treasury" and "the United States" acting against North Koreans."""
    countries = sorted(k for k in f.actors if k.startswith("@"))
    return "|".join(countries or sorted(f.actors))


def _structural_match(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Same type, same day (both day-precise), largely the same actors, and a count of the same
    thing: one event told in other words, e.g. "imposed sanctions on five North Koreans" and
    "designated six North Korean nationals" on 12 January."""
    return (
        a.record.type == b.record.type
        and a.record.date_precision == "day" == b.record.date_precision
        and a.day is not None
        and a.day == b.day
        and bool(a.quantities.keys() & b.quantities.keys())
        and _jaccard(a.actors, b.actors) >= CONFLICT_ACTORS
    )


def _candidate_pairs(features: Sequence[_EventFeatures]) -> Iterable[tuple[int, int]]:
    """Pairs within their date window sharing quad class, an actor and a rare word, each once.

    Every record is indexed under (quad class, day, actor, word) for each word of its summary
    and its evidence; it looks up only its own rarest words, so the lists it walks are short
    and a frequent word ("sanctions") never makes a block of the whole day.
    """
    Key = tuple[str, int | None, str, str]
    index: dict[Key, list[int]] = defaultdict(list)
    # Counts of the same thing ("#people sanctioned") block by exact type, day and the states
    # involved, for day-precise records only, as _structural_match needs; a block that is not
    # small says nothing distinctive and is not walked, which keeps the work linear.
    counted: dict[Key, list[int]] = defaultdict(list)
    for i, f in enumerate(features):
        quad = f.record.quad_class
        for actor in f.actors:
            for token in f.summary | f.evidence:
                index[(quad, f.day, actor, token)].append(i)
        if f.record.date_precision == "day":
            for token in _kind_tokens(f):
                counted[(f.record.type, f.day, _parties(f), token)].append(i)
    probes = [
        sorted(set(s) | set(e))
        for s, e in zip(
            _rare_tokens([f.summary for f in features]),
            _rare_tokens([f.evidence for f in features]),
            strict=True,
        )
    ]
    seen_pairs: set[tuple[int, int]] = set()

    def fresh(i: int, members: Iterable[int]) -> Iterable[tuple[int, int]]:
        for j in members:
            pair = (i, j) if i < j else (j, i)
            if j != i and pair not in seen_pairs:
                seen_pairs.add(pair)
                yield pair

    for i, f in enumerate(features):
        days: Iterable[int | None] = (
            [None] if f.day is None else range(f.day - f.window, f.day + f.window + 1)
        )
        quad = f.record.quad_class
        for day in days:
            for actor in f.actors:
                for token in probes[i]:
                    yield from fresh(i, index.get((quad, day, actor, token), ()))
        if f.record.date_precision == "day":
            for token in _kind_tokens(f):
                block = counted.get((f.record.type, f.day, _parties(f), token), ())
                if len(block) <= MAX_COUNTED_BLOCK:
                    yield from fresh(i, block)


def _event_rank(record: EventRecord) -> tuple[int, int, float, str]:
    # The representative: most evidence, then the most precise date, then confidence.
    return (
        -len(record.evidence),
        _PRECISION_RANK[record.date_precision],
        -record.confidence,
        record.id,
    )


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


def _merge_event(members: list[EventRecord], groups: dict[str, str]) -> MergedEvent:
    ordered = sorted(members, key=_event_rank)
    rep = ordered[0]
    conflicts: list[Conflict] = []

    # Quantities, per kind: each distinct value with the sources that gave it; the value shown
    # is the one most sources gave (the representative's on a tie), never an average.
    by_kind: dict[str, dict[float | str, set[str]]] = {}
    kind_order: dict[str, list[float | str]] = {}
    shown: dict[str, Quantity] = {}
    for record in ordered:
        for q in record.quantities:
            kind = _quantity_kind(q.kind)
            given = by_kind.setdefault(kind, {})
            if q.value not in given:
                kind_order.setdefault(kind, []).append(q.value)
            given.setdefault(q.value, set()).add(record.source_id)
            shown.setdefault(f"{kind}\0{q.value!r}", q)
    quantities = []
    for kind, given in by_kind.items():
        order = kind_order[kind]
        best = _by_support(given, order)[0]
        quantities.append(shown[f"{kind}\0{best!r}"])
        label = next(
            q.kind for r in ordered for q in r.quantities if _quantity_kind(q.kind) == kind
        )
        found = _conflict(f"quantities.{label}", given, order)
        if found:
            conflicts.append(found)

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

    places: dict[float | str, set[str]] = {}
    place_order: list[float | str] = []
    written: dict[str, str] = {}
    for record in ordered:
        if record.location:
            key = _norm(record.location)
            shown_as = written.setdefault(key, record.location)
            if shown_as not in places:
                place_order.append(shown_as)
            places.setdefault(shown_as, set()).add(record.source_id)
    found = _conflict("location", places, place_order)
    if found:
        conflicts.append(found)
    location = rep.location or (str(place_order[0]) if place_order else None)

    member_ids = sorted(r.id for r in members)
    source_ids = sorted({r.source_id for r in members})
    digest = hashlib.sha256("\n".join(member_ids).encode()).hexdigest()[:12]
    return MergedEvent(
        id=f"me-{digest}",
        type=rep.type,
        summary=rep.summary,
        actors=_dedup_actors(a for r in ordered for a in r.actors),
        targets=_dedup_actors(a for r in ordered for a in r.targets),
        date=rep.date,
        date_text=rep.date_text,
        date_precision=rep.date_precision,
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
    )


def _cluster_events(events: Sequence[EventRecord]) -> tuple[list[list[EventRecord]], int]:
    features = [_features(e) for e in events]
    scored: list[tuple[float, int, int]] = []
    comparisons = 0
    for i, j in _candidate_pairs(features):
        comparisons += 1
        score = _pair_score(features[i], features[j])
        if score is not None:
            scored.append((score, min(i, j), max(i, j)))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))

    uf = _UnionFind(len(events))
    # Per cluster root: source id -> its members, to refuse unions that would join two
    # records of one source that differ on a value.
    per_source: dict[int, dict[str, list[int]]] = {
        i: {e.source_id: [i]} for i, e in enumerate(events)
    }
    for _, i, j in scored:
        ri, rj = uf.find(i), uf.find(j)
        if ri == rj:
            continue
        a, b = per_source[ri], per_source[rj]
        clash = any(
            _differ(features[x], features[y])
            for sid in a.keys() & b.keys()
            for x in a[sid]
            for y in b[sid]
        )
        if clash:
            continue
        root = uf.union(ri, rj)
        merged = a if root == ri else b
        other = b if root == ri else a
        for sid, ids in other.items():
            merged.setdefault(sid, []).extend(ids)
        del per_source[rj if root == ri else ri]

    clusters: dict[int, list[EventRecord]] = defaultdict(list)
    for i, event in enumerate(events):
        clusters[uf.find(i)].append(event)
    return list(clusters.values()), comparisons


# --- stances ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StanceFeatures:
    quotes: tuple[str, ...]
    topic: str
    claim: frozenset[str]


def _stance_features(s: StanceRecord) -> _StanceFeatures:
    return _StanceFeatures(
        quotes=tuple(q for q in (_norm(e.quote) for e in s.evidence) if q),
        topic=_norm(s.topic),
        claim=_content_tokens(s.claim),
    )


def _stances_match(a: _StanceFeatures, b: _StanceFeatures) -> bool:
    if any(x in y or y in x for x in a.quotes for y in b.quotes):
        return True
    return a.topic == b.topic and _jaccard(a.claim, b.claim) >= STANCE_CLAIM


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
        date=rep.date or (min(dates) if dates else None),
        source_id=rep.source_id,
        grounded=all(s.grounded for s in members),
        members=member_ids,
        source_ids=sorted({s.source_id for s in members}),
    )


def _merge_stances(stances: Sequence[StanceRecord]) -> list[MergedStance]:
    uf = _UnionFind(len(stances))
    by_holder: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(stances):
        by_holder[_norm(s.holder.canonical)].append(i)
    # Features once per stance, not once per pair: a holder may have thousands of stances.
    features = [_stance_features(s) for s in stances]
    for indices in by_holder.values():
        for x, i in enumerate(indices):
            for j in indices[x + 1 :]:
                if uf.find(i) != uf.find(j) and _stances_match(features[i], features[j]):
                    uf.union(i, j)
    clusters: dict[int, list[StanceRecord]] = defaultdict(list)
    for i, s in enumerate(stances):
        clusters[uf.find(i)].append(s)
    merged = [_merge_stance(c) for c in clusters.values()]
    return sorted(merged, key=lambda m: (_norm(m.holder.canonical), _sort_date(m.date), m.id))


def _sort_date(date: dt.date | None) -> int:
    return date.toordinal() if date else dt.date.max.toordinal()


# --- entry point ------------------------------------------------------------------------------


def merge_records(
    events: list[EventRecord], stances: list[StanceRecord], documents: list[Document]
) -> MergeResult:
    """Cluster records into merged events and stances; see the module docstring for the rules.

    The result does not depend on the order of the inputs: records are sorted by id first.
    """
    groups = outlet_groups(sorted(documents, key=lambda d: d.id))
    ordered_events = sorted(events, key=lambda e: e.id)
    clusters, comparisons = _cluster_events(ordered_events)
    merged_events = sorted(
        (_merge_event(c, groups) for c in clusters),
        key=lambda m: (_sort_date(m.date), m.type, m.id),
    )
    merged_stances = _merge_stances(sorted(stances, key=lambda s: s.id))
    return MergeResult(events=merged_events, stances=merged_stances, comparisons=comparisons)
