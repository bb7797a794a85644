"""The words records are compared by: content tokens (stop words and numbers left out, plural
and past endings cut), their Jaccard similarity, and the distinctive proper names of actors and
targets ("Belavia", not "Ministry" nor a state's name).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from briefer.text.countries import codes_for
from briefer.text.numbers import NUMBER_WORDS, VAGUE_NUMBER_WORDS
from briefer.text.words import ROLE_WORDS

_STOP = frozenset(
    """a an the and or but of in on at to for from by with as into over after before about
    its it is are was were be been has have had that this these those which who whom whose
    their them they he she his her said says say also than then there here not no new more
    most other such both all any some would will could can may might should must""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)
# Number words are left out like digits: outlets that disagree on a count still tell one story.
_COUNT_WORDS = frozenset({*NUMBER_WORDS, *VAGUE_NUMBER_WORDS})
_PROPER = re.compile(r"\b[A-Z][\w’'-]*[a-z][\w’'-]*\b")

# Words that describe an actor or target without naming it ("the ministry", "national
# airline"): they neither match nor tell targets apart.
_GENERIC_NAMES = ROLE_WORDS | frozenset(
    """ministers officials nationals firms firm company companies groups north south east west
    new people's international bank airline airlines mission embassy administration regime
    members""".split()  # noqa: SIM905
)


@functools.lru_cache(maxsize=65536)
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
        if w not in _STOP and w not in _COUNT_WORDS
    )


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _proper_tokens(names: Iterable[str]) -> frozenset[str]:
    """The distinctive proper names in ``names``: capitalised words that are neither generic
    ("Ministry", "Airlines") nor the name of a state ("Belarusian")."""
    out: set[str] = set()
    for name in names:
        out |= _proper_tokens_of(name)
    return frozenset(out)


@functools.lru_cache(maxsize=16384)
def _proper_tokens_of(name: str) -> frozenset[str]:
    out = set()
    for match in _PROPER.finditer(name):
        word = match.group(0).strip("'’-").lower().removesuffix("'s").removesuffix("’s")
        if len(word) < 3 or word in _GENERIC_NAMES or word in _STOP or codes_for(word):
            continue
        out.add(_stem(word))
    return frozenset(out)
