"""Corroboration: distinct outlets among an event's sources, where one outlet name counts once
and documents that are copies of one story, verbatim or edited, count once (see ``_merge``).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence

from briefer.merging._clusters import _UnionFind
from briefer.merging._text import _WORD, _norm
from briefer.models import Document

__all__ = ["SYNDICATION_CONTAINMENT", "outlet_groups", "syndicated_pairs"]

# Copies share this much of the shorter text's 5-word shingles (independent reports of one
# event share a few percent; a wire story rewritten in places shares about half).
SYNDICATION_CONTAINMENT = 0.3

_SHINGLE = 5
_MINHASH_PERMS = 64
_LSH_BANDS = 32  # 32 bands of 2 rows: pairs near Jaccard 0.3 and above become candidates


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
    """Pairs of source ids whose texts are copies of one story, verbatim or edited: at least
    ``SYNDICATION_CONTAINMENT`` of the shorter one's 5-word shingles are in the other.

    MinHash signatures are split into bands; only documents that share a band are compared
    exactly, so a day of hundreds of articles is not compared all against all.
    """
    return [(documents[i].id, documents[j].id) for i, j in _copies(documents)]


def _copies(
    documents: Sequence[Document], together: Callable[[int, int], bool] | None = None
) -> Iterator[tuple[int, int]]:
    """The index pairs of ``documents`` that are copies, in order; a pair ``together`` already
    holds together (copies of copies: a group is what is wanted) is not compared."""
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
    for i, j in sorted(candidates):
        if together is not None and together(i, j):
            continue
        a, b = shingles[i], shingles[j]
        if len(a & b) / min(len(a), len(b)) >= SYNDICATION_CONTAINMENT:
            yield i, j


def outlet_groups(documents: Sequence[Document]) -> dict[str, str]:
    """Source id → outlet group: one outlet name counts once, syndicated copies count once."""
    ids = [d.id for d in documents]
    uf = _UnionFind(len(ids))
    by_outlet: dict[str, int] = {}
    for i, doc in enumerate(documents):
        outlet = _norm(doc.source.outlet or "")
        if outlet:
            uf.union(by_outlet.setdefault(outlet, i), i)
    # Documents already in one group (one outlet, or copies of a third) need no comparing.
    for i, j in _copies(documents, lambda i, j: uf.find(i) == uf.find(j)):
        uf.union(i, j)
    return {sid: ids[uf.find(i)] for i, sid in enumerate(ids)}
