"""What a record's words give, read from the article rather than taken from the model: the day
its date words name (in the tense of their clause, or after the day named before "the next
day"), its counts (valued as their words write them) and its place.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence

from briefer.extraction._ground import locate_quote
from briefer.models import DatePrecision, Document, Evidence, ExtractedEvent, Quantity
from briefer.text.dates import MONTH_NAMES, WEEKDAY_NAMES, future_tense_around, resolve_date
from briefer.text.numbers import find_numbers, value_agrees
from briefer.text.words import name_written_in


def _quantities(doc: Document, event: ExtractedEvent, published: dt.date | None) -> list[Quantity]:
    """Quantities whose words are in the article, valued as those words write them.

    The article's words are kept, and the value is read from them: the model's value when it
    agrees with them (written in full: "$1.2 billion" is 1.2e9), else the one number they
    write (a model that misreads "five vessels" as 7 gets 5); words that write several numbers,
    none agreeing, leave the quantity out, as do words not in the article: an invented or
    misread number would otherwise show up as a disagreement between outlets. The day the
    words give for it ("65 by Tuesday") is kept too.
    """
    quantities: list[Quantity] = []
    for quantity in event.quantities:
        found = locate_quote(doc.text, quantity.text) if quantity.text.strip() else None
        if found is None:
            continue
        text = doc.text[found[0] : found[1]]
        numbers = [n for n in find_numbers(text) if not n.ordinal]
        if value_agrees(quantity.value, text):
            # The value as its words write it in full ("$1.2 billion" given as 1.2 is 1.2e9);
            # a value inside a range or a vague count the words give stays as it was.
            value = quantity.value
            for number in numbers:
                if number.scale != 1 and math.isclose(quantity.value * number.scale, number.value):
                    value = number.value
                    break
        elif len(numbers) == 1:
            value = numbers[0].value
        else:
            continue
        date, precision = resolve_date(text, published)
        quantities.append(
            Quantity(
                kind=quantity.kind.strip(),
                value=value,
                text=text,
                date=date if precision == "day" else None,
            )
        )
    return quantities


def _event_date(
    doc: Document, event: ExtractedEvent, evidence: Sequence[Evidence]
) -> tuple[str | None, dt.date | None, DatePrecision]:
    """The date words, if the article has them, and the day they name, read in the tense of
    the clause they stand in (near the record's quotes when they occur more than once)."""
    date_text = event.date_text.strip() if event.date_text and event.date_text.strip() else None
    if date_text is None:
        return None, None, "unknown"
    prefer = (evidence[0].start, evidence[-1].end) if evidence else None
    found = locate_quote(doc.text, date_text, prefer)
    if found is None:
        return date_text, None, "unknown"  # words the article does not have date nothing
    # The model's factuality dates the record ("asserted": done, so the last such day);
    # for what it calls hypothetical, the tense of the words around the date decides.
    future = event.factuality == "future" or (
        event.factuality == "hypothetical" and future_tense_around(doc.text, found[0], found[1])
    )
    offset = _anaphoric_offset(date_text)
    if offset is not None:
        return date_text, *_date_before(doc, found[0], offset, future)
    date, precision = resolve_date(date_text, doc.source.published, future=future)
    return date_text, date, precision


# Date words that point back at a day named before them: "on the same day", "the next day".
_ANAPHORA = re.compile(
    r"^(?:on\s+|later\s+)?(?:(?P<same>the\s+same\s+day|that\s+(?:day|morning|afternoon|"
    r"evening|night)|the\s+same\s+(?:morning|afternoon|evening|night))|(?P<next>the\s+"
    r"(?:next|following)\s+day|a\s+day\s+later|the\s+day\s+after)|(?P<prev>the\s+"
    r"(?:previous|preceding)\s+day|a\s+day\s+(?:earlier|before)|the\s+day\s+before))$",
    re.IGNORECASE,
)
_WEEKDAY = "|".join(name.capitalize() for name in WEEKDAY_NAMES)
# A month by its first three letters, the rest of its name or its dot optional ("Sept.").
_MONTH_START = "|".join(name[:3].capitalize() for name in MONTH_NAMES)
_DAY_WORDS = re.compile(
    rf"\b(?:(?:on\s+)?(?:{_WEEKDAY})"
    rf"|(?:{_MONTH_START})[a-z]*\.?\s+\d{{1,2}}"
    rf"|\d{{1,2}}\s+(?:{_MONTH_START})[a-z]*|yesterday|today)\b"
)


def _anaphoric_offset(date_text: str) -> int | None:
    match = _ANAPHORA.match(" ".join(date_text.split()))
    if match is None:
        return None
    return 0 if match["same"] else 1 if match["next"] else -1


def _date_before(
    doc: Document, at: int, offset: int, future: bool
) -> tuple[dt.date | None, DatePrecision]:
    """The day named last before ``at`` in the article, moved by ``offset`` days."""
    named = list(_DAY_WORDS.finditer(doc.text, 0, at))
    if not named:
        return None, "unknown"
    last = named[-1]
    tense = future or future_tense_around(doc.text, last.start(), last.end())
    date, precision = resolve_date(last.group(0), doc.source.published, future=tense)
    if date is None or precision != "day":
        return None, "unknown"
    return date + dt.timedelta(days=offset), "day"


def _location(doc: Document, location: str | None, evidence: Sequence[Evidence]) -> str | None:
    """The place as the article writes it; a place the article does not name is left out."""
    words = (location or "").strip()
    if not words:
        return None
    prefer = (evidence[0].start, evidence[-1].end) if evidence else None
    found = locate_quote(doc.text, words, prefer)
    if found is not None:
        written = doc.text[found[0] : found[1]]
        # A dateline sets its place in capitals: typography, not the name. The model's words
        # are the same letters written as a name.
        if (
            _in_capitals(written)
            and not _in_capitals(words)
            and _letters(written) == _letters(words)
        ):
            return words
        return written
    return words if name_written_in([words], doc.text) else None


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _in_capitals(text: str) -> bool:
    """Whether the first word of ``text`` is written wholly in capitals ("BREŽICE, Slovenia")."""
    first = next((w for w in text.split() if any(c.isalpha() for c in w)), "")
    letters = [c for c in first if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)
