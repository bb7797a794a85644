"""Blocking: the candidate pairs of events, never all pairs (see "Events" in ``_merge``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from briefer.merging._compare import _within_window
from briefer.merging._features import _EventFeatures

__all__ = ["RARE_TOKENS"]

RARE_TOKENS = 3
# Largest block of same-type, same-day records counting the same thing that is still walked.
MAX_COUNTED_BLOCK = 32
# Largest block of records of one quad class and one actor that is compared all against all.
MAX_ACTOR_BLOCK = 24


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


def _parties(f: _EventFeatures) -> str:
    """The states involved (actors' and targets' countries), else the actors' names: the same
    for "the Treasury" and "the United States" acting against North Koreans."""
    countries = sorted(k for k in f.actors if k.startswith("@"))
    return "|".join(countries or sorted(f.actors))


def _candidate_pairs(features: Sequence[_EventFeatures]) -> Iterable[tuple[int, int]]:
    """Pairs within their date window sharing quad class, an actor and a rare word, each once.

    Every record looks up only its own rarest words, under each of its actors, in an index of
    (quad class, actor, word) that holds just the words some record looks up; so the lists it
    walks are short and a frequent word ("sanctions") never makes a block of the whole run.
    Pairs outside their date window are passed over.
    """
    probes = [
        sorted(set(s) | set(e))
        for s, e in zip(
            _rare_tokens([f.summary for f in features]),
            _rare_tokens([f.evidence for f in features]),
            strict=True,
        )
    ]
    looked_up = {token for tokens in probes for token in tokens}
    index: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    # Counts of the same thing block by exact type, day and the states involved; a block that
    # is not small says nothing distinctive and is not walked, which keeps the work linear.
    counted: dict[tuple[str, int, str, str], list[int]] = defaultdict(list)
    # Records of one quad class naming one actor: walked whole while small (a story's few
    # reports of one party), which finds the pairs no rare word joins.
    by_actor: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, f in enumerate(features):
        quad = f.record.quad_class
        words = f.text & looked_up
        for actor in f.block_keys:
            by_actor[(quad, actor)].append(i)
            for token in words:
                index[(quad, actor, token)].append(i)
        if f.day is not None:
            for token in f.counts:
                counted[(f.record.type, f.day, _parties(f), token)].append(i)
    seen_pairs: set[tuple[int, int]] = set()

    def fresh(i: int, members: Iterable[int]) -> Iterable[tuple[int, int]]:
        f = features[i]
        for j in members:
            pair = (i, j) if i < j else (j, i)
            if j != i and pair not in seen_pairs and _within_window(f, features[j]):
                seen_pairs.add(pair)
                yield pair

    for i, f in enumerate(features):
        quad = f.record.quad_class
        for actor in f.block_keys:
            party = by_actor[(quad, actor)]
            if len(party) <= MAX_ACTOR_BLOCK:
                yield from fresh(i, party)
            for token in probes[i]:
                yield from fresh(i, index.get((quad, actor, token), ()))
        if f.day is not None:
            days = range(f.day - f.window, f.day + f.window + 1) if f.ongoing else (f.day,)
            for day in days:
                for token in f.counts:
                    block = counted.get((f.record.type, day, _parties(f), token), ())
                    if len(block) <= MAX_COUNTED_BLOCK:
                        yield from fresh(i, block)
