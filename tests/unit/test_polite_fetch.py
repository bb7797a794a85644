"""Polite fetching over real HTTP on loopback: turns per host, a real User-Agent, conditional GETs
from the HTTP cache, robots.txt, and retries on 429 and 503."""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path

import pytest
from helpers.feed_server import FeedServer, Handler, Item, Reply, Request, article_html, rss
from helpers.feed_server import feed_server as feed_server

import briefer
from briefer.errors import ConfigError, InputError
from briefer.ingestion import DEFAULT_USER_AGENT, FeedPolicy, FetchPolicy, load_sources
from briefer.ingestion._fetch import fetch_url
from briefer.ingestion._polite import Manners, host_key

FAST = FetchPolicy(allow_private=True, per_host_interval=0.0, retry_backoff=0.01)


def reason_for(url: str, policy: FetchPolicy = FAST) -> str:
    with pytest.raises(InputError) as caught:
        fetch_url(url, policy=policy)
    return caught.value.reason


def fetch_all(urls: list[str], policy: FetchPolicy) -> None:
    """Fetch ``urls`` at once, in threads sharing one run's manners."""
    manners = Manners(policy)
    threads = [
        threading.Thread(
            target=fetch_url, args=(url,), kwargs={"policy": policy, "manners": manners}
        )
        for url in urls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


# --- who we say we are ------------------------------------------------------------------------


def test_the_user_agent_names_briefer_and_its_version(feed_server: FeedServer) -> None:
    url = feed_server.page("/a", "hello", "text/plain")
    fetch_url(url, policy=FAST)
    agent = feed_server.requests[0].headers["User-Agent"]
    assert agent == DEFAULT_USER_AGENT
    assert agent.startswith(f"briefer/{briefer.__version__} (+https://")


# --- turns per host ---------------------------------------------------------------------------


def test_at_most_two_requests_at_once_to_one_host() -> None:
    server = FeedServer(latency=0.15).start()
    try:
        urls = [server.page(f"/{n}", "x", "text/plain") for n in range(6)]
        fetch_all(urls, FAST)
        assert server.count("/0") == 1 and len(server.requests) == 6
        assert server.most_in_flight == 2
    finally:
        server.stop()


def test_requests_to_one_host_are_spaced() -> None:
    server = FeedServer().start()
    try:
        urls = [server.page(f"/{n}", "x", "text/plain") for n in range(4)]
        fetch_all(urls, FetchPolicy(allow_private=True, per_host_interval=0.1))
        starts = sorted(request.at for request in server.requests)
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert min(gaps) >= 0.09, gaps
    finally:
        server.stop()


def test_hosts_take_turns_apart() -> None:
    one, two = FeedServer(latency=0.3).start(), FeedServer(latency=0.3).start()
    try:
        urls = [one.page("/a", "x", "text/plain"), two.page("/b", "y", "text/plain")]
        policy = FetchPolicy(allow_private=True, per_host_connections=1, per_host_interval=1.0)
        fetch_all(urls, policy)
        # Neither waited for the other: they started together.
        assert abs(one.requests[0].at - two.requests[0].at) < 0.2
    finally:
        one.stop()
        two.stop()


def test_a_host_is_its_name_and_port() -> None:
    assert host_key("https://Example.org/a") == "example.org:443"
    assert host_key("http://example.org:8080/") == "example.org:8080"
    assert host_key("http://example.org/") == "example.org:80"


def test_limits_that_make_no_sense_are_refused() -> None:
    with pytest.raises(ConfigError, match="per_host_connections must be at least 1"):
        FetchPolicy(per_host_connections=0)
    with pytest.raises(ConfigError, match="per_host_interval must not be negative"):
        FetchPolicy(per_host_interval=-1)


# --- conditional GET --------------------------------------------------------------------------


def test_a_second_fetch_sends_the_validators_and_gets_the_kept_body(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    page = article_html("Kept", "Cached story.")
    url = feed_server.page("/a", page)
    policy = FetchPolicy(allow_private=True, per_host_interval=0, http_cache_dir=tmp_path)
    first = fetch_url(url, policy=policy)
    again = fetch_url(url, policy=policy)
    assert (first.text, first.from_cache) == (page, False)
    assert (again.text, again.from_cache, again.status) == (page, True, 200)
    second = feed_server.requests[1].headers
    assert second["If-None-Match"].startswith('"')
    assert second["If-Modified-Since"] == "Mon, 02 Jun 2025 08:00:00 GMT"
    assert feed_server.bodies_sent == 1


def test_nothing_is_kept_without_a_cache_directory_or_validators(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.page("/a", "text", "text/plain")
    fetch_url(url, policy=FAST)
    fetch_url(url, policy=FAST)
    bare = feed_server.page("/bare", "text", "text/plain", validators=False)
    policy = FetchPolicy(allow_private=True, per_host_interval=0, http_cache_dir=tmp_path)
    fetch_url(bare, policy=policy)
    fetch_url(bare, policy=policy)
    assert feed_server.bodies_sent == 4
    assert "If-None-Match" not in feed_server.requests[1].headers
    assert list(tmp_path.iterdir()) == []


def test_no_store_is_not_kept(feed_server: FeedServer, tmp_path: Path) -> None:
    def private(request: Request) -> Reply:
        return Reply(
            body="mine",
            content_type="text/plain",
            headers={"ETag": '"1"', "Cache-Control": "no-store"},
        )

    url = feed_server.handle("/private", private)
    policy = FetchPolicy(allow_private=True, per_host_interval=0, http_cache_dir=tmp_path)
    fetch_url(url, policy=policy)
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_cache_entry_is_fetched_afresh(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.page("/a", "the text", "text/plain")
    policy = FetchPolicy(allow_private=True, per_host_interval=0, http_cache_dir=tmp_path)
    fetch_url(url, policy=policy)
    [body] = tmp_path.glob("*.body")
    body.write_bytes(b"something else")
    page = fetch_url(url, policy=policy)
    assert (page.text, page.from_cache) == ("the text", False)
    assert "If-None-Match" not in feed_server.requests[1].headers
    [record] = tmp_path.glob("*.json")
    assert json.loads(record.read_text(encoding="utf-8"))["url"] == url


def test_a_second_run_of_a_feed_downloads_no_body_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    links = []
    for n in range(3):
        links.append(feed_server.page(f"/s/{n}", article_html(f"Story {n}", f"Subject {n}.")))
    feed = feed_server.page(
        "/feed", rss("Times", [Item(f"S{n}", link) for n, link in enumerate(links)])
    )
    policy = FetchPolicy(
        allow_private=True,
        per_host_interval=0,
        http_cache_dir=tmp_path,
        feeds=FeedPolicy(window=None),
    )
    first = load_sources([feed], fetch_policy=policy)
    bodies = feed_server.bodies_sent
    again = load_sources([feed], fetch_policy=policy)
    assert bodies == 4  # the feed and its three articles (no robots.txt: a 404)
    assert feed_server.bodies_sent == bodies
    assert [d.id for d in again.documents] == [d.id for d in first.documents]
    assert len(again.documents) == 3


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_txt_is_read_once_per_host_per_run(feed_server: FeedServer) -> None:
    feed_server.page("/robots.txt", "User-agent: *\nDisallow: /no/\n", "text/plain")
    urls = [feed_server.page(f"/yes/{n}", "ok", "text/plain") for n in range(3)]
    manners = Manners(FAST)
    for url in urls:
        fetch_url(url, policy=FAST, manners=manners, robots=True)
    with pytest.raises(InputError, match=r"disallowed by the site's robots\.txt"):
        fetch_url(feed_server.url("/no/1"), policy=FAST, manners=manners, robots=True)
    assert feed_server.count("/robots.txt") == 1
    assert feed_server.count("/no/1") == 0


def test_robots_rules_name_briefer(feed_server: FeedServer) -> None:
    rules = "User-agent: briefer\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    feed_server.page("/robots.txt", rules, "text/plain")
    url = feed_server.page("/a", "ok", "text/plain")
    with pytest.raises(InputError, match="disallowed"):
        fetch_url(url, policy=FAST, robots=True)
    assert fetch_url(url, policy=FAST).text == "ok"  # asked for by the user: fetched


@pytest.mark.parametrize(
    ("status", "refusal"),
    [
        (404, None),
        (403, None),
        (500, "robots.txt could not be read (HTTP 500)"),
    ],
)
def test_robots_txt_that_cannot_be_had(
    feed_server: FeedServer, status: int, refusal: str | None
) -> None:
    feed_server.handle("/robots.txt", lambda request: Reply(status=status, body="no"))
    url = feed_server.page("/a", "ok", "text/plain")
    if refusal is None:
        assert fetch_url(url, policy=FAST, robots=True).text == "ok"
    else:
        assert reason_for_robots(url) == refusal


def reason_for_robots(url: str) -> str:
    with pytest.raises(InputError) as caught:
        fetch_url(url, policy=FAST, robots=True)
    return caught.value.reason


def test_robots_can_be_turned_off(feed_server: FeedServer) -> None:
    feed_server.page("/robots.txt", "User-agent: *\nDisallow: /\n", "text/plain")
    url = feed_server.page("/a", "ok", "text/plain")
    policy = FetchPolicy(allow_private=True, per_host_interval=0, robots=False)
    assert fetch_url(url, policy=policy, robots=True).text == "ok"
    assert feed_server.count("/robots.txt") == 0


# --- retries ----------------------------------------------------------------------------------


def busy_then_ok(status: int, times: int, retry_after: str | None) -> Handler:
    asked = 0

    def handle(request: Request) -> Reply:
        nonlocal asked
        asked += 1
        if asked <= times:
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return Reply(status=status, body="busy", headers=headers)
        return Reply(body="at last", content_type="text/plain")

    return handle


@pytest.mark.parametrize(("status", "retry_after"), [(429, "0"), (503, None), (503, "0")])
def test_429_and_503_are_asked_again(
    feed_server: FeedServer, status: int, retry_after: str | None
) -> None:
    url = feed_server.handle("/busy", busy_then_ok(status, 2, retry_after))
    assert fetch_url(url, policy=FAST).text == "at last"
    assert feed_server.count("/busy") == 3


def test_retries_are_bounded(feed_server: FeedServer) -> None:
    url = feed_server.handle("/busy", busy_then_ok(503, 10, None))
    assert reason_for(url) == "HTTP 503 Service Unavailable after 3 tries"
    assert feed_server.count("/busy") == 3


def test_a_wait_longer_than_allowed_is_not_waited_for(feed_server: FeedServer) -> None:
    url = feed_server.handle("/busy", busy_then_ok(429, 10, "120"))
    assert reason_for(url) == "HTTP 429 Too Many Requests (the server asked to wait 120 s)"
    assert feed_server.count("/busy") == 1


def test_retry_after_as_a_date(feed_server: FeedServer) -> None:
    url = feed_server.handle(
        "/busy",
        busy_then_ok(503, 1, "Mon, 02 Jun 2025 08:00:00 GMT"),
    )  # a date in the past: ask again at once
    assert fetch_url(url, policy=FAST).text == "at last"
