"""Turn what the model copied from the article into values: dates and canonical actors.

The model gives dates as written ("Wednesday", "last week", "on Jan. 5"); code resolves them
against the publication date, because models get calendar arithmetic wrong. A resolved date
for a period (week, month, year) is the first day of that period, with its precision.
"""

from __future__ import annotations

import datetime as dt
import re

from briefer.aliases import lookup_alias
from briefer.models import Actor, DatePrecision, ExtractedActor

__all__ = ["canonicalize_actor", "resolve_date", "tidy_name"]

# English names written out: calendar.month_name follows the process locale.
_MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS |= {name[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS |= {"sept": 9, "sep": 9}
_WEEKDAYS = {
    name: i
    for i, name in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_WEEKDAY = r"(?P<weekday>" + "|".join(_WEEKDAYS) + r")"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d{2})"

_ISO = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_MONTH_DAY = re.compile(rf"\b{_MONTH} {_DAY}\b(?:,? {_YEAR}\b)?")
_DAY_MONTH = re.compile(rf"\b{_DAY} (?:of )?{_MONTH}\b(?:,? {_YEAR}\b)?")
_MONTH_YEAR = re.compile(rf"\b{_MONTH},? {_YEAR}\b")
_MONTH_ONLY = re.compile(rf"\b(?:in|during|since|by|until|early|late|mid|on) {_MONTH}\b")
_WEEKDAY_PHRASE = re.compile(rf"\b(?P<which>last|this past|past|next|this|coming)? ?{_WEEKDAY}\b")
_PERIOD = re.compile(
    r"\b(?P<which>last|past|previous|this|next|coming) (?P<period>week|weekend|month|year)\b"
)
_AGO = re.compile(
    r"\b(?P<count>\d+|" + "|".join(_NUMBER_WORDS) + r") (?P<unit>day|week|month|year)s? ago\b"
)
_BARE_YEAR = re.compile(rf"\b{_YEAR}\b")
# How far after publication a yearless date may fall before it is taken as last year's:
# news reports coming dates ("on Jan. 20" in a Jan. 13 article) but rarely months ahead.
_FUTURE_SLACK = dt.timedelta(days=30)


def _clean(text: str) -> str:
    text = text.lower().replace("’", "'").replace(".", " ")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"[^a-z0-9\- ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _month_start(day: dt.date, months_back: int = 0) -> dt.date:
    index = day.year * 12 + (day.month - 1) - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _yearless(month: int, day: int, published: dt.date | None) -> dt.date | None:
    if published is None:
        return None
    candidate = _safe_date(published.year, month, day)
    if candidate is not None and candidate - published > _FUTURE_SLACK:
        candidate = _safe_date(published.year - 1, month, day)
    return candidate


def _absolute(text: str, published: dt.date | None) -> tuple[dt.date, DatePrecision] | None:
    if match := _ISO.search(text):
        day = _safe_date(int(match["year"]), int(match["month"]), int(match["day"]))
        return (day, "day") if day else None
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        if match := pattern.search(text):
            month, number = _MONTHS[match["month"]], int(match["day"])
            if match["year"]:
                day = _safe_date(int(match["year"]), month, number)
            else:
                day = _yearless(month, number, published)
            return (day, "day") if day else None
    if match := _MONTH_YEAR.search(text):
        return dt.date(int(match["year"]), _MONTHS[match["month"]], 1), "month"
    return None


def _relative(text: str, published: dt.date) -> tuple[dt.date, DatePrecision] | None:
    words = set(text.split())
    if words & {"today", "tonight"} or re.search(r"\bthis (morning|afternoon|evening)\b", text):
        return published, "day"
    if "yesterday" in words or "last night" in text:
        return published - dt.timedelta(days=1), "day"
    if "tomorrow" in words:
        return published + dt.timedelta(days=1), "day"
    if match := _AGO.search(text):
        count = int(match["count"]) if match["count"].isdigit() else _NUMBER_WORDS[match["count"]]
        unit = match["unit"]
        if unit == "day":
            return published - dt.timedelta(days=count), "day"
        if unit == "week":
            return _week_start(published - dt.timedelta(weeks=count)), "week"
        if unit == "month":
            return _month_start(published, count), "month"
        return dt.date(published.year - count, 1, 1), "year"
    if match := _WEEKDAY_PHRASE.search(text):
        target = _WEEKDAYS[match["weekday"]]
        which = match["which"]
        if which in ("next", "coming"):
            ahead = (target - published.weekday() - 1) % 7 + 1
            return published + dt.timedelta(days=ahead), "day"
        # News convention: a weekday in a report is the most recent one; "last Friday"
        # written on a Friday means a week earlier, a bare "Friday" means that very day.
        back = (published.weekday() - target) % 7
        if back == 0 and which in ("last", "past", "this past"):
            back = 7
        return published - dt.timedelta(days=back), "day"
    if match := _PERIOD.search(text):
        which, period = match["which"], match["period"]
        step = {"last": -1, "past": -1, "previous": -1, "this": 0, "next": 1, "coming": 1}[which]
        if period in ("week", "weekend"):
            return _week_start(published) + dt.timedelta(weeks=step), "week"
        if period == "month":
            return _month_start(published, -step), "month"
        return dt.date(published.year + step, 1, 1), "year"
    return None


def resolve_date(
    date_text: str | None, published: dt.date | None
) -> tuple[dt.date | None, DatePrecision]:
    """The date ``date_text`` names, relative to ``published``, and how precise it is.

    Weekdays mean the most recent such day on or before publication ("Wednesday" in a
    Thursday article is the day before), unless "next"/"coming" points forward. Dates without
    a year take the publication year, or the year before when that would put them more than
    about a month after publication. Anything not understood is ``(None, "unknown")``.
    """
    if not date_text or not date_text.strip():
        return None, "unknown"
    text = _clean(date_text)
    found = _absolute(text, published)
    if found is None and published is not None:
        found = _relative(text, published)
    if found is None and published is not None and (match := _MONTH_ONLY.search(text)):
        month = _MONTHS[match["month"]]
        year = published.year if month <= published.month + 1 else published.year - 1
        found = dt.date(year, month, 1), "month"
    if found is None and (match := _BARE_YEAR.search(text)):
        found = dt.date(int(match["year"]), 1, 1), "year"
    if found is None:
        return None, "unknown"
    return found


_COUNTRY_CODE = re.compile(r"[A-Z]{3}")


def tidy_name(name: str) -> str:
    """Trim and collapse whitespace; title-case a name given all in lower case."""
    tidy = re.sub(r"\s+", " ", name).strip().strip(",;:")
    if tidy and tidy == tidy.lower():
        tidy = " ".join(word[:1].upper() + word[1:] for word in tidy.split(" "))
    return tidy


def canonicalize_actor(extracted: ExtractedActor) -> Actor:
    """The actor under its standard name: the alias table first, else the model's canonical."""
    name = re.sub(r"\s+", " ", extracted.name).strip()
    known = lookup_alias(extracted.canonical) or lookup_alias(name)
    if known is not None:
        return Actor(name=name, canonical=known.canonical, country=known.country, kind=known.kind)
    country = (extracted.country or "").strip().upper()
    return Actor(
        name=name,
        canonical=tidy_name(extracted.canonical) or tidy_name(name),
        country=country if _COUNTRY_CODE.fullmatch(country) else None,
        kind=extracted.kind,
    )
