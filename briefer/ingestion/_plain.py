"""Plain-text articles: header lines, the title, and the text itself.

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
ends with "…" (``_sources`` bounds it). The date and the outlet, when the header gives none,
are read from the text (``_dates``, ``_outlets``).
"""

from __future__ import annotations

import re

from briefer.ingestion._dates import date_from_text
from briefer.ingestion._decode import normalize_newlines
from briefer.ingestion._meta import LINE_CHARS, NON_EMPTY_LINE, TextMeta
from briefer.ingestion._outlets import outlet_from_text

__all__ = ["parse_plain_text"]

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
    non-empty line. Only those lines are visited; a line longer than ``LINE_CHARS`` is prose,
    never chrome (and is bounded as a title later)."""
    first: str | None = None
    seen = 0
    for match in NON_EMPTY_LINE.finditer(text):
        line = match.group(1).strip().lstrip("#").strip().rstrip("#").strip()
        if not line:
            continue
        if len(line) > LINE_CHARS or not _CHROME_LINE.search(line):
            return line
        first = first or line
        seen += 1
        if seen == 10:
            break
    return first


def parse_plain_text(raw: str) -> tuple[str, TextMeta]:
    """Split a plain-text article into its text and metadata (see the module docstring)."""
    fields, text = _split_header(normalize_newlines(raw))
    published, published_text = date_from_text(text, fields.get("published") or None)
    meta = TextMeta(
        title=fields.get("title") or _first_line_title(text),
        outlet=fields.get("outlet") or outlet_from_text(text, fields.get("author")),
        published=published,
        published_text=published_text,
        url=fields.get("url") or None,
    )
    return text, meta
