"""Counts: what a quantity counts (its kind), the interval its own words stand for, and the
day it holds for (see "Values" in ``_merge``): the observations events are compared and merged by.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from briefer.merging._text import _STOP, _WORD, _stem
from briefer.models import EventRecord, Quantity
from briefer.text.numbers import NUMBER_WORDS, find_numbers

# Counts that name who or what is counted without telling one count from another.
_GENERIC_KINDS = frozenset(
    [
        "people",
        "person",
        "persons",
        "number",
        "total",
        "figure",
        "count",
        "members",
        "individuals",
        "units",
    ]
)
# Words for the same counted thing: each group's words are one kind of count.
_SYNONYM_GROUPS = (
    "ship ships vessel vessels boat boats tanker tankers freighter freighters",
    "dead death deaths killed kill fatalities died toll bodies",
    "injured injuries wounded hurt",
    "worker workers employee employees staff dockworker dockworkers striker strikers "
    "picketer picketers",
    "protester protesters demonstrator demonstrators marcher marchers crowd",
    "troop troops soldier soldiers",
    "missile missiles rocket rockets projectile projectiles",
    "family families household households",
    "detained detainees arrested arrests detention detentions",
    "train trains service services",
    "tractor tractors vehicle vehicles truck trucks lorries",
    "fired launched launch fire",
    "affected disrupted knocked hit damaged compromised infected",
)
_KIND_SYNONYMS: dict[str, str] = {}  # stem -> its group's first stem, filled once _stem exists
# Counts that accumulate, so two days' figures are an update, not a disagreement.
_ACCUMULATING = re.compile(
    r"\b(?:dead|deaths?|killed|toll|fatalit\w*|injur\w*|wounded|casualt\w*|evacuat\w*|"
    r"displaced|missing|trapped|stranded|rescued|waiting|idle|cancel\w*|"
    r"so\s+far|rose|risen|climbed|reached|now)\b",
    re.IGNORECASE,
)


for _group in _SYNONYM_GROUPS:
    _words = _group.split()
    _KIND_SYNONYMS.update({_stem(w): _stem(_words[0]) for w in _words})


@dataclass(frozen=True)
class _Observation:
    """One count as one record gives it: what is counted, the interval its words stand for, and
    the day it holds for (None for a fixed count)."""

    kind: _Kind
    label: str
    quantity: Quantity
    low: float
    high: float
    source_id: str
    accumulates: bool
    as_of: int | None


# Words that finish a verb ("knocked out", "shut down") rather than name a thing.
_PARTICLES = frozenset({"out", "up", "off", "down", "away", "back"})
_PHRASE_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
# Words that end what a number counts: "12 people were killed" counts people.
_PHRASE_END = _STOP | {"who", "whom", "which", "that", "were", "was", "are", "is", "had", "have"}


def _counted_words(text: str) -> list[str]:
    """The noun phrase right after the number in a quantity's text: what it counts ("three
    short-range ballistic missiles" → short-range, ballistic, missiles)."""
    numbers = find_numbers(text)
    after = text[numbers[-1].end :] if numbers else text
    words: list[str] = []
    for match in _PHRASE_WORD.finditer(after):
        word = match.group(0).lower()
        if word in _PHRASE_END or len(words) == 4:
            break
        words.append(word)
    return words


# Words for what happened to what is counted ("killed", "evacuated", "waiting"), as opposed
# to what is counted ("soldiers", "families", "ships").
_ACTION = re.compile(r"\w{3,}(?:ed|ing)$")
_ACTION_WORDS = frozenset(
    """dead toll died deaths death killed fatalities injured wounded hurt missing
    detained arrested held seized fired launched evacuated displaced trapped stranded
    cancelled canceled waiting idle rescued sanctioned designated expelled deployed
    affected imposed frozen froze pledged taken stolen""".split()  # noqa: SIM905
)
# Nouns for people: "people" (which says only that) may count any of them.
_PERSON_NOUNS = frozenset(
    """person civilian troop worker protester famili resident refugee migrant child children
    women men officer journalist dead victim passenger student prisoner hostage detain crew
    national member citizen volunteer fighter militant rebel diplomat official employe
    individual adult pensioner farmer fisherman fishermen sailor""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class _Kind:
    """What a count counts: its head noun ("missiles"), the other words of what it counts, the
    things its kind names ("tariff", "steel") and what happened to them ("launched")."""

    head: str | None
    counted: frozenset[str]
    things: frozenset[str]
    actions: frozenset[str]
    label: str = ""

    def same(self, other: _Kind) -> bool:
        """One kind of count: the same kind in the model's words ("votes in favour" for "84
        votes" and for "84 lawmakers"); or the heads agree, neither kind names a thing the
        other does not ("tariff on steel" is not "tariff on aluminium"; "ships" is "ships at
        anchor"), and what happened agrees."""
        if self.label and self.label == other.label:
            return True
        if not (self.head or self.things or self.actions):
            return False
        if not (other.head or other.things or other.actions):
            return False
        if self.head and other.head and not _heads_agree(self, other):
            return False
        things = (
            not self.things
            or not other.things
            or _part_of(self.things, other.things)
            or _part_of(other.things, self.things)
        )
        actions = not self.actions or not other.actions or bool(self.actions & other.actions)
        return things and actions


def _heads_agree(a: _Kind, b: _Kind) -> bool:
    """The same head; or, naming people, one's head among the other's words ("North Koreans"
    and "North Korean nationals"); or "people" for any kind of people ("civilians")."""
    if a.head == b.head:
        return True
    person = "person"
    if a.head == person or b.head == person:
        return (a.head == person and b.head in _PERSON_NOUNS) or (
            b.head == person and a.head in _PERSON_NOUNS
        )
    return a.head in b.counted or b.head in a.counted


def _part_of(a: frozenset[str], b: frozenset[str]) -> bool:
    return all(
        any(x == y or (len(x) >= 4 and len(y) >= 4 and (x in y or y in x)) for y in b) for x in a
    )


def _token(word: str) -> str:
    return _KIND_SYNONYMS.get(_stem(word), _stem(word))


def _head(counted: list[str]) -> str | None:
    """The head noun of the counted words: the last that is not generic ("crew members" is
    crew), else "person" for "people"; None when nothing is named."""
    words = [w for w in counted if w not in NUMBER_WORDS]
    named = [w for w in words if _token(w) not in _GENERIC_KINDS and w not in _GENERIC_KINDS]
    if named:
        return _token(named[-1])
    return "person" if words else None


def _is_action(word: str) -> bool:
    return word in _ACTION_WORDS or bool(_ACTION.search(word))


def _kind_of(quantity: Quantity) -> _Kind:
    counted = _counted_words(quantity.text)
    things: set[str] = set()
    actions = {_token(w) for w in counted if _is_action(w)}
    for match in _WORD.finditer(quantity.kind):
        word = match.group(0).lower()
        if word in _STOP or word in NUMBER_WORDS or word in _PARTICLES:
            continue
        token = _token(word)
        if token in _GENERIC_KINDS or word in _GENERIC_KINDS:
            continue
        if _is_action(word):
            actions.add(token)
        else:
            things.add(token)
    counted_tokens = frozenset(_token(p) for w in counted for p in re.split(r"[-'’]", w) if p)
    label = " ".join(_token(w) for w in _WORD.findall(quantity.kind.lower()) if w not in _STOP)
    return _Kind(_head(counted), counted_tokens, frozenset(things), frozenset(actions), label)


def _interval(quantity: Quantity) -> tuple[float, float]:
    """The interval the quantity's own words give for its value: the number it is ("about
    3,000"), else the range or vague count it lies in ("between 30 and 40"); [v, v] else."""
    value = quantity.value
    numbers = find_numbers(quantity.text)
    for number in numbers:
        if math.isclose(number.value, value, rel_tol=1e-9, abs_tol=1e-9):
            return number.low, number.high
    for number in numbers:
        if number.form in ("range", "vague") and number.low <= value <= number.high:
            return number.low, number.high
    return value, value


def _meet(a: _Observation, b: _Observation) -> bool:
    return a.low <= b.high and b.low <= a.high


def _observations(
    record: EventRecord, ongoing: bool, published: dict[str, int | None]
) -> list[_Observation]:
    out = []
    for q in record.quantities:
        accumulates = (
            ongoing or q.date is not None or bool(_ACCUMULATING.search(q.kind + " " + q.text))
        )
        as_of = None
        if accumulates:
            day = q.date.toordinal() if q.date else published.get(record.source_id)
            if day is None and record.date is not None and record.date_precision == "day":
                day = record.date.toordinal()
            as_of = day
        low, high = _interval(q)
        out.append(
            _Observation(
                kind=_kind_of(q),
                label=q.kind,
                quantity=q,
                low=low,
                high=high,
                source_id=record.source_id,
                accumulates=accumulates,
                as_of=as_of,
            )
        )
    return out
