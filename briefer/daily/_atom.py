"""The briefings as an Atom 1.0 feed (RFC 4287), ``OUT/briefings.atom``, for any feed reader.

One entry per day: a permanent id, the briefing's title, when it was written (``updated``: a day
run again with ``--force`` shows as updated), a link to its page, its headlines as the summary
and its items as the content. Links are absolute: under ``site_url`` when the folder is served,
else ``file:`` addresses of the folder. Ids are UUIDs derived from that base and the day, so
they never change while the base does not.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from briefer.daily._archive import ATOM_NAME, INDEX_NAME, ArchivedDay

__all__ = ["feed_base", "render_atom"]

_ATOM = "http://www.w3.org/2005/Atom"
_SUMMARY_CHARS = 500


def feed_base(out: Path, site_url: str | None) -> str:
    """The address the folder's files are found under, ending in a slash."""
    return site_url or out.resolve().as_uri().rstrip("/") + "/"


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{_ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _content(day: ArchivedDay) -> str:
    """The items as HTML; Atom's ``type="html"`` carries it escaped."""
    parts = [
        f"<h3>{html.escape(head, quote=False)}</h3>\n<p>{html.escape(text, quote=False)}</p>"
        for head, text in day.items
    ]
    return "\n".join(parts) or "<p>No items.</p>"


def _summary(day: ArchivedDay) -> str:
    text = "; ".join(head for head, _ in day.items if head) or day.title
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 1] + "…"


def render_atom(days: list[ArchivedDay], *, title: str, base: str, window: int) -> str | None:
    """The feed of the briefings of the ``window`` days up to the newest (days newest first);
    None when no briefing can be an entry."""
    dated = [d for d in days if d.generated_at is not None]
    if not dated:
        return None
    newest = max(d.day for d in dated)
    shown = [d for d in dated if (newest - d.day).days < window]
    ET.register_namespace("", _ATOM)
    feed = ET.Element(f"{{{_ATOM}}}feed")
    _sub(feed, "id", uuid.uuid5(uuid.NAMESPACE_URL, base).urn)
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(max(d.generated_at for d in shown if d.generated_at)))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=base + ATOM_NAME)
    _sub(feed, "link", rel="alternate", type="text/html", href=base + INDEX_NAME)
    author = _sub(feed, "author")
    _sub(author, "name", "briefer")
    _sub(feed, "generator", "briefer")
    for day in shown:
        assert day.generated_at is not None
        entry = _sub(feed, "entry")
        _sub(entry, "id", uuid.uuid5(uuid.NAMESPACE_URL, base + day.day.isoformat()).urn)
        _sub(entry, "title", day.title)
        _sub(entry, "updated", _stamp(day.generated_at))
        link = day.link()
        if link is not None:
            _sub(entry, "link", rel="alternate", type=link[1], href=base + link[0])
        _sub(entry, "summary", _summary(day), type="text")
        _sub(entry, "content", _content(day), type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"
