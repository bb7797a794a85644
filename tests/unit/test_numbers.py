from __future__ import annotations

import dataclasses
import math
import random

import pytest

from briefer.text.numbers import (
    NUMBER_WORDS,
    ORDINAL_WORDS,
    VAGUE_NUMBER_WORDS,
    Number,
    compatible,
    find_numbers,
    numbers_in,
    value_agrees,
)

INF = math.inf


def read(text: str) -> list[tuple[str, float, float, float]]:
    """Each number as (text, value, low, high)."""
    return [(n.text, n.value, n.low, n.high) for n in find_numbers(text)]


def only(text: str) -> Number:
    numbers = find_numbers(text)
    assert len(numbers) == 1, numbers
    return numbers[0]


# --- digits ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12 ships", [("12", 12, 12, 12)]),
        ("3.5 tonnes", [("3.5", 3.5, 3.5, 3.5)]),
        ("1,000 people", [("1,000", 1_000, 1_000, 1_000)]),
        ("12,500.5 barrels", [("12,500.5", 12_500.5, 12_500.5, 12_500.5)]),
        ("a 1,000-strong force", [("1,000", 1_000, 1_000, 1_000)]),
        ("in 2024", [("2024", 2024, 2024, 2024)]),
        ("on March 4", [("4", 4, 4, 4)]),
        ("No. 10 Downing Street", [("10", 10, 10, 10)]),
        ("at 10:30", [("10", 10, 10, 10), ("30", 30, 30, 30)]),
        # Commas that do not group thousands do not join: "3,5" and "1,2345".
        ("3,5", [("3", 3, 3, 3), ("5", 5, 5, 5)]),
        ("1,2345", [("1", 1, 1, 1), ("2345", 2345, 2345, 2345)]),
        # Thin and narrow no-break spaces group digits; an ordinary space does not.
        ("1\u2009000\u2009000 people", [("1\u2009000\u2009000", 1e6, 1e6, 1e6)]),
        ("1\u202f500 ships", [("1\u202f500", 1_500, 1_500, 1_500)]),
        ("on May 12 300 marched", [("12", 12, 12, 12), ("300", 300, 300, 300)]),
        # Scale words and suffixes.
        ("2 million", [("2 million", 2e6, 2e6, 2e6)]),
        ("1.2-billion deal", [("1.2-billion", 1.2e9, 1.2e9, 1.2e9)]),
        ("5\u00a0million", [("5\u00a0million", 5e6, 5e6, 5e6)]),
        ("3 trillion", [("3 trillion", 3e12, 3e12, 3e12)]),
        ("4.5 bn", [("4.5 bn", 4.5e9, 4.5e9, 4.5e9)]),
        ("50m", [("50m", 5e7, 5e7, 5e7)]),
        ("5mn", [("5mn", 5e6, 5e6, 5e6)]),
        ("4.5bn", [("4.5bn", 4.5e9, 4.5e9, 4.5e9)]),
        ("1.5tn", [("1.5tn", 1.5e12, 1.5e12, 1.5e12)]),
        ("10k", [("10k", 1e4, 1e4, 1e4)]),
        ("2 dozen eggs", [("2 dozen", 24, 24, 24)]),
        ("5 hundred", [("5 hundred", 500, 500, 500)]),
        ("2 and a half million", [("2 and a half million", 2.5e6, 2.5e6, 2.5e6)]),
        # A scale word joins across spaces or a hyphen only, not across punctuation.
        ("in 2019. Million-dollar homes", [("2019", 2019, 2019, 2019), ("Million", 1e6, 1e6, 1e6)]),
    ],
)
def test_digits(text: str, expected: list[tuple[str, float, float, float]]) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    "text",
    ["G7", "5G", "MH17", "10am", "USD4.5m", "the 1990s", "3D", "12TH", "5M", ".5", "x1"],
)
def test_digits_glued_to_letters_are_names_not_counts(text: str) -> None:
    assert find_numbers(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A hyphen is not glue: as in the citation check, "F-35" keeps 35 and "COVID-19" 19.
        ("F-35 jets", [("35", 35, 35, 35)]),
        ("COVID-19", [("19", 19, 19, 19)]),
        ("version 3.5.1", [("3.5", 3.5, 3.5, 3.5)]),
    ],
)
def test_hyphenated_names_keep_their_number(
    text: str, expected: list[tuple[str, float, float, float]]
) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-5", [("-5", -5, -5, -5)]),
        ("\u22125.5%", [("\u22125.5%", -5.5, -5.5, -5.5)]),
        ("GDP fell \u22120.5 per cent", [("\u22120.5 per cent", -0.5, -0.5, -0.5)]),
        ("(-3)", [("-3", -3, -3, -3)]),
        ("rose +3.2%", [("+3.2%", 3.2, 3.2, 3.2)]),
        ("-$5 million", [("-$5 million", -5e6, -5e6, -5e6)]),
        ("30 -40", [("30", 30, 30, 30), ("-40", -40, -40, -40)]),
        ("between -5 and -3", [("between -5 and -3", -5, -5, -3)]),
        ("-5 to 5", [("-5 to 5", -5, -5, 5)]),
        ("about -10", [("about -10", -10, -11, -9)]),
        # A hyphen after a letter or a digit is glue, not a sign.
        ("F-35", [("35", 35, 35, 35)]),
        ("2+2", [("2", 2, 2, 2), ("2", 2, 2, 2)]),
    ],
)
def test_signs(text: str, expected: list[tuple[str, float, float, float]]) -> None:
    assert read(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Phone numbers are numbers group by group: a chain of hyphens or a leading zero is
        # no range.
        ("+1 202-555-0143", [("+1", 1), ("202", 202), ("555", 555), ("0143", 143)]),
        ("(202) 555-0143", [("202", 202), ("555", 555), ("0143", 143)]),
        ("1-800-555-0199", [("1", 1), ("800", 800), ("555", 555), ("0199", 199)]),
        ("2024-01-15", [("2024", 2024), ("01", 1), ("15", 15)]),
        # Without more context "555-1234" cannot be told from a range, and reads as one.
        ("call 555-1234", [("555-1234", 555)]),
    ],
)
def test_phone_numbers_and_dates(text: str, expected: list[tuple[str, float]]) -> None:
    assert [(n.text, n.value) for n in find_numbers(text)] == expected


# --- words -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seven", [("seven", 7)]),
        ("zero", [("zero", 0)]),
        ("Twenty-five were named", [("Twenty-five", 25)]),
        ("twenty five", [("twenty five", 25)]),
        ("two hundred and five", [("two hundred and five", 205)]),
        ("a hundred and fifty", [("a hundred and fifty", 150)]),
        ("one thousand two hundred", [("one thousand two hundred", 1_200)]),
        ("twenty-five hundred", [("twenty-five hundred", 2_500)]),
        ("three million", [("three million", 3e6)]),
        ("two million three hundred thousand", [("two million three hundred thousand", 2.3e6)]),
        ("a million", [("a million", 1e6)]),
        ("a dozen", [("a dozen", 12)]),
        ("two dozen", [("two dozen", 24)]),
        ("a dozen thousand", [("a dozen thousand", 12_000)]),
        # "and" joins only after hundred or a scale; two units or two tens in a row are two.
        ("five and six", [("five", 5), ("six", 6)]),
        ("three four-year terms", [("three", 3), ("four", 4)]),
        ("nineteen ninety", [("nineteen", 19), ("ninety", 90)]),
        ("twenty thirty", [("twenty", 20), ("thirty", 30)]),
        ("one, three", [("one", 1), ("three", 3)]),
        ("twenty\nfive", [("twenty", 20), ("five", 5)]),
        # "one" is the number 1, also as a pronoun; "no one" and "one another" are no numbers.
        ("one of the men", [("one", 1)]),
        ("no one was hurt", []),
        ("they helped one another", []),
        ("someone", []),
    ],
)
def test_number_words(text: str, expected: list[tuple[str, float]]) -> None:
    assert [(n.text, n.value) for n in find_numbers(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the 12th day", [("12th", 12)]),
        ("1st and 2nd", [("1st", 1), ("2nd", 2)]),
        ("the third quarter", [("third", 3)]),
        ("a fifth term", [("fifth", 5)]),
        ("the twenty-first century", [("twenty-first", 21)]),
        ("the twenty-fifth anniversary", [("twenty-fifth", 25)]),
        ("one hundred and first", [("one hundred and first", 101)]),
        ("the fortieth", [("fortieth", 40)]),
        ("the hundredth", [("hundredth", 100)]),
        ("two hundredth", [("two hundredth", 200)]),
        # "first" and "second" alone are as often adverbs or units of time.
        ("first and second", []),
        # A space after tens or a scale leaves the ordinal apart.
        ("twenty first-time buyers", [("twenty", 20)]),
        ("a $1 million first prize", [("$1 million", 1e6)]),
    ],
)
def test_ordinals(text: str, expected: list[tuple[str, float]]) -> None:
    numbers = find_numbers(text)
    assert [(n.text, n.value) for n in numbers] == expected
    assert all(n.ordinal for n in numbers if n.text != "$1 million" and n.text != "twenty")


def test_cardinals_are_not_ordinals() -> None:
    assert not only("12 ships").ordinal
    assert only("12th").ordinal
    assert only("third").ordinal


@pytest.mark.parametrize(
    ("text", "written", "value"),
    [
        ("two-thirds of voters", "two-thirds", 2 / 3),
        ("three quarters", "three quarters", 0.75),
        ("three-quarters", "three-quarters", 0.75),
        ("two fifths", "two fifths", 0.4),
        ("one-fifth", "one-fifth", 0.2),
        ("one fifth", "one fifth", 0.2),
        ("one half", "one half", 0.5),
        ("a third of the vote", "a third", 1 / 3),
        ("a quarter of voters", "a quarter", 0.25),
        ("a fourth of", "a fourth", 0.25),
        ("half a million", "half a million", 5e5),
        ("half a dozen", "half a dozen", 6),
        ("a half-million people", "a half-million", 5e5),
        ("a quarter million", "a quarter million", 2.5e5),
        ("quarter-million", "quarter-million", 2.5e5),
        ("two and a half", "two and a half", 2.5),
        ("one and a half million", "one and a half million", 1.5e6),
        ("more than half a million", "more than half a million", 5e5),
    ],
)
def test_fractions(text: str, written: str, value: float) -> None:
    number = only(text)
    assert number.text == written
    assert number.value == pytest.approx(value)
    assert not number.ordinal


@pytest.mark.parametrize(
    "text",
    ["half", "a half", "half of the vote", "a quarter century", "in a quarter", "halves"],
)
def test_half_and_quarter_alone_are_no_numbers(text: str) -> None:
    assert find_numbers(text) == []


# --- qualifiers, ranges, vague counts ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "low", "high", "form"),
    [
        ("12", 12, 12, "exact"),
        ("at least 12", 12, INF, "at least"),
        ("more than 12", 12, INF, "at least"),
        ("over 12", 12, INF, "at least"),
        ("upwards of 12", 12, INF, "at least"),
        ("in excess of 12", 12, INF, "at least"),
        ("no fewer than 12", 12, INF, "at least"),
        ("12+", 12, INF, "at least"),
        ("12-plus", 12, INF, "at least"),
        ("up to 12", 0, 12, "at most"),
        ("fewer than 12", 0, 12, "at most"),
        ("less than 12", 0, 12, "at most"),
        ("under 12", 0, 12, "at most"),
        ("no more than 12", 0, 12, "at most"),
        ("as many as 12", 0, 12, "at most"),
        ("nearly 100", 90, 100, "nearly"),
        ("almost 100", 90, 100, "nearly"),
        ("just under 100", 90, 100, "nearly"),
        ("just over 100", 100, 110, "just over"),
        ("100-odd", 100, 110, "just over"),
        ("about 100", 90, 110, "about"),
        ("around 100", 90, 110, "about"),
        ("roughly 100", 90, 110, "about"),
        ("approximately 100", 90, 110, "about"),
        ("some 100", 90, 110, "about"),
        ("an estimated 100", 90, 110, "about"),
        ("close to 100", 90, 110, "about"),
        ("~100", 90, 110, "about"),
        ("~ 100", 90, 110, "about"),
        ("100 or so", 90, 110, "about"),
        ("About 100", 90, 110, "about"),
        ("more than a dozen", 12, INF, "at least"),
        ("about twenty", 18, 22, "about"),
        ("up to 30%", 0, 30, "at most"),
    ],
)
def test_qualifiers_set_the_interval(text: str, low: float, high: float, form: str) -> None:
    number = only(text)
    assert (number.low, number.high, number.form) == (low, high, form)
    assert number.text == text


def test_a_qualified_number_keeps_the_value_written() -> None:
    number = only("more than 1,200")
    assert (number.text, number.value, number.low, number.high) == (
        "more than 1,200",
        1200,
        1200,
        INF,
    )
    assert only("about 3,000 dockworkers").text == "about 3,000"


def test_a_qualifier_must_stand_right_before_the_number() -> None:
    assert only("about the 30 ships").form == "exact"
    assert only("more than, say, 30").form == "exact"
    assert only("the third of more than").form == "exact"  # ordinals take no qualifier


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("30 to 40", 30, 40),
        ("30-40", 30, 40),
        ("30–40", 30, 40),
        ("30 - 40", 30, 40),
        ("between 30 and 40", 30, 40),
        ("between 40 and 30", 30, 40),
        ("from 30 to 40", 30, 40),
        ("10,000-15,000", 10_000, 15_000),
        ("5 to 6 million", 5e6, 6e6),
        ("between 5 and 6 million", 5e6, 6e6),
        ("500 to 6 million", 500, 6e6),
        ("$5m-$6m", 5e6, 6e6),
        ("$10-15 million", 1e7, 1.5e7),
        ("10-15%", 10, 15),
        ("from 5% to 5.25%", 5, 5.25),
        ("five to six", 5, 6),
        ("between 2020 and 2024", 2020, 2024),
    ],
)
def test_ranges(text: str, low: float, high: float) -> None:
    number = only(text)
    assert (number.value, number.low, number.high, number.form) == (low, low, high, "range")
    assert number.text == text


def test_a_qualified_range() -> None:
    number = only("about 30 to 40")
    assert (number.value, number.low, number.high, number.form) == (30, 27, 44, "range")
    number = only("up to 30-40")
    assert (number.value, number.low, number.high) == (30, 0, 40)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A range runs upward; otherwise the two are two numbers (a change, a score).
        ("fell from 40 to 30", [("40", 40), ("30", 30)]),
        ("cut from 3,000 to 2,000", [("3,000", 3000), ("2,000", 2000)]),
        ("voted 7 to 2", [("7", 7), ("2", 2)]),
        ("won 3-1", [("3", 3), ("1", 1)]),
        ("the 2024-25 season", [("2024", 2024), ("25", 25)]),
        ("five and six", [("five", 5), ("six", 6)]),
        ("5 or 6", [("5", 5), ("6", 6)]),
        ("one-five", [("one", 1), ("five", 5)]),
        ("30 percent to 40 percent", [("30 percent", 30), ("40 percent", 40)]),
        ("the 12th to 15th", [("12th", 12), ("15th", 15)]),
    ],
)
def test_not_ranges(text: str, expected: list[tuple[str, float]]) -> None:
    numbers = find_numbers(text)
    assert [(n.text, n.value) for n in numbers] == expected
    assert all(n.form != "range" for n in numbers)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("dozens of people", 24, 144),
        ("hundreds", 200, 1_000),
        ("thousands protested", 2_000, 100_000),
        ("millions", 2e6, 1e8),
        ("billions", 2e9, 1e11),
        ("tens of thousands", 2e4, 1e5),
        ("hundreds of thousands", 2e5, 1e6),
        ("tens of millions", 2e7, 1e8),
        ("tens of people", 20, 100),
        ("several hundred", 200, 1_000),
        ("a few thousand", 2_000, 10_000),
        ("several dozen", 24, 120),
        ("more than hundreds", 200, INF),
    ],
)
def test_vague_counts(text: str, low: float, high: float) -> None:
    number = only(text)
    assert (number.value, number.low, number.high) == (low, low, high)


@pytest.mark.parametrize(
    "text", ["several ships", "a few days", "scores of people", "a couple of", "the tens"]
)
def test_vague_words_without_a_count_are_no_numbers(text: str) -> None:
    assert find_numbers(text) == []


# --- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("15%", "percent"),
        ("3.5%", "percent"),
        ("15 %", "percent"),
        ("15 percent", "percent"),
        ("12 percent", "percent"),
        ("15 per cent", "percent"),
        ("15 pct", "percent"),
        ("fifteen percent", "percent"),
        ("fifteen per cent", "percent"),
        ("$50m", "USD"),
        ("$4.5bn", "USD"),
        ("US$4.5 million", "USD"),
        ("USD 4.5 million", "USD"),
        ("4.5 million dollars", "USD"),
        ("3 million US dollars", "USD"),
        ("€2.3 million a day", "EUR"),
        ("4.5 million euros", "EUR"),
        ("£3bn", "GBP"),
        ("4.5 million pounds", "GBP"),
        ("20 pounds sterling", "GBP"),
        ("¥500 million", "JPY"),
        ("500 million yen", "JPY"),
        ("20 billion yuan", "CNY"),
        ("HK$300", "HKD"),
        ("A$12", "AUD"),
        ("C$12", "CAD"),
        ("₹100 crore", "INR"),
        ("CHF 10 million", "CHF"),
        ("10 million EUR", "EUR"),
        ("€ 5", "EUR"),
        ("lost 20 pounds", None),
        ("3 percentage points", None),
        ("12 ships", None),
        ("the 12th", None),
    ],
)
def test_units(text: str, unit: str | None) -> None:
    assert only(text).unit == unit


def test_money_with_its_scale_and_words() -> None:
    number = only("€2.3 million a day")
    assert (number.text, number.value, number.scale) == ("€2.3 million", 2.3e6, 1e6)
    number = only("more than $1.2 billion")
    assert (number.text, number.value, number.low, number.unit) == (
        "more than $1.2 billion",
        1.2e9,
        1.2e9,
        "USD",
    )
    assert only("$4.5bn").value == 4.5e9
    assert only("$50m").value == 5e7


# --- the whole reading -------------------------------------------------------------------------

ARTICLE = (
    "Police said about 3,000 dockworkers joined the strike on March 4, 2024, more than $1.2 "
    "billion of cargo was stuck and between 30 and 40 ships (up 15% on 2023) waited; "
    "twenty-five of them were tankers, a dozen tugs stood by and, on the 12th day, "
    "two-thirds of the G7 ministers met at 10:30 in No. 10. Dozens of F-35 jets flew over."
)


def test_an_article_in_order() -> None:
    assert [(n.text, n.value, n.low, n.high, n.unit, n.ordinal) for n in find_numbers(ARTICLE)] == [
        ("about 3,000", 3000, 2700, 3300, None, False),
        ("4", 4, 4, 4, None, False),
        ("2024", 2024, 2024, 2024, None, False),
        ("more than $1.2 billion", 1.2e9, 1.2e9, INF, "USD", False),
        ("between 30 and 40", 30, 30, 40, None, False),
        ("15%", 15, 15, 15, "percent", False),
        ("2023", 2023, 2023, 2023, None, False),
        ("twenty-five", 25, 25, 25, None, False),
        ("a dozen", 12, 12, 12, None, False),
        ("12th", 12, 12, 12, None, True),
        ("two-thirds", 2 / 3, 2 / 3, 2 / 3, None, False),
        ("10", 10, 10, 10, None, False),
        ("30", 30, 30, 30, None, False),
        ("10", 10, 10, 10, None, False),
        ("Dozens", 24, 24, 144, None, False),
        ("35", 35, 35, 35, None, False),
    ]


def _generated(seed: int, size: int) -> str:
    pieces = [
        "about 3,000", "more than $1.2 billion", "between 30 and 40", "15%", "twenty-five",
        "a dozen", "the 12th", "two-thirds", "G7", "F-35", "10:30", "-5", "5 to 6 million",
        "dozens", "half a million", "No. 10", "12 percent", "€2.3 million", "1\u2009000",
        "people", "said", "and", "of", "to", "the", "a", "one", "(", ")", ",", ".", "-", "~", "$",
        "\n", "hundred", "thousands", "at least", "up to", "555-0143", "2024-01-15",
    ]  # fmt: skip
    rng = random.Random(seed)
    out: list[str] = []
    length = 0
    while length < size:
        piece = rng.choice(pieces)
        out.append(piece)
        length += len(piece) + 1
    return " ".join(out)


@pytest.mark.parametrize("seed", range(20))
def test_spans_are_exact_slices_in_order(seed: int) -> None:
    text = _generated(seed, 5_000)
    numbers = find_numbers(text)
    assert numbers
    previous_end = 0
    for number in numbers:
        assert text[number.start : number.end] == number.text
        assert number.start >= previous_end
        assert number.low <= number.high
        assert number.low <= number.value <= number.high or number.form in ("nearly", "about")
        previous_end = number.end


def test_numbers_are_frozen() -> None:
    number = only("12")
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.value = 13  # type: ignore[misc]


def test_exact_number() -> None:
    assert Number.exact(14) == Number("14", 0, 2, 14.0, 14.0, 14.0)
    assert Number.exact(1500.5, "USD").text == "1,500.5"
    assert Number.exact(0.25).unit is None


# --- numbers_in: the citation check's contract ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "3.5% of 2 million, a dozen, the 12th, G7",
            [("3.5%", 3.5), ("2 million", 2e6), ("dozen", 12), ("12th", 12)],
        ),
        ("About 1,000 people", [("1,000", 1000)]),
        ("more than $1.2 billion", [("1.2 billion", 1.2e9)]),
        (
            "Five, or 6, North Koreans on 12 January 2022",
            [("Five", 5), ("6", 6), ("12", 12), ("2022", 2022)],
        ),
        ("Twenty-five were named", [("Twenty-five", 25)]),
        ("two hundred and five", [("two hundred and five", 205)]),
        ("between 30 and 40", [("30", 30), ("40", 40)]),
        ("10,000-15,000", [("10,000", 10_000), ("15,000", 15_000)]),
        # The two ends as written: the scale stays with the end that carries it.
        ("5 to 6 million", [("5", 5), ("6 million", 6e6)]),
        # Digits and a scale word are joined by one space, whatever stood between them.
        ("5-million", [("5 million", 5e6)]),
        ("5\u00a0million", [("5 million", 5e6)]),
        ("$50m", [("50m", 5e7)]),
        ("-5%", [("5%", 5)]),
        ("15 percent", [("15", 15)]),
        ("hundreds of thousands, dozens", []),
        ("several hundred", [("hundred", 100)]),
        ("F-35 and COVID-19 but not G7", [("35", 35), ("19", 19)]),
        ("No. 10 at 10:30", [("10", 10), ("10", 10), ("30", 30)]),
        ("one of the men", [("one", 1)]),
        ("the twenty-first century", [("twenty-first", 21)]),
        ("half a million", [("half a million", 5e5)]),
        ("a quarter of voters", [("quarter", 0.25)]),
        ("no one", []),
        ("first and second", []),
    ],
)
def test_numbers_in(text: str, expected: list[tuple[str, float]]) -> None:
    found = numbers_in(text)
    assert [w for w, _ in found] == [w for w, _ in expected]
    assert [v for _, v in found] == pytest.approx([v for _, v in expected])


# --- value_agrees ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text", "agrees"),
    [
        (1.2e9, "$1.2 billion", True),
        (1.2, "$1.2 billion", True),
        (4.5e9, "$4.5bn", True),
        (4.5, "$4.5bn", True),
        (15, "15%", True),
        (0.15, "15%", True),
        (12, "a dozen", True),
        (1, "a dozen", False),
        (25, "twenty-five", True),
        (30, "between 30 and 40", True),
        (35, "between 30 and 40", True),
        (40, "between 30 and 40", True),
        (41, "between 30 and 40", False),
        (5.5e6, "5 to 6 million", True),
        (5, "5 to 6 million", True),
        (6e6, "5 to 6 million", True),
        (3000, "about 3,000 dockworkers", True),
        (3100, "about 3,000 dockworkers", False),  # only the number written agrees
        (12, "at least 12", True),
        (14, "at least 12", False),
        (30, "dozens of ships", True),
        (7, "dozens of ships", False),
        (0.25, "a quarter of voters", True),
        (25, "a quarter of voters", True),
        (-0.5, "GDP fell -0.5%", True),
        (0.5, "GDP fell -0.5%", True),
        (5e5, "half a million", True),
        (12, "the 12th day", True),
        (2022, "on 12 January 2022", True),
        (7, "five vessels", False),
        (3, "several ships", False),
        (3, "", False),
        (35, "F-35", True),
        (7, "G7", False),
    ],
)
def test_value_agrees(value: float, text: str, agrees: bool) -> None:
    assert value_agrees(value, text) is agrees


# --- compatible --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("at least 12", "14", True),
        ("at least 12", "10", False),
        ("5", "6", False),
        ("5", "five", True),
        ("about 3,000", "3,100", True),
        ("about 3,000", "2,000", False),
        ("about 3,000", "more than 3,200", True),
        ("nearly 100", "95", True),
        ("nearly 100", "101", False),
        ("up to 30", "between 25 and 40", True),
        ("between 30 and 40", "between 41 and 50", False),
        ("dozens", "60", True),
        ("dozens", "hundreds", False),
        ("thousands", "tens of thousands", True),
        ("15%", "15 percent", True),
        ("15%", "$15", False),
        ("$15", "15", True),
        ("€5 million", "5 million euros", True),
        ("€5 million", "$5 million", False),
    ],
)
def test_compatible(a: str, b: str, expected: bool) -> None:
    assert compatible(only(a), only(b)) is expected
    assert compatible(only(b), only(a)) is expected


def test_compatible_with_a_bare_value() -> None:
    assert compatible(only("at least 12"), Number.exact(14))
    assert not compatible(only("about 3,000"), Number.exact(2_000))


# --- tables ------------------------------------------------------------------------------------


def test_number_words_table() -> None:
    assert NUMBER_WORDS["zero"] == 0
    assert NUMBER_WORDS["nineteen"] == 19
    assert NUMBER_WORDS["ninety"] == 90
    assert NUMBER_WORDS["dozen"] == 12
    assert NUMBER_WORDS["billion"] == 1_000_000_000
    assert "a" not in NUMBER_WORDS and "first" not in NUMBER_WORDS
    assert ORDINAL_WORDS["third"] == 3 and "first" not in ORDINAL_WORDS
    assert VAGUE_NUMBER_WORDS["dozens"] == (24, 144)
    for word in NUMBER_WORDS:
        assert only(word).value == NUMBER_WORDS[word]


# --- linear time -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_megabyte_is_read_in_one_pass() -> None:
    block = _generated(0, 10_000) + "\n"
    repeats = 1_000_000 // len(block) + 1
    numbers = find_numbers(block * repeats)
    # The text is read once, left to right: each copy of the block gives the same numbers.
    assert len(numbers) == len(find_numbers(block)) * repeats


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "unit", ["one ", "1-", "1 ", "twenty-", "a ", "- ", "$", "1,000,", "and a half ", "~-"]
)
def test_degenerate_texts_finish(unit: str) -> None:
    text = unit * (200_000 // len(unit))
    numbers = find_numbers(text)
    assert all(text[n.start : n.end] == n.text for n in numbers[:1000])
