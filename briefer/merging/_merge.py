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
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import math
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
    PositionChange,
    Quantity,
    StanceRecord,
    Update,
    UpdateValue,
)
from briefer.text.countries import codes_for
from briefer.text.numbers import NUMBER_WORDS, VAGUE_NUMBER_WORDS, find_numbers
from briefer.text.words import ROLE_WORDS

__all__ = [
    "CONFLICT_ACTORS",
    "CONFLICT_TEXT",
    "MATCH_TEXT",
    "MATCH_TEXT_OTHER_TYPE",
    "ONGOING_TEXT",
    "RARE_TOKENS",
    "SAME_SOURCE_TEXT",
    "STANCE_CLAIM",
    "STANCE_TOPIC",
    "STATEMENT_ACTORS",
    "SYNDICATION_CONTAINMENT",
    "UNDATED_TEXT",
    "MergeResult",
    "merge_records",
    "outlet_groups",
    "syndicated_pairs",
]

MATCH_TEXT = 0.3
MATCH_TEXT_OTHER_TYPE = 0.5
SAME_SOURCE_TEXT = 0.5
UNDATED_TEXT = 0.3
ONGOING_TEXT = 0.15
CONFLICT_TEXT = 0.4
CONFLICT_ACTORS = 0.5
STATEMENT_ACTORS = 0.75
STANCE_TOPIC = 0.5
STANCE_CLAIM = 0.3
# Copies share this much of the shorter text's 5-word shingles (independent reports of one
# event share a few percent; a wire story rewritten in places shares about half).
SYNDICATION_CONTAINMENT = 0.3

RARE_TOKENS = 3
DAY_WINDOW = 1
IMPRECISE_WINDOW = 1
ONGOING_WINDOW = 7
# Largest block of same-type, same-day records counting the same thing that is still walked.
MAX_COUNTED_BLOCK = 32
# Largest block of records of one quad class and one actor that is compared all against all.
MAX_ACTOR_BLOCK = 24

_SHINGLE = 5
_MINHASH_PERMS = 64
_LSH_BANDS = 32  # 32 bands of 2 rows: pairs near Jaccard 0.3 and above become candidates

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
_PRECISION_RANK = {"day": 0, "week": 1, "month": 2, "year": 3, "unknown": 4}
_SPAN = {"day": 0, "week": 6, "month": 30, "year": 365, "unknown": 0}

# Words that describe an actor or target without naming it ("the ministry", "national
# airline"): they neither match nor tell targets apart.
_GENERIC_NAMES = ROLE_WORDS | frozenset(
    """ministers officials nationals firms firm company companies groups north south east west
    new people's international bank airline airlines mission embassy administration regime
    members""".split()  # noqa: SIM905
)
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
# Durative events: they go on over days, so reports days apart are one event.
_ONGOING_WORDS = re.compile(
    r"\b(?:strikes?|walk-?outs?|stoppages?|siege|besieg\w*|blockad\w*|sit-ins?|occupation|"
    r"stand-?off|offensive|talks|negotiations?|evacuat\w*|drills|exercises|encircl\w*|"
    r"continu\w*|ongoing|entered\s+(?:its|a|the)\s+\w+\s+(?:day|week)|"
    r"(?:second|third|fourth|fifth|sixth|seventh)\s+(?:straight\s+)?day|still\s+under|"
    r"for\s+a\s+\w+\s+day)\b",
    re.IGNORECASE,
)
# Counts that accumulate, so two days' figures are an update, not a disagreement.
_ACCUMULATING = re.compile(
    r"\b(?:dead|deaths?|killed|toll|fatalit\w*|injur\w*|wounded|casualt\w*|evacuat\w*|"
    r"displaced|missing|trapped|stranded|rescued|waiting|idle|cancel\w*|"
    r"so\s+far|rose|risen|climbed|reached|now)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class MergeResult:
    """Merged events and stances in a deterministic order, and how much work blocking left."""

    events: list[MergedEvent]
    stances: list[MergedStance]
    comparisons: int = field(default=0, compare=False)


# --- text helpers -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # A light suffix cut so "sanctions"/"sanctioned"/"sanction" meet; not a real stemmer.
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


for _group in _SYNONYM_GROUPS:
    _words = _group.split()
    _KIND_SYNONYMS.update({_stem(w): _stem(_words[0]) for w in _words})


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
    """Pairs of source ids whose texts are copies of one story, verbatim or edited: at least
    ``SYNDICATION_CONTAINMENT`` of the shorter one's 5-word shingles are in the other.

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
        if len(a & b) / min(len(a), len(b)) >= SYNDICATION_CONTAINMENT:
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


# --- quantities -------------------------------------------------------------------------------


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


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EventFeatures:
    record: EventRecord
    summary: frozenset[str]
    evidence: frozenset[str]
    text: frozenset[str]
    actors: frozenset[str]
    doers: frozenset[str]
    done_to: frozenset[str]
    block_keys: frozenset[str]
    target_names: frozenset[str]
    published: int | None
    observations: list[_Observation]
    counts: frozenset[str]  # what its counts count, as blocking keys ("#famili")
    location: frozenset[str] | None
    day: int | None
    span: int  # days the date covers after ``day``: 0 for a day, 6 for a week...
    ongoing: bool
    window: int


def _is_ongoing(record: EventRecord) -> bool:
    text = " ".join([record.summary, *(e.quote for e in record.evidence)])
    return _ONGOING_WORDS.search(text) is not None


def _features(record: EventRecord, published: dict[str, int | None]) -> _EventFeatures:
    ongoing = _is_ongoing(record)
    precise = record.date_precision == "day"
    summary = _content_tokens(record.summary)
    evidence = _content_tokens(" ".join(e.quote for e in record.evidence))
    return _EventFeatures(
        record=record,
        summary=summary,
        evidence=evidence,
        text=summary | evidence,
        actors=_actor_keys((*record.actors, *record.targets)),
        doers=_actor_keys(record.actors),
        done_to=_actor_keys(record.targets),
        block_keys=_block_keys((*record.actors, *record.targets)),
        target_names=_proper_tokens(n for t in record.targets for n in (t.name, t.canonical)),
        published=published.get(record.source_id),
        observations=(observations := _observations(record, ongoing, published)),
        counts=frozenset(f"#{t}" for o in observations for t in o.kind.things | o.kind.actions),
        location=_content_tokens(record.location) if record.location else None,
        day=record.date.toordinal() if record.date else None,
        ongoing=ongoing,
        span=_SPAN[record.date_precision],
        window=ONGOING_WINDOW if ongoing else DAY_WINDOW if precise else IMPRECISE_WINDOW,
    )


_PARENTHETICAL = re.compile(r"\s*\([^)]*\)")


def _actor_keys(actors: Iterable[Actor]) -> frozenset[str]:
    """Who is involved, as states and name words: each actor's country (also read from a
    demonym in its name: "Kyrgyz border commission") and the distinctive words of its canonical
    name (a bracketed short form left off), stemmed. "US Department of the Treasury" and
    "United States" share their state; "HM Treasury" and "UK Treasury" a word; "Durban
    dockworkers" and "Dock Workers' Union" one in another form."""
    keys: set[str] = set()
    for actor in actors:
        keys |= _keys_of(actor)
    return frozenset(keys)


# A run names the same actors over and over: their keys are read once.
@functools.lru_cache(maxsize=8192)
def _keys_of(actor: Actor) -> frozenset[str]:
    canonical = _PARENTHETICAL.sub("", actor.canonical)
    keys: set[str] = set()
    if actor.country:
        keys.add(f"@{actor.country.upper()}")
    words = _WORD.findall(canonical)
    for word in words:
        codes = codes_for(word)
        if len(codes) == 1:
            keys.add(f"@{codes[0]}")
    names = {
        _stem(w.lower())
        for w in words
        if w.lower() not in _STOP
        and w.lower() not in _GENERIC_NAMES
        and len(w) > 2
        and not codes_for(w)
    }
    keys |= names
    if not names and not actor.country:
        keys.add(_norm(canonical))
    return frozenset(keys)


def _block_keys(actors: Iterable[Actor]) -> frozenset[str]:
    """What blocking indexes actors under: their states and whole canonical names, which are
    selective where single name words ("agency", "union") are not."""
    keys = {k for k in _actor_keys(actors) if k.startswith("@")}
    keys.update(_norm(_PARENTHETICAL.sub("", a.canonical)) for a in actors)
    return frozenset(keys)


def _actor_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard of two key sets where a name word matches another form of it ("dockwork" and
    "work" do not; "dockwork" and "dock" + "work" do, through either)."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    rest_a = [k for k in a - b if not k.startswith("@")]
    rest_b = [k for k in b - a if not k.startswith("@")]
    for x in rest_a:
        if any(len(x) >= 4 and len(y) >= 4 and (x in y or y in x) for y in rest_b):
            shared += 1
    union = len(a | b) - (shared - len(a & b))
    return shared / union if union else 0.0


def _targets_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Both name their targets, by names that neither record's text mentions of the other."""
    if not a.target_names or not b.target_names or a.target_names & b.target_names:
        return False
    return not (a.target_names & b.text) and not (b.target_names & a.text)


def _targets_shared(a: _EventFeatures, b: _EventFeatures) -> bool:
    return bool(a.target_names & b.target_names)


def _values_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Counts of the same thing, for the same day, that cannot both be true."""
    for x in a.observations:
        for y in b.observations:
            if x.kind.same(y.kind) and x.as_of == y.as_of and not _meet(x, y):
                return True
    return False


def _places_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    return bool(a.location and b.location and not (a.location & b.location))


def _days_differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    if a.ongoing or b.ongoing:
        return False
    both_precise = a.record.date_precision == "day" == b.record.date_precision
    return both_precise and a.day is not None and b.day is not None and a.day != b.day


def _differ(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Do two records give different values for something both state? (Places count within
    one article only: outlets name one place at different scales, "Roman" and "the Siret
    valley", more often than they disagree on it.)"""
    same_source = a.record.source_id == b.record.source_id
    return _values_differ(a, b) or (same_source and _places_differ(a, b)) or _days_differ(a, b)


def _agreement(a: _EventFeatures, b: _EventFeatures) -> float:
    """How much the stated values agree: each count of the same thing that agrees, and a
    shared place, add to a pair's score; a count or place that differs takes from it. Among
    two launches reported by two outlets, each launch pairs with its own."""
    score = 0.0
    for x in a.observations:
        for y in b.observations:
            if x.kind.same(y.kind):
                score += 0.1 if _meet(x, y) else -0.1
    if a.location and b.location:
        score += 0.1 if a.location & b.location else -0.1
    return max(-0.2, min(0.2, score))


def _done_before_announced(coming: _EventFeatures, done: _EventFeatures) -> bool:
    """``coming`` is reported as still to come, ``done`` as done before then: two events ("will
    march again on Saturday" is not Sunday's march). A plan and its doing are one event when
    the doing may follow the plan (within one ongoing event, always)."""
    if coming.record.factuality != "future" or done.record.factuality == "future":
        return False
    if coming.ongoing and done.ongoing:
        return False
    when = coming.day if coming.day is not None else coming.published
    return done.day is not None and when is not None and done.day < when


def _roles_reversed(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Each does to the other what the other does to it (two expulsions, tit for tat)."""
    states = [
        frozenset(k for k in keys if k.startswith("@"))
        for keys in (a.doers, a.done_to, b.doers, b.done_to)
    ]
    a_doers, a_targets, b_doers, b_targets = states
    return bool(a_doers & b_targets) and bool(a_targets & b_doers) and not (a_doers & b_doers)


def _statements_apart(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Things said on different days are different statements, not one dated two ways."""
    verbal = a.record.quad_class.startswith("verbal") and b.record.quad_class.startswith("verbal")
    return verbal and _days_differ(a, b)


def _counts_differ(a: _EventFeatures, b: _EventFeatures) -> int:
    """How many kinds of count the two give values for that cannot both be true."""
    kinds = 0
    for x in a.observations:
        if any(
            x.kind.same(y.kind) and x.as_of == y.as_of and not _meet(x, y) for y in b.observations
        ):
            kinds += 1
    return kinds


def _incompatible(a: _EventFeatures, b: _EventFeatures) -> bool:
    """May the two never be one event, whatever else they share? Different named targets or
    reversed roles; a thing done before it was announced as coming; statements of different
    days; two counts that disagree (outlets disagree on a figure, rarely on two); one article's
    two records that differ on a value."""
    if _targets_differ(a, b) or _roles_reversed(a, b) or _statements_apart(a, b):
        return True
    if _counts_differ(a, b) >= 2:
        return True
    if _done_before_announced(a, b) or _done_before_announced(b, a):
        return True
    return a.record.source_id == b.record.source_id and _differ(a, b)


def _within_window(a: _EventFeatures, b: _EventFeatures) -> bool:
    """Do the two dates meet, each taken as the days it names ("over the weekend" is a week)
    widened by the window?"""
    if a.day is None or b.day is None:
        return True
    slack = max(a.window, b.window)
    return a.day - slack <= b.day + b.span and b.day - slack <= a.day + a.span


def _text_similarity(a: _EventFeatures, b: _EventFeatures) -> float:
    return max(
        _jaccard(a.summary, b.summary),
        _jaccard(a.evidence, b.evidence),
        _jaccard(a.summary, b.evidence),
        _jaccard(a.evidence, b.summary),
    )


def _overlapping_evidence(a: EventRecord, b: EventRecord) -> bool:
    return any(
        x.source_id == y.source_id and x.start < y.end and y.start < x.end
        for x in a.evidence
        for y in b.evidence
    )


def _structural_match(a: _EventFeatures, b: _EventFeatures, actors: float) -> bool:
    """Same type, same day (or one ongoing window), largely the same actors, and a count of the
    same thing or a named target in common: one event told in other words, e.g. "imposed
    sanctions on five North Koreans" and "designated six North Korean nationals" on 12 January."""
    if a.record.type != b.record.type or actors < CONFLICT_ACTORS:
        return False
    if _targets_shared(a, b) and _within_window(a, b):
        return True  # one type, the same actors, the same named target ("Zubr Air")
    if a.day is None or b.day is None:
        return False
    if a.ongoing or b.ongoing:
        same_time = _within_window(a, b)
    else:
        same_time = a.day <= b.day + b.span and b.day <= a.day + a.span  # the spans meet
    if not same_time:
        return False
    if _one_statement(a, b, actors):
        return True
    return any(x.kind.same(y.kind) for x in a.observations for y in b.observations)


def _one_statement(a: _EventFeatures, b: _EventFeatures, actors: float) -> bool:
    """What one party says of one other on one day, in one type (an accusation, a denial), is
    one statement however outlets word it: strongly the same actors, and targets of the same
    states (when both name them)."""
    if not (a.record.quad_class.startswith("verbal") and b.record.quad_class.startswith("verbal")):
        return False
    if a.record.date_precision != "day" or b.record.date_precision != "day" or a.day != b.day:
        return False
    states = [frozenset(k for k in f.done_to if k.startswith("@")) for f in (a, b)]
    if states[0] and states[1] and not (states[0] & states[1]):
        return False
    return actors >= STATEMENT_ACTORS


def _pair_score(a: _EventFeatures, b: _EventFeatures) -> float | None:
    """The similarity when ``a`` and ``b`` are one event under the module's rules, else None."""
    ra, rb = a.record, b.record
    if (ra.factuality == "negated") != (rb.factuality == "negated"):
        return None
    if ra.quad_class != rb.quad_class or _incompatible(a, b) or not _within_window(a, b):
        return None
    # Who acted counts most: outlets name the targets of one act more variously.
    actors = max(_actor_similarity(a.actors, b.actors), _actor_similarity(a.doers, b.doers))
    if actors == 0.0:
        return None
    text = _text_similarity(a, b)
    if ra.source_id == rb.source_id:
        # One sentence often reports two acts ("condemned the measures and threatened a
        # response"): shared evidence makes one event of records of one type only.
        if ra.type != rb.type:
            return None
        if _overlapping_evidence(ra, rb):
            return 1.0
        same = text >= SAME_SOURCE_TEXT and actors >= CONFLICT_ACTORS
        return text if same else None
    if ra.type != rb.type:
        return text if text >= MATCH_TEXT_OTHER_TYPE else None
    structural = _structural_match(a, b, actors)
    if a.ongoing and b.ongoing and actors >= CONFLICT_ACTORS:
        # Two reports of one strike or evacuation share little beyond what goes on.
        threshold = ONGOING_TEXT
    elif a.day is None or b.day is None:
        if actors < CONFLICT_ACTORS:
            return None  # with no date to place it, an undated report needs the same actors
        threshold = UNDATED_TEXT
    else:
        threshold = MATCH_TEXT
    if text < threshold and not structural:
        return None
    if _differ(a, b) and not structural and (text < CONFLICT_TEXT or actors < CONFLICT_ACTORS):
        return None
    return (max(text, CONFLICT_TEXT) if structural else text) + _agreement(a, b)


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


# --- stances ----------------------------------------------------------------------------------


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


def _sort_date(date: dt.date | None) -> int:
    return date.toordinal() if date else dt.date.max.toordinal()


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
