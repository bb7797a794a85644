"""Dates as articles write them, resolved; and dates as briefer writes them, in English.

The model gives dates as written ("Wednesday", "last week", "on Jan. 5"); code resolves them
against the publication date, because models get calendar arithmetic wrong. A resolved date
for a period (week, month, year) is the first day of that period, with its precision.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from briefer.models import DatePrecision, Document
from briefer.text.numbers import NUMBER_WORDS

__all__ = [
    "MONTH_ABBREVIATIONS",
    "MONTH_FORMS",
    "MONTH_NAMES",
    "RELATIVE_DAYS",
    "WEEKDAY_NAMES",
    "future_tense_around",
    "month_name",
    "nearest_year",
    "resolve_date",
    "resolve_publication_years",
    "weekday_name",
    "written_date",
    "written_month",
]

# English names written out: calendar.month_name follows the process locale.
MONTH_NAMES: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
"""The months' names, in lower case."""
WEEKDAY_NAMES: tuple[str, ...] = (
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
)  # fmt: skip
"""The weekdays' names, in lower case, Monday first (``date.weekday()`` indexes them)."""
_MONTHS = {name: i for i, name in enumerate(MONTH_NAMES, 1)}
_MONTHS |= {name[:3]: i for i, name in enumerate(MONTH_NAMES, 1)}
_MONTHS |= {"sept": 9, "sep": 9}
MONTH_FORMS: Mapping[str, int] = MappingProxyType(_MONTHS)
"""Every form news writes a month in, in lower case and without a dot ("january", "jan",
"sept"), and the month's number."""
MONTH_ABBREVIATIONS: tuple[str, ...] = tuple(
    sorted((f for f in _MONTHS if f not in MONTH_NAMES), key=lambda f: (_MONTHS[f], -len(f)))
)
"""The short forms of the months that have one, in calendar order: "jan" to "dec", "sept" before
"sep" (the longer first, as a regular expression tries them)."""
RELATIVE_DAYS: tuple[str, ...] = ("today", "yesterday", "tomorrow", "tonight")
"""Words that name a day by the day the text was written."""
_WEEKDAYS = {name: i for i, name in enumerate(WEEKDAY_NAMES)}
# "a week ago" counts one week: the table's words, and the articles.
_NUMBER_WORDS = {**NUMBER_WORDS, "a": 1, "an": 1}

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
    r"\b(?P<which>last|past|previous|this|next|coming|the) (?P<period>week|weekend|month|year)\b"
)
# Words naming a week, month or year however they are put ("over the past week").
_PERIOD_WORDS = re.compile(r"\b(?P<period>week|month|year)(?:s|end|ends)?\b")
_AGO = re.compile(
    r"\b(?P<count>\d+|" + "|".join(_NUMBER_WORDS) + r") (?P<unit>day|week|month|year)s? ago\b"
)
_BARE_YEAR = re.compile(rf"\b{_YEAR}\b")
# A yearless date takes the year that puts it nearest the publication date ("on Jan. 3" in a
# piece of 29 December is next year's), but a past event lies at most about a month after
# publication and a coming one at most a week before it.
_PAST_SLACK = dt.timedelta(days=31)
_FUTURE_SLACK = dt.timedelta(days=7)


def month_name(day: dt.date) -> str:
    """ "January": in English whatever the locale (``%B`` follows it)."""
    return MONTH_NAMES[day.month - 1].capitalize()


def weekday_name(day: dt.date) -> str:
    """ "Wednesday": in English whatever the locale (``%A`` follows it)."""
    return WEEKDAY_NAMES[day.weekday()].capitalize()


def written_month(day: dt.date) -> str:
    """ "January 2022", in English whatever the locale."""
    return f"{month_name(day)} {day.year}"


def written_date(day: dt.date) -> str:
    """ "9 January 2022": in English whatever the locale."""
    return f"{day.day} {written_month(day)}"


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


def nearest_year(
    month: int, day: int, reference: dt.date, *, future: bool = False
) -> dt.date | None:
    """The date ``month``/``day`` of the year (before, of or after ``reference``'s) nearest to
    ``reference``, among those the tense allows (see ``_PAST_SLACK`` and ``_FUTURE_SLACK``)."""
    candidates = [
        c
        for year in (reference.year - 1, reference.year, reference.year + 1)
        if (c := _safe_date(year, month, day)) is not None
    ]
    if future:
        allowed = [c for c in candidates if c >= reference - _FUTURE_SLACK]
    else:
        allowed = [c for c in candidates if c <= reference + _PAST_SLACK]
    pool = allowed or candidates
    return min(pool, key=lambda c: (abs((c - reference).days), c)) if pool else None


def _yearless(
    month: int, day: int, published: dt.date | None, future: bool = False
) -> dt.date | None:
    if published is None:
        return None
    return nearest_year(month, day, published, future=future)


def _absolute(
    text: str, published: dt.date | None, future: bool
) -> tuple[dt.date, DatePrecision] | None:
    if match := _ISO.search(text):
        day = _safe_date(int(match["year"]), int(match["month"]), int(match["day"]))
        return (day, "day") if day else None
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        if match := pattern.search(text):
            month, number = _MONTHS[match["month"]], int(match["day"])
            if match["year"]:
                day = _safe_date(int(match["year"]), month, number)
            else:
                day = _yearless(month, number, published, future)
            return (day, "day") if day else None
    if match := _MONTH_YEAR.search(text):
        return dt.date(int(match["year"]), _MONTHS[match["month"]], 1), "month"
    return None


def _relative(text: str, published: dt.date, future: bool) -> tuple[dt.date, DatePrecision] | None:
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
        # "next"/"coming" look ahead and "last"/"past" back whatever the tense; a bare or
        # "this" weekday follows it: "will meet on Friday" is the coming Friday (a week on when
        # written on a Friday), "met on Friday" the last one (that very day on a Friday).
        forward = which in ("next", "coming") or (
            future and which not in ("last", "past", "this past")
        )
        if forward:
            ahead = (target - published.weekday() - 1) % 7 + 1
            return published + dt.timedelta(days=ahead), "day"
        back = (published.weekday() - target) % 7
        if back == 0 and which in ("last", "past", "this past"):
            back = 7
        return published - dt.timedelta(days=back), "day"
    if match := _PERIOD.search(text):
        which, period = match["which"], match["period"]
        step = {"last": -1, "past": -1, "previous": -1, "this": 0, "next": 1, "coming": 1}.get(
            which, 0
        )
        if which == "the" and period == "weekend" and published.weekday() < 5:
            step = -1  # "over the weekend", written on a weekday: the one just past
        if period in ("week", "weekend"):
            return _week_start(published) + dt.timedelta(weeks=step), "week"
        if period == "month":
            return _month_start(published, -step), "month"
        return dt.date(published.year + step, 1, 1), "year"
    return None


def resolve_date(
    date_text: str | None, published: dt.date | None, *, future: bool = False
) -> tuple[dt.date | None, DatePrecision]:
    """The date ``date_text`` names, relative to ``published``, and how precise it is.

    ``future`` says the words stand in a sentence about what is to come ("will meet on
    Friday"): a bare weekday is then the coming one, else the most recent one on or before
    publication. A date without a year takes the year nearest to publication that the tense
    allows (``nearest_year``). Anything not understood is ``(None, "unknown")``.
    """
    if not date_text or not date_text.strip():
        return None, "unknown"
    text = _clean(date_text)
    found = _absolute(text, published, future)
    if found is None and published is not None:
        found = _relative(text, published, future)
    if found is None and published is None and _PERIOD_WORDS.search(text):
        # "this week" with no publication date: a period that cannot be placed.
        return None, _PERIOD_WORDS.search(text)["period"]  # type: ignore[index,return-value]
    if found is None and published is not None and (match := _MONTH_ONLY.search(text)):
        month = _MONTHS[match["month"]]
        start = nearest_year(month, 1, _month_start(published), future=future)
        found = (start, "month") if start else None
    if found is None and (match := _BARE_YEAR.search(text)):
        found = dt.date(int(match["year"]), 1, 1), "year"
    if found is None:
        return None, "unknown"
    return found


# Words that put a clause in the future: "will meet", "is set to", "scheduled for", "due on".
_FUTURE_CUES = re.compile(
    r"\b(?:will|shall|would|'ll|going\s+to|set\s+(?:to|for)|scheduled|due\s+(?:to|on|for)"
    r"|(?:is|are|was|were)\s+to|plans?\s+to|planned|expected\s+to|to\s+be\s+held|upcoming"
    r"|to\s+resume|intends?\s+to)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,;:()\n]|[.!?](?=\s|$)|\s[-–—]\s")
# A clause this short around the date words ("On Friday,") takes its verb from the next one.
_SHORT_CLAUSE_WORDS = 3


def future_tense_around(text: str, start: int, end: int) -> bool:
    """Is the clause of ``text`` holding ``text[start:end]`` (date words) about the future?

    The verb that dates a clause stands before its date words ("will meet on Friday", "is set
    to resume on Monday"); what follows them is often another clause ("marched on Sunday to
    demand a bill that would..."), so only a clause as short as "On Friday," reads on.
    """
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]
    before = max((b for b in breaks if b < start), default=-1) + 1
    after = min((b for b in breaks if b >= end), default=len(text))
    if len(text[before:after].split()) <= _SHORT_CLAUSE_WORDS:
        following = min((b for b in breaks if b > after), default=len(text))
        return _FUTURE_CUES.search(text[before:following]) is not None
    return _FUTURE_CUES.search(text[before:start]) is not None


def resolve_publication_years(
    documents: Sequence[Document], briefing_date: dt.date | None
) -> list[Document]:
    """Documents whose header or dateline gave a day without a year (``published_text``) get
    the year that puts that day nearest the other articles' dates, else the briefing date; with
    neither, they stay undated. Never the clock's year: a replay reads the same on any day."""
    known = sorted({d.source.published for d in documents if d.source.published})
    references = known or ([briefing_date] if briefing_date else [])
    out = []
    for doc in documents:
        source = doc.source
        if source.published is not None or not source.published_text or not references:
            out.append(doc)
            continue
        month_day = _month_and_day(source.published_text)
        if month_day is None:
            out.append(doc)
            continue
        month, day = month_day
        candidates = [c for r in references if (c := nearest_year(month, day, r)) is not None]
        if not candidates:
            out.append(doc)
            continue
        best = min(candidates, key=lambda c: (min(abs((c - r).days) for r in references), c))
        out.append(doc.model_copy(update={"source": source.model_copy(update={"published": best})}))
    return out


def _month_and_day(text: str) -> tuple[int, int] | None:
    cleaned = _clean(text)
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        if match := pattern.search(cleaned):
            return _MONTHS[match["month"]], int(match["day"])
    return None
