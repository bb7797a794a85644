"""What an event is compared by, read once per record: its tokens, its actors' keys, its counts,
its place, and the days its date covers with the window it is compared within.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from briefer.merging._counts import _Observation, _observations
from briefer.merging._text import (
    _GENERIC_NAMES,
    _STOP,
    _WORD,
    _content_tokens,
    _norm,
    _proper_tokens,
    _stem,
)
from briefer.models import Actor, EventRecord
from briefer.text.countries import codes_for

DAY_WINDOW = 1
IMPRECISE_WINDOW = 1
ONGOING_WINDOW = 7
_SPAN = {"day": 0, "week": 6, "month": 30, "year": 365, "unknown": 0}
# Durative events: they go on over days, so reports days apart are one event.
_ONGOING_WORDS = re.compile(
    r"\b(?:strikes?|walk-?outs?|stoppages?|siege|besieg\w*|blockad\w*|sit-ins?|occupation|"
    r"stand-?off|offensive|talks|negotiations?|evacuat\w*|drills|exercises|encircl\w*|"
    r"continu\w*|ongoing|entered\s+(?:its|a|the)\s+\w+\s+(?:day|week)|"
    r"(?:second|third|fourth|fifth|sixth|seventh)\s+(?:straight\s+)?day|still\s+under|"
    r"for\s+a\s+\w+\s+day)\b",
    re.IGNORECASE,
)


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

    @functools.cached_property
    def doer_states(self) -> frozenset[str]:
        return frozenset(k for k in self.doers if k.startswith("@"))

    @functools.cached_property
    def target_states(self) -> frozenset[str]:
        return frozenset(k for k in self.done_to if k.startswith("@"))


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
    selective where single name words ("agency", "union") are not; and each name without its
    article and state words, so that "Bulgarian hauliers" and "the hauliers" (whose article
    never writes "Bulgarian") meet under "hauliers"."""
    keys = {k for k in _actor_keys(actors) if k.startswith("@")}
    for actor in actors:
        canonical = _PARENTHETICAL.sub("", actor.canonical)
        keys.add(_norm(canonical))
        bare = [w for w in _WORD.findall(canonical) if w.lower() not in _STOP and not codes_for(w)]
        if bare:
            keys.add(_norm(" ".join(bare)))
    return frozenset(keys)
