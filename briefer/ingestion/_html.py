"""HTML pages: the main text through trafilatura (the only module that imports it), and the
page's metadata.

The text is trafilatura's main text, paragraphs separated by blank lines; comments and tables
are left out, and a page with fewer than ``MIN_HTML_WORDS`` words of it (a menu, a stub, a saved
page's frames) has no article text.

The outlet is ``<meta property="og:site_name">``, else the JSON-LD ``publisher`` (its ``name``,
a bare string, or the node its ``@id`` points to; in a list or an ``@graph``), else ``<meta
name="application-name">``, else trafilatura's site name (other publisher tags; a ``copyright``
tag is read as a footer), else what the text names (``_outlets``), else the host name. The date
comes from the markup, else from the text (``_dates``, with ``published_text``), else from the
page's header above the article text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html as html_lib
import importlib
import json
import re
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

from briefer.ingestion._dates import date_from_text, date_in_page_header
from briefer.ingestion._decode import normalize_newlines
from briefer.ingestion._meta import TextMeta
from briefer.ingestion._outlets import COPYRIGHT, footer_outlet, outlet_from_text

__all__ = [
    "MIN_HTML_WORDS",
    "extract_html",
    "host_outlet",
    "import_in_background",
    "looks_like_html",
]

# Fewer words than this from a page is a menu or a stub, not an article.
MIN_HTML_WORDS = 10

# Tags and their attributes are read with bounded patterns: a page of any size scans in one pass.
_META_TAG = re.compile(r"<meta\b([^<>]{0,2000})>", re.I)
_SCRIPT_TAG = re.compile(r"<script\b([^<>]{0,1000})>", re.I)
_SCRIPT_END = re.compile(r"</script", re.I)
_ATTRIBUTE = re.compile(
    r"""([A-Za-z_:.-]{1,60})[ \t\n]{0,20}=[ \t\n]{0,20}(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"""
)
# JSON-LD blocks and nodes read, at most: a page is not a database.
_JSON_LD_BLOCKS = 20
_JSON_LD_NODES = 200


def host_outlet(url: str | None) -> str | None:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.") or None


def _attributes(tag: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(tag):
        value = next((group for group in match.groups()[1:] if group is not None), "")
        found.setdefault(match.group(1).lower(), html_lib.unescape(value))
    return found


def _site_name(value: Any) -> str | None:
    """A site name as markup writes it, spaces tidied; None for anything else."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split())
    if not name or len(name) > 100 or name.lower().startswith(("http://", "https://")):
        return None
    return name


def _json_ld_nodes(html: str) -> list[dict[str, Any]]:
    """The objects of the page's JSON-LD blocks, ``@graph`` members included, in page order."""
    nodes: list[dict[str, Any]] = []
    blocks = 0
    for tag in _SCRIPT_TAG.finditer(html):
        if "ld+json" not in tag.group(1).lower():
            continue
        end = _SCRIPT_END.search(html, tag.end())
        if end is None:
            break
        try:
            data = json.loads(html[tag.end() : end.start()], strict=False)
        except (ValueError, RecursionError):
            data = None
        for node in data[:_JSON_LD_NODES] if isinstance(data, list) else [data]:
            if isinstance(node, dict):
                nodes.append(node)
                graph = node.get("@graph")
                if isinstance(graph, list):
                    nodes.extend(item for item in graph[:_JSON_LD_NODES] if isinstance(item, dict))
        blocks += 1
        if blocks == _JSON_LD_BLOCKS or len(nodes) >= _JSON_LD_NODES:
            break
    return nodes[:_JSON_LD_NODES]


def _json_ld_publisher(html: str) -> str | None:
    """The name of the first JSON-LD ``publisher``: an object with a ``name``, a bare string,
    or a reference by ``@id`` to another node of the page."""
    nodes = _json_ld_nodes(html)
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    for node in nodes:
        publisher = node.get("publisher")
        if isinstance(publisher, list):
            publisher = publisher[0] if publisher else None
        reference = publisher.get("@id") if isinstance(publisher, dict) else None
        if isinstance(publisher, dict) and "name" not in publisher and isinstance(reference, str):
            publisher = by_id.get(reference, publisher)
        name = _site_name(publisher.get("name") if isinstance(publisher, dict) else publisher)
        if name:
            return name
    return None


def _markup_outlet(html: str) -> str | None:
    """The outlet the page's markup names: ``og:site_name``, then JSON-LD ``publisher``, then
    ``<meta name="application-name">``."""
    application: str | None = None
    for tag in _META_TAG.finditer(html):
        attributes = _attributes(tag.group(1))
        key = (attributes.get("property") or attributes.get("name") or "").lower()
        if key == "og:site_name":
            name = _site_name(attributes.get("content"))
            if name:
                return name
        elif key == "application-name" and application is None:
            application = _site_name(attributes.get("content"))
    return _json_ld_publisher(html) or application


def _trafilatura_site_name(extracted: Any, url: str | None) -> str | None:
    """trafilatura's site name, tidied: its fallback to the URL's host keeps the port, ours
    (below) does not; a ``copyright`` tag's "© 2024 Coastline News" is Coastline News."""
    name = _site_name(str(extracted.sitename)) if extracted.sitename else None
    if name and url and name == urlsplit(url).netloc:
        return None
    if name and COPYRIGHT.match(name):
        return footer_outlet(name, frozenset())
    return name


def import_in_background() -> None:
    """Start importing trafilatura (a tenth of a second) in a background thread, for a run that
    will read HTML: the first page then waits only for what is left of it. A failed import
    fails again, with its message, where the page is read."""
    if "trafilatura" in sys.modules:
        return

    def load() -> None:
        with contextlib.suppress(ImportError):
            importlib.import_module("trafilatura")

    threading.Thread(target=load, name="briefer-trafilatura", daemon=True).start()


def extract_html(html: str, url: str | None = None) -> tuple[str, TextMeta]:
    """Main text (paragraphs separated by blank lines) and metadata of an HTML page.

    Favours precision: comments and tables are left out. The text is "" when no article text
    can be found (fewer than ``MIN_HTML_WORDS`` words: a menu or a stub).
    """
    import trafilatura

    extracted: Any = trafilatura.bare_extraction(
        html,
        url=url,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        with_metadata=True,
        # Dates from the markup only: a guess from the page text is often a copyright year.
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    if extracted is None:
        return "", TextMeta(url=url)
    body = str(extracted.text or "")
    paragraphs = [line.strip() for line in normalize_newlines(body).split("\n")]
    text = "\n\n".join(paragraph for paragraph in paragraphs if paragraph)
    if len(text.split()) < MIN_HTML_WORDS:
        text = ""
    published: dt.date | None = None
    published_text: str | None = None
    if extracted.date:
        try:
            published = dt.date.fromisoformat(str(extracted.date)[:10])
        except ValueError:
            published = None
    if published is None:
        published, published_text = date_from_text(text)
    if published is None and published_text is None and text:
        # The article's own header (title, byline, a date line) sits before its text on the
        # page but outside what the extractor keeps as the article: read the date there.
        published, published_text = date_in_page_header(_page_header(html, text))
    outlet = (
        _markup_outlet(html)
        or _trafilatura_site_name(extracted, url)
        or outlet_from_text(text)
        or host_outlet(url)
        or host_outlet(extracted.url)
    )
    return text, TextMeta(
        title=str(extracted.title).strip() if extracted.title else None,
        outlet=outlet,
        published=published,
        published_text=published_text,
        url=url or (str(extracted.url) if extracted.url else None),
    )


def _page_header(html: str, text: str) -> str:
    """The page's visible text before the article's first paragraph: its header and byline
    (the page chrome above them is passed over by the date rules like any other line)."""
    import trafilatura

    page = normalize_newlines(str(trafilatura.html2txt(html) or ""))
    # The first paragraph of the body (the title, short, may come first and be found above).
    body = next((p for p in text.split("\n") if len(p.split()) >= 12), "")
    at = page.find(body[:60]) if body else -1
    return page[:at] if at > 0 else ""


def looks_like_html(text: str) -> bool:
    start = text.lstrip()[:200].lower()
    return start.startswith(("<!doctype html", "<html", "<head", "<body", "<article"))
