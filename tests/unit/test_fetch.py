"""fetch_url over real HTTP on loopback: limits, redirects, refused addresses, decoding."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from helpers.web_server import WebServer, web_server

import briefer
from briefer.errors import InputError
from briefer.ingestion import FetchPolicy, stream_sources
from briefer.ingestion import _fetch as fetch
from briefer.ingestion._decode import decode_text
from briefer.ingestion._fetch import address_problem, fetch_url
from briefer.ingestion._limits import format_size

__all__ = ["web_server"]  # the fixture, imported so pytest finds it

ALLOW = FetchPolicy(allow_private=True)
ARTICLE = "<html><head><title>Dam opens</title></head><body><p>The dam opened.</p></body></html>"
PAGE = (
    "<html><head><title>Dam opens</title></head><body><article><p>Engineers reopened the dam "
    "on Tuesday after a month of repairs, and the river ran again below it.</p></article>"
    "</body></html>"
)


def reason_for(url: str, policy: FetchPolicy = ALLOW) -> str:
    with pytest.raises(InputError) as caught:
        fetch_url(url, policy=policy)
    assert caught.value.input == url
    assert "\n" not in caught.value.reason
    return caught.value.reason


# --- success ----------------------------------------------------------------------------------


def test_fetches_html_and_sends_user_agent(web_server: WebServer) -> None:
    url = web_server.route("/a", body=ARTICLE)
    page = fetch_url(url, policy=ALLOW)
    assert page.text == ARTICLE
    assert page.is_html
    assert page.status == 200
    assert page.url == url
    assert web_server.requests[0][1]["User-Agent"] == (
        f"briefer/{briefer.__version__} (+https://github.com/briefer/briefer)"
    )


def test_follows_redirects_and_reports_final_url(web_server: WebServer) -> None:
    final = web_server.route("/final", body=ARTICLE)
    web_server.route("/two", status=302, location="/final")
    start = web_server.route("/one", status=301, location=web_server.url("/two"))
    page = fetch_url(start, policy=ALLOW)
    assert page.url == final
    assert page.requested_url == start
    assert [path for path, _ in web_server.requests] == ["/one", "/two", "/final"]


def test_decodes_with_the_declared_charset(web_server: WebServer) -> None:
    text = "Zürich café: 5 €"
    url = web_server.route(
        "/latin", body=text.encode("iso-8859-15"), content_type="text/plain; charset=iso-8859-15"
    )
    page = fetch_url(url, policy=ALLOW)
    assert page.text == text
    assert page.content_type == "text/plain"


def test_decodes_undeclared_utf8_and_meta_charset(web_server: WebServer) -> None:
    utf8 = web_server.route("/u", body="Niño año".encode(), content_type="text/plain")
    assert fetch_url(utf8, policy=ALLOW).text == "Niño año"
    html = '<html><head><meta charset="windows-1252"></head><body>“quoted”</body></html>'
    meta = web_server.route("/m", body=html.encode("cp1252"), content_type="text/html")
    assert fetch_url(meta, policy=ALLOW).text == html


# --- HTTP failures ----------------------------------------------------------------------------


def test_http_errors_name_the_status(web_server: WebServer) -> None:
    assert reason_for(web_server.url("/missing")) == "HTTP 404 Not Found"
    url = web_server.route("/boom", status=500, body="oops")
    assert reason_for(url) == "HTTP 500 Internal Server Error"


def test_unsupported_content_type(web_server: WebServer) -> None:
    url = web_server.route("/doc.pdf", body=b"%PDF-1.7", content_type="application/pdf")
    assert reason_for(url) == "unsupported content type application/pdf"


def test_too_large_by_content_length(web_server: WebServer) -> None:
    url = web_server.route("/big", filler_bytes=2 * 1024 * 1024)
    policy = FetchPolicy(allow_private=True, max_bytes=1024 * 1024)
    assert reason_for(url, policy) == "body larger than 1 MB"


def test_too_large_while_streaming_without_length(web_server: WebServer) -> None:
    url = web_server.route("/stream", filler_bytes=3 * 1024 * 1024, send_length=False)
    policy = FetchPolicy(allow_private=True, max_bytes=512 * 1024)
    assert reason_for(url, policy) == "body larger than 512 KB"


def test_default_limit_is_5_mb(web_server: WebServer) -> None:
    url = web_server.route("/huge", filler_bytes=6 * 1024 * 1024, send_length=False)
    assert reason_for(url) == "body larger than 5 MB"


def test_redirect_loop(web_server: WebServer) -> None:
    web_server.route("/ping", status=302, location="/pong")
    url = web_server.route("/pong", status=302, location="/ping")
    assert reason_for(url) == "too many redirects (more than 5)"
    assert len(web_server.requests) == 6


def test_redirect_to_unsupported_scheme(web_server: WebServer) -> None:
    url = web_server.route("/r", status=302, location="file:///etc/passwd")
    assert reason_for(url) == "unsupported URL scheme file: only http and https are fetched"


def test_slow_server_times_out(web_server: WebServer) -> None:
    url = web_server.route("/slow", body=ARTICLE, hold=True)
    policy = FetchPolicy(allow_private=True, read_timeout=0.2)
    assert reason_for(url, policy) == "timed out after 0.2 s"


def test_whole_body_deadline(web_server: WebServer) -> None:
    url = web_server.route("/drip", filler_bytes=256 * 1024, send_length=False)
    policy = FetchPolicy(allow_private=True, total_timeout=0)
    assert reason_for(url, policy) == "timed out after 0 s in total"


async def test_fetched_by_the_streaming_reader(web_server: WebServer) -> None:
    url = web_server.route("/a", body=PAGE)
    missing = web_server.url("/nope")
    stream = stream_sources([url, missing], fetch_policy=ALLOW)
    documents = [document async for document in stream]
    assert [d.source.url for d in documents] == [url]
    assert "reopened the dam" in documents[0].text
    [refused] = stream.result.excluded
    assert (refused.input, refused.reason) == (missing, "HTTP 404 Not Found")


def test_connection_refused() -> None:
    # A port that was just free: bind, note it, close.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert reason_for(f"http://127.0.0.1:{port}/") == "connection refused"


# --- refused addresses and schemes ------------------------------------------------------------


def test_loopback_server_refused_by_default(web_server: WebServer) -> None:
    url = web_server.route("/a", body=ARTICLE)
    assert reason_for(url, FetchPolicy()) == (
        "refused: 127.0.0.1 is a loopback address (use --allow-private to allow)"
    )
    assert web_server.requests == []


@pytest.fixture
def loopback_deemed_public(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat exactly 127.0.0.1 (the test server) as public, every other address as usual.

    The test server can only live on loopback; this lets a default policy reach it so that
    what it redirects to is judged by the real rules.
    """
    real = fetch.address_problem

    def problem(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        return None if str(address) == "127.0.0.1" else real(address)

    monkeypatch.setattr(fetch, "address_problem", problem)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://127.0.0.2/", "refused: 127.0.0.2 is a loopback address"),
        ("http://[::1]/admin", "refused: ::1 is a loopback address"),
        ("http://10.0.0.1/", "refused: 10.0.0.1 is a private address"),
        ("http://169.254.169.254/meta", "refused: 169.254.169.254 is a link-local address"),
    ],
)
@pytest.mark.usefixtures("loopback_deemed_public")
def test_redirect_to_private_address_refused(
    web_server: WebServer, target: str, reason: str
) -> None:
    web_server.route("/ok", body=ARTICLE)
    assert fetch_url(web_server.url("/ok"), policy=FetchPolicy()).status == 200
    url = web_server.route("/r", status=302, location=target)
    assert reason_for(url, FetchPolicy()) == f"{reason} (use --allow-private to allow)"


def test_localhost_name_refused() -> None:
    reason = reason_for("http://localhost:9/", FetchPolicy())
    assert reason.startswith("refused: localhost resolves to ")
    assert "a loopback address" in reason


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1]/", "refused: ::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "refused: ::ffff:7f00:1 is a loopback address"),
        ("http://10.0.0.1/", "refused: 10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/", "refused: 169.254.169.254 is a link-local address"),
        ("http://224.0.0.1/", "refused: 224.0.0.1 is a multicast address"),
        ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
        ("https://[fe80::1]/", "refused: fe80::1 is a link-local address"),
        ("http://100.64.0.1/", "refused: 100.64.0.1 is a non-public address"),
    ],
)
def test_non_public_addresses_refused_without_connecting(
    url: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[Any] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: attempts.append(a))
    assert reason_for(url, FetchPolicy()) == f"{reason} (use --allow-private to allow)"
    assert attempts == []


@pytest.mark.parametrize(
    ("url", "scheme"),
    [("file:///etc/passwd", "file"), ("ftp://example.org/a.txt", "ftp"), ("example.org", "")],
)
def test_only_http_and_https(url: str, scheme: str) -> None:
    assert reason_for(url, FetchPolicy()) == (
        f"unsupported URL scheme {scheme or '(none)'}: only http and https are fetched"
    )


def test_dns_rebinding_is_checked_at_connect_time(
    web_server: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name resolves to a public address when checked, then to loopback: refused."""
    web_server.route("/a", body=ARTICLE)
    answers = iter(["93.184.216.34", "127.0.0.1"])
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        if host != "news.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://news.example:{web_server.port}/a"
    assert reason_for(url, FetchPolicy()) == (
        "refused: news.example resolves to 127.0.0.1, a loopback address "
        "(use --allow-private to allow)"
    )
    assert web_server.requests == []


def test_unresolvable_host() -> None:
    # .invalid never resolves (RFC 2606); the resolver answers locally.
    reason = reason_for("http://no-such-host.invalid/", FetchPolicy())
    assert reason == "could not resolve host no-such-host.invalid"


# --- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("127.1.2.3", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("fd00::1", "private"),
        ("fec0::1", "site-local"),
        ("240.0.0.1", "reserved"),
        ("::", "unspecified"),
    ],
)
def test_address_problem(address: str, kind: str | None) -> None:
    assert address_problem(ipaddress.ip_address(address)) == kind


def test_format_size() -> None:
    assert format_size(5 * 1024 * 1024) == "5 MB"
    assert format_size(20 * 1024 * 1024) == "20 MB"
    assert format_size(1536) == "1.5 KB"
    assert format_size(10) == "10 bytes"


def test_pages_fall_back_to_detection() -> None:
    text = "Le ministre a déclaré que la réunion était terminée. " * 20
    decoded, codec = decode_text(text.encode("cp1252"), detect=True)
    assert decoded == text
    assert codec != "utf-8"
    bom = decode_text("\ufeffhello".encode("utf-16"), detect=True)
    assert bom[0] in ("hello", "\ufeffhello")
