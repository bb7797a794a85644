"""The ingest stage: URLs, files, folders and stdin in; ``Document`` records out.

Inputs, processed in the order given (the result is deterministic):

- a **file**: ``.html``/``.htm`` go through trafilatura (main text, title, date; the outlet as
  below); ``.txt``/``.md`` are plain text (below). Files larger than ``max_file_bytes`` are
  refused from their size alone, without being read. A file named directly without a suffix is
  read as plain text; one with another suffix is excluded (unsupported file type).
- a **folder**: walked recursively in name order; ``.txt``, ``.md``, ``.html``, ``.htm`` are read,
  hidden files and folders (``.name``) are passed over silently, and a folder reached twice
  through symbolic links is walked once. A file in it that is no article is **skipped with a
  note** (an ``Excluded`` entry with ``skipped=True``, which does not make the result partial):
  another type of file (``photo.jpg``), an empty or binary file, an HTML page with no article
  text (a saved page's frames), a copy of a text already read. A file that should have been
  read and could not be stays a loss (``skipped=False``): not valid UTF-8, too large,
  unreadable, a broken link. So is the folder itself when it held no article and no file that
  failed ("no usable files"). A file named directly that fails is a loss, whatever the reason.
- an **http(s) URL**: fetched by ``_fetch`` (several at once), then as HTML or text
  according to its content type. The outlet falls back to the host name.
- ``-``: **stdin** (``sys.stdin`` unless a stream is passed): a list of inputs, or the text of one
  article (HTML when it starts with a tag). Leaving out blank lines and comment lines (``#``
  first), stdin is a **list** when no line is a paragraph (12 words or more) and more than half
  of the lines are written as inputs: a URL of any scheme, an attempt at one (``http//…``,
  ``htps://…``, ``www.…``, ``example.org/story``), an existing path, or a word written as a path
  (starting ``/``, ``./``, ``../`` or ``~``; ending ``/``, ``.txt``, ``.md``, ``.html`` or
  ``.htm``). Anything else is an article, which may well contain URLs. A list is read line by
  line: a trailing ``  # note`` is dropped, each line is an input of its own (paths, folders and
  URLs, as if named on the command line; a leading ``~`` is the home folder), and a line that
  cannot be used is excluded alone with its reason (a mistyped URL, an unsupported scheme such
  as ``file://``, ``-``, a line that names nothing) while the others are read. Stdin holding
  only comment lines is excluded. To brief text that reads as a list, save it to a file.

Plain-text convention. A file may open with header lines, one per field, then a blank line::

    Title: North Korea weighs lifting its test moratorium
    Outlet: Peninsula Review
    Published: 2022-01-20
    URL: https://peninsulareview.example/politics/2022/01/20/moratorium

    SEOUL, Jan. 20 — North Korea signaled on Thursday ...

Recognised keys (case-insensitive): ``Title``, ``Outlet`` (also ``Source``, ``Publisher``),
``Published`` (also ``Date``; any date python-dateutil reads, ISO preferred), ``URL`` (also
``Link``), ``Author`` (also ``By``; never taken for the outlet, otherwise dropped). The header
counts only when every line before the first blank line is such a line. Header lines are not
part of the document text. Without a header (or for fields it leaves out): the title is the first
non-empty line (leading ``#`` removed) that is not a saved page's chrome. A title has at most
``TITLE_CHARS`` characters: a longer one (a file that is one long line) is cut at a word and
ends with "…". The date comes from a ``Published:``/``Date:``/``Updated:``/``Posted:`` line
near the top, a dateline (``WASHINGTON, January 12, 2022 —``,
``SEOUL, Jan. 20 (Yonhap) --``), or an ISO or "January 12, 2022" date on a short line near the
top ("near the top": the first 15 non-empty lines).

A date written without a year (``Published: March 4``, ``GENEVA, Mar. 3 —``) never takes the
clock's year. It takes the year of the first full date in the top lines that it falls within 45
days of once put in the year nearest that date (``Dec. 30`` beside ``Jan. 2, 2023`` is 2022), or
of its own month written with a year there (``March 2024``). A full date further away (an accord
of years ago) or further down the text lends nothing. Without such a year ``published`` stays
unknown and ``published_text`` keeps the date as written (``March 4``, ``Dec. 30``, ``4 March``)
for the run to place later. A weekday, a time or a month alone is no date, nor is a number
dateutil would read as a year outside 1900–2099 ("at 2130 GMT"), nor a numeric day and month
without a year (``03/04``).

The outlet is the header's, else the first of these the text names, in this order:

- an ``Outlet:``/``Source:``/``Publisher:`` line near the top;
- a dateline's agency: ``SEOUL, Jan. 20 (Yonhap) --``, ``LONDON (Coastline News) —``;
- a byline in the top or bottom 15 lines: ``By Ana Ruiz, Coastline News`` (also after several
  names, ``By Ana Ruiz and Li Wei, Coastline News``), ``By ANA RUIZ | Coastline News``,
  ``By Ana Ruiz — Coastline News``, ``By Ana Ruiz for Coastline News``, ``By Ana Ruiz
  (Coastline News)``, ``By Reuters``, ``By Reuters staff``; without "By" (never on the title
  line): ``Ana Ruiz — Coastline News``, ``Ana Ruiz | Coastline News``, ``Ana Ruiz, Coastline
  News correspondent``, ``Ana Ruiz, Coastline News``;
- a credit: ``Reporting by Ana Ruiz in Seoul for Coastline News; editing by …``;
- a footer in the bottom 15 lines: ``© 2024 Coastline News``, ``Copyright Coastline News 2024.
  All rights reserved.`` (``Ltd``, ``Inc`` and the like dropped), ``This article first appeared
  in Coastline News`` (also "originally published on", "first published by", "republished
  from").

A role is no outlet and is cut from one: ``Staff Writer`` and ``Senior Correspondent`` name
none, ``Reuters staff`` is Reuters, ``Coastline News correspondent`` is Coastline News. Nor is a
section, beat or date (``World``, ``Politics``, ``Middle East``, ``March 4``), a picture credit
(``Getty Images``), or a name signed as an author's. Where a byline leaves open whether words
are a second author or an outlet (``By Ana Ruiz, Li Wei``), they are an outlet only when they
read as one: a single word (``Reuters``), an outlet's word (``News``, ``Times``, ``Post``,
``Herald``…), a leading ``The``, an acronym (``BBC``) or a domain. The same is asked of what is
left before a role other than "staff" (``Washington correspondent`` is a beat), of a signature
without "By" set off by a comma, and of a copyright holder (``© 2024 Ana Ruiz`` names none).
Lines longer than 300 characters are prose and are not read for any of this. Nothing is
guessed: when none of these names an outlet it stays unknown (a fetched page falls back to its
host name).

HTML pages: the outlet is ``<meta property="og:site_name">``, else the JSON-LD ``publisher``
(its ``name``, a bare string, or the node its ``@id`` points to; in a list or an ``@graph``),
else ``<meta name="application-name">``, else trafilatura's site name (other publisher tags; a
``copyright`` tag is read as a footer), else the text as above, else the host name. The date
comes from the markup, else from the text as above (with ``published_text``).

Text is kept exactly as extracted, except that CRLF and CR become LF and a byte-order mark is
dropped: every later offset points into it. Files are decoded as UTF-8 (a UTF-8 or UTF-16
byte-order mark is honoured; an HTML file may declare another charset in ``<meta charset>``);
anything else is reported as "not valid UTF-8 text", never guessed.

Each document's id is ``src-`` + the first 12 hex digits of the sha256 of its text; the same
text twice is kept once and the later input is reported as a duplicate.
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import html as html_lib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from briefer.errors import InputError
from briefer.ingestion._fetch import FetchedPage, FetchPolicy, fetch_url, format_size
from briefer.models import Document, Excluded, Source

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "HTML_SUFFIXES",
    "MIN_HTML_WORDS",
    "TEXT_SUFFIXES",
    "TITLE_CHARS",
    "IngestResult",
    "TextMeta",
    "bounded_title",
    "decode_file_bytes",
    "default_count_tokens",
    "displayable",
    "extract_html",
    "ingest_text",
    "load_sources",
    "normalize_text",
    "parse_plain_text",
    "source_id",
]

DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024
# A headline is a line of words; longer is prose taken for one (a file that is one long line).
TITLE_CHARS = 200
TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
STDIN = "-"
# Fewer words than this from a page is a menu or a stub, not an article.
MIN_HTML_WORDS = 10
# Fetching is network-bound; a few at once hides latency without hammering anyone.
_FETCH_WORKERS = 8

CountTokens = Callable[[str], int]


class _NotAnArticle(InputError):
    """The input holds no article (empty, binary, no article text): in a folder, such a file is
    skipped with a note rather than reported as a loss."""


class _NotText(ValueError):
    """Bytes that are no text at all (a picture, an archive), as opposed to text in another
    encoding."""


@dataclass(frozen=True)
class TextMeta:
    """Metadata found beside a text: in a header, in HTML markup, or in the text itself."""

    title: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
    # The date as written when it gave no year and the text gave none either ("March 4").
    published_text: str | None = None
    url: str | None = None


@dataclass
class IngestResult:
    """Usable documents and the inputs that could not be used, each in input order."""

    documents: list[Document] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


# --- token counting ---------------------------------------------------------------------------


def default_count_tokens(text: str) -> int:
    """The project tokenizer when available, else about four characters per token."""
    try:
        from briefer.llm.tokens import count_tokens  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return len(text) // 4
    return int(count_tokens(text))


# --- text and ids -----------------------------------------------------------------------------


def displayable(text: str) -> str:
    """``text`` as valid Unicode: the bytes of a file name that are not UTF-8 (which Python
    keeps as lone surrogates, and no UTF-8 output can hold) become ``\\xNN`` escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return text.encode("utf-8", "replace").decode("utf-8")
    return text


def normalize_text(raw: str) -> str:
    """Drop a byte-order mark and turn CRLF and CR into LF; nothing else changes."""
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def bounded_title(title: str | None) -> str | None:
    """``title`` in at most ``TITLE_CHARS`` characters: cut at a word and ended with "…" when
    longer. Only its head is read: a title taken from a file's first line may be the whole file."""
    if title is None or len(title) <= TITLE_CHARS:
        return title
    room = TITLE_CHARS - 1  # and one for the "…"
    head = title[: room + 1]
    # Cut before the word that runs past the limit; one endless word is cut where it is.
    space = max(head.rfind(" "), head.rfind("\t"))
    cut = head[:space].rstrip() if space >= room // 2 else head[:room]
    return cut + "…"


def source_id(text: str) -> tuple[str, str]:
    """``(id, sha256 hex)`` of a document text."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"src-{digest[:12]}", digest


def ingest_text(
    text: str,
    *,
    input: str,
    path: str | None = None,
    url: str | None = None,
    title: str | None = None,
    outlet: str | None = None,
    published: dt.date | None = None,
    published_text: str | None = None,
    count_tokens: CountTokens | None = None,
) -> Document:
    """Make a Document of ``text`` as it is (line endings normalised); InputError if empty.
    The title is bounded (:func:`bounded_title`)."""
    text = normalize_text(text)
    if not text.strip():
        raise _NotAnArticle(input, "empty")
    doc_id, digest = source_id(text)
    counter = count_tokens or default_count_tokens
    return Document(
        source=Source(
            id=doc_id,
            title=bounded_title(title),
            url=url,
            path=path,
            outlet=outlet,
            published=published,
            published_text=published_text if published is None else None,
            sha256=digest,
            tokens=counter(text),
            chars=len(text),
        ),
        text=text,
    )


# --- decoding files ---------------------------------------------------------------------------

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _mostly_control(text: str) -> bool:
    sample = text[:8192]
    return bool(sample) and len(_CONTROL_CHARS.findall(sample)) > len(sample) // 20


def decode_file_bytes(data: bytes, *, html: bool = False) -> str:
    """Decode a file's bytes; raises ValueError with the reason when they are not text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise ValueError("not valid UTF-16 text") from None
    else:
        if b"\x00" in data:
            raise _NotText("binary file, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _mostly_control(data[:8192].decode("latin-1")):
                raise _NotText("binary file, not text") from None
            declared = _declared_html_text(data) if html else None
            if declared is None:
                byte = data[exc.start]
                raise ValueError(
                    f"not valid UTF-8 text (byte 0x{byte:02X} at offset {exc.start});"
                    " save it as UTF-8"
                ) from None
            text = declared
    if _mostly_control(text):
        raise _NotText("binary file, not text")
    return text


def _declared_html_text(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if match is None:
        return None
    try:
        return data.decode(match.group(1).decode("ascii"))
    except (LookupError, UnicodeDecodeError):
        return None


# --- plain text -------------------------------------------------------------------------------

_HEADER_KEYS = {
    "title": "title",
    "outlet": "outlet",
    "source": "outlet",
    "publisher": "outlet",
    "published": "published",
    "date": "published",
    "url": "url",
    "link": "url",
    "author": "author",
    "by": "author",
}
# The value is stripped in code: a lazy value before ``[ \t]*$`` rescans every run of blanks.
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z]{1,20}):(?P<value>.*)$")
# Metadata sits near the top; look no further so a date in a quote deep down is not taken.
_TOP_LINES = 15
# Footers sit at the bottom: the last lines among the last this many characters.
_TAIL_CHARS = 16_384
# A byline, dateline, label or footer is short; a longer line is prose and is not read for them
# (which also keeps every pattern below on a bounded string, whatever the size of the input).
_LINE_CHARS = 300
_SIGNATURE_CHARS = 120
_NON_EMPTY_LINE = re.compile(r"^[^\S\n]*(\S[^\n]*)", re.M)


def _top_lines(text: str) -> list[str]:
    """The first ``_TOP_LINES`` non-empty lines, stripped; the rest of ``text`` is not visited."""
    lines: list[str] = []
    for match in _NON_EMPTY_LINE.finditer(text):
        lines.append(match.group(1).rstrip())
        if len(lines) == _TOP_LINES:
            break
    return lines


def _bottom_lines(text: str) -> list[str]:
    """The last ``_TOP_LINES`` non-empty lines that start within the last ``_TAIL_CHARS``
    characters, stripped."""
    start = max(0, len(text) - _TAIL_CHARS)
    if start and text[start - 1] != "\n":
        cut = text.find("\n", start)  # a partial line is no line: begin at the next one
        if cut < 0:
            return []
        start = cut + 1
    lines = [match.group(1).rstrip() for match in _NON_EMPTY_LINE.finditer(text, start)]
    return lines[-_TOP_LINES:]


# --- dates --------------------------------------------------------------------------------------

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATELINE = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40}(?:, [A-Z][A-Za-z .]{1,30})?,\s+"
    + _MONTH
    + r"\.?\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?\s*(?:\((?P<agency>[^()\n]{1,40})\)\s*)?"
    r"(?:--|—|–|-)"
)
# A dateline without a date: ``LONDON (Coastline News) —``.
_CITY_AGENCY = re.compile(
    r"^[A-Z][A-Z .'’-]{1,40}(?:, [A-Z][A-Za-z .]{1,30})?[ \t]{0,3}"
    r"\((?P<agency>[^()\n]{1,40})\)[ \t]{0,3}(?:--|—|–|-)"
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
_DATE_WORDS = re.compile(r"\b[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")
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
    return _MONTHS[name[:4].lower() if name[:4].lower() == "sept" else name[:3].lower()]


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
    value = value[:_LINE_CHARS]
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
    """The first "January 20, 2022" or ISO date in ``text``."""
    candidates: list[tuple[int, dt.date]] = []
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


def _date_from_text(text: str, header: str | None = None) -> tuple[dt.date | None, str | None]:
    """``(published, published_text)`` from a header's date value, else from the top of
    ``text``: a labelled line, a dateline, or a short line that is mostly a full date."""
    top_lines = _top_lines(text)
    found = _parse_date(header) if header else None
    if found is not None:
        return _settle(found, top_lines)
    for line in top_lines:
        labelled = _LABELLED.match(line) if len(line) <= _LINE_CHARS else None
        found = _parse_date(labelled["value"]) if labelled else None
        if found is not None:
            return _settle(found, top_lines)
    for line in top_lines:
        dateline = _DATELINE.match(line[:_LINE_CHARS])
        if dateline:
            month, day = _month_number(dateline["month"]), int(dateline["day"])
            if dateline["year"]:
                return _make_date(int(dateline["year"]), month, day), None
            if not _make_date(2000, month, day):
                return None, None
            words = " ".join(line[dateline.start("month") : dateline.end("day")].split())
            return _settle(_Yearless(month, day, words), top_lines)
    for line in top_lines:
        if len(line) > _LINE_CHARS:
            continue
        date = _full_date_in(line)
        # Only a line that is mostly the date: a date inside a sentence is about something else.
        if date and len(_DATE_WORDS.sub(" ", line).split()) <= _OTHER_WORDS_BESIDE_DATE:
            return date, None
    return None, None


# --- outlets ------------------------------------------------------------------------------------

_OUTLET_LINE = re.compile(r"^(?:Outlet|Source|Publisher)[ \t]*:[ \t]*(?P<value>\S.*)$", re.I)
_BY = re.compile(r"^(?:By|BY)[ \t]+(?=\S)")
_CREDIT = re.compile(
    r"^\(?[ \t]*(?:Additional[ \t]+)?(?:Reporting|Reported|Writing|Written)[ \t]+by[ \t]+", re.I
)
_COPYRIGHT = re.compile(r"^(?:©|\([cC]\)|copyright\b)", re.I)
_APPEARED = re.compile(
    r"\b(?:(?:first|originally)[ \t]+(?:appeared|published|ran)|republished)"
    r"[ \t]+(?:in|on|at|by|from)[ \t]+",
    re.I,
)
# Between the parts of a byline: "|", a dash, or a spaced hyphen (never the one in "Jean-Paul").
_DASH_OR_PIPE = re.compile(r"[ \t]*[|—–][ \t]*|[ \t]+--?[ \t]+")
_INITIALISM = re.compile(r"^(?:[A-Z]\.){2,}$")
_DOMAIN = re.compile(r"^[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,3}\.[a-z]{2,24}$")
_COPYRIGHT_YEARS = re.compile(r"^\d{4}(?:[-–]\d{2,4})?[,.]?$")


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A byline's role: cut from the end of an outlet ("Reuters staff"), never an outlet itself.
_ROLE_NOUNS = _vocabulary(
    "writer writers reporter reporters correspondent correspondents editor editors staff "
    "contributor contributors columnist columnists journalist journalists producer producers "
    "photographer photographers analyst analysts intern interns stringer stringers critic "
    "critics commentator commentators blogger bloggers chief"
)
_ROLE_WORDS = _ROLE_NOUNS | _vocabulary(
    "senior special contributing associate assistant deputy managing executive lead principal "
    "junior freelance guest bureau desk wire at-large large"
)
# Sections, beats, regions and dates: "World", "Politics", "Middle East", "March 4".
_SECTION_WORDS = _vocabulary(
    "world politics political business economy economics economic finance markets money sport "
    "sports opinion opinions technology tech science health culture arts entertainment "
    "lifestyle life style travel food national nation international local metro foreign affairs "
    "diplomatic diplomacy security defence defense military legal law justice courts crime "
    "environment climate energy education features feature analysis commentary editorial "
    "editorials letters video videos podcast podcasts live updates update breaking exclusive "
    "interview explainer explained factbox timeline home latest top stories story section "
    "investigations investigative data weather obituaries religion society global domestic "
    "state city region regional asia europe africa americas america middle east west north "
    "south latin pacific gulf arctic caribbean us u.s uk u.k eu un u.n white house capitol hill "
    "congress parliament government elections election news media today updated published "
    "posted edited january february march april may june july august september october "
    "november december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday "
    "wednesday thursday friday saturday sunday"
)
# Words that make a name read as an outlet's, where it might as well be a second author's.
_OUTLET_WORDS = _vocabulary(
    "news times post herald journal tribune gazette press daily weekly review courier observer "
    "guardian telegraph chronicle report wire newswire media radio tv television network "
    "broadcasting broadcast magazine monitor star mail express standard independent "
    "bulletin dispatch record register sentinel examiner inquirer enquirer courant ledger "
    "mirror globe online insider digest agency service newspaper newspapers leader advertiser "
    "argus beacon banner echo pioneer voice recorder statesman citizen messenger "
    "intelligencer spectator economist channel fm group publishing publications mercury "
    "sun eagle clarion bugle nation today"
)
# Credits of pictures, not of the article.
_PICTURE_WORDS = _vocabulary(
    "image images photo photos photograph photographs photography pictures picture "
    "shutterstock alamy istock getty"
)
_CONNECTORS = _vocabulary("of the and & de del des du la le el al da di dos das y")
_NAME_PARTICLES = _vocabulary(
    "de del della der den des du da di dos das van von la le el al bin bint ibn ter ten y"
)
_NAME_SUFFIXES = _vocabulary("jr sr ii iii iv phd md")
_COMPANY_SUFFIXES = _vocabulary("ltd limited inc llc llp lp plc gmbh corp co s.a ag")
_TRAILING_PUNCTUATION = ".,;:!?)”\"'’"


def _word(token: str) -> str:
    return token.strip(_TRAILING_PUNCTUATION + "(“‘").lower()


def _is_name_token(token: str) -> bool:
    """Capitalised ("Ruiz", "O'Neil", "Jean-Paul", "J."), or a particle ("de", "van")."""
    return token[:1].isupper() or token.lower() in _NAME_PARTICLES


def _person_like(name: str) -> bool:
    """Two to five name-like words, none of them an outlet's, a role's or a section's."""
    tokens = name.split()
    if not 2 <= len(tokens) <= 5 or len(name) > 60:
        return False
    words = {_word(token) for token in tokens}
    if words & (_OUTLET_WORDS | _ROLE_WORDS | _SECTION_WORDS | _CONNECTORS - _NAME_PARTICLES):
        return False
    return all(_is_name_token(token) for token in tokens) and tokens[0][:1].isupper()


def _names(segment: str) -> list[str]:
    """The names in "Ana Ruiz, Li Wei and Tom Hart"."""
    parts = re.split(r",|;|[ \t]and[ \t]|[ \t]&[ \t]", segment)
    return [part.strip() for part in parts if part.strip()]


def _signed_by(segment: str) -> bool:
    """Whether ``segment`` is a list of people, perhaps with roles ("Ana Ruiz, Staff Writer")."""
    names = _names(segment)
    people = [name for name in names if _person_like(name)]
    roles = [name for name in names if all(_word(token) in _ROLE_WORDS for token in name.split())]
    return bool(people) and len(people) + len(roles) == len(names)


def _strip_role(name: str) -> tuple[str, str | None]:
    """``name`` without the role that ends it, and the role's last word: ``("Reuters",
    "staff")`` for "Reuters staff", ``("", "correspondent")`` for "Senior Correspondent"."""
    tokens = name.split()
    if not tokens or _word(tokens[-1]) not in _ROLE_NOUNS:
        return name, None
    role = _word(tokens[-1])
    # "Political Editor", "Middle East correspondent": the beat goes with the role, but not
    # an outlet's word ("Coastline News correspondent" keeps "News").
    beats = (_ROLE_WORDS | _SECTION_WORDS) - _OUTLET_WORDS
    while tokens and _word(tokens[-1]) in beats:
        tokens.pop()
    return " ".join(tokens), role


def _reads_as_outlet(tokens: Sequence[str], *, shouted: bool) -> bool:
    """A name that reads as an outlet's, not a person's: an outlet word ("News", "Times"), a
    leading "The", an acronym ("BBC"; not in a line written in capitals) or a domain."""
    if any(_word(token) in _OUTLET_WORDS for token in tokens):
        return True
    if len(tokens) > 1 and tokens[0] == "The":
        return True
    if not shouted and any(
        2 <= len(token.replace(".", "")) <= 5
        and token.replace(".", "").isalpha()
        and token.replace(".", "").isupper()
        for token in tokens
    ):
        return True
    return any(_DOMAIN.match(token) for token in tokens)


# How sure a form is that the words it points at are an outlet's.
_NAMED = 0  # "for Coastline News", "(Coastline News)", "first appeared in Coastline News"
_LISTED = 1  # beside the author's name: one word ("Reuters") or a name that reads as an outlet's
_READS = 2  # only a name that reads as an outlet's


def _outlet_or_none(
    name: str, level: int, *, authors: frozenset[str] = frozenset(), shouted: bool = False
) -> str | None:
    """``name`` as an outlet, or None when it is a role, a section, a date, a picture credit,
    an author's own name, or (by ``level``) might as well be a person's."""
    name = " ".join(name.split()).strip(" ,;:|—–-")
    name, role = _strip_role(name)
    if role is not None:
        # "Reuters staff" is Reuters; "Washington correspondent" is a beat, not an outlet.
        level = max(level, _LISTED if role == "staff" else _READS)
    name = name.strip(" ,;:|—–-")
    if name.startswith("the "):
        name = name[4:]
    tokens = name.split()
    if not tokens or len(tokens) > 8 or len(name) > 60 or "/" in name or "@" in name:
        return None
    for index, token in enumerate(tokens):
        inner = 0 < index < len(tokens) - 1
        if not (
            token[:1].isupper()
            or _DOMAIN.match(token)
            or (token[:1].isdigit() and any(c.isalpha() for c in token))
            or (index > 0 and token.isdigit())
            or (inner and token.lower() in _CONNECTORS)
        ):
            return None
    words = [_word(token) for token in tokens]
    if any(word in _PICTURE_WORDS for word in words):
        return None
    content = [w for w in words if w not in _CONNECTORS and w not in _NAME_SUFFIXES]
    if not content or all(w.isdigit() or w in _SECTION_WORDS | _ROLE_WORDS for w in content):
        return None
    if name.lower() in authors:
        return None
    if level == _LISTED and len(tokens) == 1:
        return name
    if level >= _LISTED and not _reads_as_outlet(tokens, shouted=shouted):
        return None
    return name


def _name_at(text: str) -> str:
    """The name that starts ``text``: capitalised words and the connectors between them, up to
    the first other word or the end of a clause ("Coastline News on March 3." → "Coastline
    News")."""
    tokens = text.split()
    if tokens and tokens[0] == "the":
        tokens = tokens[1:]
    name: list[str] = []
    for token in tokens:
        if token in {"—", "–", "-", "--", "|"} or token.startswith("("):
            break
        core = token if _INITIALISM.match(token) else token.rstrip(_TRAILING_PUNCTUATION)
        if not core:
            break
        if not (
            core[:1].isupper()
            or _DOMAIN.match(core)
            or (core[:1].isdigit() and any(c.isalpha() for c in core))
            or (name and core.lower() in _CONNECTORS)
        ):
            break
        name.append(core)
        if core != token:  # "News." or "News,": the clause ends
            break
    while name and name[-1].lower() in _CONNECTORS:
        name.pop()
    return " ".join(name)


def _byline_outlet(line: str, authors: frozenset[str], *, signature: bool = True) -> str | None:
    """The outlet a byline names (see the module docstring for the forms); ``signature``:
    also from a line without "By"."""
    shouted = line.isupper()
    by = _BY.match(line)
    if by is None:
        return _signature_outlet(line, authors, shouted) if signature else None
    rest = line[by.end() :]
    head, sep, tail = rest.partition(" for ")
    if sep and _signed_by(head):
        return _outlet_or_none(_name_at(tail), _NAMED, authors=authors, shouted=shouted)
    head, sep, tail = rest.partition("(")
    if sep and _signed_by(head.strip()):
        inside = tail.partition(")")[0]
        return _outlet_or_none(inside, _NAMED, authors=authors, shouted=shouted)
    segments = [part for part in _DASH_OR_PIPE.split(rest) for part in part.split(",")]
    segments = [segment.strip() for segment in segments if segment.strip()]
    if not segments:
        return None
    first, later = segments[0], segments[1:]
    if " and " in first or " & " in first or _person_like(first):
        later = [segment for segment in later if not _person_like(segment)]
    else:
        later = [first, *later]  # "By Reuters", "By Reuters staff"
    for segment in later:
        found = _outlet_or_none(segment, _LISTED, authors=authors, shouted=shouted)
        if found:
            return found
    return None


def _signature_outlet(line: str, authors: frozenset[str], shouted: bool) -> str | None:
    """A signature without "By": "Ana Ruiz — Coastline News", "Ana Ruiz | Coastline News",
    "Ana Ruiz, Coastline News correspondent", "Ana Ruiz, Coastline News"."""
    if len(line) > _SIGNATURE_CHARS:
        return None
    dashed = _DASH_OR_PIPE.split(line)
    if len(dashed) > 1 and _signed_by(dashed[0].strip()):
        for segment in dashed[1:]:
            found = _outlet_or_none(segment, _LISTED, authors=authors, shouted=shouted)
            if found:
                return found
        return None
    head, sep, tail = line.rpartition(", ")
    if sep and _signed_by(head):
        return _outlet_or_none(tail, _READS, authors=authors, shouted=shouted)
    return None


def _credit_outlet(line: str, authors: frozenset[str]) -> str | None:
    """ "Reporting by Ana Ruiz in Seoul for Coastline News; editing by …" → Coastline News."""
    credit = _CREDIT.match(line)
    if credit is None:
        return None
    clause = re.split(r"[;)]", line[credit.end() :], maxsplit=1)[0]
    _, sep, tail = clause.partition(" for ")
    return _outlet_or_none(_name_at(tail), _NAMED, authors=authors) if sep else None


def _footer_outlet(line: str, authors: frozenset[str]) -> str | None:
    """ "© 2024 Coastline News", "Copyright Coastline News 2024. All rights reserved.", "This
    article first appeared in Coastline News"."""
    if _COPYRIGHT.match(line):
        tokens = line.split()
        while tokens and (
            _COPYRIGHT.match(tokens[0]) or _COPYRIGHT_YEARS.match(tokens[0]) or tokens[0] == "©"
        ):
            tokens = tokens[1:]
        name = _name_at(" ".join(tokens)).split()
        while name and _word(name[-1]) in _COMPANY_SUFFIXES:
            name.pop()
        # A person may hold the copyright too: "© 2024 Ana Ruiz" names no outlet.
        return _outlet_or_none(" ".join(name), _LISTED, authors=authors)
    appeared = _APPEARED.search(line)
    if appeared:
        return _outlet_or_none(_name_at(line[appeared.end() :]), _NAMED, authors=authors)
    return None


def _authors_in(lines: Sequence[str], given: str | None) -> frozenset[str]:
    """The names signed in bylines (and a header's ``Author:``), lowercased."""
    found = set(_names(given or ""))
    for line in lines:
        by = _BY.match(line) if len(line) <= _LINE_CHARS else None
        if by:
            head = _DASH_OR_PIPE.split(line[by.end() :])[0]
            head = head.partition(" for ")[0].partition("(")[0]
            found.update(name for name in _names(head) if _person_like(name))
    return frozenset(name.lower() for name in found)


def _outlet_from_text(text: str, author: str | None = None) -> str | None:
    """The outlet the text names, by the forms and in the order of the module docstring."""
    top_lines = _top_lines(text)
    top = [line for line in top_lines if len(line) <= _LINE_CHARS]
    for line in top:
        labelled = _OUTLET_LINE.match(line)
        if labelled:
            return labelled["value"].strip()
    for line in top_lines:
        head = line[:_LINE_CHARS]
        dateline = _DATELINE.match(head) or _CITY_AGENCY.match(head)
        agency = dateline["agency"] if dateline else None
        found = _outlet_or_none(agency, _NAMED) if agency else None
        if found:
            return found  # else "(AP Photo/…)": a byline may still name it
    bottom = [line for line in _bottom_lines(text) if len(line) <= _LINE_CHARS]
    authors = _authors_in(top + bottom, author)
    # The first line is the title: "Kim Jong Un — The Man Behind the Missiles" is signed by no
    # one, so it is read only for a "By" line.
    title = top_lines[0] if top_lines else None
    for line in top + bottom:
        found = _byline_outlet(line, authors, signature=line != title)
        if found:
            return found
    for line in bottom + top:
        found = _credit_outlet(line, authors)
        if found:
            return found
    for line in reversed(bottom):
        found = _footer_outlet(line, authors)
        if found:
            return found
    return None


# --- plain-text files ---------------------------------------------------------------------------


def _split_header(text: str) -> tuple[dict[str, str], str]:
    """``({field: value}, body)``; no header → ``({}, text)``."""
    head, sep, rest = text.partition("\n\n")
    lines = head.split("\n")
    fields: dict[str, str] = {}
    for line in lines:
        match = _HEADER_LINE.match(line)
        if match is None or match["key"].lower() not in _HEADER_KEYS:
            return {}, text
        fields.setdefault(_HEADER_KEYS[match["key"].lower()], match["value"].strip(" \t"))
    return fields, rest.lstrip("\n") if sep else ""


# Text saved from a web page often starts with the page's chrome ("Accessibility links",
# "Go to Contents Go to Navigation", "Breaking News"): not a title.
_CHROME_LINE = re.compile(
    r"\b(accessibility|navigation|go to contents|skip to|main menu|breaking news|sign in|"
    r"subscribe|log in|cookies?)\b",
    re.IGNORECASE,
)


def _first_line_title(text: str) -> str | None:
    """The first non-empty line that is not page chrome, among the first ten; else the first
    non-empty line. Only those lines are visited; a line longer than ``_LINE_CHARS`` is prose,
    never chrome (and is bounded as a title later)."""
    first: str | None = None
    seen = 0
    for match in _NON_EMPTY_LINE.finditer(text):
        line = match.group(1).strip().lstrip("#").strip().rstrip("#").strip()
        if not line:
            continue
        if len(line) > _LINE_CHARS or not _CHROME_LINE.search(line):
            return line
        first = first or line
        seen += 1
        if seen == 10:
            break
    return first


def parse_plain_text(raw: str) -> tuple[str, TextMeta]:
    """Split a plain-text article into its text and metadata (see the module docstring)."""
    fields, text = _split_header(normalize_text(raw))
    published, published_text = _date_from_text(text, fields.get("published") or None)
    meta = TextMeta(
        title=fields.get("title") or _first_line_title(text),
        outlet=fields.get("outlet") or _outlet_from_text(text, fields.get("author")),
        published=published,
        published_text=published_text,
        url=fields.get("url") or None,
    )
    return text, meta


# --- HTML -------------------------------------------------------------------------------------

# Tags and their attributes are read with bounded patterns: a page of any size scans in one pass.
_META_TAG = re.compile(r"<meta\b([^<>]{0,2000})>", re.I)
_SCRIPT_TAG = re.compile(r"<script\b([^<>]{0,1000})>", re.I)
_SCRIPT_END = re.compile(r"</script", re.I)
_ATTRIBUTE = re.compile(
    r"""([A-Za-z_:.-]{1,60})[ \t\n]{0,20}=[ \t\n]{0,20}(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"""
)
# JSON-LD blocks and nodes read, at most: a page is not a database.
_JSON_LD_BLOCKS = 20
_JSON_LD_NODES = 200


def _host_outlet(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def _attributes(tag: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(tag):
        value = next((group for group in match.groups()[1:] if group is not None), "")
        found.setdefault(match.group(1).lower(), html_lib.unescape(value))
    return found


def _site_name(value: Any) -> str | None:
    """A site name as markup writes it, spaces tidied; None for anything else."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())
    if not name or len(name) > 100 or name.lower().startswith(("http://", "https://")):
        return None
    return name


def _json_ld_nodes(html: str) -> list[dict[str, Any]]:
    """The objects of the page's JSON-LD blocks, ``@graph`` members included, in page order."""
    nodes: list[dict[str, Any]] = []
    blocks = 0
    for tag in _SCRIPT_TAG.finditer(html):
        if "ld+json" not in tag.group(1).lower():
            continue
        end = _SCRIPT_END.search(html, tag.end())
        if end is None:
            break
        try:
            data = json.loads(html[tag.end() : end.start()], strict=False)
        except (ValueError, RecursionError):
            data = None
        for node in data[:_JSON_LD_NODES] if isinstance(data, list) else [data]:
            if isinstance(node, dict):
                nodes.append(node)
                graph = node.get("@graph")
                if isinstance(graph, list):
                    nodes.extend(item for item in graph[:_JSON_LD_NODES] if isinstance(item, dict))
        blocks += 1
        if blocks == _JSON_LD_BLOCKS or len(nodes) >= _JSON_LD_NODES:
            break
    return nodes[:_JSON_LD_NODES]


def _json_ld_publisher(html: str) -> str | None:
    """The name of the first JSON-LD ``publisher``: an object with a ``name``, a bare string,
    or a reference by ``@id`` to another node of the page."""
    nodes = _json_ld_nodes(html)
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    for node in nodes:
        publisher = node.get("publisher")
        if isinstance(publisher, list):
            publisher = publisher[0] if publisher else None
        reference = publisher.get("@id") if isinstance(publisher, dict) else None
        if isinstance(publisher, dict) and "name" not in publisher and isinstance(reference, str):
            publisher = by_id.get(reference, publisher)
        name = _site_name(publisher.get("name") if isinstance(publisher, dict) else publisher)
        if name:
            return name
    return None


def _markup_outlet(html: str) -> str | None:
    """The outlet the page's markup names: ``og:site_name``, then JSON-LD ``publisher``, then
    ``<meta name="application-name">``."""
    application: str | None = None
    for tag in _META_TAG.finditer(html):
        attributes = _attributes(tag.group(1))
        key = (attributes.get("property") or attributes.get("name") or "").lower()
        if key == "og:site_name":
            name = _site_name(attributes.get("content"))
            if name:
                return name
        elif key == "application-name" and application is None:
            application = _site_name(attributes.get("content"))
    return _json_ld_publisher(html) or application


def _trafilatura_site_name(extracted: Any, url: str | None) -> str | None:
    """trafilatura's site name, tidied: its fallback to the URL's host keeps the port, ours
    (below) does not; a ``copyright`` tag's "© 2024 Coastline News" is Coastline News."""
    name = _site_name(str(extracted.sitename)) if extracted.sitename else None
    if name and url and name == urlsplit(url).netloc:
        return None
    if name and _COPYRIGHT.match(name):
        return _footer_outlet(name, frozenset())
    return name


def extract_html(html: str, url: str | None = None) -> tuple[str, TextMeta]:
    """Main text (paragraphs separated by blank lines) and metadata of an HTML page.

    Favours precision: comments and tables are left out. The text is "" when no article text
    can be found (fewer than ``MIN_HTML_WORDS`` words: a menu or a stub).
    """
    import trafilatura

    extracted: Any = trafilatura.bare_extraction(
        html,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        # Dates from the markup only: a guess from the page text is often a copyright year.
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if extracted is None:
        return "", TextMeta(url=url)
    body = str(extracted.text or "")
    paragraphs = [line.strip() for line in normalize_text(body).split("\n")]
    text = "\n\n".join(paragraph for paragraph in paragraphs if paragraph)
    if len(text.split()) < MIN_HTML_WORDS:
        text = ""
    published: dt.date | None = None
    published_text: str | None = None
    if extracted.date:
        try:
            published = dt.date.fromisoformat(str(extracted.date)[:10])
        except ValueError:
            published = None
    if published is None:
        published, published_text = _date_from_text(text)
    if published is None and published_text is None and text:
        # The article's own header (title, byline, a date line) sits before its text on the
        # page but outside what the extractor keeps as the article: read the date there.
        published, published_text = _date_in_header(_page_header(html, text))
    outlet = (
        _markup_outlet(html)
        or _trafilatura_site_name(extracted, url)
        or _outlet_from_text(text)
        or _host_outlet(url)
        or _host_outlet(extracted.url)
    )
    return text, TextMeta(
        title=str(extracted.title).strip() if extracted.title else None,
        outlet=outlet,
        published=published,
        published_text=published_text,
        url=url or (str(extracted.url) if extracted.url else None),
    )


def _page_header(html: str, text: str) -> str:
    """The page's visible text before the article's first paragraph: its header and byline
    (the page chrome above them is passed over by the date rules like any other line)."""
    import trafilatura

    page = normalize_text(str(trafilatura.html2txt(html) or ""))
    # The first paragraph of the body (the title, short, may come first and be found above).
    body = next((p for p in text.split("\n") if len(p.split()) >= 12), "")
    at = page.find(body[:60]) if body else -1
    return page[:at] if at > 0 else ""


def _date_in_header(header: str) -> tuple[dt.date | None, str | None]:
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


def _looks_like_html(text: str) -> bool:
    start = text.lstrip()[:200].lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<body", "<article"))


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Folder:
    """One folder named by the user (compared by identity: the same folder named twice is
    walked twice, and each walk answers for itself)."""

    label: str


@dataclass(frozen=True)
class _FileInput:
    label: str
    path: Path
    # The folder it was found in; None for a file named directly.
    folder: _Folder | None = None


@dataclass(frozen=True)
class _UrlInput:
    label: str


@dataclass(frozen=True)
class _TextInput:
    label: str
    text: str


@dataclass(frozen=True)
class _Unusable:
    label: str
    reason: str
    folder: _Folder | None = None
    # Passed over with a note (a file in a folder that is no article), not a loss.
    skipped: bool = False


@dataclass(frozen=True)
class _FolderEnd:
    """After a folder's files: a folder that gave no article is reported itself."""

    folder: _Folder


_Input = _FileInput | _UrlInput | _TextInput | _Unusable | _FolderEnd

_KINDS_READ = ".txt, .md, .html, .htm"


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def _scheme_of(text: str) -> str | None:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    return match.group(1).lower() if match else None


# An attempt at a web address that is not one: "http//…", "htps://…", "http:/…", "www.…", or a
# host and path without a scheme ("example.org/story").
_URL_ATTEMPT = re.compile(
    r"^(?:h?t?tps?[:/]|www\.|(?:[A-Za-z0-9-]{1,63}\.){1,10}[A-Za-z]{2,24}/)", re.IGNORECASE
)
# A path as people write one: absolute, relative, home, a folder's trailing slash, or a file
# of a kind briefer reads.
_PATH_LIKE = re.compile(r"^(?:/|\./|\.\./|~)|/$|\.(?:txt|md|html?)$", re.IGNORECASE)


def _url_attempt(text: str) -> bool:
    return not any(c.isspace() for c in text) and bool(_URL_ATTEMPT.match(text))


def _supported(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES


def _folder_entries(
    folder: Path, visited: set[tuple[int, int]], owner: _Folder
) -> list[os.DirEntry[str]] | _Unusable:
    """The entries of ``folder`` in name order; none if the folder was seen already (by device
    and inode: one call, where resolving the real path costs one per level of the path)."""
    try:
        info = folder.stat()
    except OSError:
        pass  # scandir below says what is wrong
    else:
        if (info.st_dev, info.st_ino) in visited:
            return []
        visited.add((info.st_dev, info.st_ino))
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda entry: entry.name)
    except PermissionError:
        return _Unusable(str(folder), "permission denied", owner)
    except OSError as exc:
        return _Unusable(str(folder), (exc.strerror or "cannot be read").lower(), owner)


def _walk_folder(folder: Path, owner: _Folder) -> Iterator[_Input]:
    """Files under ``folder`` in name order; each real folder once, so link loops end.

    Depth first with a stack of its own: a tree of any depth walks without recursion.
    """
    visited: set[tuple[int, int]] = set()
    stack: list[Iterator[os.DirEntry[str]]] = []

    def enter(path: Path) -> Iterator[_Input]:
        found = _folder_entries(path, visited, owner)
        if isinstance(found, _Unusable):
            yield found
        else:
            stack.append(iter(found))

    yield from enter(folder)
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            yield from enter(path)
        elif not is_file:
            if entry.is_symlink():
                yield _Unusable(entry.path, _link_problem(entry.path), owner)
            # Sockets, pipes and devices are not articles: passed over.
        elif _supported(path):
            yield _FileInput(entry.path, path, owner)
        else:
            suffix = path.suffix.lower() or "(none)"
            yield _Unusable(entry.path, f"unsupported file type {suffix}", owner, skipped=True)


def _link_problem(path: str) -> str:
    try:
        os.stat(path)
    except FileNotFoundError:
        return "no such file or directory (broken link)"
    except OSError as exc:
        return (exc.strerror or "cannot be read").lower()
    return "not a regular file"


def _missing(label: str) -> str:
    """Why ``label`` names nothing: a web address mistyped, or no such path."""
    if _url_attempt(label):
        return "not a valid URL: write it with http:// or https://"
    return "no such file or directory"


def _expand_path(label: str) -> Iterator[_Input]:
    path = Path(label)
    try:
        info = path.stat()
    except FileNotFoundError:
        yield _Unusable(label, _missing(label))
        return
    except PermissionError:
        yield _Unusable(label, "permission denied")
        return
    except OSError as exc:
        yield _Unusable(label, (exc.strerror or "cannot be read").lower())
        return
    if stat.S_ISDIR(info.st_mode):
        folder = _Folder(label)
        yield from _walk_folder(path, folder)
        yield _FolderEnd(folder)
    else:
        # A file named explicitly is read whatever its name, unless clearly unsupported.
        suffix = path.suffix.lower()
        if suffix and not _supported(path):
            yield _Unusable(label, f"unsupported file type {suffix} (briefer reads {_KINDS_READ})")
        else:
            yield _FileInput(label, path)


def _read_stdin(stdin: IO[str]) -> str:
    """The text on ``stdin``; ValueError with the reason when it is not text. Its bytes, when
    there are any to read, are judged like a file's, whatever the locale's encoding is (a
    stream decoded with surrogateescape would pass on bytes no output can hold)."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return decode_file_bytes(buffer.read())
    raw = stdin.read()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return decode_file_bytes(raw.encode("utf-8", "surrogateescape"))
    return raw


# A line of this many words is a paragraph: stdin holding one is an article, not a list.
_PROSE_WORDS = 12
# A long line of a list that names nothing is shown by its start.
_LABEL_CHARS = 120
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def _list_line(line: str) -> str:
    """A stripped line of a list without its trailing ``  # comment`` (a path holding " #"
    that exists keeps it)."""
    if " #" in line or "\t#" in line:
        bare = _TRAILING_COMMENT.sub("", line)
        if bare != line and not _path_exists(line):
            return bare
    return line


def _names_an_input(line: str) -> bool:
    """Whether a line of stdin is written as an input: a URL of any scheme or an attempt at
    one, an existing path, or one written as a path (see the module docstring)."""
    if _path_exists(line):
        return True
    if any(c.isspace() for c in line):
        return False
    return _scheme_of(line) is not None or _url_attempt(line) or bool(_PATH_LIKE.search(line))


def _stdin_list(text: str) -> list[str] | None:
    """The entries of stdin when it is a list of inputs, else None (it is an article)."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        # Blank (an empty article) or headings alone (no article either way): not a list.
        return None
    if any(len(line.split(maxsplit=_PROSE_WORDS)) >= _PROSE_WORDS for line in lines):
        return None
    entries = [_list_line(line) for line in lines]
    named = sum(1 for entry in entries if _names_an_input(entry))
    return entries if named * 2 > len(entries) else None


def _list_entry(line: str) -> Iterator[_Input]:
    """The inputs one line of a list on stdin names; an unusable line is excluded alone."""
    if line == STDIN:
        yield _Unusable(line, "stdin cannot be listed on stdin")
        return
    if _names_an_input(line):
        # No shell expanded this line: "~/news" is the user's home folder, as it would be there.
        yield from _expand_one(os.path.expanduser(line), stdin=None)
        return
    label = line if len(line) <= _LABEL_CHARS else line[: _LABEL_CHARS - 1] + "…"
    yield _Unusable(label, "not a URL or an existing path")


def _stdin_inputs(stdin: IO[str] | None) -> Iterator[_Input]:
    if stdin is None:
        stdin = sys.stdin
    try:
        raw = _read_stdin(stdin)
    except ValueError as exc:  # also UnicodeDecodeError
        yield _Unusable(STDIN, str(exc).splitlines()[0] if str(exc) else "not text")
        return
    except OSError as exc:
        yield _Unusable(STDIN, f"cannot read stdin ({type(exc).__name__})")
        return
    entries = _stdin_list(normalize_text(raw))
    if entries is None:
        if raw.strip() and all(
            not line.strip() or line.lstrip().startswith("#") for line in raw.splitlines()
        ):
            yield _Unusable(STDIN, "only lines starting with #: no article text, URL or path")
            return
        yield _TextInput(STDIN, raw)
        return
    for entry in entries:
        yield from _list_entry(entry)


def _path_exists(text: str) -> bool:
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


def _expand_one(label: str, *, stdin: IO[str] | None) -> Iterator[_Input]:
    if label == STDIN:
        yield from _stdin_inputs(stdin)
        return
    if _is_url(label):
        yield _UrlInput(label)
        return
    scheme = _scheme_of(label)
    if scheme is not None and not _url_attempt(label):
        yield _Unusable(label, f"unsupported URL scheme {scheme}: only http and https are fetched")
        return
    yield from _expand_path(label)  # a mistyped "htps://…" is said to be one there


# --- reading one input ------------------------------------------------------------------------


def _read_file_bytes(label: str, path: Path, max_bytes: int) -> bytes:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise InputError(label, "not a regular file")
        # Refuse from the size alone: a huge file is never read.
        if info.st_size > max_bytes:
            raise InputError(label, f"larger than {format_size(max_bytes)}")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(label, "no such file or directory") from None
    except PermissionError:
        raise InputError(label, "permission denied") from None
    except IsADirectoryError:
        raise InputError(label, "is a directory") from None
    except OSError as exc:
        raise InputError(label, (exc.strerror or "cannot be read").lower()) from None
    if len(data) > max_bytes:  # it grew while we looked
        raise InputError(label, f"larger than {format_size(max_bytes)}")
    return data


def _document_from_markup(
    raw: str,
    *,
    html: bool,
    label: str,
    path: str | None,
    url: str | None,
    count_tokens: CountTokens,
) -> Document:
    if not raw.strip():
        raise _NotAnArticle(label, "empty")
    if html:
        text, meta = extract_html(raw, url)
        if not text:
            raise _NotAnArticle(label, "no article text found")
        outlet = meta.outlet or _host_outlet(url)
    else:
        text, meta = parse_plain_text(raw)
        outlet = meta.outlet or _host_outlet(url)
    return ingest_text(
        text,
        input=label,
        path=path,
        url=url or meta.url,
        title=meta.title,
        outlet=outlet,
        published=meta.published,
        published_text=meta.published_text,
        count_tokens=count_tokens,
    )


def _document_from_file(item: _FileInput, max_bytes: int, count_tokens: CountTokens) -> Document:
    data = _read_file_bytes(item.label, item.path, max_bytes)
    html = item.path.suffix.lower() in HTML_SUFFIXES
    if not data.strip():
        raise _NotAnArticle(item.label, "empty")
    try:
        raw = decode_file_bytes(data, html=html)
    except _NotText as exc:
        raise _NotAnArticle(item.label, str(exc)) from None
    except ValueError as exc:
        raise InputError(item.label, str(exc)) from None
    return _document_from_markup(
        raw,
        html=html,
        label=item.label,
        path=displayable(item.label),
        url=None,
        count_tokens=count_tokens,
    )


def _document_from_page(label: str, page: FetchedPage, count_tokens: CountTokens) -> Document:
    html = page.is_html or (page.content_type == "text/plain" and _looks_like_html(page.text))
    return _document_from_markup(
        page.text, html=html, label=label, path=None, url=page.url, count_tokens=count_tokens
    )


def _fetch_all(urls: list[str], policy: FetchPolicy) -> dict[str, FetchedPage | InputError]:
    def fetch_one(url: str) -> FetchedPage | InputError:
        try:
            return fetch_url(url, policy=policy)
        except InputError as exc:
            return exc

    unique = list(dict.fromkeys(urls))
    if len(unique) <= 1:
        return {url: fetch_one(url) for url in unique}
    with ThreadPoolExecutor(max_workers=min(_FETCH_WORKERS, len(unique))) as pool:
        return dict(zip(unique, pool.map(fetch_one, unique), strict=True))


# --- the stage --------------------------------------------------------------------------------


def load_sources(
    inputs: Sequence[str | Path],
    *,
    stdin: IO[str] | None = None,
    fetch_policy: FetchPolicy | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    count_tokens: CountTokens | None = None,
) -> IngestResult:
    """Read every input; unusable ones become ``excluded`` entries, never exceptions."""
    counter = count_tokens or default_count_tokens
    expanded: list[_Input] = []
    for given in inputs:
        expanded.extend(_expand_one(str(given), stdin=stdin))
    pages = _fetch_all(
        [item.label for item in expanded if isinstance(item, _UrlInput)],
        fetch_policy or FetchPolicy(),
    )

    result = IngestResult()
    first_input: dict[str, str] = {}
    # Per folder named: how many of its files were articles, and how many were lost.
    articles: dict[_Folder, int] = {}
    lost: dict[_Folder, int] = {}

    def exclude(label: str, reason: str, folder: _Folder | None, *, skipped: bool) -> None:
        if folder is not None and not skipped:
            lost[folder] = lost.get(folder, 0) + 1
        result.excluded.append(
            Excluded(
                input=displayable(label),
                reason=displayable(reason),
                stage="ingest",
                skipped=skipped,
            )
        )

    for item in expanded:
        if isinstance(item, _FolderEnd):
            walked = item.folder
            if not articles.get(walked) and not lost.get(walked):
                # Nothing in it was an article, and nothing failed that would say why.
                exclude(
                    walked.label, f"no usable files (looked for {_KINDS_READ})", None, skipped=False
                )
            continue
        if isinstance(item, _Unusable):
            exclude(item.label, item.reason, item.folder, skipped=item.skipped)
            continue
        folder = item.folder if isinstance(item, _FileInput) else None
        try:
            document = _read_input(item, pages, max_file_bytes, counter)
        except InputError as exc:
            # In a folder, a file that holds no article is passed over; named, it is a loss.
            skipped = folder is not None and isinstance(exc, _NotAnArticle)
            exclude(exc.input, exc.reason, folder, skipped=skipped)
            continue
        if folder is not None:
            articles[folder] = articles.get(folder, 0) + 1
        earlier = first_input.get(document.id)
        if earlier is not None:
            # A copy found in a folder adds nothing and loses nothing.
            reason = "already read" if earlier == item.label else f"duplicate of {earlier}"
            exclude(item.label, reason, folder, skipped=folder is not None)
            continue
        first_input[document.id] = item.label
        result.documents.append(document)
    return result


def _read_input(
    item: _FileInput | _UrlInput | _TextInput,
    pages: dict[str, FetchedPage | InputError],
    max_file_bytes: int,
    count_tokens: CountTokens,
) -> Document:
    """The document of one input; InputError naming the input when there is none."""
    if isinstance(item, _FileInput):
        return _document_from_file(item, max_file_bytes, count_tokens)
    if isinstance(item, _UrlInput):
        page = pages[item.label]
        if isinstance(page, InputError):
            raise page
        return _document_from_page(item.label, page, count_tokens)
    return _document_from_markup(
        item.text,
        html=_looks_like_html(item.text),
        label=item.label,
        path=None,
        url=None,
        count_tokens=count_tokens,
    )
