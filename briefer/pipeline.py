"""The stages in order: ingest → chunk → extract (and ground) → merge → compose.

``abrief`` is the pipeline, written once as async; ``brief`` is its sync wrapper. Both take the
same objects the CLI uses, so anything the CLI does a library user can do.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from briefer.composition import compose_items
from briefer.errors import (
    BudgetExceededError,
    ConfigError,
    NoRepliesError,
)
from briefer.extraction import ExtractionResult, extract_documents
from briefer.ingestion import FetchPolicy, chunk_document, load_sources
from briefer.llm.base import LLMClient, LLMRequest
from briefer.llm.pricing import Price, require_price
from briefer.llm.structured import CallObserver, LLMRunner
from briefer.llm.tokens import encoding_for_model
from briefer.merging import merge_records
from briefer.models import Briefing, Chunk, Document, Excluded, Stats
from briefer.text.dates import resolve_publication_years, written_date
from briefer.text.words import ordinary_words

__all__ = [
    "BriefOptions",
    "ExtractOutcome",
    "NullProgress",
    "Progress",
    "abrief",
    "aextract",
    "brief",
    "extract",
    "nothing_usable",
    "plan_chunks",
]

DEFAULT_MODEL = "gpt-4.1-mini"


class Progress(CallObserver, Protocol):
    """Told how many calls a run expects, and when each starts, retries and ends; the CLI
    draws progress from it."""

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
    concurrency: int = 8
    max_repairs: int = 2
    max_cost: float | None = None
    prices: dict[str, Price] | None = None
    keep_ungrounded: bool = False
    chunk_tokens: int = 2000
    chunk_overlap: int = 100
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    max_file_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency must be at least 1, not {self.concurrency}")
        if self.max_cost is not None and self.max_cost < 0:
            raise ConfigError(f"max cost must not be negative, not {self.max_cost}")
        if self.max_cost is not None:
            require_price(self.model, self.prices)


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
    return {
        doc.id: chunk_document(
            doc,
            max_tokens=options.chunk_tokens,
            overlap_tokens=options.chunk_overlap,
            encoding=encoding_for_model(options.model),
        )
        for doc in documents
    }


def _default_client(options: BriefOptions) -> LLMClient:
    from briefer.settings import build_client, load_settings

    return build_client(load_settings(model=options.model))


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
    progress = progress or NullProgress()
    loaded = load_sources(
        list(sources),
        stdin=stdin,
        fetch_policy=options.fetch,
        max_file_bytes=options.max_file_bytes,
    )
    # A dateline without a year takes it from the other articles or the briefing date before
    # extraction, whose prompt carries the publication date.
    documents = resolve_publication_years(loaded.documents, options.date)
    chunks = plan_chunks(documents, options)
    runner = LLMRunner(
        client or _default_client(options),
        model=options.model,
        concurrency=options.concurrency,
        max_repairs=options.max_repairs,
        max_cost=options.max_cost,
        prices=options.prices,
        observer=progress,
    )
    progress.expect(sum(len(c) for c in chunks.values()) + int(options.compose))
    extraction = await extract_documents(
        [(doc, chunks[doc.id]) for doc in documents],
        runner,
        keep_ungrounded=options.keep_ungrounded,
    )
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
            f"nothing was extracted: {_first_line(first)}",
            spent=runner.usage.cost_usd,
            limit=limit,
            excluded=excluded,
        )
    cause = next(e for e in errors if not isinstance(e, BudgetExceededError))
    raise NoRepliesError(
        f"no model call succeeded ({calls} of {calls} extraction calls failed): "
        f"{_first_line(cause)}",
        errors=errors,
        excluded=excluded,
    )


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


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
                reason=f"{what} failed ({_first_line(failure.error)}); {instead}",
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
    outcome = await aextract(
        sources, client=client, options=options, progress=progress, stdin=stdin
    )
    documents = outcome.documents
    merged = merge_records(outcome.extraction.events, outcome.extraction.stances, documents)
    date = options.date or _briefing_date(documents)
    title = options.title or f"Daily briefing, {written_date(date)}"
    composed = await compose_items(
        merged,
        [d.source for d in documents],
        outcome.runner if options.compose else None,
        model=options.model,
        date=date,
        title=title,
        common_words=ordinary_words(d.text for d in documents),
    )
    failed = _composition_excluded(outcome.runner)
    # A failed call's note says what its excluded entry says: keep one of them.
    causes = [_first_line(f.error) for f in outcome.runner.failures]
    notes = [n for n in composed.notes if not (failed and any(c in n for c in causes))]
    return Briefing(
        date=date,
        title=title,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        model=options.model,
        composer=composed.composer,
        items=composed.items,
        events=merged.events,
        stances=merged.stances,
        sources=[d.source for d in documents],
        excluded=[*outcome.excluded, *failed],
        usage=outcome.runner.usage.snapshot(),
        stats=outcome.stats,
        notes=[*outcome.notes, *notes],
    )


def brief(
    sources: Sequence[str | Path],
    *,
    client: LLMClient | None = None,
    options: BriefOptions | None = None,
    progress: Progress | None = None,
    stdin: IO[str] | None = None,
) -> Briefing:
    """Sync wrapper of :func:`abrief` for scripts and notebooks without a running loop."""
    _refuse_inside_loop("brief")
    return asyncio.run(
        abrief(sources, client=client, options=options, progress=progress, stdin=stdin)
    )


def extract(
    sources: Sequence[str | Path],
    *,
    client: LLMClient | None = None,
    options: BriefOptions | None = None,
    progress: Progress | None = None,
    stdin: IO[str] | None = None,
) -> ExtractOutcome:
    """Sync wrapper of :func:`aextract`."""
    _refuse_inside_loop("extract")
    return asyncio.run(
        aextract(sources, client=client, options=options, progress=progress, stdin=stdin)
    )


def _refuse_inside_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise ConfigError(f"briefer.{name}() was called inside a running event loop; await a{name}()")
