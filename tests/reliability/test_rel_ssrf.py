"""SSRF through the CLI: URLs on loopback, private, link-local, multicast or unspecified
addresses (IPv4, IPv6, IPv4-mapped, names that resolve there, redirects that lead there) are
refused without a connection, unless ``--allow-private``."""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from helpers.web_server import WebServer, web_server
from reliability.support import assert_no_traceback, run_cli
from typer.testing import CliRunner

import briefer.ingestion._fetch
from briefer.cli import app

__all__ = ["web_server"]

ARTICLE_HTML = (
    "<html><head><title>Ferry routes approved</title></head><body><article><p>The Dunmere "
    "council approved ten new ferry routes on Monday after a long debate about moorings and "
    "fares in the old harbour.</p></article></body></html>"
)


def refused_targets(port: int) -> dict[str, str]:
    """URL -> the kind of address its reason must name."""
    return {
        f"http://127.0.0.1:{port}/a": "loopback",
        f"http://127.8.9.10:{port}/a": "loopback",
        f"http://[::1]:{port}/a": "loopback",
        f"http://[::ffff:127.0.0.1]:{port}/a": "loopback",
        f"http://localhost:{port}/a": "loopback",
        f"http://2130706433:{port}/a": "loopback",  # 127.0.0.1 as one number
        "http://10.0.0.1/": "private",
        "http://172.16.5.4/": "private",
        "http://192.168.1.1/": "private",
        "http://[fd00::1]/": "private",
        "http://[::ffff:10.0.0.1]/": "private",
        "http://169.254.169.254/latest/meta-data/": "link-local",
        "http://[fe80::1]/": "link-local",
        "http://[::ffff:169.254.169.254]/": "link-local",
        "http://224.0.0.1/": "multicast",
        "http://[ff02::1]/": "multicast",
        f"http://0.0.0.0:{port}/a": "unspecified",
        "http://[::]/": "unspecified",
    }


def test_private_addresses_are_refused_through_the_cli(web_server: WebServer) -> None:
    web_server.route("/a", body=ARTICLE_HTML)
    targets = refused_targets(web_server.port)
    run = run_cli(["estimate", "--json", *targets])
    assert_no_traceback(run)
    assert run.code == 1, run.stderr
    reasons = {e["input"]: e["reason"] for e in json.loads(run.stdout)["excluded"]}
    for url, kind in targets.items():
        assert url in reasons, url
        assert reasons[url].startswith("refused:") and kind in reasons[url], (url, reasons[url])
        assert "--allow-private" in reasons[url]
        assert f"excluded: {url}: {reasons[url]}" in run.stderr
    assert web_server.requests == [], "a refused URL reached the server"


def test_allow_private_lets_loopback_through(web_server: WebServer) -> None:
    url = web_server.route("/a", body=ARTICLE_HTML)
    run = run_cli(
        ["estimate", "--json", "--allow-private", url, f"http://localhost:{web_server.port}/a"]
    )
    assert_no_traceback(run)
    assert run.code == 3, run.stderr  # the second is the same page: a duplicate
    documents = json.loads(run.stdout)["documents"]
    assert [d["input"] for d in documents] == [url]
    assert len(web_server.requests) == 2


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Treat 127.0.0.1 as a public address (the test's stand-in for a public site), and
    record every connection attempted."""
    real_problem = briefer.ingestion._fetch.address_problem
    loopback = ipaddress.ip_address("127.0.0.1")

    def problem(address: Any) -> str | None:
        return None if address == loopback else real_problem(address)

    monkeypatch.setattr(briefer.ingestion._fetch, "address_problem", problem)
    attempts: list[Any] = []
    guarded = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield attempts


def test_redirects_to_private_addresses_are_refused_before_connecting(
    web_server: WebServer, loopback_is_public: list[Any]
) -> None:
    targets = {
        "/to-private": ("http://10.0.0.1/admin", "private"),
        "/to-metadata": ("http://169.254.169.254/latest/meta-data/", "link-local"),
        "/to-mapped": ("http://[::ffff:10.0.0.1]/", "private"),
        "/to-v6-loopback": (f"http://[::1]:{web_server.port}/a", "loopback"),
        "/to-unspecified": ("http://0.0.0.0/", "unspecified"),
        "/hop": (f"{web_server.base_url}/to-metadata", "link-local"),  # two hops
    }
    urls = {}
    for path, (location, kind) in targets.items():
        urls[web_server.route(path, status=302, location=location)] = kind
    good = web_server.route("/a", body=ARTICLE_HTML)
    result = CliRunner().invoke(app, ["estimate", "--json", *urls, good])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 3, result.stderr
    assert "Traceback" not in result.stderr
    reasons = {e["input"]: e["reason"] for e in json.loads(result.stdout)["excluded"]}
    for url, kind in urls.items():
        assert reasons[url].startswith("refused:") and kind in reasons[url], (url, reasons[url])
    # Only the test server was ever connected to.
    hosts = {address[0] for address in loopback_is_public if isinstance(address, tuple)}
    assert hosts == {"127.0.0.1"}, hosts
    assert {path for path, _ in web_server.requests} == {*targets, "/a"}
