"""What a briefing would cost, before any call: tokens, chunks, calls and an approximate price.

Each extraction request a run would send is built and estimated with
``briefer.llm.pricing.estimate_request_tokens``, the estimate the budget of a run (``--max-cost``)
reserves with: prompt tokens are counted exactly, completion tokens by a rule of thumb. The
composition call cannot be built before the records exist; its prompt is estimated from the
articles' length. Prices come from the one price table with the run's overrides
(``BriefOptions.prices``) and are approximate. ``batch_cost_usd`` is the same run's price in
batches (``--batch``): the table's batch prices, half of the direct ones unless it gives them.
A run in batches makes the same calls, so the tokens are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict

from briefer.extraction import build_extraction_request
from briefer.ingestion import load_sources
from briefer.llm.pricing import (
    COMPOSE_COMPLETION,
    estimate_cost,
    estimate_request_tokens,
    price_for,
)
from briefer.models import Excluded
from briefer.pipeline import BriefOptions, plan_chunks

__all__ = ["DocumentEstimate", "Estimate", "estimate"]

COMPOSE_PROMPT_BASE = 800  # the composition prompt's instructions
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
    batch_cost_usd: float
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
            asked, answered = estimate_request_tokens(request)
            prompt += asked
            completion += answered
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
        prompt_tokens += COMPOSE_PROMPT_BASE + records * COMPOSE_PROMPT_PER_RECORD
        completion += COMPOSE_COMPLETION
    prices = options.prices or {}
    priced = price_for(options.model, prices) is not None
    return Estimate(
        model=options.model,
        documents=rows,
        excluded=loaded.excluded,
        tokens=tokens,
        chunks=n_chunks,
        calls=n_chunks + compose_calls,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion,
        cost_usd=round(
            estimate_cost(options.model, prompt_tokens, completion, overrides=prices), 6
        ),
        batch_cost_usd=round(
            estimate_cost(options.model, prompt_tokens, completion, overrides=prices, tier="batch"),
            6,
        ),
        priced=priced,
        note=(
            "approximate: prompt tokens are exact, completion tokens and the compose call are "
            "estimated; "
            + (
                "prices from the built-in table and your overrides"
                if prices
                else "prices from the built-in table"
            )
            + ("" if priced else f" (no price known for {options.model}: cost shown as 0)")
        ),
    )
