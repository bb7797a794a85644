"""What an article says about itself (``TextMeta``: title, outlet, date, URL), and where a
text says it: its top and bottom lines, which the date and outlet rules read.

Metadata sits near the top (title, byline, dateline, a date line) or at the bottom (a footer,
a credit). Only the first and last ``TOP_LINES`` non-empty lines are read, and a line longer than
``LINE_CHARS`` is prose, read for none of it: a date in a quote deep down is not the article's,
and every pattern runs on a bounded string whatever the size of the input.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["LINE_CHARS", "NON_EMPTY_LINE", "TOP_LINES", "TextMeta", "bottom_lines", "top_lines"]

TOP_LINES = 15
# Footers sit at the bottom: the last lines among the last this many characters.
_TAIL_CHARS = 16_384
LINE_CHARS = 300
NON_EMPTY_LINE = re.compile(r"^[^\S\n]*(\S[^\n]*)", re.M)


@dataclass(frozen=True)
class TextMeta:
    """Metadata found beside a text: in a header, in HTML markup, or in the text itself."""

    title: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
    # The date as written when it gave no year and the text gave none either ("March 4").
    published_text: str | None = None
    url: str | None = None


def top_lines(text: str) -> list[str]:
    """The first ``TOP_LINES`` non-empty lines, stripped; the rest of ``text`` is not visited."""
    lines: list[str] = []
    for match in NON_EMPTY_LINE.finditer(text):
        lines.append(match.group(1).rstrip())
        if len(lines) == TOP_LINES:
            break
    return lines


def bottom_lines(text: str) -> list[str]:
    """The last ``TOP_LINES`` non-empty lines that start within the last ``_TAIL_CHARS``
    characters, stripped."""
    start = max(0, len(text) - _TAIL_CHARS)
    if start and text[start - 1] != "\n":
        cut = text.find("\n", start)  # a partial line is no line: begin at the next one
        if cut < 0:
            return []
        start = cut + 1
    lines = [match.group(1).rstrip() for match in NON_EMPTY_LINE.finditer(text, start)]
    return lines[-TOP_LINES:]
