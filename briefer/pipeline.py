"""The stages in order: ingest → chunk → extract (and ground) → merge → compose.

``abrief`` is the pipeline, written once as async; ``brief`` is its sync twin. Both take the
same objects the CLI uses, so anything the CLI does a library user can do.

The pipeline streams: each document's extraction starts as soon as it is read and chunked,
while the other inputs are still being read (files in a worker thread, URLs several at once), so
the first model call goes out before the last input is in. What a run produces does not depend
on the order in which inputs arrive: documents, ids, exclusions and records are gathered in
input order at the end, as if everything had been read first. Two things wait for the whole
input: a document whose date has no year (it takes the year from the others, before its
extraction, whose prompt carries the date), and merging and composition (they need every
record).

With a batch client in the stack (``briefer.llm.BatchClient``, ``--batch``) a run is made in
passes: calls the cache cannot answer are queued for a batch, the pass stops before anything
is composed or kept from part of the replies, and the run is made again when the batches are
in (``briefer.llm.run_in_batches``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from briefer.composition import compose_items
from briefer.errors import (
    BudgetExceededError,
    ConfigError,
    NoRepliesError,
    StoreError,
    first_line,
)
from briefer.extraction import ExtractionResult, extract_documents
from briefer.ingestion import (
    DEFAULT_MAX_FILE_BYTES,
    FeedPolicy,
    FetchPolicy,
    IngestResult,
    SourceStream,
    chunk_document,
    stream_sources,
)
from briefer.llm import ReplyPendingError
from briefer.llm.base import LLMClient, LLMRequest
from briefer.llm.pricing import Price, require_price
from briefer.llm.structured import CallObserver, LLMRunner, run_sync
from briefer.llm.tokens import encoding_for_model
from briefer.merging import MergeResult, merge_records
from briefer.models import (
    Briefing,
    Chunk,
    Document,
    Excluded,
    MergedEvent,
    MergedStance,
    Source,
    Stats,
    Usage,
)
from briefer.settings import Settings, build_client, load_settings
from briefer.text.dates import resolve_publication_years, written_date
from briefer.text.words import ordinary_words

if TYPE_CHECKING:
    from briefer.stories import Recall, Store

__all__ = [
    "BriefOptions",
    "ExtractOutcome",
    "NullProgress",
    "Progress",
    "abrief",
    "aextract",
    "areview",
    "brief",
    "extract",
    "nothing_usable",
    "options_from",
    "plan_chunks",
    "review",
]

P = ParamSpec("P")
R = TypeVar("R")

# The defaults a run shares with the settings a user can give: one place says what they are.
DEFAULT_MODEL: str = Settings.model_fields["model"].default
_DEFAULT_CONCURRENCY: int = Settings.model_fields["concurrency"].default
_DEFAULT_MAX_REPAIRS: int = Settings.model_fields["max_repairs"].default


class Progress(CallObserver, Protocol):
    """Told how many calls a run expects, and when each starts, retries and ends; the CLI
    draws progress from it. ``expect`` is told again, with the new total, as documents come."""

    def expect(self, calls: int) -> None: ...


class NullProgress:
    def expect(self, calls: int) -> None:
        pass

    def call_started(self, request: LLMRequest) -> None:
        pass

    def call_retrying(self, request: LLMRequest, reason: str, delay: float) -> None:
        pass

    def call_finished(self, request: LLMRequest, error: BaseException | None) -> None:
        pass


@dataclass(frozen=True)
class BriefOptions:
    """Everything a run can be told, with the defaults a user gets."""

    model: str = DEFAULT_MODEL
    date: dt.date | None = None
    title: str | None = None
    compose: bool = True
    concurrency: int = _DEFAULT_CONCURRENCY
    max_repairs: int = _DEFAULT_MAX_REPAIRS
    max_cost: float | None = None
    prices: dict[str, Price] | None = None
    keep_ungrounded: bool = False
    chunk_tokens: int = 2000
    chunk_overlap: int = 100
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # The story store: each event is matched against the stored stories (new, updated,
    # continuing) and the run is kept. None: every run stands alone.
    store: Store | None = None
    only_new: bool = False  # leave out the stories reported again with nothing new

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.max_cost is not None and self.max_cost < 0:
            raise ConfigError(f"max cost must not be negative, not {self.max_cost}")
        if self.max_cost is not None:
            require_price(self.model, self.prices)


def options_from(
    settings: Settings,
    *,
    allow_private: bool = False,
    max_bytes: int | None = None,
    window: dt.timedelta | None = dt.timedelta(hours=24),
    allow_summaries: bool = False,
    **fields: Any,
) -> BriefOptions:
    """The options of a run as ``settings`` give them (model, concurrency, budget, prices,
    timeouts, the HTTP cache), with the fetching rules given here and any other field of
    ``BriefOptions`` in ``fields``: what the CLI and ``briefer daily`` both run with. The feeds'
    ``window`` ends now for today's briefing (a morning run takes the night's news), at the end
    of the day, local time, for an earlier ``date``."""
    fetch = FetchPolicy(
        allow_private=allow_private,
        connect_timeout=min(5.0, settings.fetch_timeout),
        read_timeout=settings.fetch_timeout,
        feeds=FeedPolicy(
            window=window, until=_window_end(fields.get("date")), allow_summaries=allow_summaries
        ),
        http_cache_dir=settings.http_cache_dir(),
    )
    if max_bytes is not None:
        fetch = dataclasses.replace(fetch, max_bytes=max_bytes)
    return BriefOptions(
        model=settings.model,
        concurrency=settings.concurrency,
        max_cost=settings.max_cost,
        max_repairs=settings.max_repairs,
        prices=settings.price_table(),
        fetch=fetch,
        **fields,
    )


def _window_end(day: object) -> dt.datetime | None:
    if not isinstance(day, dt.date) or day >= dt.date.today():
        return None
    return dt.datetime.combine(day, dt.time.max).astimezone()


@dataclass
class ExtractOutcome:
    documents: list[Document]
    chunks: dict[str, list[Chunk]]
    extraction: ExtractionResult
    excluded: list[Excluded]
    runner: LLMRunner
    notes: list[str] = field(default_factory=list)

    @property
    def stats(self) -> Stats:
        return self.extraction.stats.model_copy(
            update={
                "documents": len(self.documents),
                "chunks": sum(len(c) for c in self.chunks.values()),
            }
        )


def plan_chunks(documents: Sequence[Document], options: BriefOptions) -> dict[str, list[Chunk]]:
    return {doc.id: _chunks_of(doc, options) for doc in documents}


def _chunks_of(document: Document, options: BriefOptions) -> list[Chunk]:
    return chunk_document(
        document,
        max_tokens=options.chunk_tokens,
        overlap_tokens=options.chunk_overlap,
        encoding=encoding_for_model(options.model),
    )


def _default_client(options: BriefOptions) -> LLMClient:
    return build_client(load_settings(model=options.model))


def _waits_for_the_others(document: Document) -> bool:
    """A date without a year takes it from the other articles' dates: known only at the end."""
    return document.source.published is None and bool(document.source.published_text)


class _Extractions:
    """Each document's extraction, started as soon as the document is read; the first failure
    (a budget stop) ends the run, as it would with every document read first."""

    def __init__(self, runner: LLMRunner, options: BriefOptions, progress: Progress) -> None:
        self._runner = runner
        self._options = options
        self._progress = progress
        # By document id: the document extracted, its chunks, its extraction.
        self._started: dict[str, tuple[Document, list[Chunk], asyncio.Task[ExtractionResult]]] = {}
        # Extractions of documents that a copy read later, from an input before them, replaced.
        self._replaced: list[asyncio.Task[ExtractionResult]] = []
        self._calls = 0
        # Holds the error of the first extraction that failed, as soon as it fails.
        self._failure: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

    async def run(self, stream: SourceStream) -> tuple[IngestResult, list[Document]]:
        """Read the sources, extracting each document as it comes; the ingest result and the
        run's documents (years resolved), every one of them extracted or being extracted."""
        self._progress.expect(int(self._options.compose))
        reading = asyncio.ensure_future(self._read(stream))
        try:
            first: list[asyncio.Future[Any]] = [reading, self._failure]
            await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
            self._raise_a_failure()
            loaded = reading.result()
            # A dateline without a year takes it from the other articles or the briefing date
            # before extraction, whose prompt carries the publication date.
            documents = resolve_publication_years(loaded.documents, self._options.date)
            for document in documents:
                self._start(document)
        except BaseException:
            await self._cancel(reading)
            raise
        return loaded, documents

    async def _read(self, stream: SourceStream) -> IngestResult:
        async with contextlib.aclosing(aiter(stream)) as documents:
            async for document in documents:
                if not _waits_for_the_others(document):
                    self._start(document)
        return stream.result

    def _start(self, document: Document) -> None:
        """Chunk ``document`` and start its extraction, unless it is started already."""
        started = self._started.get(document.id)
        if started is not None:
            if started[0] is document:
                return
            self._replaced.append(started[2])
        chunks = _chunks_of(document, self._options)
        self._calls += len(chunks)
        self._progress.expect(self._calls + int(self._options.compose))
        task = asyncio.ensure_future(
            extract_documents(
                [(document, chunks)], self._runner, keep_ungrounded=self._options.keep_ungrounded
            )
        )
        task.add_done_callback(self._note_failure)
        self._started[document.id] = (document, chunks, task)

    def _note_failure(self, task: asyncio.Task[ExtractionResult]) -> None:
        if task.cancelled() or task in self._replaced:
            return
        error = task.exception()
        if error is not None and not self._failure.done():
            self._failure.set_result(error)

    def _raise_a_failure(self) -> None:
        if self._failure.done():
            raise self._failure.result()

    async def results(
        self, documents: Sequence[Document]
    ) -> tuple[ExtractionResult, dict[str, list[Chunk]]]:
        """Every document's records, in the order of ``documents``, and their chunks."""
        tasks = [self._started[d.id][2] for d in documents]
        try:
            if tasks:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            self._raise_a_failure()
            # The calls made for a replaced copy are counted like any other: let them end.
            await asyncio.gather(*self._replaced, return_exceptions=True)
        except BaseException:
            await self._cancel()
            raise
        extraction = ExtractionResult.combine([task.result() for task in tasks])
        return extraction, {d.id: self._started[d.id][1] for d in documents}

    async def _cancel(self, *others: asyncio.Future[Any]) -> None:
        tasks = [*others, *(task for _, _, task in self._started.values()), *self._replaced]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def aextract(
    sources: Sequence[str | Path],
    *,
    client: LLMClient | None = None,
    options: BriefOptions | None = None,
    progress: Progress | None = None,
    stdin: IO[str] | None = None,
) -> ExtractOutcome:
    """Ingest, chunk, extract and ground: the records before merging."""
    options = options or BriefOptions()
    used = client or _default_client(options)
    return await _in_batches(
        used,
        sources,
        lambda watched: _extract_once(
            sources, client=used, options=options, progress=watched, stdin=stdin
        ),
        progress,
    )


async def _in_batches(
    client: LLMClient,
    sources: Sequence[str | Path],
    once: Callable[[Any], Coroutine[Any, Any, R]],
    progress: Progress | None,
) -> R:
    """``once``, in as many passes as the batches of a batch client in the stack take."""
    from briefer.llm import find_batch_client, run_in_batches

    if find_batch_client(client) is not None and any(str(s) == "-" for s in sources):
        raise ConfigError(
            "a run in batches reads its sources once for each round of batches: save stdin "
            "to a file and give the file"
        )
    return await run_in_batches(client, once, progress)


def _stop_if_queued(runner: LLMRunner) -> None:
    """Calls queued for a batch: what follows them would be made from part of the replies (a
    briefing of some records, kept in the store); the run is made again when they are in."""
    queued = sum(isinstance(f.error, ReplyPendingError) for f in runner.failures)
    if queued:
        raise ReplyPendingError(f"{queued} calls are queued for a batch")


async def _extract_once(
    sources: Sequence[str | Path],
    *,
    client: LLMClient | None = None,
    options: BriefOptions | None = None,
    progress: Progress | None = None,
    stdin: IO[str] | None = None,
) -> ExtractOutcome:
    options = options or BriefOptions()
    progress = progress or NullProgress()
    # No tokenizer is built ahead: articles counted before are counted from the token cache
    # (``briefer.llm.tokens``), and a run of such articles never needs one.
    runner = LLMRunner(
        client or _default_client(options),
        model=options.model,
        concurrency=options.concurrency,
        max_repairs=options.max_repairs,
        max_cost=options.max_cost,
        prices=options.prices,
        observer=progress,
    )
    extractions = _Extractions(runner, options, progress)
    stream = stream_sources(
        list(sources),
        stdin=stdin,
        fetch_policy=options.fetch,
        max_file_bytes=options.max_file_bytes,
    )
    loaded, documents = await extractions.run(stream)
    extraction, chunks = await extractions.results(documents)
    excluded = [*loaded.excluded, *extraction.excluded]
    _refuse_an_empty_run(runner, chunks, excluded)
    return ExtractOutcome(
        documents=documents,
        chunks=chunks,
        extraction=extraction,
        excluded=excluded,
        runner=runner,
        notes=_grounding_notes(extraction, options),
    )


def _refuse_an_empty_run(
    runner: LLMRunner, chunks: dict[str, list[Chunk]], excluded: list[Excluded]
) -> None:
    """Raise when chunks were sent and not one extraction call got a usable reply: such a run
    has nothing to say, and a briefing saying nothing must not pass for a result."""
    # Split parts of a chunk whose reply was cut off are asked under "extract-split".
    answered = sum(n for stage, n in runner.answered.items() if stage.startswith("extract"))
    if not any(chunks.values()) or answered:
        return
    errors = [f.error for f in runner.failures if f.request.context.stage.startswith("extract")]
    if not errors:
        return
    calls = len(errors)
    first = errors[0]
    if all(isinstance(e, BudgetExceededError) for e in errors):
        limit = runner.max_cost or 0.0
        raise BudgetExceededError(
            f"nothing was extracted: {first_line(first)}",
            spent=runner.usage.cost_usd,
            limit=limit,
            excluded=excluded,
        )
    cause = next(e for e in errors if not isinstance(e, BudgetExceededError))
    raise NoRepliesError(
        f"no model call succeeded ({calls} of {calls} extraction calls failed): "
        f"{first_line(cause)}",
        errors=errors,
        excluded=excluded,
    )


LOW_GROUNDED_SHARE = 0.5  # below this, a run's records are mostly not in the articles


def _grounding_notes(extraction: ExtractionResult, options: BriefOptions) -> list[str]:
    """A note when most of the records the model returned are not in the articles (a weak
    model does this), naming the model."""
    stats = extraction.stats
    if not stats.records:
        return []
    share = stats.records_grounded / stats.records
    if share >= LOW_GROUNDED_SHARE:
        return []
    kept = "kept, marked unverified" if options.keep_ungrounded else "dropped"
    return [
        f"only {share:.0%} of the {stats.records} records {options.model} returned are grounded "
        f"in the articles (their quotes are not in the text); the others were {kept}"
    ]


def nothing_usable(stats: Stats, records_kept: int, model: str) -> str | None:
    """Why a run that kept no record has nothing to say, in one line; None when it kept some.

    A briefing with no record is not a result to write over a previous one: either the model
    returned nothing, or nothing it returned is in the articles.
    """
    if records_kept:
        return None
    if stats.records and stats.records_grounded == 0:
        return (
            f"{model} returned {stats.records} records and none is grounded (0%): their quotes "
            "are not in the articles; try a stronger model (briefer extract --keep-ungrounded "
            "shows what it returned)"
        )
    return f"{model} found no event or stance in {stats.documents} document(s)"


def _composition_excluded(runner: LLMRunner) -> list[Excluded]:
    """Composition calls that failed (a replay miss among them): the briefing is then not the
    model's, in whole or in part, and says so as a partial result."""
    found = []
    for failure in runner.failures:
        if failure.request.context.stage != "compose":
            continue
        # The follow-up call carries the first reply back to the model.
        followup = any(m.role == "assistant" for m in failure.request.messages)
        what = "the follow-up composition call" if followup else "the composition call"
        instead = (
            "the items it was to fix were written by the deterministic composer"
            if followup
            else "the deterministic composer wrote the briefing instead"
        )
        found.append(
            Excluded(
                input="composition",
                reason=f"{what} failed ({first_line(failure.error)}); {instead}",
                stage="compose",
            )
        )
    return found


def _briefing_date(documents: Sequence[Document]) -> dt.date:
    dates = [d.source.published for d in documents if d.source.published]
    return max(dates) if dates else dt.datetime.now(dt.UTC).date()


async def abrief(
    sources: Sequence[str | Path],
    *,
    client: LLMClient | None = None,
    options: BriefOptions | None = None,
    progress: Progress | None = None,
    stdin: IO[str] | None = None,
) -> Briefing:
    """Build a briefing from files, folders, URLs or ``-`` (stdin)."""
    options = options or BriefOptions()
    used = client or _default_client(options)
    return await _in_batches(
        used,
        sources,
        lambda watched: _brief_once(
            sources, client=used, options=options, progress=watched, stdin=stdin
        ),
        progress,
    )


async def _brief_once(
    sources: Sequence[str | Path],
    *,
    client: LLMClient,
    options: BriefOptions,
    progress: Progress | None,
    stdin: IO[str] | None,
) -> Briefing:
    outcome = await _extract_once(
        sources, client=client, options=options, progress=progress, stdin=stdin
    )
    _stop_if_queued(outcome.runner)
    documents = outcome.documents
    merged = merge_records(outcome.extraction.events, outcome.extraction.stances, documents)
    date = options.date or _briefing_date(documents)
    title = options.title or f"Daily briefing, {written_date(date)}"
    read = [d.source for d in documents]
    recall = options.store.recall(merged, documents, day=date) if options.store else None
    told = _Told.of_recall(recall) if recall is not None else _Told.of_merge(merged)
    composed = await compose_items(
        told.composed(),
        [*read, *told.earlier_sources],
        outcome.runner if options.compose else None,
        model=options.model,
        date=date,
        title=title,
        common_words=ordinary_words(d.text for d in documents),
        only_new=options.only_new,
    )
    _stop_if_queued(outcome.runner)
    failed = _composition_excluded(outcome.runner)
    # A failed call's note says what its excluded entry says: keep one of them.
    causes = [first_line(f.error) for f in outcome.runner.failures]
    notes = [n for n in composed.notes if not (failed and any(c in n for c in causes))]
    briefing = Briefing(
        date=date,
        title=title,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        model=options.model,
        composer=composed.composer,
        items=composed.items,
        events=told.events,
        stances=told.stances,
        sources=[*read, *told.earlier_sources],
        excluded=[*outcome.excluded, *failed],
        usage=outcome.runner.usage.snapshot(),
        stats=outcome.stats,
        notes=[*outcome.notes, *notes],
        previous=told.previous_day,
    )
    if options.store is not None and recall is not None:
        _keep(options.store, recall, briefing, outcome)
    return briefing


@dataclass(frozen=True)
class _Told:
    """What a briefing tells: today's merged records alone, or, with a store, the stories they
    continue (each event with its status, its changes and the earlier days' records)."""

    events: list[MergedEvent]
    stances: list[MergedStance]
    earlier_sources: list[Source]
    previous_day: dt.date | None

    @classmethod
    def of_merge(cls, merged: MergeResult) -> _Told:
        return cls(list(merged.events), list(merged.stances), [], None)

    @classmethod
    def of_recall(cls, recall: Recall) -> _Told:
        return cls(
            list(recall.events),
            list(recall.stances),
            list(recall.earlier_sources),
            recall.previous_day,
        )

    def composed(self) -> _Told:
        """What composition is given. On a store's first day there is no earlier briefing to
        tell what is new since: every event is new, and the briefing reads as one without a
        store (the events keep their status in the JSON)."""
        if self.previous_day is not None:
            return self
        events = [e.model_copy(update={"status": None, "changes": []}) for e in self.events]
        return _Told(events, self.stances, self.earlier_sources, None)


def _keep(store: Store, recall: Recall, briefing: Briefing, outcome: ExtractOutcome) -> None:
    """Keep the run in the store, in one transaction. When that fails the briefing is not lost:
    the error carries it, for the caller to write before saying what went wrong."""
    records = (outcome.extraction.events, outcome.extraction.stances)
    try:
        store.save(recall, briefing, records, outcome.documents)
    except StoreError as exc:
        exc.briefing = briefing
        raise


async def areview(
    store: Store,
    since: dt.date,
    until: dt.date | None = None,
    *,
    client: LLMClient | None = None,
    options: BriefOptions | None = None,
    progress: Progress | None = None,
) -> Briefing:
    """A review of the days ``since`` to ``until`` (the last stored day when None), from the
    store alone: the stories active in the period, each with its status over it (new, updated
    with its changes, continuing). No model call unless ``options.compose`` and a ``client``
    are given; the deterministic composer writes it otherwise."""
    options = options or BriefOptions(compose=False)
    recall = store.review(since, until)
    until = until or recall.day
    told = _Told.of_recall(recall)
    title = options.title or f"Review, {written_date(since)} to {written_date(until)}"
    runner = None
    if options.compose and client is not None:
        runner = LLMRunner(
            client,
            model=options.model,
            concurrency=options.concurrency,
            max_repairs=options.max_repairs,
            max_cost=options.max_cost,
            prices=options.prices,
            observer=progress or NullProgress(),
        )
    sources = list(recall.earlier_sources)
    composed = await compose_items(
        told.composed(),
        sources,
        runner,
        model=options.model,
        date=until,
        title=title,
        only_new=options.only_new,
    )
    failed = _composition_excluded(runner) if runner is not None else []
    return Briefing(
        date=until,
        title=title,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        model=options.model if runner is not None else "",
        composer=composed.composer,
        items=composed.items,
        events=told.events,
        stances=told.stances,
        sources=sources,
        excluded=failed,
        usage=runner.usage.snapshot() if runner is not None else Usage(),
        notes=composed.notes,
        previous=told.previous_day,
        period_start=since,
    )


def _sync_twin(function: Callable[P, Coroutine[Any, Any, R]], name: str) -> Callable[P, R]:
    """``function`` for synchronous code, named ``name``: the same parameters, run to completion
    (refused inside a running loop, which awaits ``function`` itself)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(function(*args, **kwargs))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = (
        f"Sync wrapper of :func:`{function.__name__}` for scripts and notebooks without a "
        "running loop."
    )
    return run


brief = _sync_twin(abrief, "brief")
extract = _sync_twin(aextract, "extract")
review = _sync_twin(areview, "review")
