"""The one price table, in USD per million tokens. Approximate: prices change; override them
with ``BRIEFER_PRICES`` (a JSON object of the same shape) or the config file's ``prices``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

__all__ = ["DEFAULT_PRICES", "Price", "estimate_cost", "price_for"]


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cached_input: float


DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4.1": Price(input=2.00, output=8.00, cached_input=0.50),
    "gpt-4.1-mini": Price(input=0.40, output=1.60, cached_input=0.10),
    "gpt-4.1-nano": Price(input=0.10, output=0.40, cached_input=0.025),
    "gpt-4o": Price(input=2.50, output=10.00, cached_input=1.25),
    "gpt-4o-mini": Price(input=0.15, output=0.60, cached_input=0.075),
    "gpt-5": Price(input=1.25, output=10.00, cached_input=0.125),
    "gpt-5-mini": Price(input=0.25, output=2.00, cached_input=0.025),
    "gpt-5-nano": Price(input=0.05, output=0.40, cached_input=0.005),
}
# A model the table does not know (a local server's, say) is priced at zero and said so.
UNKNOWN = Price(input=0.0, output=0.0, cached_input=0.0)


def _overrides() -> dict[str, Price]:
    raw = os.environ.get("BRIEFER_PRICES")
    if not raw:
        return {}
    table = json.loads(raw)
    return {name: Price(**fields) for name, fields in table.items()}


def price_for(model: str, overrides: dict[str, Price] | None = None) -> Price | None:
    """The price of ``model`` (longest known prefix, so dated snapshots match), or None."""
    table = {**DEFAULT_PRICES, **_overrides(), **(overrides or {})}
    for name in sorted(table, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return table[name]
    return None


def estimate_cost(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    overrides: dict[str, Price] | None = None,
) -> float:
    price = price_for(model, overrides) or UNKNOWN
    fresh = max(prompt_tokens - cached_tokens, 0)
    return (
        fresh * price.input + cached_tokens * price.cached_input + completion_tokens * price.output
    ) / 1_000_000
