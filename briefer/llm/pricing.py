"""The one price table, in USD per million tokens, and the one estimate of what a call costs.

Each price has a batch price beside it (the OpenAI Batch API's, and what ``briefer estimate
--batch`` shows): half of the direct one unless the table gives it.

Prices are approximate: prices change. The CLI overrides them with the config file's ``prices``
or ``BRIEFER_PRICES`` (read in ``briefer.settings``); the library takes them as
``BriefOptions(prices=...)``.

``estimate_request_tokens`` is used both by ``briefer estimate`` and by the budget of a run
(``--max-cost``), so the two never disagree: prompt tokens are counted on the messages as sent
(plus a few per message) and on the JSON Schema sent with them (servers count it as prompt);
completion tokens cannot be known before the model answers and are estimated as
``COMPLETION_BASE + COMPLETION_PER_INPUT_TOKEN × the user message's tokens`` for an extraction
and ``COMPOSE_COMPLETION`` for a composition, fitted on the evaluation set's replies
(``scripts/measure_completion_rule.py``), never more than the request's ``max_tokens``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from briefer.errors import ConfigError
from briefer.llm.tokens import count_tokens, encoding_for_model

if TYPE_CHECKING:  # briefer.llm imports this module
    from briefer.llm.base import LLMRequest

__all__ = [
    "BATCH_DISCOUNT",
    "COMPLETION_BASE",
    "COMPLETION_PER_INPUT_TOKEN",
    "COMPOSE_COMPLETION",
    "DEFAULT_PRICES",
    "Price",
    "PriceTier",
    "estimate_cost",
    "estimate_request_cost",
    "estimate_request_tokens",
    "price_for",
    "require_price",
]


PriceTier = Literal["direct", "batch"]

# What the OpenAI Batch API charges of the direct price, for a price that gives no batch price.
BATCH_DISCOUNT = 0.5


@dataclass(frozen=True)
class Price:
    input: float
    output: float
    cached_input: float
    # The Batch API's prices; None: the direct price times BATCH_DISCOUNT.
    batch_input: float | None = None
    batch_output: float | None = None
    batch_cached_input: float | None = None

    def at(self, tier: PriceTier) -> Price:
        """The prices of a call sent directly, or in a batch."""
        if tier == "direct":
            return self

        def batch(given: float | None, direct: float) -> float:
            return given if given is not None else direct * BATCH_DISCOUNT

        return Price(
            input=batch(self.batch_input, self.input),
            output=batch(self.batch_output, self.output),
            cached_input=batch(self.batch_cached_input, self.cached_input),
        )


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

# Fitted on the evaluation set's replies (scripts/measure_completion_rule.py).
COMPLETION_BASE = 900
COMPLETION_PER_INPUT_TOKEN = 0.45
COMPOSE_COMPLETION = 1200
TOKENS_PER_MESSAGE = 4  # the role and separators around each message


def price_for(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model`` (longest known prefix, so dated snapshots match), or None."""
    table = {**DEFAULT_PRICES, **(overrides or {})}
    for name in sorted(table, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return table[name]
    return None


def require_price(model: str, overrides: Mapping[str, Price] | None = None) -> Price:
    """The price of ``model``, or a ``ConfigError`` saying how to give one (a budget cannot be
    kept in a currency the calls are not priced in)."""
    price = price_for(model, overrides)
    if price is None:
        raise ConfigError(
            f"no price is known for the model {model}, so a cost limit cannot be kept; give "
            f'one in the config file ([prices."{model}"] input = ..., output = ..., '
            f"cached_input = ..., in USD per million tokens) or in BRIEFER_PRICES, "
            "or drop --max-cost"
        )
    return price


def estimate_cost(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    overrides: Mapping[str, Price] | None = None,
    tier: PriceTier = "direct",
) -> float:
    price = (price_for(model, overrides) or UNKNOWN).at(tier)
    fresh = max(prompt_tokens - cached_tokens, 0)
    return (
        fresh * price.input + cached_tokens * price.cached_input + completion_tokens * price.output
    ) / 1_000_000


def estimate_request_tokens(request: LLMRequest) -> tuple[int, int]:
    """(prompt tokens, expected completion tokens) of ``request``, before it is sent."""
    encoding = encoding_for_model(request.model)
    prompt = sum(count_tokens(m.content, encoding) + TOKENS_PER_MESSAGE for m in request.messages)
    prompt += count_tokens(json.dumps(request.response_schema, separators=(",", ":")), encoding)
    if request.context.stage == "compose":
        completion = COMPOSE_COMPLETION
    else:
        asked = sum(count_tokens(m.content, encoding) for m in request.messages if m.role == "user")
        completion = COMPLETION_BASE + int(COMPLETION_PER_INPUT_TOKEN * asked)
    if request.max_tokens is not None:
        completion = min(completion, request.max_tokens)
    return prompt, completion


def estimate_request_cost(
    request: LLMRequest,
    overrides: Mapping[str, Price] | None = None,
    tier: PriceTier = "direct",
) -> float:
    """What ``request`` is expected to cost in USD (``estimate_request_tokens`` at its price,
    sent directly or in a batch)."""
    prompt, completion = estimate_request_tokens(request)
    return estimate_cost(request.model, prompt, completion, overrides=overrides, tier=tier)
