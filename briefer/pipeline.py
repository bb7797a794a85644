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

from briefer.chunk import chunk_document
from briefer.compose import compose_items
from briefer.errors import ConfigError
from briefer.extract import ExtractionResult, extract_documents
from briefer.fetch import FetchPolicy
from briefer.ingest import load_sources
from briefer.llm.base import LLMClient, LLMRequest
from briefer.llm.structured import LLMRunner
from briefer.merge import merge_records
from briefer.models import Briefing, Chunk, Document, Excluded, Stats
from briefer.normalize import resolve_publication_years
from briefer.pricing import Price
from briefer.tokens import encoding_for_model
from briefer.words import ordinary_words

__all__ = [
    "BriefOptions",
    "ExtractOutcome",
    "NullProgress",
    "Progress",
    "abrief",
    "aextract",
    "brief",
    "extract",
    "plan_chunks",
]

DEFAULT_MODEL = "gpt-4.1-mini"


class Progress(Protocol):
    """Told how many calls a run expects and when each starts; the CLI draws a bar."""

    def expect(self, calls: int) -> None: ...

    def call_started(self, request: LLMRequest) -> None: ...


class NullProgress:
    def expect(self, calls: int) -> None:
        pass

    def call_started(self, request: LLMRequest) -> None:
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


@dataclass
class ExtractOutcome:
    documents: list[Document]
    chunks: dict[str, list[Chunk]]
    extraction: ExtractionResult
    excluded: list[Excluded]
    runner: LLMRunner

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
    from briefer.config import build_client, load_settings

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
        on_call=progress.call_started,
    )
    progress.expect(sum(len(c) for c in chunks.values()) + int(options.compose))
    extraction = await extract_documents(
        [(doc, chunks[doc.id]) for doc in documents],
        runner,
        keep_ungrounded=options.keep_ungrounded,
    )
    return ExtractOutcome(
        documents=documents,
        chunks=chunks,
        extraction=extraction,
        excluded=[*loaded.excluded, *extraction.excluded],
        runner=runner,
    )


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
    title = options.title or f"Daily briefing, {date:%d %B %Y}".replace(" 0", " ")
    composed = await compose_items(
        merged,
        [d.source for d in documents],
        outcome.runner if options.compose else None,
        model=options.model,
        date=date,
        title=title,
        common_words=ordinary_words(d.text for d in documents),
    )
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
        excluded=outcome.excluded,
        usage=outcome.runner.usage.snapshot(),
        stats=outcome.stats,
        notes=composed.notes,
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
