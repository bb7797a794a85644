"""Feeds without a network: recognising them, parsing them with feedparser, the window, OPML,
canonical URLs, and the rules for pages that are not the article."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers.feed_server import Item, atom, opml, rdf, rss

from briefer.ingestion import FeedPolicy, FetchPolicy, load_sources
from briefer.ingestion._canonical import clean_url, url_key
from briefer.ingestion._feeds import (
    CONSENT_PHRASES,
    FULL_TEXT_CHARS,
    PAYWALL_PHRASES,
    SNIPPET_MARGIN,
    NotAFeed,
    in_window,
    page_problem,
    parse_feed,
    parse_opml,
    sniff_feed,
    summary_text,
)

ITEMS = [Item("One", "https://example.org/one"), Item("Two", "https://example.org/two")]


# --- recognised by content --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "kind"),
    [
        (rss("T", ITEMS), "rss"),
        (atom("T", ITEMS), "atom"),
        (rdf("T", ITEMS), "rdf"),
        (opml([("A", "https://example.org/feed")]), "opml"),
        ('<!-- generator -->\n<?xml-stylesheet href="s.xsl"?><rss version="0.91">', "rss"),
        ("\ufeff<feed xmlns='http://www.w3.org/2005/Atom'>", "atom"),
        ("<!DOCTYPE rss [<!ENTITY x 'y'>]><rss>", "rss"),
        ("<!DOCTYPE html><html><body>rss feed</body></html>", None),
        ("<rdf>not RSS 1.0</rdf>", None),
        ("Plain text that mentions <rss> later.", None),
        ("", None),
    ],
)
def test_a_feed_is_known_by_its_root_element(document: str, kind: str | None) -> None:
    assert sniff_feed(document) == kind
    assert sniff_feed(document.encode("utf-8")) == kind


def test_a_utf16_feed_is_recognised() -> None:
    assert sniff_feed(rss("T", ITEMS).encode("utf-16")) == "rss"


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("write", [rss, atom, rdf], ids=["rss2", "atom", "rdf"])
def test_entries_of_each_format(write: object) -> None:
    body = write("The &lt;Times&gt;", ITEMS).encode("utf-8")  # type: ignore[operator]
    feed = parse_feed(body, location="https://example.org/feed")
    assert feed.title == "The <Times>"
    assert [(e.position, e.link, e.title) for e in feed.entries] == [
        (1, "https://example.org/one", "One"),
        (2, "https://example.org/two", "Two"),
    ]
    assert feed.entries[0].published == dt.datetime(2025, 6, 2, 9, tzinfo=dt.UTC)
    assert feed.entries[0].summary == "A short summary of the story."
    assert feed.problem is None


def test_feedparser_never_fetches_and_never_opens_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(rss("Secret", ITEMS), encoding="utf-8")
    with pytest.raises(NotAFeed):
        parse_feed(str(secret).encode(), location=None)
    with pytest.raises(NotAFeed):
        parse_feed(b"https://example.org/feed.xml", location=None)


def test_a_feed_cut_short_keeps_the_entries_before_the_cut() -> None:
    body = rss("T", ITEMS).encode("utf-8")
    feed = parse_feed(body[: body.index(b"<item><title>Two")], location=None)
    assert [e.title for e in feed.entries] == ["One"]
    assert feed.problem is not None and feed.problem.startswith("not well-formed")


def test_the_entrys_day_is_where_the_feed_wrote_it() -> None:
    late = Item("Late", "https://example.org/late", date="Mon, 02 Jun 2025 22:30:00 -0400")
    [entry] = parse_feed(rss("T", [late]).encode(), location=None).entries
    assert entry.published_day == dt.date(2025, 6, 2)
    assert entry.published == dt.datetime(2025, 6, 3, 2, 30, tzinfo=dt.UTC)


def test_the_window_judges_the_newest_time() -> None:
    body = atom("T", [Item("Updated", "https://example.org/u", iso_date="2025-06-02T20:00:00Z")])
    body = body.replace("</entry>", "<published>2025-05-01T08:00:00Z</published></entry>")
    [entry] = parse_feed(body.encode(), location=None).entries
    assert entry.published_day == dt.date(2025, 5, 1)
    until = dt.datetime(2025, 6, 2, 23, 59, tzinfo=dt.UTC)
    assert in_window(entry, window=dt.timedelta(hours=24), until=until) is True
    assert in_window(entry, window=dt.timedelta(hours=1), until=until) is False
    assert in_window(entry, window=None, until=until) is True


def test_an_entry_after_the_day_is_outside_and_one_without_date_is_unknown() -> None:
    items = [Item("Next day", "https://e.org/n", date="Tue, 03 Jun 2025 09:00:00 +0000")]
    items.append(Item("Undated", "https://e.org/u", date=None))
    after, undated = parse_feed(rss("T", items).encode(), location=None).entries
    until = dt.datetime(2025, 6, 2, 23, 59, tzinfo=dt.UTC)
    assert in_window(after, window=dt.timedelta(hours=24), until=until) is False
    assert in_window(undated, window=dt.timedelta(hours=24), until=until) is None


def test_summaries_become_plain_text() -> None:
    assert summary_text("<p>One &amp; two</p><p>Three<br/>four</p>") == "One & two\n\nThree\n\nfour"
    assert summary_text("  ") == ""


# --- OPML -------------------------------------------------------------------------------------


def test_opml_lists_each_feed_once_in_order() -> None:
    body = opml(
        [("A", "https://a.org/feed"), ("B", "https://b.org/rss"), ("A", "https://a.org/feed")]
    )
    assert parse_opml(body.encode()) == [("https://a.org/feed", "A"), ("https://b.org/rss", "B")]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("<opml><body><outline text='x'/></body></opml>", "OPML lists no feed"),
        ("<opml><body><outline", "not well-formed OPML"),
        ("<!DOCTYPE opml [<!ENTITY a 'aaaa'>]><opml/>", "OPML with a doctype"),
    ],
)
def test_opml_that_lists_nothing_usable(body: str, reason: str) -> None:
    with pytest.raises(NotAFeed, match=reason):
        parse_opml(body.encode())


def test_an_opml_file_whose_feeds_cannot_be_fetched(tmp_path: Path) -> None:
    listing = tmp_path / "feeds.opml"
    listing.write_text(opml([("F", "ftp://example.org/feed")]), encoding="utf-8")
    result = load_sources([str(listing)], fetch_policy=FetchPolicy(feeds=FeedPolicy()))
    assert [(e.input, e.reason) for e in result.excluded] == [
        ("ftp://example.org/feed", "unsupported URL scheme ftp: only http and https are fetched")
    ]


def test_a_feed_file_whose_links_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(rss("T", [Item("Local", "http://127.0.0.1:9/story")]), encoding="utf-8")
    result = load_sources([str(path)], fetch_policy=FetchPolicy(feeds=FeedPolicy(window=None)))
    [(label, reason)] = [(e.input, e.reason) for e in result.excluded]
    assert label == "http://127.0.0.1:9/story"
    assert reason.startswith("refused: 127.0.0.1 is a loopback address")


# --- canonical URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "clean", "key"),
    [
        ("HTTPS://Example.ORG:443/a", "https://example.org/a", "https://example.org/a"),
        ("http://example.org:80", "http://example.org/", "http://example.org/"),
        ("http://example.org:8080/x", "http://example.org:8080/x", "http://example.org:8080/x"),
        (
            "https://e.org/s/?utm_source=rss&id=3&fbclid=abc&UTM_Medium=x&gclid=1&mc_cid=2#top",
            "https://e.org/s/?id=3",
            "https://e.org/s?id=3",
        ),
        ("https://e.org/a/./b/../c", "https://e.org/a/c", "https://e.org/a/c"),
        ("https://e.org/?utm_campaign=x", "https://e.org/", "https://e.org/"),
        ("https://www.e.org/story/", "https://www.e.org/story/", "https://www.e.org/story"),
        ("not a url", "not a url", "not a url"),
    ],
)
def test_canonical_urls(url: str, clean: str, key: str) -> None:
    assert clean_url(url) == clean
    assert url_key(url) == key


def test_the_scheme_and_www_stay_apart() -> None:
    assert url_key("http://e.org/a") != url_key("https://e.org/a")
    assert url_key("https://e.org/a") != url_key("https://www.e.org/a")


# --- snippets and walls -----------------------------------------------------------------------

ARTICLE = " ".join(["The council met on Monday and approved the plan for the harbour."] * 40)


def test_a_full_article_is_the_article() -> None:
    assert page_problem(ARTICLE, "The council approved the plan.") is None


def test_a_page_no_longer_than_the_summary_is_a_snippet() -> None:
    summary = "The council approved the plan for the harbour on Monday after a long debate."
    assert page_problem(summary + " Read more.", summary) == (
        "snippet: the page gives no more than the feed's summary"
    )
    longer = summary + " " + "x" * (SNIPPET_MARGIN + 10)
    assert page_problem(longer, summary) is None


def test_a_full_text_feed_is_no_snippet() -> None:
    article = ARTICLE[: FULL_TEXT_CHARS + 100]
    assert page_problem(article, article) is None


@pytest.mark.parametrize("phrase", [PAYWALL_PHRASES[0], "This content is for subscribers."])
def test_paywalls(phrase: str) -> None:
    text = f"The council approved the plan. {phrase.upper()}"
    assert page_problem(text, "").startswith("paywall:")  # type: ignore[union-attr]


def test_consent_walls_with_curly_apostrophes_and_odd_spacing() -> None:
    text = "We\u2019d like to say:   We  use\ncookies to improve the site. Accept all cookies"
    assert page_problem(text, "").startswith("consent wall:")  # type: ignore[union-attr]
    assert all(phrase == phrase.lower() for phrase in (*PAYWALL_PHRASES, *CONSENT_PHRASES))


def test_a_long_article_that_mentions_subscribers_is_the_article() -> None:
    assert page_problem(ARTICLE + " Subscribers only get the newsletter.", "") is None
