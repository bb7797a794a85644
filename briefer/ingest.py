"""The ingest stage: URLs, files, folders and stdin in; ``Document`` records out.

Inputs, processed in the order given (the result is deterministic):

- a **file**: ``.html``/``.htm`` go through trafilatura (main text, title, date, outlet);
  ``.txt``/``.md`` are plain text (below). Files larger than ``max_file_bytes`` are refused
  from their size alone, without being read. A file named directly without a suffix is read as
  plain text; one with another suffix is skipped.
- a **folder**: walked recursively in name order; ``.txt``, ``.md``, ``.html``, ``.htm`` are read,
  other files are reported as skipped, hidden files and folders (``.name``) are passed over
  silently, and a folder reached twice through symbolic links is walked once.
- an **http(s) URL**: fetched by :mod:`briefer.fetch` (several at once), then as HTML or text
  according to its content type. The outlet falls back to the host name.
- ``-``: **stdin** (``sys.stdin`` unless a stream is passed). When every non-empty line is an
  existing path or an http(s) URL, stdin is a list of inputs; otherwise it is the text of one
  article (HTML when it starts with a tag).

Plain-text convention. A file may open with header lines, one per field, then a blank line::

    Title: North Korea weighs lifting its test moratorium
    Outlet: Peninsula Review
    Published: 2022-01-20
    URL: https://peninsulareview.example/politics/2022/01/20/moratorium

    SEOUL, Jan. 20 — North Korea signaled on Thursday ...

Recognised keys (case-insensitive): ``Title``, ``Outlet`` (also ``Source``, ``Publisher``),
``Published`` (also ``Date``; any date python-dateutil reads, ISO preferred), ``URL`` (also
``Link``), ``Author`` (also ``By``; read and dropped). The header counts only when every line
before the first blank line is such a line. Header lines are not part of the document text.
Without a header (or for fields it leaves out): the title is the first non-empty line (leading
``#`` removed); the date comes from a ``Published:``/``Date:``/``Updated:`` line near the top, a
dateline (``WASHINGTON, January 12, 2022 —``; ``SEOUL, Jan. 20 (Yonhap) --`` takes its year from a
full date elsewhere in the text, else stays unknown), or an ISO or "January 12, 2022" date on a
short line near the top; the outlet from an ``Outlet:``/``Source:`` line, a dateline's
``(Agency)``, or a ``By Name, Outlet`` byline.

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
from briefer.fetch import FetchedPage, FetchPolicy, fetch_url, format_size
from briefer.models import Document, Excluded, Source

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "HTML_SUFFIXES",
    "MIN_HTML_WORDS",
    "TEXT_SUFFIXES",
    "IngestResult",
    "TextMeta",
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
TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
STDIN = "-"
# Fewer words than this from a page is a menu or a stub, not an article.
MIN_HTML_WORDS = 10
# Fetching is network-bound; a few at once hides latency without hammering anyone.
_FETCH_WORKERS = 8

CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class TextMeta:
    """Metadata found beside a text: in a header, in HTML markup, or in the text itself."""

    title: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
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
        from briefer.tokens import count_tokens  # type: ignore[import-not-found,unused-ignore]
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
    count_tokens: CountTokens | None = None,
) -> Document:
    """Make a Document of ``text`` as it is (line endings normalised); InputError if empty."""
    text = normalize_text(text)
    if not text.strip():
        raise InputError(input, "empty")
    doc_id, digest = source_id(text)
    counter = count_tokens or default_count_tokens
    return Document(
        source=Source(
            id=doc_id,
            title=title,
            url=url,
            path=path,
            outlet=outlet,
            published=published,
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
            raise ValueError("binary file, not text")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _mostly_control(data[:8192].decode("latin-1")):
                raise ValueError("binary file, not text") from None
            declared = _declared_html_text(data) if html else None
            if declared is None:
                byte = data[exc.start]
                raise ValueError(
                    f"not valid UTF-8 text (byte 0x{byte:02X} at offset {exc.start});"
                    " save it as UTF-8"
                ) from None
            text = declared
    if _mostly_control(text):
        raise ValueError("binary file, not text")
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
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z]+):[ \t]*(?P<value>.*?)[ \t]*$")
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
    r"(?:--|—|–|-)",
    re.M,
)
_LONG_DATE = re.compile(r"\b" + _MONTH + r"\.?\s+(?P<day>\d{1,2}),\s*(?P<year>\d{4})\b")
_ISO_DATE = re.compile(r"\b(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})\b")
_LABELLED = re.compile(r"^(?:Published|Updated|Date|Posted)(?: on)?\s*:?\s*(?P<value>.+)$", re.I)
_OUTLET_LINE = re.compile(r"^(?:Outlet|Source|Publisher)\s*:\s*(?P<value>.+?)\s*$", re.I)
_BYLINE = re.compile(r"^By [^,\n]{2,60},\s*(?P<outlet>[A-Z][\w .&'’-]{1,40}?)\s*$")
_NOT_OUTLETS = re.compile(r"writer|reporter|correspondent|editor|staff|contributor", re.I)
_DATE_WORDS = re.compile(r"\b[A-Z][a-z]{2,8}\.?\s+\d{1,2},\s*\d{4}\b|\b\d{4}-\d{2}-\d{2}\b")
# Metadata sits near the top; look no further so a date in a quote deep down is not taken.
_TOP_LINES = 15
_OTHER_WORDS_BESIDE_DATE = 3


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_number(name: str) -> int:
    return _MONTHS[name[:4].lower() if name[:4].lower() == "sept" else name[:3].lower()]


def _parse_date(value: str) -> dt.date | None:
    """A date from a header or labelled line: ISO first, then anything dateutil reads."""
    iso = _ISO_DATE.search(value)
    if iso:
        found = _make_date(int(iso["year"]), int(iso["month"]), int(iso["day"]))
        if found:
            return found
    from dateutil import parser as date_parser

    try:
        return date_parser.parse(value, fuzzy=True).date()
    except (ValueError, OverflowError):
        return None


def _split_header(text: str) -> tuple[dict[str, str], str]:
    """``({field: value}, body)``; no header → ``({}, text)``."""
    head, sep, rest = text.partition("\n\n")
    lines = head.split("\n")
    fields: dict[str, str] = {}
    for line in lines:
        match = _HEADER_LINE.match(line)
        if match is None or match["key"].lower() not in _HEADER_KEYS:
            return {}, text
        fields.setdefault(_HEADER_KEYS[match["key"].lower()], match["value"])
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
    non-empty line."""
    lines = [line.strip().lstrip("#").strip().rstrip("#").strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    for line in lines[:10]:
        if not _CHROME_LINE.search(line):
            return line
    return lines[0] if lines else None


def _full_date_in(text: str) -> dt.date | None:
    """The first "January 20, 2022" or ISO date anywhere in ``text``."""
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


def _date_from_text(text: str) -> dt.date | None:
    top_lines = [line.strip() for line in text.split("\n") if line.strip()][:_TOP_LINES]
    for line in top_lines:
        labelled = _LABELLED.match(line)
        if labelled:
            found = _parse_date(labelled["value"])
            if found:
                return found
    top = "\n".join(top_lines)
    dateline = _DATELINE.search(top)
    if dateline:
        month, day = _month_number(dateline["month"]), int(dateline["day"])
        if dateline["year"]:
            return _make_date(int(dateline["year"]), month, day)
        elsewhere = _full_date_in(text)
        if elsewhere:
            return _make_date(elsewhere.year, month, day)
        return None
    for line in top_lines:
        found = _full_date_in(line)
        # Only a line that is mostly the date: a date inside a sentence is about something else.
        if found and len(_DATE_WORDS.sub(" ", line).split()) <= _OTHER_WORDS_BESIDE_DATE:
            return found
    return None


def _outlet_from_text(text: str) -> str | None:
    top_lines = [line.strip() for line in text.split("\n") if line.strip()][:_TOP_LINES]
    for line in top_lines:
        labelled = _OUTLET_LINE.match(line)
        if labelled:
            return labelled["value"]
    dateline = _DATELINE.search("\n".join(top_lines))
    if dateline and dateline["agency"]:
        return dateline["agency"].strip()
    for line in top_lines:
        byline = _BYLINE.match(line)
        if byline and not _NOT_OUTLETS.search(byline["outlet"]):
            return byline["outlet"]
    return None


def parse_plain_text(raw: str) -> tuple[str, TextMeta]:
    """Split a plain-text article into its text and metadata (see the module docstring)."""
    fields, text = _split_header(normalize_text(raw))
    published = _parse_date(fields["published"]) if fields.get("published") else None
    meta = TextMeta(
        title=fields.get("title") or _first_line_title(text),
        outlet=fields.get("outlet") or _outlet_from_text(text),
        published=published or _date_from_text(text),
        url=fields.get("url") or None,
    )
    return text, meta


# --- HTML -------------------------------------------------------------------------------------


def _host_outlet(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


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
    published = None
    if extracted.date:
        try:
            published = dt.date.fromisoformat(str(extracted.date)[:10])
        except ValueError:
            published = None
    sitename = str(extracted.sitename).strip() if extracted.sitename else None
    if sitename and url and sitename == urlsplit(url).netloc:
        sitename = None  # trafilatura's own fallback keeps the port; ours below does not
    return text, TextMeta(
        title=str(extracted.title).strip() if extracted.title else None,
        outlet=sitename or _host_outlet(url) or _host_outlet(extracted.url),
        published=published or _date_from_text(text),
        url=url or (str(extracted.url) if extracted.url else None),
    )


def _looks_like_html(text: str) -> bool:
    start = text.lstrip()[:200].lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<body", "<article"))


# --- inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _FileInput:
    label: str
    path: Path


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


_Input = _FileInput | _UrlInput | _TextInput | _Unusable


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def _scheme_of(text: str) -> str | None:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    return match.group(1).lower() if match else None


def _supported(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES


def _folder_entries(
    folder: Path, visited: set[tuple[int, int]]
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
        return _Unusable(str(folder), "permission denied")
    except OSError as exc:
        return _Unusable(str(folder), (exc.strerror or "cannot be read").lower())


def _walk_folder(folder: Path, visited: set[tuple[int, int]]) -> Iterator[_Input]:
    """Files under ``folder`` in name order; each real folder once, so link loops end.

    Depth first with a stack of its own: a tree of any depth walks without recursion.
    """
    stack: list[Iterator[os.DirEntry[str]]] = []

    def enter(path: Path) -> Iterator[_Input]:
        found = _folder_entries(path, visited)
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
                yield _Unusable(entry.path, _link_problem(entry.path))
            # Sockets, pipes and devices are not articles: passed over.
        elif _supported(path):
            yield _FileInput(entry.path, path)
        else:
            suffix = path.suffix.lower() or "(none)"
            yield _Unusable(entry.path, f"skipped: unsupported file type {suffix}")


def _link_problem(path: str) -> str:
    try:
        os.stat(path)
    except FileNotFoundError:
        return "no such file or directory (broken link)"
    except OSError as exc:
        return (exc.strerror or "cannot be read").lower()
    return "not a regular file"


def _expand_path(label: str) -> Iterator[_Input]:
    path = Path(label)
    try:
        info = path.stat()
    except FileNotFoundError:
        yield _Unusable(label, "no such file or directory")
        return
    except PermissionError:
        yield _Unusable(label, "permission denied")
        return
    except OSError as exc:
        yield _Unusable(label, (exc.strerror or "cannot be read").lower())
        return
    if stat.S_ISDIR(info.st_mode):
        found = list(_walk_folder(path, set()))
        yield from found
        if not any(isinstance(item, _FileInput) for item in found):
            yield _Unusable(label, "no usable files (looked for .txt, .md, .html, .htm)")
    else:
        # A file named explicitly is read whatever its name, unless clearly unsupported.
        suffix = path.suffix.lower()
        if suffix and not _supported(path):
            yield _Unusable(label, f"skipped: unsupported file type {suffix}")
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
    lines = [line.strip() for line in normalize_text(raw).split("\n") if line.strip()]
    is_list = bool(lines) and all(
        _is_url(line) or (line != STDIN and _path_exists(line)) for line in lines
    )
    if not is_list:
        yield _TextInput(STDIN, raw)
        return
    for line in lines:
        yield from _expand_one(line, stdin=None)


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
    if scheme is not None:
        yield _Unusable(label, f"unsupported URL scheme {scheme}: only http and https are fetched")
        return
    yield from _expand_path(label)


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
        raise InputError(label, "empty")
    if html:
        text, meta = extract_html(raw, url)
        if not text:
            raise InputError(label, "no article text found")
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
        count_tokens=count_tokens,
    )


def _document_from_file(item: _FileInput, max_bytes: int, count_tokens: CountTokens) -> Document:
    data = _read_file_bytes(item.label, item.path, max_bytes)
    html = item.path.suffix.lower() in HTML_SUFFIXES
    if not data.strip():
        raise InputError(item.label, "empty")
    try:
        raw = decode_file_bytes(data, html=html)
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
    for item in expanded:
        document: Document | None = None
        try:
            if isinstance(item, _Unusable):
                raise InputError(item.label, item.reason)
            if isinstance(item, _FileInput):
                document = _document_from_file(item, max_file_bytes, counter)
            elif isinstance(item, _UrlInput):
                page = pages[item.label]
                if isinstance(page, InputError):
                    raise page
                document = _document_from_page(item.label, page, counter)
            else:
                document = _document_from_markup(
                    item.text,
                    html=_looks_like_html(item.text),
                    label=item.label,
                    path=None,
                    url=None,
                    count_tokens=counter,
                )
        except InputError as exc:
            result.excluded.append(
                Excluded(
                    input=displayable(exc.input), reason=displayable(exc.reason), stage="ingest"
                )
            )
            continue
        earlier = first_input.get(document.id)
        if earlier is not None:
            result.excluded.append(
                Excluded(
                    input=displayable(item.label),
                    reason=displayable(f"duplicate of {earlier}"),
                    stage="ingest",
                )
            )
            continue
        first_input[document.id] = item.label
        result.documents.append(document)
    return result
