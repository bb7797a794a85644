"""briefer: news articles in, a sourced daily briefing out.

    >>> import briefer
    >>> from briefer.llm import ReplayClient
    >>> b = briefer.brief(["examples/articles"], client=ReplayClient("examples/recordings"))
    >>> print(briefer.render(b, "markdown"))

``brief``/``abrief`` run the whole pipeline; ``extract``/``aextract`` stop at grounded records;
``load_sources`` only ingests; ``render`` turns a ``Briefing`` into markdown, json or html.
``Store`` is the story store that remembers earlier days (``BriefOptions(store=...)``);
``review``/``areview`` write a review of stored days from it alone.
Clients live in ``briefer.llm``; test doubles in ``briefer.testing``; errors in ``briefer.errors``.

The names below are imported on first use, so that ``briefer --help`` and a module that needs one
name do not pay for importing every stage.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
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
        StoreError,
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
        StoryChange,
        StorySummary,
        StoryTimeline,
    )
    from briefer.pipeline import (
        BriefOptions,
        ExtractOutcome,
        abrief,
        aextract,
        areview,
        brief,
        extract,
        nothing_usable,
        review,
    )
    from briefer.rendering import render
    from briefer.settings import Settings, build_client, load_settings
    from briefer.stories import Store

# Public name -> the module it comes from.
_WHERE: dict[str, str] = {
    "Actor": "briefer.models",
    "AuthError": "briefer.errors",
    "BriefOptions": "briefer.pipeline",
    "BrieferError": "briefer.errors",
    "Briefing": "briefer.models",
    "BriefingItem": "briefer.models",
    "BudgetExceededError": "briefer.errors",
    "CachingClient": "briefer.llm",
    "Chunk": "briefer.models",
    "ConfigError": "briefer.errors",
    "Conflict": "briefer.models",
    "Document": "briefer.models",
    "EventRecord": "briefer.models",
    "Evidence": "briefer.models",
    "Excluded": "briefer.models",
    "ExtractOutcome": "briefer.pipeline",
    "FakeClient": "briefer.llm",
    "FetchPolicy": "briefer.ingestion",
    "FunctionClient": "briefer.llm",
    "IngestResult": "briefer.ingestion",
    "InputError": "briefer.errors",
    "InvalidReplyError": "briefer.errors",
    "LLMClient": "briefer.llm",
    "LLMError": "briefer.errors",
    "LLMTimeoutError": "briefer.errors",
    "MergedEvent": "briefer.models",
    "MergedStance": "briefer.models",
    "NoRepliesError": "briefer.errors",
    "OutputError": "briefer.errors",
    "RateLimitError": "briefer.errors",
    "RecordingClient": "briefer.llm",
    "RefusalError": "briefer.errors",
    "ReplayClient": "briefer.llm",
    "ReplayMissError": "briefer.errors",
    "ServerError": "briefer.errors",
    "Settings": "briefer.settings",
    "Source": "briefer.models",
    "StanceRecord": "briefer.models",
    "Store": "briefer.stories",
    "StoreError": "briefer.errors",
    "StoryChange": "briefer.models",
    "StorySummary": "briefer.models",
    "StoryTimeline": "briefer.models",
    "TruncatedError": "briefer.errors",
    "abrief": "briefer.pipeline",
    "aextract": "briefer.pipeline",
    "areview": "briefer.pipeline",
    "brief": "briefer.pipeline",
    "build_client": "briefer.settings",
    "extract": "briefer.pipeline",
    "load_settings": "briefer.settings",
    "load_sources": "briefer.ingestion",
    "nothing_usable": "briefer.pipeline",
    "render": "briefer.rendering",
    "review": "briefer.pipeline",
    "write_output": "briefer._files",
}


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
    "Store",
    "StoreError",
    "StoryChange",
    "StorySummary",
    "StoryTimeline",
    "TruncatedError",
    "__version__",
    "abrief",
    "aextract",
    "areview",
    "brief",
    "build_client",
    "extract",
    "load_settings",
    "load_sources",
    "nothing_usable",
    "render",
    "review",
    "write_output",
]


def __getattr__(name: str) -> typing.Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'briefer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
