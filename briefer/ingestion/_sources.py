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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

from briefer.errors import InputError
from briefer.ingestion._decode import NotText, decode_text, displayable, normalize_newlines
from briefer.ingestion._html import (
    extract_html,
    host_outlet,
    import_in_background,
    looks_like_html,
)
from briefer.ingestion._inputs import (
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
        ),
        text=text,
    )


# --- reading one input ------------------------------------------------------------------------

# trafilatura and lxml keep module-level state; parsing is CPU work under the GIL anyway, so
# pages fetched at once are read one at a time at no cost.
_one_parse_at_a_time = threading.Lock()

_Outcome = Document | InputError


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
class _Reader:
    """How a run reads one input into a document: its limits and its token counter."""

    fetch_policy: FetchPolicy
    max_file_bytes: int
    count_tokens: CountTokens

    def outcome(self, item: FileInput | TextInput | UrlInput) -> _Outcome:
        """The document of ``item``, or the InputError that says why there is none."""
        try:
            if isinstance(item, FileInput):
                return self._from_file(item)
            if isinstance(item, UrlInput):
                return self._from_url(item.label)
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

    def _from_file(self, item: FileInput) -> Document:
        data = _read_file_bytes(item.label, item.path, self.max_file_bytes)
        html = item.path.suffix.lower() in HTML_SUFFIXES
        if not data.strip():
            raise _NotAnArticle(item.label, "empty")
        try:
            raw, _ = decode_text(data, html=html)
        except NotText as exc:
            raise _NotAnArticle(item.label, str(exc)) from None
        except ValueError as exc:
            raise InputError(item.label, str(exc)) from None
        return self._from_markup(
            raw, html=html, label=item.label, path=displayable(item.label), url=None
        )

    def _from_url(self, label: str) -> Document:
        # The HTTP client is imported by the first run that fetches, not by every run.
        from briefer.ingestion._fetch import fetch_url

        page: FetchedPage = fetch_url(label, policy=self.fetch_policy)
        html = page.is_html or (page.content_type == "text/plain" and looks_like_html(page.text))
        return self._from_markup(page.text, html=html, label=label, path=None, url=page.url)


def _reader(
    fetch_policy: FetchPolicy | None, max_file_bytes: int, count_tokens: CountTokens | None
) -> _Reader:
    return _Reader(
        fetch_policy=fetch_policy or FetchPolicy(),
        max_file_bytes=max_file_bytes,
        count_tokens=count_tokens or default_count_tokens,
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
        earlier = first_input.get(document.id)
        if earlier is not None:
            # A copy found in a folder adds nothing and loses nothing.
            reason = "already read" if earlier == item.label else f"duplicate of {earlier}"
            exclude(item.label, reason, folder, skipped=folder is not None)
            continue
        first_input[document.id] = item.label
        result.documents.append(document)
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
        arrived: asyncio.Queue[tuple[list[int], _Outcome | _Crash]] = asyncio.Queue()
        stop = threading.Event()
        tasks = [asyncio.ensure_future(self._read_local(expanded, local, arrived, stop))]
        fetching = asyncio.Semaphore(_FETCH_WORKERS)
        tasks += [
            asyncio.ensure_future(self._read_url(url, indices, arrived, fetching))
            for url, indices in urls.items()
        ]
        outcomes: dict[int, _Outcome] = {}
        given: dict[str, int] = {}  # document id -> the first position given with it
        expected = len(local) + sum(len(indices) for indices in urls.values())
        try:
            while len(outcomes) < expected:
                indices, outcome = await arrived.get()
                if isinstance(outcome, _Crash):
                    raise outcome.error
                outcomes.update(dict.fromkeys(indices, outcome))
                if isinstance(outcome, Document):
                    earlier = given.get(outcome.id)
                    if earlier is None or indices[0] < earlier:
                        given[outcome.id] = indices[0]
                        yield outcome
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
        arrived: asyncio.Queue[tuple[list[int], _Outcome | _Crash]],
        stop: threading.Event,
    ) -> None:
        """Files and stdin's text, read in input order by one thread, each handed over as soon
        as it is read."""
        loop = asyncio.get_running_loop()

        def hand_over(index: int, outcome: _Outcome | _Crash) -> None:
            try:
                loop.call_soon_threadsafe(arrived.put_nowait, ([index], outcome))
            except RuntimeError:
                stop.set()  # the loop is closed: nobody is waiting

        def read_all() -> None:
            for index in local:
                if stop.is_set():
                    return
                try:
                    outcome: _Outcome | _Crash = self._reader.outcome(_readable(expanded[index]))
                except BaseException as exc:  # raised by the iteration, in the loop
                    outcome = _Crash(exc)
                hand_over(index, outcome)

        if local:
            await _in_thread(read_all)

    async def _read_url(
        self,
        url: str,
        indices: list[int],
        arrived: asyncio.Queue[tuple[list[int], _Outcome | _Crash]],
        fetching: asyncio.Semaphore,
    ) -> None:
        async with fetching:
            try:
                outcome: _Outcome | _Crash = await _in_thread(
                    lambda: self._reader.outcome(UrlInput(url))
                )
            except Exception as exc:  # raised by the iteration, in the loop
                outcome = _Crash(exc)
        arrived.put_nowait((indices, outcome))


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
