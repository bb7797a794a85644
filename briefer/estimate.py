"""What a briefing would cost, before any call: tokens, chunks, calls and an approximate price.

Prompt tokens are counted on the exact extraction requests a run would send. Completion tokens
cannot be known before the model answers; they are estimated as ``COMPLETION_PER_CHUNK_TOKEN``
times the chunk's tokens plus ``COMPLETION_BASE`` per call, a rule of thumb measured on news
articles. Prices come from the one price table (``briefer.pricing``) and are approximate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict

from briefer.extract import build_extraction_request
from briefer.ingest import load_sources
from briefer.models import Excluded
from briefer.pipeline import BriefOptions, plan_chunks
from briefer.pricing import estimate_cost, price_for
from briefer.tokens import count_tokens

__all__ = ["DocumentEstimate", "Estimate", "estimate"]

COMPLETION_BASE = 150
COMPLETION_PER_CHUNK_TOKEN = 0.4
COMPOSE_PROMPT_PER_RECORD = 120  # a compact merged record in the compose prompt
RECORDS_PER_CHUNK_TOKEN = 1 / 60  # records a news chunk yields, roughly


class DocumentEstimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    input: str
    title: str | None
    outlet: str | None
    published: dt.date | None
    tokens: int
    chunks: int
    prompt_tokens: int


class Estimate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    documents: list[DocumentEstimate]
    excluded: list[Excluded]
    tokens: int
    chunks: int
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    priced: bool
    note: str


def estimate(
    sources: Sequence[str | Path],
    *,
    options: BriefOptions | None = None,
    stdin: IO[str] | None = None,
) -> Estimate:
    options = options or BriefOptions()
    loaded = load_sources(
        list(sources),
        stdin=stdin,
        fetch_policy=options.fetch,
        max_file_bytes=options.max_file_bytes,
    )
    chunks = plan_chunks(loaded.documents, options)
    rows: list[DocumentEstimate] = []
    completion = 0
    for doc in loaded.documents:
        prompt = 0
        for chunk in chunks[doc.id]:
            request = build_extraction_request(doc, chunk, model=options.model)
            prompt += sum(count_tokens(m.content) + 4 for m in request.messages)
            completion += COMPLETION_BASE + int(COMPLETION_PER_CHUNK_TOKEN * chunk.tokens)
        rows.append(
            DocumentEstimate(
                id=doc.id,
                input=doc.source.path or doc.source.url or "-",
                title=doc.source.title,
                outlet=doc.source.outlet,
                published=doc.source.published,
                tokens=doc.source.tokens,
                chunks=len(chunks[doc.id]),
                prompt_tokens=prompt,
            )
        )
    tokens = sum(r.tokens for r in rows)
    n_chunks = sum(r.chunks for r in rows)
    prompt_tokens = sum(r.prompt_tokens for r in rows)
    compose_calls = int(options.compose and bool(rows))
    if compose_calls:
        records = max(1, int(tokens * RECORDS_PER_CHUNK_TOKEN))
        prompt_tokens += 800 + records * COMPOSE_PROMPT_PER_RECORD
        completion += 1200
    priced = price_for(options.model) is not None
    return Estimate(
        model=options.model,
        documents=rows,
        excluded=loaded.excluded,
        tokens=tokens,
        chunks=n_chunks,
        calls=n_chunks + compose_calls,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion,
        cost_usd=round(estimate_cost(options.model, prompt_tokens, completion), 6),
        priced=priced,
        note=(
            "approximate: prompt tokens are exact, completion tokens and the compose call are "
            "estimated; prices from the built-in table"
            + ("" if priced else f" (no price known for {options.model}: cost shown as 0)")
        ),
    )
