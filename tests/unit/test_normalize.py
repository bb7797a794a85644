from __future__ import annotations

import datetime as dt

import pytest

from briefer.aliases import alias_key, lookup_alias
from briefer.models import ExtractedActor
from briefer.normalize import canonicalize_actor, resolve_date

THURSDAY = dt.date(2022, 1, 13)


@pytest.mark.parametrize(
    ("text", "expected", "precision"),
    [
        ("on Wednesday", dt.date(2022, 1, 12), "day"),
        ("Wednesday", dt.date(2022, 1, 12), "day"),
        ("Thursday", dt.date(2022, 1, 13), "day"),
        ("Friday", dt.date(2022, 1, 7), "day"),
        ("last Friday", dt.date(2022, 1, 7), "day"),
        ("last Thursday", dt.date(2022, 1, 6), "day"),
        ("next Monday", dt.date(2022, 1, 17), "day"),
        ("Wednesday's session", dt.date(2022, 1, 12), "day"),
        ("today", THURSDAY, "day"),
        ("yesterday", dt.date(2022, 1, 12), "day"),
        ("three days ago", dt.date(2022, 1, 10), "day"),
        ("last week", dt.date(2022, 1, 3), "week"),
        ("this week", dt.date(2022, 1, 10), "week"),
        ("earlier this month", dt.date(2022, 1, 1), "month"),
        ("this month", dt.date(2022, 1, 1), "month"),
        ("last month", dt.date(2021, 12, 1), "month"),
        ("last year", dt.date(2021, 1, 1), "year"),
        ("on Jan. 5", dt.date(2022, 1, 5), "day"),
        ("January 5", dt.date(2022, 1, 5), "day"),
        ("Jan 5, 2022", dt.date(2022, 1, 5), "day"),
        ("5 January", dt.date(2022, 1, 5), "day"),
        ("Jan. 5 and 11", dt.date(2022, 1, 5), "day"),
        ("Dec. 30", dt.date(2021, 12, 30), "day"),  # a yearless date far ahead is last year's
        ("Jan. 20", dt.date(2022, 1, 20), "day"),  # a week ahead stays in this year
        ("2021-11-03", dt.date(2021, 11, 3), "day"),
        ("Wednesday, Jan. 12, 2022", dt.date(2022, 1, 12), "day"),
        ("September 2021", dt.date(2021, 9, 1), "month"),
        ("in 2019", dt.date(2019, 1, 1), "year"),
        ("since late 2017", dt.date(2017, 1, 1), "year"),
    ],
)
def test_resolve_date(text: str, expected: dt.date, precision: str) -> None:
    assert resolve_date(text, THURSDAY) == (expected, precision)


def test_weekday_follows_the_publication_date() -> None:
    # The same words on another publication day name another date.
    assert resolve_date("on Wednesday", dt.date(2022, 1, 20)) == (dt.date(2022, 1, 19), "day")
    assert resolve_date("last Friday", dt.date(2022, 1, 20)) == (dt.date(2022, 1, 14), "day")


@pytest.mark.parametrize("text", [None, "", "   ", "recently", "in the offing"])
def test_unknown_dates(text: str | None) -> None:
    assert resolve_date(text, THURSDAY) == (None, "unknown")


def test_relative_dates_need_a_publication_date() -> None:
    assert resolve_date("on Wednesday", None) == (None, "unknown")
    assert resolve_date("Jan. 5", None) == (None, "unknown")
    assert resolve_date("Jan 5, 2022", None) == (dt.date(2022, 1, 5), "day")
    assert resolve_date("in 2019", None) == (dt.date(2019, 1, 1), "year")


def actor(name: str, canonical: str | None = None, country: str | None = None) -> ExtractedActor:
    return ExtractedActor(name=name, canonical=canonical or name, country=country, kind="other")


@pytest.mark.parametrize(
    ("name", "canonical", "country", "kind"),
    [
        ("Pyongyang", "North Korea", "PRK", "government"),
        ("the North", "North Korea", "PRK", "government"),
        ("N. Korea", "North Korea", "PRK", "government"),
        ("DPRK", "North Korea", "PRK", "government"),
        ("Washington", "United States", "USA", "government"),
        ("U.S.", "United States", "USA", "government"),
        ("the Biden administration", "United States", "USA", "government"),
        ("Seoul", "South Korea", "KOR", "government"),
        ("Beijing", "China", "CHN", "government"),
        ("Moscow", "Russia", "RUS", "government"),
        ("Tokyo", "Japan", "JPN", "government"),
        ("the U.N. Security Council", "UN Security Council", None, "international_organization"),
        ("UNSC", "UN Security Council", None, "international_organization"),
        ("the United Nations", "United Nations", None, "international_organization"),
        ("the Treasury Department", "US Department of the Treasury", "USA", "government"),
        ("State Department", "US Department of State", "USA", "government"),
    ],
)
def test_aliases(name: str, canonical: str, country: str | None, kind: str) -> None:
    result = canonicalize_actor(actor(name, country="XXX"))
    assert (result.canonical, result.country, result.kind) == (canonical, country, kind)
    assert result.name == name  # as written


def test_alias_found_through_the_models_canonical_name() -> None:
    result = canonicalize_actor(
        actor("the regime", canonical="Democratic People's Republic of Korea")
    )
    assert result.canonical == "North Korea"


def test_unknown_actor_keeps_the_models_name_tidied_and_validates_the_country() -> None:
    result = canonicalize_actor(actor("Price", canonical="  ned   price ", country="usa"))
    assert (result.canonical, result.country, result.kind) == ("Ned Price", "USA", "other")
    assert canonicalize_actor(actor("Brewer", "Eric Brewer", country="US")).country is None
    assert canonicalize_actor(actor("Brewer", "Eric Brewer", country="U.S.A")).country is None


def test_alias_key_forms() -> None:
    assert alias_key("U.S.") == alias_key("US") == alias_key(" the  us ")
    assert lookup_alias("Kim Jong-un\u2019s regime") is not None
    assert lookup_alias("Ned Price") is None
