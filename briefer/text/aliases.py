"""A small alias table: the names news uses for the actors briefings meet most.

Each entry is a canonical actor and the names that stand for it. Keys are compared after
``alias_key`` (lower case, no dots, no leading "the", single spaces), so "U.S." and "US", or
"the North" and "North", are one key. Some names fit more than one actor ("the Treasury" is also
the UK's, "the North" is also Sudan's or Vietnam's): those are **ambiguous** and stand for the
entry only when the model names the same country. Anything not listed keeps the model's
canonical name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from briefer.models import ActorKind

__all__ = ["ALIASES", "AMBIGUOUS", "CanonicalActor", "alias_key", "lookup_alias"]


@dataclass(frozen=True)
class CanonicalActor:
    canonical: str
    country: str | None
    kind: ActorKind


_TABLE: list[tuple[CanonicalActor, tuple[str, ...]]] = [
    (
        CanonicalActor("North Korea", "PRK", "government"),
        (
            "North Korea",
            "Pyongyang",
            "DPRK",
            "N. Korea",
            "NK",
            "Democratic People's Republic of Korea",
            "Kim Jong-un's regime",
            "the Kim regime",
            "North Korean government",
            "the regime in Pyongyang",
        ),
    ),
    (
        CanonicalActor("United States", "USA", "government"),
        (
            "United States",
            "Washington",
            "U.S.",
            "US",
            "USA",
            "America",
            "United States of America",
            "the Biden administration",
            "Biden administration",
            "the Joe Biden administration",
            "U.S. government",
            "US government",
        ),
    ),
    (
        CanonicalActor("South Korea", "KOR", "government"),
        ("South Korea", "Seoul", "ROK", "Republic of Korea", "S. Korea"),
    ),
    (CanonicalActor("China", "CHN", "government"), ("China", "Beijing", "PRC")),
    (CanonicalActor("Russia", "RUS", "government"), ("Russia", "Moscow", "Kremlin")),
    (CanonicalActor("Japan", "JPN", "government"), ("Japan", "Tokyo")),
    (
        CanonicalActor("UN Security Council", None, "international_organization"),
        (
            "UN Security Council",
            "U.N. Security Council",
            "United Nations Security Council",
            "UNSC",
            "Security Council",
        ),
    ),
    (
        CanonicalActor("United Nations", None, "international_organization"),
        ("United Nations", "UN", "U.N."),
    ),
    (
        CanonicalActor("European Union", None, "international_organization"),
        ("European Union", "EU", "E.U.", "the 27-nation bloc"),
    ),
    (
        CanonicalActor("US Department of the Treasury", "USA", "government"),
        (
            "US Department of the Treasury",
            "U.S. Treasury",
            "US Treasury",
            "Treasury Department",
            "U.S. Treasury Department",
            "Department of the Treasury",
            "United States Department of the Treasury",
        ),
    ),
    (
        CanonicalActor("US Department of State", "USA", "government"),
        (
            "US Department of State",
            "State Department",
            "U.S. State Department",
            "Department of State",
            "United States Department of State",
        ),
    ),
]


def alias_key(name: str) -> str:
    """The form names are compared in: lower case, no dots, no leading 'the', one space."""
    key = name.replace("’", "'").replace(".", "").lower()
    key = re.sub(r"\s+", " ", key).strip()
    return key.removeprefix("the ").strip()


ALIASES: dict[str, CanonicalActor] = {
    alias_key(alias): actor for actor, aliases in _TABLE for alias in aliases
}
# Names that fit more than one actor: the entry they stand for when the country agrees.
AMBIGUOUS: dict[str, CanonicalActor] = {
    alias_key(alias): actor
    for actor, aliases in (
        (ALIASES["north korea"], ("the North",)),
        (ALIASES["south korea"], ("the South",)),
        (ALIASES["us department of the treasury"], ("Treasury", "the Treasury")),
    )
    for alias in aliases
}


def lookup_alias(name: str, country: str | None = None) -> CanonicalActor | None:
    """The actor ``name`` stands for; an ambiguous name only when ``country`` is its country."""
    key = alias_key(name)
    known = ALIASES.get(key)
    if known is not None:
        return known
    ambiguous = AMBIGUOUS.get(key)
    if ambiguous is not None and country is not None and ambiguous.country == country:
        return ambiguous
    return None
