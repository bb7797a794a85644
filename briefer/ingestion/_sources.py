"""The ingest stage: the inputs a run is given in, ``Document`` records out.

Read in the order of the flow:

1. ``_inputs``: what an input is (a file, a folder walked, a URL, stdin's article or list), each
   expanded into what is to be read;
2. ``_decode``: bytes to text, one decoder for files, stdin and pages; ``_fetch``: URLs, safely;
3. ``_html`` (HTML pages) and ``_plain`` (plain text and its header lines), which read the
   article's metadata with ``_meta``, ``_dates`` (its date) and ``_outlets`` (its outlet);
4. here: each input made a ``Document``, the run's documents and exclusions gathered;
5. ``_chunk``: documents cut into chunks that fit a model.

Each document's id is ``src-`` + the first 12 hex digits of the sha256 of its text; the same
text twice is kept once and the later input is reported as a duplicate. A title has at most
``TITLE_CHARS`` characters: a longer one (a file that is one long line) is cut at a word and
ends with "…". Text is kept exactly as extracted, except that CRLF and CR become LF and a
byte-order mark is dropped: every later offset points into it.

Two ways to read, one result. ``load_sources`` reads every input and returns. ``stream_sources``
gives each document as soon as it is read, without blocking the event loop (files are read in
input order in a worker thread, URLs fetched several at once beside them), then the very
``IngestResult`` that ``load_sources`` gives: documents and exclusions in input order, whatever
order they were read in. A document is given early unless an input before it is already known
to hold the same text; one read later from an input before it may still take its place (a slow
URL and a file of the same text): ``result`` says which documents the run has.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import stat
import threading
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from briefer.errors import InputError
from briefer.ingestion._canonical import clean_url, url_key
from briefer.ingestion._decode import NotText, decode_text, displayable, normalize_newlines
from briefer.ingestion._feeds import (
    Feed,
    FeedEntry,
    FeedKind,
    NotAFeed,
    in_window,
    page_problem,
    parse_feed,
    parse_opml,
    root_element,
    sniff_feed,
)
from briefer.ingestion._html import (
    extract_html,
    host_outlet,
    import_in_background,
    looks_like_html,
)
from briefer.ingestion._inputs import (
    FEED_SUFFIXES,
    HTML_SUFFIXES,
    KINDS_READ,
    FileInput,
    Folder,
    FolderEnd,
    Input,
    TextInput,
    Unusable,
    UrlInput,
    expand_input,
)
from briefer.ingestion._limits import DEFAULT_MAX_FILE_BYTES, FetchPolicy, format_size
from briefer.ingestion._plain import parse_plain_text
from briefer.ingestion._polite import Manners
from briefer.llm.tokens import count_tokens as default_count_tokens
from briefer.models import Document, Excluded, Source

if TYPE_CHECKING:
    from briefer.ingestion._fetch import FetchedPage

__all__ = [
    "TITLE_CHARS",
    "IngestResult",
    "SourceStream",
    "bounded_title",
    "default_count_tokens",
    "ingest_text",
    "load_sources",
    "source_id",
    "stream_sources",
]

# A headline is a line of words; longer is prose taken for one (a file that is one long line).
TITLE_CHARS = 200
# Fetching is network-bound; a few at once hides latency without hammering anyone.
_FETCH_WORKERS = 8

CountTokens = Callable[[str], int]
R = TypeVar("R")
T = TypeVar("T")


class _NotAnArticle(InputError):
    """The input holds no article (empty, binary, no article text): in a folder, such a file is
    skipped with a note rather than reported as a loss."""


@dataclass
class IngestResult:
    """Usable documents and the inputs that could not be used, each in input order."""

    documents: list[Document] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)


# --- one text, one document -------------------------------------------------------------------


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
    feed: str | None = None,
    from_summary: bool = False,
) -> Document:
    """Make a Document of ``text`` as it is (line endings normalised); InputError if empty.
    The title is bounded (:func:`bounded_title`)."""
    text = normalize_newlines(text)
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
            feed=feed,
            from_summary=from_summary,
        ),
        text=text,
    )


# --- reading one input ------------------------------------------------------------------------

# trafilatura and lxml keep module-level state; parsing is CPU work under the GIL anyway, so
# pages fetched at once are read one at a time at no cost.
_one_parse_at_a_time = threading.Lock()


@dataclass(frozen=True)
class _Crash:
    """An unexpected error while reading in a thread, raised again where the stream is read."""

    error: BaseException


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


@dataclass(frozen=True)
class _Part:
    """One entry of a feed read (or a note on the feed): a document, or why there is none.
    ``key`` orders the parts of one input: (the feed's place in an OPML list, the entry's)."""

    label: str
    outcome: Document | InputError
    key: tuple[int, int] = (0, 0)
    note: bool = False  # passed over with a note (entries outside the window), not a loss


@dataclass(frozen=True)
class _FeedRead:
    """What an input that is a feed (or an OPML list of feeds) gave: its parts, in order."""

    parts: list[_Part]

    def documents(self) -> list[tuple[tuple[int, int], Document]]:
        return [(p.key, p.outcome) for p in self.parts if isinstance(p.outcome, Document)]


_Outcome = Document | InputError | _FeedRead
# Hands over a feed's document as soon as it is read, with its key, before the whole feed is.
Deliver = Callable[[tuple[int, int], Document], None]


def _in_threads(function: Callable[[T], R], items: Sequence[T], workers: int) -> list[R]:
    """``[function(item) for item in items]``, ``workers`` at a time in daemon threads (a run
    that ends early does not wait for them at exit); the first error is raised again here."""
    if len(items) <= 1:
        return [function(item) for item in items]
    results: list[R | None] = [None] * len(items)
    errors: list[BaseException] = []
    next_item = iter(range(len(items)))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                index = next(next_item, None)
            if index is None or errors:
                return
            try:
                results[index] = function(items[index])
            except BaseException as exc:  # raised again by the caller
                errors.append(exc)
                return

    threads = [
        threading.Thread(target=work, name="briefer-feed", daemon=True)
        for _ in range(min(workers, len(items)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]  # every slot is filled when no error


class _SharedPages:
    """Pages fetched for feed entries, by :func:`url_key`: a story linked from two feeds is
    fetched once, and its second reader waits for the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[str, Future[FetchedPage]] = {}

    def get(self, url: str, fetch: Callable[[], FetchedPage]) -> FetchedPage:
        key = url_key(url)
        with self._lock:
            future = self._pages.get(key)
            mine = future is None
            if future is None:
                future = self._pages[key] = Future()
        if mine:
            try:
                future.set_result(fetch())
            except BaseException as exc:  # InputError, or a crash every reader must see
                future.set_exception(exc)
        return future.result()


def _window_words(window: dt.timedelta) -> str:
    hours = window.total_seconds() / 3600
    if hours % 24 == 0 and hours >= 48:
        return f"{hours / 24:g} days"
    return f"{hours:g} h" if hours >= 1 else f"{window.total_seconds() / 60:g} min"


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


# Entries read at once per feed; the per-host turns bound what reaches each server.
_ENTRY_WORKERS = 8


@dataclass(frozen=True)
class _Reader:
    """How a run reads one input into a document: its limits, its token counter, and the
    run's manners (turns per host, robots.txt, the HTTP cache) and pages read from feeds."""

    fetch_policy: FetchPolicy
    max_file_bytes: int
    count_tokens: CountTokens
    manners: Manners
    feed_pages: _SharedPages = field(default_factory=_SharedPages)

    def outcome(
        self, item: FileInput | TextInput | UrlInput, deliver: Deliver | None = None
    ) -> _Outcome:
        """The document of ``item`` (or, for a feed, its entries), or the InputError that says
        why there is none."""
        try:
            if isinstance(item, FileInput):
                return self._from_file(item, deliver)
            if isinstance(item, UrlInput):
                return self._from_url(item.label, deliver)
            kind = sniff_feed(item.text)
            if kind is not None:
                body = item.text.encode("utf-8")
                return self._from_feed(item.label, body, None, "", kind, deliver)
            return self._from_markup(
                item.text, html=looks_like_html(item.text), label=item.label, path=None, url=None
            )
        except InputError as exc:
            return exc

    def _from_markup(
        self, raw: str, *, html: bool, label: str, path: str | None, url: str | None
    ) -> Document:
        if not raw.strip():
            raise _NotAnArticle(label, "empty")
        with _one_parse_at_a_time:
            if html:
                text, meta = extract_html(raw, url)
                if not text:
                    raise _NotAnArticle(label, "no article text found")
            else:
                text, meta = parse_plain_text(raw)
        return ingest_text(
            text,
            input=label,
            path=path,
            url=url or meta.url,
            title=meta.title,
            outlet=meta.outlet or host_outlet(url),
            published=meta.published,
            published_text=meta.published_text,
            count_tokens=self.count_tokens,
        )

    def _from_file(self, item: FileInput, deliver: Deliver | None) -> _Outcome:
        data = _read_file_bytes(item.label, item.path, self.max_file_bytes)
        html = item.path.suffix.lower() in HTML_SUFFIXES
        if not data.strip():
            raise _NotAnArticle(item.label, "empty")
        kind = sniff_feed(data)
        if kind is not None:
            return self._from_feed(item.label, data, None, "", kind, deliver)
        if item.path.suffix.lower() in FEED_SUFFIXES:
            raise InputError(item.label, _not_a_feed(data))
        try:
            raw, _ = decode_text(data, html=html)
        except NotText as exc:
            raise _NotAnArticle(item.label, str(exc)) from None
        except ValueError as exc:
            raise InputError(item.label, str(exc)) from None
        return self._from_markup(
            raw, html=html, label=item.label, path=displayable(item.label), url=None
        )

    def _fetch(self, url: str, *, robots: bool = False) -> FetchedPage:
        # The HTTP client is imported by the first run that fetches, not by every run.
        from briefer.ingestion._fetch import fetch_url

        return fetch_url(url, policy=self.fetch_policy, manners=self.manners, robots=robots)

    def _from_url(self, label: str, deliver: Deliver | None) -> _Outcome:
        page = self._fetch(label)
        kind = sniff_feed(page.body or page.text)
        if kind is not None:
            return self._from_feed(label, page.body, page.url, page.type_header, kind, deliver)
        html = page.is_html or (page.content_type == "text/plain" and looks_like_html(page.text))
        return self._from_markup(page.text, html=html, label=label, path=None, url=page.url)

    # --- feeds --------------------------------------------------------------------------------

    def _from_feed(
        self,
        label: str,
        body: bytes,
        location: str | None,
        type_header: str,
        kind: FeedKind,
        deliver: Deliver | None,
    ) -> _FeedRead:
        import_in_background()  # the entries' pages are HTML
        if kind != "opml":
            try:
                feed = parse_feed(body, location=location, type_header=type_header)
            except NotAFeed as exc:
                raise InputError(label, str(exc)) from None
            return _FeedRead(self._feed_parts(label, feed, 0, deliver))
        try:
            listed = parse_opml(body)
        except NotAFeed as exc:
            raise InputError(label, str(exc)) from None
        numbered = list(enumerate(listed, start=1))
        read = _in_threads(
            lambda pair: self._listed_feed(pair[0], pair[1][0], deliver), numbered, _FETCH_WORKERS
        )
        return _FeedRead([part for parts in read for part in parts])

    def _listed_feed(self, number: int, url: str, deliver: Deliver | None) -> list[_Part]:
        """The parts of a feed an OPML list names; a feed that cannot be read is one loss."""
        try:
            page = self._fetch(url)
            kind = sniff_feed(page.body)
            if kind is None or kind == "opml":
                raise InputError(url, _not_a_feed(page.body, listed=True))
            try:
                feed = parse_feed(page.body, location=page.url, type_header=page.type_header)
            except NotAFeed as exc:
                raise InputError(url, str(exc)) from None
        except InputError as exc:
            return [_Part(url, exc, (number, 0))]
        return self._feed_parts(url, feed, number, deliver)

    def _feed_parts(
        self, label: str, feed: Feed, number: int, deliver: Deliver | None
    ) -> list[_Part]:
        """The entries of ``feed`` in the window, each read, after the notes on the feed."""
        policy = self.fetch_policy.feeds
        until = policy.until or dt.datetime.now(dt.UTC)
        chosen: list[FeedEntry] = []
        outside = undated = 0
        for entry in feed.entries:
            inside = in_window(entry, window=policy.window, until=until)
            if inside is False:
                outside += 1
                continue
            undated += inside is None
            chosen.append(entry)
        notes: list[str] = []
        if feed.problem:
            notes.append(f"read in spite of an error: {feed.problem}")
        if not feed.entries:
            notes.append("the feed has no entries")
        if outside and policy.window is not None:
            notes.append(
                f"{_entries(outside)} outside the {_window_words(policy.window)} window left out"
            )
        if undated:
            notes.append(f"{_entries(undated)} without a date, read all the same")
        parts = [_Part(label, InputError(label, note), (number, 0), note=True) for note in notes]

        def read(entry: FeedEntry) -> _Part:
            part = self._entry_part(label, feed, entry, number)
            if deliver is not None and isinstance(part.outcome, Document):
                deliver(part.key, part.outcome)
            return part

        return parts + _in_threads(read, chosen, _ENTRY_WORKERS)

    def _entry_part(self, feed_label: str, feed: Feed, entry: FeedEntry, number: int) -> _Part:
        key = (number, entry.position)
        if entry.link is None:
            what = f"{feed_label} (entry {entry.position}"
            what += f": {bounded_title(entry.title)})" if entry.title else ")"
            return _Part(what, InputError(what, "the entry has no link"), key)
        url = clean_url(entry.link)
        try:
            return _Part(url, self._entry_document(url, feed_label, feed, entry), key)
        except InputError as exc:
            return _Part(url, InputError(url, exc.reason), key)

    def _entry_document(self, url: str, feed_label: str, feed: Feed, entry: FeedEntry) -> Document:
        """The article an entry links to, with what the page lacks taken from the entry; from
        the entry's summary when the page is not the article and summaries are allowed."""
        page = self.feed_pages.get(url, lambda: self._fetch(url, robots=True))
        if sniff_feed(page.body) is not None:
            raise InputError(url, "the entry links to a feed, not an article")
        html = page.is_html or (page.content_type == "text/plain" and looks_like_html(page.text))
        with _one_parse_at_a_time:
            if html:
                text, meta = extract_html(page.text, page.url)
            else:
                text, meta = parse_plain_text(page.text)
        problem = page_problem(text, entry.summary) if text.strip() else "no article text found"
        # The host name is what the page gives when it names no outlet: the feed's title is
        # better then.
        named = meta.outlet not in (None, host_outlet(page.url), host_outlet(meta.url))
        outlet = (meta.outlet if named else None) or feed.title or host_outlet(page.url)
        if problem is not None:
            if not (self.fetch_policy.feeds.allow_summaries and entry.summary):
                raise InputError(url, problem)
            return ingest_text(
                entry.summary,
                input=url,
                url=page.url,
                title=entry.title or meta.title,
                outlet=outlet,
                published=entry.published_day or meta.published,
                count_tokens=self.count_tokens,
                feed=feed_label,
                from_summary=True,
            )
        return ingest_text(
            text,
            input=url,
            url=page.url,
            title=meta.title or entry.title,
            outlet=outlet,
            published=meta.published or entry.published_day,
            published_text=meta.published_text,
            count_tokens=self.count_tokens,
            feed=feed_label,
        )


def _not_a_feed(data: bytes, *, listed: bool = False) -> str:
    """Why bytes that were to be a feed are not one."""
    root = root_element(data)
    if root is None:
        return "not a feed: no XML in it"
    if root.lower() == "html" or looks_like_html(data[:4096].decode("latin-1")):
        return "not a feed: an HTML page"
    if listed and root.lower() == "opml":
        return "not a feed: an OPML list inside an OPML list is not followed"
    return f"not a feed: the document is <{root}>"


def _reader(
    fetch_policy: FetchPolicy | None, max_file_bytes: int, count_tokens: CountTokens | None
) -> _Reader:
    policy = fetch_policy or FetchPolicy()
    return _Reader(
        fetch_policy=policy,
        max_file_bytes=max_file_bytes,
        count_tokens=count_tokens or default_count_tokens,
        manners=Manners(policy),
    )


def _expand(inputs: Iterable[str | Path], stdin: IO[str] | None) -> list[Input]:
    return [item for given in inputs for item in expand_input(str(given), stdin=stdin)]


def _to_read(expanded: Sequence[Input]) -> tuple[list[int], dict[str, list[int]]]:
    """The positions of the files and texts to read, in order, and of each URL (a URL named
    twice is fetched once). When some of them will be HTML, the HTML reader starts loading."""
    local: list[int] = []
    urls: dict[str, list[int]] = {}
    html = False
    for index, item in enumerate(expanded):
        if isinstance(item, UrlInput):
            urls.setdefault(item.label, []).append(index)
            html = True
        elif isinstance(item, (FileInput, TextInput)):
            local.append(index)
            html = html or (
                isinstance(item, FileInput) and item.path.suffix.lower() in HTML_SUFFIXES
            )
    if html:
        import_in_background()
    return local, urls


# --- the run's documents, in input order ------------------------------------------------------


def _gather(expanded: Sequence[Input], outcomes: Mapping[int, _Outcome]) -> IngestResult:
    """The documents and exclusions of a run, in input order, from what reading each input at
    its position gave (``outcomes``): duplicates found, folders accounted for."""
    result = IngestResult()
    first_input: dict[str, str] = {}
    # Per folder named: how many of its files were articles, and how many were lost.
    articles: dict[Folder, int] = {}
    lost: dict[Folder, int] = {}

    def exclude(label: str, reason: str, folder: Folder | None, *, skipped: bool) -> None:
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

    def keep(document: Document, label: str, folder: Folder | None, *, copy_skipped: bool) -> None:
        earlier = first_input.get(document.id)
        if earlier is not None:
            # A copy found in a folder or a feed adds nothing and loses nothing.
            reason = "already read" if earlier == label else f"duplicate of {earlier}"
            exclude(label, reason, folder, skipped=copy_skipped)
            return
        first_input[document.id] = label
        result.documents.append(document)

    for index, item in enumerate(expanded):
        if isinstance(item, FolderEnd):
            walked = item.folder
            if not articles.get(walked) and not lost.get(walked):
                # Nothing in it was an article, and nothing failed that would say why.
                exclude(
                    walked.label, f"no usable files (looked for {KINDS_READ})", None, skipped=False
                )
            continue
        if isinstance(item, Unusable):
            exclude(item.label, item.reason, item.folder, skipped=item.skipped)
            continue
        folder = item.folder if isinstance(item, FileInput) else None
        document = outcomes[index]
        if isinstance(document, InputError):
            # In a folder, a file that holds no article is passed over; named, it is a loss.
            skipped = folder is not None and isinstance(document, _NotAnArticle)
            exclude(document.input, document.reason, folder, skipped=skipped)
            continue
        if folder is not None:
            articles[folder] = articles.get(folder, 0) + 1
        if isinstance(document, Document):
            keep(document, item.label, folder, copy_skipped=folder is not None)
            continue
        for part in document.parts:
            if isinstance(part.outcome, InputError):
                exclude(part.label, part.outcome.reason, None, skipped=part.note)
            else:
                # The same story in two feeds is news told twice, not a loss.
                keep(part.outcome, part.label, None, copy_skipped=True)
    return result


# --- reading everything, then returning -------------------------------------------------------


def load_sources(
    inputs: Sequence[str | Path],
    *,
    stdin: IO[str] | None = None,
    fetch_policy: FetchPolicy | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    count_tokens: CountTokens | None = None,
) -> IngestResult:
    """Read every input; unusable ones become ``excluded`` entries, never exceptions."""
    reader = _reader(fetch_policy, max_file_bytes, count_tokens)
    expanded = _expand(inputs, stdin)
    local, urls = _to_read(expanded)
    outcomes: dict[int, _Outcome] = {}
    if not urls:
        for index in local:
            outcomes[index] = reader.outcome(_readable(expanded[index]))
        return _gather(expanded, outcomes)
    with ThreadPoolExecutor(max_workers=min(_FETCH_WORKERS, len(urls))) as pool:
        # Pages are fetched while the files are read.
        pages = {url: pool.submit(reader.outcome, UrlInput(url)) for url in urls}
        for index in local:
            outcomes[index] = reader.outcome(_readable(expanded[index]))
        for url, indices in urls.items():
            page = pages[url].result()
            outcomes.update(dict.fromkeys(indices, page))
    return _gather(expanded, outcomes)


def _readable(item: Input) -> FileInput | TextInput:
    assert isinstance(item, (FileInput, TextInput))  # by _to_read
    return item


# --- reading as documents come ----------------------------------------------------------------


async def _in_thread(function: Callable[[], R]) -> R:
    """``function()`` in a thread of its own, awaited without blocking the loop.

    A daemon thread, not the loop's executor: a run that ends early (a budget stop, ^C) does not
    wait at exit for a slow server to answer a fetch nobody needs any more.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[R] = loop.create_future()

    def run() -> None:
        try:
            value = function()
        except BaseException as exc:  # handed to the awaiting task, which raises it
            deliver = functools.partial(_fail, future, exc)
        else:
            deliver = functools.partial(_succeed, future, value)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(deliver)

    threading.Thread(target=run, name="briefer-read", daemon=True).start()
    return await future


def _succeed(future: asyncio.Future[R], value: R) -> None:
    if not future.done():  # else cancelled meanwhile
        future.set_result(value)


def _fail(future: asyncio.Future[R], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


# What a reading thread hands over: the input's positions, an early entry's key (None for the
# input's whole outcome), and the outcome.
_Arrival = tuple[list[int], tuple[int, int] | None, _Outcome | _Crash]


def _hand_over(
    loop: asyncio.AbstractEventLoop,
    arrived: asyncio.Queue[_Arrival],
    arrival: _Arrival,
    stop: threading.Event,
) -> None:
    try:
        loop.call_soon_threadsafe(arrived.put_nowait, arrival)
    except RuntimeError:
        stop.set()  # the loop is closed: nobody is waiting


def _handing_over(
    loop: asyncio.AbstractEventLoop,
    arrived: asyncio.Queue[_Arrival],
    indices: list[int],
    stop: threading.Event,
) -> Deliver:
    """A feed's early hand-over of each entry's document, from a reading thread."""

    def deliver(key: tuple[int, int], document: Document) -> None:
        _hand_over(loop, arrived, (indices, key, document), stop)

    return deliver


class SourceStream:
    """The documents of a run as they are read, then the whole result.

    ::

        stream = stream_sources(inputs)
        async for document in stream:   # as soon as each is read
            ...
        stream.result                   # the IngestResult of load_sources(inputs)

    Iterating stops the reading when left early (the threads still reading finish on their
    own, unwaited for).
    """

    def __init__(
        self, inputs: Sequence[str | Path], stdin: IO[str] | None, reader: _Reader
    ) -> None:
        self._inputs = list(inputs)
        self._stdin = stdin
        self._reader = reader
        self._result: IngestResult | None = None

    @property
    def result(self) -> IngestResult:
        """Documents and exclusions in input order; there once iteration has ended."""
        if self._result is None:
            raise RuntimeError("the sources have not all been read yet: iterate the stream first")
        return self._result

    def __aiter__(self) -> AsyncGenerator[Document, None]:
        return self._documents()

    async def _documents(self) -> AsyncGenerator[Document, None]:
        expanded = await _in_thread(lambda: _expand(self._inputs, self._stdin))
        local, urls = _to_read(expanded)
        arrived: asyncio.Queue[_Arrival] = asyncio.Queue()
        stop = threading.Event()
        tasks = [asyncio.ensure_future(self._read_local(expanded, local, arrived, stop))]
        fetching = asyncio.Semaphore(_FETCH_WORKERS)
        tasks += [
            asyncio.ensure_future(self._read_url(url, indices, arrived, fetching))
            for url, indices in urls.items()
        ]
        outcomes: dict[int, _Outcome] = {}
        # document id -> the first position given with it: (input, feed in a list, entry)
        given: dict[str, tuple[int, int, int]] = {}

        def first_at(position: tuple[int, int, int], document: Document) -> bool:
            earlier = given.get(document.id)
            if earlier is None or position < earlier:
                given[document.id] = position
                return True
            return False

        expected = len(local) + sum(len(indices) for indices in urls.values())
        try:
            while len(outcomes) < expected:
                indices, early, outcome = await arrived.get()
                if isinstance(outcome, _Crash):
                    raise outcome.error
                if early is not None:  # an entry of a feed still being read
                    assert isinstance(outcome, Document)
                    if first_at((indices[0], *early), outcome):
                        yield outcome
                    continue
                outcomes.update(dict.fromkeys(indices, outcome))
                if isinstance(outcome, Document):
                    if first_at((indices[0], 0, 0), outcome):
                        yield outcome
                elif isinstance(outcome, _FeedRead):
                    for key, document in outcome.documents():
                        if first_at((indices[0], *key), document):
                            yield document
            await asyncio.gather(*tasks)  # each has handed over all it read: they end now
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
        self._result = _gather(expanded, outcomes)

    async def _read_local(
        self,
        expanded: Sequence[Input],
        local: Sequence[int],
        arrived: asyncio.Queue[_Arrival],
        stop: threading.Event,
    ) -> None:
        """Files and stdin's text, read in input order by one thread, each handed over as soon
        as it is read (a feed's entries each as soon as it is read)."""
        loop = asyncio.get_running_loop()

        def read_all() -> None:
            for index in local:
                if stop.is_set():
                    return
                deliver = _handing_over(loop, arrived, [index], stop)
                try:
                    outcome: _Outcome | _Crash = self._reader.outcome(
                        _readable(expanded[index]), deliver
                    )
                except BaseException as exc:  # raised by the iteration, in the loop
                    outcome = _Crash(exc)
                _hand_over(loop, arrived, ([index], None, outcome), stop)

        if local:
            await _in_thread(read_all)

    async def _read_url(
        self,
        url: str,
        indices: list[int],
        arrived: asyncio.Queue[_Arrival],
        fetching: asyncio.Semaphore,
    ) -> None:
        deliver = _handing_over(asyncio.get_running_loop(), arrived, indices, threading.Event())
        async with fetching:
            try:
                outcome: _Outcome | _Crash = await _in_thread(
                    lambda: self._reader.outcome(UrlInput(url), deliver)
                )
            except Exception as exc:  # raised by the iteration, in the loop
                outcome = _Crash(exc)
        arrived.put_nowait((indices, None, outcome))


def stream_sources(
    inputs: Sequence[str | Path],
    *,
    stdin: IO[str] | None = None,
    fetch_policy: FetchPolicy | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    count_tokens: CountTokens | None = None,
) -> SourceStream:
    """:func:`load_sources`, read as documents come: iterate the stream in a running loop for
    each document as soon as it is read, then take ``result``."""
    return SourceStream(inputs, stdin, _reader(fetch_policy, max_file_bytes, count_tokens))
