"""Words of names, and whether a name is written in a text: one reading for every stage.

A name is written in a text when one of its distinctive words is, in one of its forms ("Korea"
and "Korean", "dockworker" and "dockworkers", "Ruiz" for "Ana Ruiz"); a name made only of
words that say what an actor is ("the ministry", "United States") needs all of them. States are
also written by their other names, demonyms and capitals ("Washington" for the United States,
"Kenyan" for Kenya), which ``briefer.text.countries`` knows.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from briefer.text.countries import countries_mentioned, names_for

__all__ = ["ROLE_WORDS", "name_written_in", "ordinary_words", "same_word", "word_set", "words_of"]

_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# Words that say what an actor is without naming it: a match on them alone proves nothing.
ROLE_WORDS = frozenset(
    """the of and for a an in on at to government ministry minister department office agency
    authority authorities council committee court party union forces force army navy police
    military officials official national people state states republic democratic united
    federal central spokesman spokeswoman spokesperson president prime secretary general
    leader leaders chief head group members""".split()  # noqa: SIM905
)
_MIN_FORM = 4


def words_of(text: str) -> list[str]:
    """The words of ``text``, case-folded, a possessive "'s" cut."""
    return [
        m.group(0).casefold().removesuffix("'s").removesuffix("’s")
        for m in _NAME_WORD.finditer(text)
    ]


# The same article is searched for the names of every record it gives: keep the latest sets.
@functools.lru_cache(maxsize=512)
def word_set(text: str) -> frozenset[str]:
    return frozenset(words_of(text))


def _form(word: str) -> str:
    return word[: max(_MIN_FORM, len(word) - 2)]


def same_word(word: str, words: frozenset[str]) -> bool:
    """``word`` or another form of it (a shared stem of at least four letters, differing only
    in the last two: "Korea"/"Korean", "sanction"/"sanctions") is in ``words``."""
    if word in words:
        return True
    if len(word) < _MIN_FORM:
        return False
    stem = _form(word)
    return any(
        len(w) >= _MIN_FORM and (w.startswith(stem) or word.startswith(_form(w))) for w in words
    )


def name_written_in(
    names: Iterable[str],
    text: str,
    *,
    country: str | None = None,
    words: frozenset[str] | None = None,
) -> bool:
    """Is one of ``names`` (an actor's name as written, its canonical name...) written in
    ``text``? ``country``, for a state's government, also accepts any name of that state."""
    found = word_set(text) if words is None else words
    if country is not None and country in countries_mentioned(text):
        return True
    candidates = list(names) + (list(names_for(country)) if country else [])
    for name in candidates:
        name_words = [w for w in words_of(name) if len(w) > 1]
        distinctive = [w for w in name_words if w not in ROLE_WORDS]
        if distinctive:
            if any(same_word(w, found) for w in distinctive):
                return True
        elif name_words and all(same_word(w, found) for w in name_words):
            return True
    return False


_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-z][a-z’'-]*")


def ordinary_words(texts: Iterable[str]) -> frozenset[str]:
    """The words the texts write in lower case somewhere: ordinary words, which a sentence's
    first word or a headline in title case capitalises without naming anyone."""
    return frozenset(
        m.group(0).removesuffix("'s").removesuffix("’s")
        for t in texts
        for m in _LOWER_WORD.finditer(t)
    )
