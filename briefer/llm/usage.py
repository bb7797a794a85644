"""What model calls cost: calls, repairs, retries, failures, tokens and dollars, per stage.

Defined here, where calls are counted; ``briefer.models`` carries them in a ``Briefing``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StageUsage", "Usage"]


class StageUsage(BaseModel):
    """``calls`` were answered (``cached_calls`` of them from a cache or recordings); ``failed``
    calls got no usable answer after ``retries``; tokens and cost are of answered calls."""

    model_config = ConfigDict(extra="forbid")

    calls: int = 0
    repairs: int = 0
    retries: int = 0
    failed: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0


class Usage(StageUsage):
    stages: dict[str, StageUsage] = Field(default_factory=dict)
