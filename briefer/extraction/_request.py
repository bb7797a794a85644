"""The extraction request, built by a pure function: the system message is the same for every
article (so providers cache it as a shared prefix) and the article comes last, fenced as data,
with its title, outlet and publication date so that relative dates resolve.
"""

from __future__ import annotations

import datetime as dt
import re

from briefer._prompts import load_prompt_pair
from briefer.llm.base import LLMRequest, Message, RequestContext
from briefer.models import Chunk, Document, ExtractionReply, reply_schema
from briefer.text.dates import weekday_name

__all__ = [
    "ARTICLE_CLOSE",
    "ARTICLE_OPEN",
    "SYSTEM_TEMPLATE",
    "USER_TEMPLATE",
    "build_extraction_request",
    "fence_article",
]

SYSTEM_TEMPLATE = "extract_system.txt"
USER_TEMPLATE = "extract_user.txt"
SCHEMA_NAME = "extraction"
ARTICLE_OPEN = "<article>"
ARTICLE_CLOSE = "</article>"

# Anything that could pass for the fence, in any case or spacing: "<article>", "</ ARTICLE >".
_FENCE_LIKE = re.compile(r"<\s*/?\s*article\b[^>]*>", re.IGNORECASE)


def fence_article(text: str) -> str:
    """The text with anything resembling the fence defused, so it cannot close the fence.

    Only the prompt copy changes (``<`` and ``>`` become ``‹`` and ``›``); grounding always
    reads the original document text.
    """
    return _FENCE_LIKE.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), text)


def _header_field(value: str | None, missing: str) -> str:
    """Title and outlet come from the article too: one line, no fence, bounded length."""
    # Cut before the regexes: a hand-built Document may carry a title of megabytes.
    line = fence_article(re.sub(r"\s+", " ", (value or "")[:1200])).strip()[:300]
    return line or missing


def _published_line(published: dt.date | None) -> str:
    if published is None:
        return "unknown"
    # Not strftime("%A"), which follows the locale: requests must not.
    return f"{published.isoformat()} ({weekday_name(published)})"


def build_extraction_request(
    doc: Document, chunk: Chunk, *, model: str, max_tokens: int | None = 4000
) -> LLMRequest:
    """The extraction request for one chunk: static instructions first, the article last."""
    system, user = load_prompt_pair(SYSTEM_TEMPLATE, USER_TEMPLATE)
    source = doc.source
    content = user.render(
        title=_header_field(source.title, "(none)"),
        outlet=_header_field(source.outlet, "(unknown)"),
        published=_published_line(source.published),
        start=str(chunk.start),
        end=str(chunk.end),
        length=str(len(doc.text)),
        text=fence_article(chunk.text),
    )
    return LLMRequest(
        model=model,
        messages=(
            Message(role="system", content=system.text),
            Message(role="user", content=content),
        ),
        schema_name=SCHEMA_NAME,
        response_schema=reply_schema(ExtractionReply),
        prompt_version=system.version,
        max_tokens=max_tokens,
        context=RequestContext(stage="extract", source_id=doc.id, chunk_id=chunk.id),
    )
