"""``briefer daily`` through the real CLI, with real parts on loopback: a config file whose
sources are a folder of articles and a page served by an ``http.server``, a fake OpenAI server
answering with the articles' own sentences, the story store, and a real SMTP server (aiosmtpd)
that keeps the mail. What a schedule relies on: a day briefed, archived, fed and mailed; a day
run again changes nothing; ``--force`` runs it again; a run while another holds the day is
refused; a day with nothing usable writes nothing and leaves the earlier days as they were; a
mail that fails is a partial result, sent by the next run."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
from helpers.mailbox import Mailbox
from helpers.web_server import WebServer, web_server
from reliability.support import answer_normally, write_articles
from typer.testing import CliRunner

from briefer.cli import app
from briefer.daily._lock import lock_path
from briefer.testing import FakeOpenAIServer

__all__ = ["web_server"]  # the fixture, imported so pytest finds it

runner = CliRunner()
DAY = "2026-03-05"
NEXT = "2026-03-06"

# The page server's threads print a connection the fetcher reset (a kept-alive one it closed) to
# sys.stderr, which CliRunner captures with the command's own: not the command's words.
_SERVER_NOISE = re.compile(
    r"-{40}\nException occurred during processing of request.*?\n-{40}\n", re.S
)

PAGE = """<!DOCTYPE html><html><head><title>Pier funding agreed</title>
<meta name="author" content="Harbour Gazette"></head><body><article>
<h1>Pier funding agreed</h1>
<p>The regional transport board pledged 52 thousand euros for the Dunmere pier on Tuesday.</p>
<p>Board chair Lena Ortiz said the money would cover the first phase of repairs.</p>
<p>Residents of Dunmere welcomed the decision at a meeting in the town hall.</p>
</article></body></html>"""


@dataclass
class Day:
    """A day's set-up: the config file, the output folder and the servers behind them."""

    config: Path
    out: Path
    model: FakeOpenAIServer
    pages: WebServer
    mailbox: Mailbox
    url: str

    def write_config(self, sources: list[str], *, mail_port: int | None = None) -> None:
        port = self.mailbox.port if mail_port is None else mail_port
        listed = ", ".join(f'"{s}"' for s in sources)
        store = self.config.parent / "stories.db"  # in full: the top-level paths are not resolved
        self.config.write_text(
            textwrap.dedent(
                f"""
                base_url = "{self.model.base_url}"
                cache = false
                store = "{store}"
                [daily]
                sources = [{listed}]
                out = "out"
                title = "Harbour news"
                allow_private = true
                [daily.mail]
                host = "127.0.0.1"
                port = {port}
                security = "none"
                from = "Briefer <briefer@example.org>"
                to = ["ana@example.org"]
                """
            ),
            encoding="utf-8",
        )

    def run(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["daily", "--config", str(self.config), *args])
        return result.exit_code, _SERVER_NOISE.sub("", result.stderr)

    def run_ok(self, *args: str) -> None:
        """A run with ``-q`` that ends well: exit 0, no error, no warning (notes may show)."""
        code, stderr = self.run(*args, "-q")
        assert code == 0, stderr
        assert "error" not in stderr and "warning" not in stderr, stderr

    def state(self) -> dict[str, tuple[int, int]]:
        """Every file in OUT, hidden ones too: (inode, mtime in ns)."""
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in self.out.iterdir()}


@pytest.fixture
def day(tmp_path: Path, web_server: WebServer) -> Iterator[Day]:
    home = tmp_path / "daily"
    write_articles(home / "articles", 2)
    url = web_server.route("/pier.html", body=PAGE)
    with FakeOpenAIServer(answer_normally) as model, Mailbox() as mailbox:
        setup = Day(home / "daily.toml", home / "out", model, web_server, mailbox, url)
        setup.write_config(["articles", url])
        yield setup


def test_a_day_is_briefed_archived_fed_and_mailed_and_a_second_run_changes_nothing(
    day: Day,
) -> None:
    code, stderr = day.run("--date", DAY)
    assert code == 0, stderr
    names = {p.name for p in day.out.iterdir()}
    assert {f"{DAY}.md", f"{DAY}.html", f"{DAY}.json", "index.html", "briefings.atom"} <= names
    assert f".{DAY}.lock" not in names  # released and removed
    assert f"wrote {DAY}.html, {DAY}.md, {DAY}.json, index.html, briefings.atom" in stderr
    assert "mailed to ana@example.org" in stderr
    briefing = (day.out / f"{DAY}.md").read_text(encoding="utf-8")
    assert briefing.startswith("# Harbour news, 5 March 2026")
    assert "Harbour Gazette" in briefing or "pier" in briefing.lower()  # the URL was briefed

    [mail] = day.mailbox.received
    assert mail.recipients == ["ana@example.org"]
    assert mail.message["Subject"] == "Harbour news, 5 March 2026"
    assert mail.message["To"] == "ana@example.org"
    text, page = mail.message.iter_parts()
    assert text.get_content_type() == "text/plain" and page.get_content_type() == "text/html"
    assert text.get_content().replace("\r\n", "\n") == briefing
    assert "prefers-color-scheme: dark" in page.get_content()

    feed = feedparser.parse((day.out / "briefings.atom").read_bytes())
    assert feed.bozo == 0, feed.get("bozo_exception")
    [entry] = feed.entries
    assert entry.title == "Harbour news, 5 March 2026"
    # feedparser gives file:///x as file://x; the feed itself holds the page's file: address.
    assert entry.link == (day.out.resolve() / f"{DAY}.html").as_uri().replace("///", "//")

    before, calls, fetched = day.state(), len(day.model.requests), len(day.pages.requests)
    assert calls >= 3  # two articles, one page, and the composition
    code, stderr = day.run("--date", DAY)
    assert code == 0, stderr
    assert f"{DAY} is done already" in stderr and "wrote" not in stderr
    assert day.state() == before  # not one file rewritten
    assert len(day.model.requests) == calls  # no model call
    assert len(day.pages.requests) == fetched  # no source read
    assert len(day.mailbox.received) == 1  # no mail again


def test_two_days_are_listed_newest_first_and_force_runs_a_day_again(day: Day) -> None:
    day.run_ok("--date", DAY)
    day.run_ok("--date", NEXT)
    index = (day.out / "index.html").read_text(encoding="utf-8")
    assert index.index(f'href="{NEXT}.html"') < index.index(f'href="{DAY}.html"')
    assert f'<a href="{DAY}.json">JSON</a>' in index and "2 briefings" in index
    feed = feedparser.parse((day.out / "briefings.atom").read_bytes())
    assert feed.bozo == 0
    assert [e.title for e in feed.entries] == [
        "Harbour news, 6 March 2026",
        "Harbour news, 5 March 2026",
    ]
    # The second day reads the first from the story store.
    second = (day.out / f"{NEXT}.json").read_text(encoding="utf-8")
    assert '"previous":"2026-03-05"' in second.replace(" ", "")

    before, calls = day.state(), len(day.model.requests)
    day.run_ok("--date", NEXT, "--force")
    after = day.state()
    for name in (f"{NEXT}.md", f"{NEXT}.html", f"{NEXT}.json"):
        assert after[name] != before[name], f"{name} was not rewritten"
    for name in (f"{DAY}.md", f"{DAY}.html", f"{DAY}.json"):
        assert after[name] == before[name], f"{name} of the other day was touched"
    assert len(day.model.requests) > calls
    assert [m.message["Subject"] for m in day.mailbox.received] == [
        "Harbour news, 5 March 2026",
        "Harbour news, 6 March 2026",
        "Harbour news, 6 March 2026",
    ]
    day.run_ok("--date", NEXT, "--force", "--no-mail")
    assert len(day.mailbox.received) == 3


_HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, str(os.getpid()).encode())
print("held", flush=True)
sys.stdin.read()
"""


def test_a_run_while_another_holds_the_day_is_refused(day: Day) -> None:
    day.out.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(lock_path(day.out, dt.date.fromisoformat(DAY)))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        code, stderr = day.run("--date", DAY)
    finally:
        holder.communicate("")
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert f"another run of {DAY} is under way (pid {holder.pid}" in lines[0]
    assert day.model.requests == [] and day.mailbox.received == []
    assert not list(day.out.glob(f"{DAY}.*"))
    day.run_ok("--date", DAY)  # the holder is gone: the day runs


def test_a_day_with_every_source_bad_writes_nothing_and_keeps_the_earlier_days(
    day: Day,
) -> None:
    day.run_ok("--date", DAY)
    kept = {p.name: p.read_bytes() for p in day.out.iterdir()}
    before = day.state()
    day.write_config(["missing-folder", day.pages.url("/gone.html")])
    for args in (("--date", NEXT), ("--date", DAY, "--force")):
        code, stderr = day.run(*args)
        assert code == 1, stderr
        assert "missing-folder" in stderr and "gone.html" in stderr  # each source, its reason
        assert "error: no usable input: every source was excluded; nothing was written" in stderr
        assert "Traceback" not in stderr, stderr
        assert day.state() == before
        assert {p.name: p.read_bytes() for p in day.out.iterdir()} == kept
    assert len(day.mailbox.received) == 1


def test_a_mail_that_fails_is_partial_and_the_next_run_sends_it(day: Day) -> None:
    with Mailbox() as later:
        port = later.port
    day.write_config(["articles", day.url], mail_port=port)  # nobody listens there now
    code, stderr = day.run("--date", DAY)
    assert code == 3
    assert f"the mail to ana@example.org through 127.0.0.1:{port} failed" in stderr
    assert "the files are written" in stderr
    assert (day.out / f"{DAY}.json").is_file() and (day.out / f"{DAY}.html").is_file()
    calls = len(day.model.requests)

    day.write_config(["articles", day.url])  # the relay is back
    code, stderr = day.run("--date", DAY)
    assert code == 0, stderr
    assert f"{DAY} is done already" in stderr and "mailed to ana@example.org" in stderr
    assert len(day.model.requests) == calls
    [mail] = day.mailbox.received
    assert mail.message["Subject"] == "Harbour news, 5 March 2026"
    day.run_ok("--date", DAY)  # sent once: not again
    assert len(day.mailbox.received) == 1


def test_a_bad_setting_is_one_line_and_exit_2(day: Day) -> None:
    day.config.write_text('[daily]\nsources = ["a"]\nformats = ["pdf"]\n', encoding="utf-8")
    code, stderr = day.run("--date", DAY)
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"error: daily.formats from {day.config}: Input should be 'markdown', 'html' or "
        "'json' (got ['pdf'])"
    ]


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Gazette</title><link>{base}/</link>
<description>News of the harbour</description>
<item><title>Pier funding agreed</title><link>{base}/pier.html</link>
<pubDate>Thu, 05 Mar 2026 09:00:00 +0000</pubDate></item>
<item><title>Old ferry timetable</title><link>{base}/old.html</link>
<pubDate>Fri, 20 Feb 2026 09:00:00 +0000</pubDate></item>
</channel></rss>"""


def test_a_feed_gives_the_entries_of_the_window_ending_with_the_day(day: Day) -> None:
    base = day.pages.base_url
    feed = day.pages.route(
        "/feed.xml", body=FEED.format(base=base), content_type="application/rss+xml"
    )
    day.pages.route("/old.html", body=PAGE.replace("Pier funding", "Old ferry timetable"))
    day.write_config([feed])
    day.run_ok("--date", DAY)  # an earlier day: its window ends with 5 March, 24 h long
    briefed = (day.out / f"{DAY}.json").read_text(encoding="utf-8")
    assert f"{base}/pier.html" in briefed
    assert f"{base}/old.html" not in briefed
    assert "/old.html" not in [path for path, _ in day.pages.requests]  # not even fetched
