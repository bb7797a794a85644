"""The date of a source: from a header's value, else from the top of its text.

A date comes from a ``Published:``/``Date:``/``Updated:``/``Posted:`` line near the top, a
dateline (``WASHINGTON, January 12, 2022 —``, ``SEOUL, Jan. 20 (Yonhap) --``), or an ISO or
"January 12, 2022" date on a short line near the top ("near the top": the first 15 non-empty
lines). A page's header, outside the article text a page gives, may hold one too ("By Ana Ruiz ·
Tuesday, October 14").

A date written without a year (``Published: March 4``, ``GENEVA, Mar. 3 —``) never takes the
clock's year. It takes the year of the first full date in the top lines that it falls within 45
days of once put in the year nearest that date (``Dec. 30`` beside ``Jan. 2, 2023`` is 2022), or
of its own month written with a year there (``March 2024``). A full date further away (an accord
of years ago) or further down the text lends nothing. Without such a year ``published`` stays
unknown and ``published_text`` keeps the date as written (``March 4``, ``Dec. 30``, ``4 March``)
for the run to place later. A weekday, a time or a month alone is no date, nor is a number
dateutil would read as a year outside 1900–2099 ("at 2130 GMT"), nor a numeric day and month
without a year (``03/04``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from briefer.ingestion._meta import LINE_CHARS, top_lines
from briefer.text.dates import MONTH_FORMS

__all__ = ["DATELINE", "date_from_text", "date_in_page_header"]

_MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40}(?:, [A-Z][A-Za-z .]{1,30})?,\s+"
    + _MONTH
    + r"\.?\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?\s*(?:\((?P<agency>[^()\n]{1,40})\)\s*)?"
    r"(?:--|—|–|-)"
)
_LONG_DATE = re.compile(r"\b" + _MONTH + r"\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4})\b")
_ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_DAY_MONTH_YEAR = re.compile(
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?[ \t]{1,3}" + _MONTH + r"\b\.?,?[ \t]{1,3}(?P<year>\d{4})\b"
)
_MONTH_YEAR = re.compile(r"\b" + _MONTH + r"\b\.?,?[ \t]{1,3}(?P<year>\d{4})\b")
_MONTH_DAY = re.compile(r"\b" + _MONTH + r"\b\.?[ \t]{1,3}(?P<day>\d{1,2})(?:st|nd|rd|th)?\b")
_DAY_MONTH = re.compile(
    r"\b(?P<day>\d{1,2})(?:st|nd|rd|th)?[ \t]{1,3}(?:of[ \t]{1,3})?" + _MONTH + r"\b\.?"
)
_LABELLED = re.compile(
    r"^(?:Published|Updated|Date|Posted)\b(?: on)?[ \t]*:?[ \t]*(?P<value>\S.*)$", re.I
)
_DATE_WORDS = re.compile(
    r"\b[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4}\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+[A-Z][a-z]{2,8}\.?,?\s+\d{4}\b"
)
# A byline: "By Carmen Rojas | Lima Ledger | 6 March 2024", its parts apart.
_BYLINE = re.compile(r"^[ \t]*By[ \t]+\S", re.I)
_BYLINE_PARTS = re.compile(r"[ \t]*[|·•—–][ \t]*|[ \t]+--?[ \t]+")
_OTHER_WORDS_BESIDE_DATE = 3
# Years a publication date can have: a four-digit number outside them is a time ("at 2130 GMT").
_YEARS = range(1900, 2100)
# dateutil fills what a value leaves out from a default: parsed against two defaults that differ
# in year, month and day, a field it filled in shows as a difference. Both are leap years, so
# that Feb. 29 parses.
_DEFAULTS = (dt.datetime(4, 1, 1), dt.datetime(8, 2, 2))
# A full date this close to a month and day written without a year is "the same time".
_SAME_TIME_DAYS = 45
# How far into each top line dates are looked for when a year is wanted.
_CONTEXT_CHARS = 2_000


@dataclass(frozen=True)
class _Yearless:
    """A month and day written without a year, and the words that wrote them."""

    month: int
    day: int
    text: str


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_number(name: str) -> int:
    return MONTH_FORMS[name[:3].lower()]


def _yearless_in(value: str) -> _Yearless | None:
    """The first month-and-day ("March 4", "Dec. 30", "4 March") in ``value``."""
    matches = [m for m in (_MONTH_DAY.search(value), _DAY_MONTH.search(value)) if m]
    for match in sorted(matches, key=lambda m: m.start()):
        month, day = _month_number(match["month"]), int(match["day"])
        if _make_date(2000, month, day):  # a leap year: any day some year has
            return _Yearless(month, day, " ".join(match.group(0).split()))
    return None


def _parse_date(value: str) -> dt.date | _Yearless | None:
    """A date from a header or labelled line: ISO first, then anything dateutil reads that
    writes a day, a month and a year. A month and day alone are ``_Yearless``: dateutil would
    give them the clock's year. A weekday, a time or a month alone is no date."""
    value = value[:LINE_CHARS]
    iso = _ISO_DATE.search(value)
    if iso:
        found = _make_date(int(iso["year"]), int(iso["month"]), int(iso["day"]))
        if found:
            return found
    from dateutil import parser as date_parser

    try:
        first, second = (date_parser.parse(value, fuzzy=True, default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError):
        pass
    else:
        if first.date() == second.date() and first.year in _YEARS:
            return first.date()
    return _yearless_in(value)


def _dates_written(line: str) -> list[tuple[int, int, int | None]]:
    """``(year, month, day)`` of each full date in ``line``, and ``(year, month, None)`` of each
    month written with its year ("March 2024"), in the order they are written."""
    found: list[tuple[int, tuple[int, int, int | None]]] = []
    for pattern in (_LONG_DATE, _DAY_MONTH_YEAR):
        for match in pattern.finditer(line):
            date = (int(match["year"]), _month_number(match["month"]), int(match["day"]))
            found.append((match.start(), date))
    for match in _ISO_DATE.finditer(line):
        found.append((match.start(), (int(match["year"]), int(match["month"]), int(match["day"]))))
    for match in _MONTH_YEAR.finditer(line):
        found.append((match.start(), (int(match["year"]), _month_number(match["month"]), None)))
    found.sort(key=lambda item: item[0])
    return [date for _, date in found if date[0] in _YEARS]


def _nearest(month: int, day: int, to: dt.date) -> dt.date | None:
    """``month``/``day`` in the year (``to``'s, the one before or the one after) nearest ``to``."""
    options = [_make_date(year, month, day) for year in (to.year - 1, to.year, to.year + 1)]
    dates = [option for option in options if option is not None]
    return min(dates, key=lambda option: abs((option - to).days)) if dates else None


def _year_from_context(found: _Yearless, lines: Sequence[str]) -> dt.date | None:
    """``found`` in the year the top lines give: that of the first full date there which it
    falls within ``_SAME_TIME_DAYS`` of, once put in the year nearest that date (Dec. 30 beside
    Jan. 2, 2023 is in 2022), or of the same month written with a year ("March 2024"). A date
    further away is about something else (an accord of years ago) and lends nothing; so does any
    date below the top lines."""
    for line in lines:
        for year, month, day in _dates_written(line[:_CONTEXT_CHARS]):
            if day is None:
                same_month = _make_date(year, found.month, found.day)
                if month == found.month and same_month:
                    return same_month
                continue
            written = _make_date(year, month, day)
            nearest = _nearest(found.month, found.day, written) if written else None
            if written and nearest and abs((nearest - written).days) <= _SAME_TIME_DAYS:
                return nearest
    return None


def _settle(found: dt.date | _Yearless, lines: Sequence[str]) -> tuple[dt.date | None, str | None]:
    """``(published, published_text)``: a date stands; a date without a year takes its year
    from ``lines``, else stays unknown and keeps its words."""
    if isinstance(found, dt.date):
        return found, None
    dated = _year_from_context(found, lines)
    return (dated, None) if dated else (None, found.text)


def _full_date_in(text: str) -> dt.date | None:
    """The first "January 20, 2022", "20 January 2022" or ISO date in ``text``."""
    candidates: list[tuple[int, dt.date]] = []
    day_first = _DAY_MONTH_YEAR.search(text)
    if day_first:
        found = _make_date(
            int(day_first["year"]), _month_number(day_first["month"]), int(day_first["day"])
        )
        if found:
            candidates.append((day_first.start(), found))
    long_date = _LONG_DATE.search(text)
    if long_date:
        found = _make_date(
            int(long_date["year"]), _month_number(long_date["month"]), int(long_date["day"])
        )
        if found:
            candidates.append((long_date.start(), found))
    iso = _ISO_DATE.search(text)
    if iso:
        found = _make_date(int(iso["year"]), int(iso["month"]), int(iso["day"]))
        if found:
            candidates.append((iso.start(), found))
    return min(candidates)[1] if candidates else None


def date_from_text(text: str, header: str | None = None) -> tuple[dt.date | None, str | None]:
    """``(published, published_text)`` from a header's date value, else from the top of
    ``text``: a labelled line, a dateline, or a short line that is mostly a full date."""
    top = top_lines(text)
    found = _parse_date(header) if header else None
    if found is not None:
        return _settle(found, top)
    for line in top:
        labelled = _LABELLED.match(line) if len(line) <= LINE_CHARS else None
        found = _parse_date(labelled["value"]) if labelled else None
        if found is not None:
            return _settle(found, top)
    for line in top:
        dateline = DATELINE.match(line[:LINE_CHARS])
        if dateline:
            month, day = _month_number(dateline["month"]), int(dateline["day"])
            if dateline["year"]:
                return _make_date(int(dateline["year"]), month, day), None
            if not _make_date(2000, month, day):
                return None, None
            words = " ".join(line[dateline.start("month") : dateline.end("day")].split())
            return _settle(_Yearless(month, day, words), top)
    for line in top:
        if len(line) > LINE_CHARS or not _BYLINE.match(line):
            continue
        # A byline's part that is a date dates the article: "By Ana Ruiz | 6 March 2024".
        for part in _BYLINE_PARTS.split(line)[1:]:
            date = _full_date_in(part)
            if date and len(_DATE_WORDS.sub(" ", part).split()) <= 1:
                return date, None
    for line in top:
        if len(line) > LINE_CHARS:
            continue
        date = _full_date_in(line)
        # Only a line that is mostly the date: a date inside a sentence is about something else.
        if date and len(_DATE_WORDS.sub(" ", line).split()) <= _OTHER_WORDS_BESIDE_DATE:
            return date, None
    return None, None


def date_in_page_header(header: str) -> tuple[dt.date | None, str | None]:
    """The last date written in a page's header ("By Ana Ruiz · Tuesday, October 14"): a full
    date, or the words of one without a year for the run to complete."""
    full = list(_LONG_DATE.finditer(header))
    if full:
        last = full[-1]
        day = _make_date(int(last["year"]), _month_number(last["month"]), int(last["day"]))
        return day, None
    partial = [*_MONTH_DAY.finditer(header), *_DAY_MONTH.finditer(header)]
    if partial:
        last = max(partial, key=lambda m: m.start())
        return None, last.group(0).strip()
    return None, None
