"""Feeds over real HTTP on loopback: RSS 2.0, RDF, Atom and OPML read with the real fetcher and
feedparser, their entries' pages fetched for the full text; broken feeds and entries are each
one excluded line, and the rest is briefed."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.feed_server import FeedServer, Item, Reply, Request, article_html, atom, opml, rdf, rss
from helpers.feed_server import feed_server as feed_server
from reliability.support import fenced_article, quoting_reply

import briefer
from briefer import BriefOptions
from briefer.ingestion import FeedPolicy, FetchPolicy, IngestResult, load_sources, stream_sources
from briefer.llm.base import LLMRequest
from briefer.models import Excluded
from briefer.testing import FunctionClient

DAY_END = dt.datetime(2025, 6, 2, 23, 59, 59, tzinfo=dt.UTC)


def policy(*, allow_summaries: bool = False, **fetch: Any) -> FetchPolicy:
    return FetchPolicy(
        allow_private=True,
        per_host_interval=0.0,
        retry_backoff=0.01,
        feeds=FeedPolicy(until=DAY_END, allow_summaries=allow_summaries),
        **fetch,
    )


def load(inputs: list[str], **options: Any) -> IngestResult:
    return load_sources(inputs, fetch_policy=policy(**options))


def lines(excluded: list[Excluded]) -> list[tuple[str, str, bool]]:
    return [(e.input, e.reason, e.skipped) for e in excluded]


def serve_articles(server: FeedServer, count: int, prefix: str = "/story") -> list[Item]:
    items = []
    for n in range(1, count + 1):
        path = f"{prefix}/{n}"
        server.page(path, article_html(f"Story {n} headline", f"Harbour story {prefix} {n}."))
        items.append(Item(f"Feed title {n}", server.url(path)))
    return items


# --- each format ------------------------------------------------------------------------------


@pytest.mark.parametrize("write", [rss, atom, rdf], ids=["rss2", "atom", "rdf"])
def test_each_format_briefs_the_full_articles(feed_server: FeedServer, write: Any) -> None:
    items = serve_articles(feed_server, 3)
    url = feed_server.page("/feed", write("The Harbour Times", items), "application/xml")
    result = load([url])
    assert lines(result.excluded) == []
    assert [d.source.url for d in result.documents] == [i.link for i in items]
    first = result.documents[0]
    assert "Paragraph 6 of the report" in first.text  # the page's text, not the summary
    assert first.source.title == "Story 1 headline"  # the page names its title
    assert first.source.outlet == "The Harbour Times"  # the page names no outlet: the feed's
    assert first.source.published == dt.date(2025, 6, 2)  # the page has no date: the entry's
    assert first.source.feed == url
    assert not first.source.from_summary


def test_a_feed_is_known_by_its_content_not_its_name_or_type(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    items = serve_articles(feed_server, 1)
    url = feed_server.page("/news.html", rss("Times", items), "text/html")
    assert [d.source.url for d in load([url]).documents] == [items[0].link]
    named = tmp_path / "saved.txt"
    named.write_text(atom("Times", items), encoding="utf-8")
    assert [d.source.feed for d in load([str(named)]).documents] == [str(named)]


def test_the_entry_fills_what_the_page_lacks_but_the_page_wins(feed_server: FeedServer) -> None:
    page = article_html("Page headline", "Ferry news.", site="Harbour Daily").replace(
        "<title>Page headline</title>", ""
    )
    page = page.replace("<h1>Page headline</h1>", "")
    feed_server.page("/a", page)
    url = feed_server.page(
        "/feed", rss("Feed name", [Item("Entry headline", feed_server.url("/a"))])
    )
    [document] = load([url]).documents
    assert document.source.title == "Entry headline"
    assert document.source.outlet == "Harbour Daily"


def test_an_opml_file_of_feeds(feed_server: FeedServer, tmp_path: Path) -> None:
    first = serve_articles(feed_server, 2, "/a")
    second = serve_articles(feed_server, 1, "/b")
    feeds = [
        ("A", feed_server.page("/a.rss", rss("A news", first), "application/rss+xml")),
        ("B", feed_server.page("/b.atom", atom("B news", second), "application/atom+xml")),
        ("C", feed_server.page("/c", article_html("Not a feed", "Home page."))),
        ("D", feed_server.url("/gone.xml")),
    ]
    listing = tmp_path / "mine.opml"
    listing.write_text(opml(feeds), encoding="utf-8")
    result = load([str(listing)])
    assert [d.source.url for d in result.documents] == [i.link for i in [*first, *second]]
    assert [d.source.feed for d in result.documents] == [feeds[0][1]] * 2 + [feeds[1][1]]
    assert lines(result.excluded) == [
        (feeds[2][1], "not a feed: an HTML page", False),
        (feeds[3][1], "HTTP 404 Not Found", False),
    ]


# --- the window -------------------------------------------------------------------------------


def test_entries_outside_the_window_are_left_out_and_undated_ones_kept(
    feed_server: FeedServer,
) -> None:
    today, old, undated = serve_articles(feed_server, 3)
    old = Item(old.title, old.link, date="Fri, 30 May 2025 09:00:00 +0000")
    undated = Item(undated.title, undated.link, date=None)
    url = feed_server.page("/feed", rss("Times", [today, old, undated]))
    result = load([url])
    assert [d.source.url for d in result.documents] == [today.link, undated.link]
    assert lines(result.excluded) == [
        (url, "1 entry outside the 24 h window left out", True),
        (url, "1 entry without a date, read all the same", True),
    ]
    assert feed_server.count("/story/2") == 0  # never fetched


def test_a_local_day_is_the_feeds_own(feed_server: FeedServer) -> None:
    [item] = serve_articles(feed_server, 1)
    late = Item(item.title, item.link, date="Mon, 02 Jun 2025 22:30:00 -0400")  # 3 June in UTC
    url = feed_server.page("/feed", rss("Times", [late]))
    options = FetchPolicy(allow_private=True, per_host_interval=0, feeds=FeedPolicy(window=None))
    [document] = load_sources([url], fetch_policy=options).documents
    assert document.source.published == dt.date(2025, 6, 2)


# --- broken feeds and entries -----------------------------------------------------------------


def test_a_wrong_declared_encoding_is_read_with_a_note(feed_server: FeedServer) -> None:
    [item] = serve_articles(feed_server, 1)
    body = rss("Zürich Zeitung", [item], encoding="us-ascii").encode("latin-1")
    url = feed_server.page("/feed", body, "application/rss+xml")
    result = load([url])
    [document] = result.documents
    assert document.source.outlet == "Zürich Zeitung"
    assert lines(result.excluded) == [
        (url, "read in spite of an error: its declared encoding is wrong", True)
    ]


def test_html_at_a_feed_address_is_an_article_when_given_directly(
    feed_server: FeedServer,
) -> None:
    url = feed_server.page("/feed.xml", article_html("A page", "Dam story."))
    [document] = load([url]).documents
    assert document.source.feed is None
    assert document.source.title == "A page"


def test_a_named_feed_file_that_is_no_feed(tmp_path: Path) -> None:
    path = tmp_path / "news.rss"
    path.write_text("<!DOCTYPE html><html><body><p>Hello</p></body></html>", encoding="utf-8")
    assert lines(load([str(path)]).excluded) == [(str(path), "not a feed: an HTML page", False)]


def test_relative_links_resolve_against_the_feed(feed_server: FeedServer) -> None:
    feed_server.page("/news/story/1", article_html("One", "Relative story."))
    body = rss("Times", [Item("One", "/news/story/1"), Item("Two", "story/2")])
    url = feed_server.page("/news/feed.xml", body)
    result = load([url])
    assert [d.source.url for d in result.documents] == [feed_server.url("/news/story/1")]
    assert lines(result.excluded) == [
        (feed_server.url("/news/story/2"), "HTTP 404 Not Found", False)
    ]


def test_a_feed_beyond_the_size_cap_is_one_line(feed_server: FeedServer) -> None:
    items = [Item(f"Entry {n}", feed_server.url(f"/s/{n}"), summary="x" * 400) for n in range(300)]
    url = feed_server.page("/huge", rss("Times", items))
    result = load([url], max_bytes=64 * 1024)
    assert result.documents == []
    assert lines(result.excluded) == [(url, "body larger than 64 KB", False)]
    assert feed_server.paths() == ["/huge"]


def test_an_entry_whose_link_fails_is_one_line_and_the_rest_is_briefed(
    feed_server: FeedServer,
) -> None:
    good = serve_articles(feed_server, 2)
    missing = Item("Gone", feed_server.url("/gone"))
    no_link = Item("No link here", "")
    url = feed_server.page("/feed", rss("Times", [good[0], missing, no_link, good[1]]))
    result = load([url])
    assert [d.source.url for d in result.documents] == [good[0].link, good[1].link]
    assert lines(result.excluded) == [
        (missing.link, "HTTP 404 Not Found", False),
        (f"{url} (entry 3: No link here)", "the entry has no link", False),
    ]


def test_a_story_in_two_feeds_is_fetched_once(feed_server: FeedServer) -> None:
    [item] = serve_articles(feed_server, 1)
    tracked = Item(item.title, item.link + "?utm_source=rss&utm_medium=feed#top")
    one = feed_server.page("/one", rss("One", [item]))
    two = feed_server.page("/two", atom("Two", [tracked]))
    result = load([one, two])
    assert feed_server.count("/story/1") == 1
    [document] = result.documents
    assert document.source.feed == one
    assert lines(result.excluded) == [(item.link, "already read", True)]


def test_the_same_text_at_two_addresses_is_briefed_once(feed_server: FeedServer) -> None:
    page = article_html("Wire story", "Wire copy.")
    feed_server.page("/a/wire", page)
    feed_server.page("/b/wire", page)
    one = feed_server.page("/one", rss("One", [Item("Wire", feed_server.url("/a/wire"))]))
    two = feed_server.page("/two", rss("Two", [Item("Wire", feed_server.url("/b/wire"))]))
    result = load([one, two])
    assert len(result.documents) == 1
    assert lines(result.excluded) == [
        (feed_server.url("/b/wire"), f"duplicate of {feed_server.url('/a/wire')}", True)
    ]


# --- snippets and walls -----------------------------------------------------------------------

SUMMARY = "The council approved six ferry routes on Monday, the mayor said."
SNIPPET = f"<html><body><article><p>{SUMMARY} (snippet) Read more.</p></article></body></html>"
PAYWALL = (
    "<html><body><article><h1>Ferry routes</h1><p>The council approved six routes.</p>"
    "<p>Subscribe to continue reading. Already a subscriber? Sign in.</p></article></body></html>"
)
CONSENT = (
    "<html><body><div><p>We value your privacy. We use cookies to improve your experience; "
    "by clicking Accept you consent to the use of cookies.</p><p>Accept all cookies</p>"
    "</div></body></html>"
)


def _walled(feed_server: FeedServer) -> tuple[str, list[Item]]:
    for path, page in (("/snippet", SNIPPET), ("/paywall", PAYWALL), ("/consent", CONSENT)):
        feed_server.page(path, page)
    items = [
        Item(f"Story {name}", feed_server.url(f"/{name}"), summary=f"{SUMMARY} ({name})")
        for name in ("snippet", "paywall", "consent")
    ]
    return feed_server.page("/feed", rss("Times", items)), items


def test_snippets_and_walls_are_not_briefed_as_articles(feed_server: FeedServer) -> None:
    url, items = _walled(feed_server)
    result = load([url])
    assert result.documents == []
    assert lines(result.excluded) == [
        (items[0].link, "snippet: the page gives no more than the feed's summary", False),
        (
            items[1].link,
            "paywall: the page asks to subscribe or sign in instead of giving the article",
            False,
        ),
        (
            items[2].link,
            "consent wall: the page shows a cookie notice instead of the article",
            False,
        ),
    ]


def test_with_summaries_allowed_they_are_briefed_from_the_feed(feed_server: FeedServer) -> None:
    url, _ = _walled(feed_server)
    result = load([url], allow_summaries=True)
    assert lines(result.excluded) == []
    assert [d.text for d in result.documents] == [
        f"{SUMMARY} ({name})" for name in ("snippet", "paywall", "consent")
    ]
    source = result.documents[0].source
    assert source.from_summary
    assert source.title == "Story snippet"
    assert source.outlet == "Times"
    assert source.url == feed_server.url("/snippet")


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_txt_is_honoured_for_feed_entries_not_pasted_urls(
    feed_server: FeedServer,
) -> None:
    items = serve_articles(feed_server, 2, "/private")
    open_item = serve_articles(feed_server, 1, "/open")[0]
    feed_server.page("/robots.txt", "User-agent: briefer\nDisallow: /private/\n", "text/plain")
    url = feed_server.page("/feed", rss("Times", [*items, open_item]))
    result = load([url, items[0].link])
    assert [d.source.url for d in result.documents] == [open_item.link, items[0].link]
    refused = "disallowed by the site's robots.txt"
    assert lines(result.excluded) == [
        (items[0].link, refused, False),
        (items[1].link, refused, False),
    ]
    assert feed_server.count("/robots.txt") == 1
    assert feed_server.count("/private/2") == 0


# --- a briefing -------------------------------------------------------------------------------


def _quoting(request: LLMRequest) -> dict[str, Any]:
    article = fenced_article({"messages": [m.model_dump() for m in request.messages]})
    assert article is not None
    return quoting_reply(article)


def test_a_feed_is_briefed_through_the_pipeline(feed_server: FeedServer) -> None:
    items = serve_articles(feed_server, 2)
    gone = Item("Gone", feed_server.url("/gone"))
    url = feed_server.page("/feed", rss("The Harbour Times", [*items, gone]))
    client = FunctionClient(_quoting)
    briefing = briefer.brief(
        [url], client=client, options=BriefOptions(fetch=policy(), compose=False)
    )
    assert [s.url for s in briefing.sources] == [i.link for i in items]
    assert all(s.feed == url and s.outlet == "The Harbour Times" for s in briefing.sources)
    assert [(e.input, e.reason) for e in briefing.excluded] == [(gone.link, "HTTP 404 Not Found")]
    assert briefing.events
    assert len(client.requests) == 2


# --- streaming --------------------------------------------------------------------------------


async def test_entries_stream_as_they_are_read(feed_server: FeedServer) -> None:
    fast, slow = serve_articles(feed_server, 2)
    released = threading.Event()
    page = article_html("Slow story", "Slow harbour story.")

    def held(request: Request) -> Reply:
        released.wait(10)
        return Reply(body=page)

    feed_server.handle("/story/2", held)
    url = feed_server.page("/feed", rss("Times", [slow, fast]))
    stream = stream_sources([url], fetch_policy=policy())
    seen = []
    async for document in stream:
        seen.append(document.source.url)
        released.set()  # the first came while the other entry was still held
    assert seen == [fast.link, slow.link]
    # The result keeps the feed's order, whatever order the entries came in.
    assert [d.source.url for d in stream.result.documents] == [slow.link, fast.link]
