"""briefer: news articles in, a sourced daily briefing out.

    >>> import briefer
    >>> from briefer.llm import ReplayClient
    >>> b = briefer.brief(["examples/articles"], client=ReplayClient("examples/recordings"))
    >>> print(b.to_markdown())

``brief``/``abrief`` run the whole pipeline; ``extract``/``aextract`` stop at grounded records;
``load_sources`` only ingests; ``render`` turns a ``Briefing`` into markdown, json or html.
Clients live in ``briefer.llm``; test doubles in ``briefer.testing``; errors in ``briefer.errors``.
"""

from __future__ import annotations

from briefer._files import write_output
from briefer.errors import (
    AuthError,
    BrieferError,
    BudgetExceededError,
    ConfigError,
    InputError,
    InvalidReplyError,
    LLMError,
    LLMTimeoutError,
    NoRepliesError,
    OutputError,
    RateLimitError,
    RefusalError,
    ReplayMissError,
    ServerError,
    TruncatedError,
)
from briefer.ingestion import FetchPolicy, IngestResult, load_sources
from briefer.llm import (
    CachingClient,
    FakeClient,
    FunctionClient,
    LLMClient,
    RecordingClient,
    ReplayClient,
)
from briefer.models import (
    Actor,
    Briefing,
    BriefingItem,
    Chunk,
    Conflict,
    Document,
    EventRecord,
    Evidence,
    Excluded,
    MergedEvent,
    MergedStance,
    Source,
    StanceRecord,
)
from briefer.pipeline import (
    BriefOptions,
    ExtractOutcome,
    abrief,
    aextract,
    brief,
    extract,
    nothing_usable,
)
from briefer.rendering import render
from briefer.settings import Settings, build_client, load_settings

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "AuthError",
    "BriefOptions",
    "BrieferError",
    "Briefing",
    "BriefingItem",
    "BudgetExceededError",
    "CachingClient",
    "Chunk",
    "ConfigError",
    "Conflict",
    "Document",
    "EventRecord",
    "Evidence",
    "Excluded",
    "ExtractOutcome",
    "FakeClient",
    "FetchPolicy",
    "FunctionClient",
    "IngestResult",
    "InputError",
    "InvalidReplyError",
    "LLMClient",
    "LLMError",
    "LLMTimeoutError",
    "MergedEvent",
    "MergedStance",
    "NoRepliesError",
    "OutputError",
    "RateLimitError",
    "RecordingClient",
    "RefusalError",
    "ReplayClient",
    "ReplayMissError",
    "ServerError",
    "Settings",
    "Source",
    "StanceRecord",
    "TruncatedError",
    "__version__",
    "abrief",
    "aextract",
    "brief",
    "build_client",
    "extract",
    "load_settings",
    "load_sources",
    "nothing_usable",
    "render",
    "write_output",
]
