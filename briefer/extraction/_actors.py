"""Actors under their standard names: the alias table, states named by their name or capital,
and the model's canonical name when the article bears it out."""

from __future__ import annotations

import re

from briefer.models import Actor, ExtractedActor
from briefer.text.aliases import lookup_alias
from briefer.text.countries import codes_for, countries_mentioned, country_name

__all__ = ["canonicalize_actor", "tidy_name"]

_COUNTRY_CODE = re.compile(r"[A-Z]{3}")


def tidy_name(name: str) -> str:
    """Trim and collapse whitespace, drop a leading lower-case "the" (as written mid-sentence;
    "The Hague" keeps its article); title-case a name given all in lower case."""
    tidy = re.sub(r"\s+", " ", name).strip().strip(",;:").removeprefix("the ")
    if tidy and tidy == tidy.lower():
        tidy = " ".join(word[:1].upper() + word[1:] for word in tidy.split(" "))
    return tidy


def _country_code(value: str | None) -> str | None:
    code = (value or "").strip().upper()
    return code if _COUNTRY_CODE.fullmatch(code) and country_name(code) else None


def _as_state(name: str, country: str | None) -> str | None:
    """The code of the state ``name`` names ("Kenya", "Nairobi", "Congo" with COD), if any."""
    codes = codes_for(name)
    if len(codes) == 1:
        return codes[0]
    return country if country in codes else None


def canonicalize_actor(
    extracted: ExtractedActor, *, mentioned: frozenset[str] | None = None
) -> Actor:
    """The actor under its standard name.

    The alias table first (an ambiguous name only when the model gives the same country);
    then a government named by its state's name or capital becomes that state; else the model's
    canonical name and country. ``mentioned`` (the countries the article mentions) guards
    against a namesake: a canonical name that brings in a country the article never mentions
    ("UK Home Office" for "the Interior Ministry" of a story set in Kenya) is not taken, and the
    actor keeps the name as written, with no country.
    """
    name = re.sub(r"\s+", " ", extracted.name).strip()
    country = _country_code(extracted.country)
    known = lookup_alias(extracted.canonical, country) or lookup_alias(name, country)
    if known is not None and (known.country is None or country in (None, known.country)):
        return Actor(name=name, canonical=known.canonical, country=known.country, kind=known.kind)
    canonical = tidy_name(extracted.canonical) or tidy_name(name)
    if extracted.kind in ("government", "military"):
        state = _as_state(canonical, country) or _as_state(name, country)
        if state is not None and country in (None, state) and extracted.kind == "government":
            return Actor(
                name=name,
                canonical=country_name(state) or canonical,
                country=state,
                kind="government",
            )
    if mentioned is not None:
        brought_in = countries_mentioned(canonical) - countries_mentioned(name) - mentioned
        if brought_in:
            return Actor(name=name, canonical=tidy_name(name), country=None, kind=extracted.kind)
    return Actor(name=name, canonical=canonical, country=country, kind=extracted.kind)
