"""Feeds: RSS 2.0, RSS 1.0 (RDF) and Atom read with feedparser, OPML lists of feeds, the window
of entries a day takes, and the pages that are not the article they stand for.

- **Recognised by content**: ``sniff_feed`` reads the root element of the first bytes (after
  a byte-order mark, the XML declaration, comments, processing instructions and a doctype):
  ``rss`` (RSS 2.0, 0.9x), ``RDF`` in any namespace prefix (RSS 1.0), ``feed`` (Atom),
  ``opml``. Extensions and content types are never trusted alone.
- **Parsed from the bytes fetched** (``parse_feed``), never by feedparser's own fetching; the
  feed's address is handed over as ``Content-Location`` so that relative links resolve
  (and are resolved again here against the feed's address, for feeds that give none). A
  feed that is not well-formed is read as far as feedparser can (its entries are kept); one
  with no entry and no title is not a feed.
- **An entry** gives its link, title, summary as plain text, and its date: the published time,
  else the updated one, read from the entry's own words so that its day is the day in the
  feed's time zone (``published_day``); the window is judged by the newest of the two times.
- **OPML** (``parse_opml``): every ``outline`` with an ``xmlUrl``, in document order, each
  address once. A document with a doctype is refused (entity expansion).
- **Not the article** (``page_problem``): a page whose text is no longer than the entry's
  summary plus ``SNIPPET_MARGIN`` characters (unless it is ``FULL_TEXT_CHARS`` long, as in feeds
  that carry whole articles) is a snippet; a page of fewer than ``WALL_MAX_CHARS`` characters
  that holds one of ``PAYWALL_PHRASES`` or ``CONSENT_PHRASES`` is a paywall or a consent wall.
  Phrases are compared in lower case with runs of spaces made one and curly apostrophes made
  straight.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import functools
import html
import io
import re
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin

__all__ = [
    "CONSENT_PHRASES",
    "FULL_TEXT_CHARS",
    "PAYWALL_PHRASES",
    "SNIPPET_MARGIN",
    "WALL_MAX_CHARS",
    "Feed",
    "FeedEntry",
    "FeedKind",
    "NotAFeed",
    "in_window",
    "page_problem",
    "parse_feed",
    "parse_opml",
    "root_element",
    "sniff_feed",
    "summary_text",
]

FeedKind = Literal["rss", "rdf", "atom", "opml"]

_HEAD_BYTES = 4096
_ROOT = re.compile(
    r"""\A\s*(?:<\?.*?\?>\s*|<!--.*?-->\s*|<!DOCTYPE(?:[^>\[]|\[.*?\])*>\s*)*<([A-Za-z_][\w.\-]*(?::[\w.\-]+)?)""",
    re.DOTALL | re.IGNORECASE,
)
_KINDS: dict[str, FeedKind] = {"rss": "rss", "rdf": "rdf", "feed": "atom", "opml": "opml"}


class NotAFeed(ValueError):
    """Bytes that were to be a feed and are not one; the message says what they are."""


def _head_text(data: bytes | str) -> str:
    if isinstance(data, str):
        return data[:_HEAD_BYTES].lstrip("\ufeff")
    head = data[:_HEAD_BYTES]
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "ignore")
    # The markup that names the root is ASCII in every encoding a feed is written in.
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1")


def root_element(data: bytes | str) -> str | None:
    """The name of the first element of an XML or HTML document, or None."""
    match = _ROOT.match(_head_text(data))
    return match.group(1) if match else None


def sniff_feed(data: bytes | str) -> FeedKind | None:
    """What kind of feed ``data`` is by its root element, or None when it is none."""
    name = root_element(data)
    if name is None:
        return None
    local = name.rsplit(":", 1)[-1].lower()
    if local == "rdf" and ":" not in name and name != "RDF":
        return None
    return _KINDS.get(local)


# --- feeds ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed: what the page it links to may lack."""

    position: int  # 1-based, in the feed's order
    link: str | None
    title: str | None
    summary: str  # plain text
    # The entry's time (published, else updated) and its day where the feed wrote it.
    published: dt.datetime | None
    published_day: dt.date | None
    # The newest of the published and updated times: what the window judges.
    newest: dt.datetime | None


@dataclass(frozen=True)
class Feed:
    title: str | None
    entries: list[FeedEntry]
    # A feed read in spite of an error (not well-formed, a wrong declared encoding).
    problem: str | None = None


_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(?:br|/p|/div|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def summary_text(markup: str) -> str:
    """A summary's HTML as plain text: paragraphs as lines, tags gone, entities decoded."""
    text = _BREAK.sub("\n", markup)
    text = html.unescape(_TAG.sub(" ", text))
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _aware(raw: object, parsed: object) -> tuple[dt.datetime | None, dt.date | None]:
    """An entry's time (UTC if its zone is unknown) and its day in its own zone."""
    if isinstance(raw, str) and raw.strip():
        text = raw.strip()
        when: dt.datetime | None = None
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            try:
                when = dt.datetime.fromisoformat(text)
            except ValueError:
                when = None
        if when is not None:
            day = when.date()
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.UTC)
            return when, day
    if isinstance(parsed, time.struct_time):
        when = dt.datetime(*parsed[:6], tzinfo=dt.UTC)
        return when, when.date()
    return None, None


def _entry(position: int, entry: Any, base: str | None) -> FeedEntry:
    link = entry.get("link") or None
    if link is None:
        for candidate in entry.get("links", []):
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if link is not None:
        link = link.strip()
        if base:
            link = urljoin(base, link)
    # Read past feedparser's own lookup, which maps a missing "updated" to "published" with a
    # warning: each is read for what it is.
    field = functools.partial(dict.get, entry)
    published, day = _aware(field("published"), field("published_parsed"))
    updated, updated_day = _aware(field("updated"), field("updated_parsed"))
    newest = max((t for t in (published, updated) if t is not None), default=None)
    summary = entry.get("summary") or ""
    title = summary_text(entry.get("title") or "") or None
    return FeedEntry(
        position=position,
        link=link or None,
        title=title,
        summary=summary_text(summary),
        published=published or updated,
        published_day=day or updated_day,
        newest=newest,
    )


def _problem(exc: object) -> str:
    name = type(exc).__name__
    if name == "CharacterEncodingOverride":
        return "its declared encoding is wrong"
    if name == "CharacterEncodingUnknown":
        return "its encoding is unknown"
    message = str(exc).splitlines()[0] if str(exc).strip() else name
    return f"not well-formed ({message})"


def parse_feed(body: bytes, *, location: str | None, type_header: str = "") -> Feed:
    """The feed in ``body``; NotAFeed when feedparser finds neither entries nor a title."""
    import feedparser  # type: ignore[import-untyped]  # loaded by the first feed read

    # The content says it is a feed; a server's "text/html" would make feedparser doubt it.
    # The charset it declared still counts.
    charset = next(
        (
            value.strip().strip("\"'")
            for name, _, value in (p.partition("=") for p in type_header.split(";")[1:])
            if name.strip().lower() == "charset"
        ),
        None,
    )
    headers = {
        "content-type": f"application/xml; charset={charset}" if charset else "application/xml"
    }
    if location:
        headers["content-location"] = location
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    title = summary_text(parsed.feed.get("title") or "") or None
    problem = _problem(parsed.bozo_exception) if parsed.bozo else None
    if not parsed.entries and title is None:
        raise NotAFeed(f"not a feed: {problem}" if problem else "not a feed: no entries")
    entries = [_entry(n, entry, location) for n, entry in enumerate(parsed.entries, start=1)]
    return Feed(title=title, entries=entries, problem=problem)


def in_window(entry: FeedEntry, *, window: dt.timedelta | None, until: dt.datetime) -> bool | None:
    """Whether ``entry`` falls in the ``window`` before ``until``; None when it has no date."""
    if entry.newest is None:
        return None
    if window is None:
        return True
    # A clock a little ahead of ours is not a later day.
    return until - window <= entry.newest <= until + _CLOCK_SKEW


_CLOCK_SKEW = dt.timedelta(minutes=15)


# --- OPML -------------------------------------------------------------------------------------


def parse_opml(body: bytes) -> list[tuple[str, str | None]]:
    """``(xmlUrl, title)`` of each feed an OPML document lists, in order, each once."""
    if b"<!DOCTYPE" in body[:_HEAD_BYTES].upper() or b"<!ENTITY" in body.upper():
        raise NotAFeed("OPML with a doctype or entities is not read")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise NotAFeed(f"not well-formed OPML ({exc})") from None
    feeds: dict[str, str | None] = {}
    for outline in root.iter("outline"):
        attributes = {name.lower(): value for name, value in outline.attrib.items()}
        url = (attributes.get("xmlurl") or "").strip()
        if url and url not in feeds:
            feeds[url] = attributes.get("title") or attributes.get("text") or None
    if not feeds:
        raise NotAFeed("OPML lists no feed (no outline with an xmlUrl)")
    return list(feeds.items())


# --- pages that are not the article -----------------------------------------------------------

SNIPPET_MARGIN = 200
FULL_TEXT_CHARS = 1500
WALL_MAX_CHARS = 2000
PAYWALL_PHRASES = (
    "subscribe to continue reading",
    "subscribe to keep reading",
    "subscribe to read",
    "subscribe now to read",
    "to continue reading, subscribe",
    "to continue reading, please",
    "this content is for subscribers",
    "this article is for subscribers",
    "this story is for subscribers",
    "available to subscribers only",
    "for subscribers only",
    "subscribers only",
    "already a subscriber?",
    "sign in to continue reading",
    "log in to continue reading",
    "register to continue reading",
    "create a free account to continue reading",
    "you have reached your limit of free articles",
    "you've reached your free article limit",
    "you have used all of your free articles",
)
CONSENT_PHRASES = (
    "we use cookies",
    "this site uses cookies",
    "this website uses cookies",
    "accept all cookies",
    "accept cookies",
    "cookie settings",
    "cookie preferences",
    "manage consent",
    "manage your consent",
    "we value your privacy",
    "your privacy choices",
    "by clicking accept",
    "by clicking “accept",
    "consent to the use of cookies",
    "before you continue to",
)


def _folded(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def page_problem(text: str, summary: str) -> str | None:
    """Why a page is not the article its feed entry stands for, or None when it is."""
    folded = _folded(text)
    if len(text) < WALL_MAX_CHARS:
        if any(phrase in folded for phrase in PAYWALL_PHRASES):
            return "paywall: the page asks to subscribe or sign in instead of giving the article"
        if any(phrase in folded for phrase in CONSENT_PHRASES):
            return "consent wall: the page shows a cookie notice instead of the article"
    if (
        summary
        and len(text) < FULL_TEXT_CHARS
        and len(_folded(text)) <= len(_folded(summary)) + SNIPPET_MARGIN
    ):
        return "snippet: the page gives no more than the feed's summary"
    return None
