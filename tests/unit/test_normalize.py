from __future__ import annotations

import datetime as dt

import pytest

from briefer.extraction._actors import canonicalize_actor
from briefer.models import ExtractedActor
from briefer.text.aliases import alias_key, lookup_alias
from briefer.text.dates import resolve_date

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


def actor(
    name: str, canonical: str | None = None, country: str | None = None, kind: str = "other"
) -> ExtractedActor:
    return ExtractedActor(
        name=name,
        canonical=canonical or name,
        country=country,
        kind=kind,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("name", "canonical", "country", "kind"),
    [
        ("Pyongyang", "North Korea", "PRK", "government"),
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


def test_ambiguous_names_stand_for_an_entry_only_with_its_country() -> None:
    # "the North" is also Sudan's or Vietnam's north, "the Treasury" also the UK's.
    north = canonicalize_actor(actor("the North", "North Korea", "PRK", "government"))
    assert (north.canonical, north.country) == ("North Korea", "PRK")
    assert canonicalize_actor(actor("the North", country=None)).canonical == "North"
    uk = canonicalize_actor(actor("the Treasury", "HM Treasury", "GBR", "government"))
    assert (uk.canonical, uk.country) == ("HM Treasury", "GBR")
    us = canonicalize_actor(actor("the Treasury", "Treasury", "USA", "government"))
    assert (us.canonical, us.country) == ("US Department of the Treasury", "USA")


def test_an_alias_never_overrides_the_models_canonical_of_another_country() -> None:
    # The model says the UK's finance ministry; the table's "Treasury Department" is the US's.
    uk = canonicalize_actor(actor("the Treasury Department", "HM Treasury", "GBR", "government"))
    assert (uk.canonical, uk.country) == ("HM Treasury", "GBR")


def test_a_canonical_name_bringing_in_a_country_the_article_never_mentions_is_not_taken() -> None:
    interior = actor("the Interior Ministry", "UK Home Office", "GBR", "government")
    kept = canonicalize_actor(interior, mentioned=frozenset({"KEN"}))
    assert (kept.name, kept.canonical, kept.country) == (
        "the Interior Ministry",
        "Interior Ministry",
        None,
    )
    # Where the article does mention that country, the model's reading stands.
    trusted = canonicalize_actor(interior, mentioned=frozenset({"KEN", "GBR"}))
    assert (trusted.canonical, trusted.country) == ("UK Home Office", "GBR")


def test_a_government_named_by_its_state_becomes_that_state() -> None:
    congo = canonicalize_actor(actor("Brazzaville", "Congo", "COG", "government"))
    assert congo.country == "COG" and congo.canonical != "Congo"
    drc = canonicalize_actor(actor("Kinshasa", "DR Congo", "COD", "government"))
    assert drc.country == "COD" and drc.canonical != congo.canonical


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


# --- year boundaries, tense and years supplied by the run ------------------------------------

DEC_29 = dt.date(2023, 12, 29)  # a Friday


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("on Jan. 3", DEC_29, dt.date(2024, 1, 3)),  # five days on, not 360 back
        ("January 2", DEC_29, dt.date(2024, 1, 2)),
        ("Dec. 20", DEC_29, dt.date(2023, 12, 20)),
        ("Dec. 30", dt.date(2024, 1, 2), dt.date(2023, 12, 30)),
        ("31 December", dt.date(2024, 1, 1), dt.date(2023, 12, 31)),
        ("on March 3", dt.date(2024, 3, 5), dt.date(2024, 3, 3)),
    ],
)
def test_yearless_dates_take_the_year_nearest_the_publication(
    text: str, published: dt.date, expected: dt.date
) -> None:
    assert resolve_date(text, published) == (expected, "day")


@pytest.mark.parametrize(
    ("text", "future", "expected"),
    [
        ("on Friday", True, dt.date(2024, 1, 5)),  # "will meet on Friday", written on a Friday
        ("on Monday", True, dt.date(2024, 1, 1)),
        ("Tuesday", True, dt.date(2024, 1, 2)),
        ("this Wednesday", True, dt.date(2024, 1, 3)),
        ("on Monday", False, dt.date(2023, 12, 25)),
        ("this Wednesday", False, dt.date(2023, 12, 27)),
        ("next Friday", False, dt.date(2024, 1, 5)),
        ("last Monday", True, dt.date(2023, 12, 25)),  # the words say which way
    ],
)
def test_weekdays_follow_the_tense(text: str, future: bool, expected: dt.date) -> None:
    assert resolve_date(text, DEC_29, future=future) == (expected, "day")


def test_a_future_yearless_date_is_not_pulled_into_the_past() -> None:
    # "talks will resume on Dec. 20", written on 29 December: next year's, not nine days ago.
    assert resolve_date("on Dec. 20", DEC_29, future=True) == (dt.date(2024, 12, 20), "day")
    assert resolve_date("on Dec. 20", DEC_29, future=False) == (dt.date(2023, 12, 20), "day")


@pytest.mark.parametrize(
    ("sentence", "future"),
    [
        ("Negotiators will meet again on Friday.", True),
        ("Talks are set to resume on Monday, officials said.", True),
        ("The vote is scheduled for Tuesday.", True),
        ("The union said it would return to the table on Thursday.", True),
        ("Crews are due to appear in court on Thursday.", True),
        ("The ministers met on Tuesday in Nairobi.", False),
        ("Police said the march on Sunday was peaceful.", False),
        ("The strike, which began on Monday, entered its second day.", False),
    ],
)
def test_tense_of_the_words_around_a_date(sentence: str, future: bool) -> None:
    from briefer.text.dates import future_tense_around

    date_words = next(
        w for w in ("Friday", "Monday", "Tuesday", "Thursday", "Sunday") if w in sentence
    )
    start = sentence.index(date_words)
    assert future_tense_around(sentence, start, start + len(date_words)) is future
