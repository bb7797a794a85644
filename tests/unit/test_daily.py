"""briefer daily's parts: its settings (the [daily] table, the environment, one line for a bad
value), the day's lock against another process, the index page and the Atom feed read back with
feedparser."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import feedparser
import pytest

from briefer.daily import DayLockedError
from briefer.daily._archive import archived_days, render_index, write_if_changed
from briefer.daily._atom import feed_base, render_atom
from briefer.daily._lock import day_lock, lock_path
from briefer.errors import ConfigError
from briefer.settings import load_settings, resolve_daily_settings

DAY = dt.date(2026, 3, 5)


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conf" / "daily.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --- settings ---------------------------------------------------------------------------------


def test_the_daily_table_with_paths_beside_the_config_file(tmp_path: Path) -> None:
    config = _config(
        tmp_path,
        """
        model = "gpt-4.1-nano"
        [daily]
        sources = ["articles", "https://example.org/feed.xml", "/srv/news/list.opml"]
        out = "briefings"
        formats = ["html", "json"]
        title = "Harbour news"
        [daily.mail]
        host = "smtp.example.org"
        from = "briefer@example.org"
        to = ["ana@example.org"]
        username = "briefer"
        """,
    )
    daily, origin = resolve_daily_settings(config_file=config)
    here = config.parent
    assert daily.sources == [
        str(here / "articles"),
        "https://example.org/feed.xml",
        "/srv/news/list.opml",
    ]
    assert daily.out == here / "briefings"
    assert daily.formats == ["html", "json"] and daily.title == "Harbour news"
    assert daily.mail is not None and daily.mail.port_in_use() == 587  # STARTTLS by default
    assert daily.mail.password_env == "BRIEFER_SMTP_PASSWORD"
    assert origin["out"] == str(config) and origin["mail.host"] == str(config)
    # The other settings read the same file, past its [daily] table.
    assert load_settings(config_file=config).model == "gpt-4.1-nano"


def test_the_environment_over_the_file_and_no_mail_over_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(
        tmp_path,
        """
        [daily]
        sources = ["a"]
        [daily.mail]
        host = "smtp.example.org"
        from = "briefer@example.org"
        to = ["ana@example.org"]
        """,
    )
    monkeypatch.setenv("BRIEFER_SMTP_TO", "ben@example.org, cy@example.org")
    monkeypatch.setenv("BRIEFER_SMTP_PORT", "2525")
    monkeypatch.setenv("BRIEFER_DAILY_FORMATS", "markdown")
    daily, origin = resolve_daily_settings(config_file=config)
    assert daily.mail is not None
    assert daily.mail.to == ["ben@example.org", "cy@example.org"] and daily.mail.port == 2525
    assert daily.formats == ["markdown"] and origin["formats"] == "BRIEFER_DAILY_FORMATS"
    assert resolve_daily_settings(config_file=config, mail=False)[0].mail is None


@pytest.mark.parametrize(
    ("table", "env", "expected"),
    [
        ('formats = ["pdf"]', {}, "daily.formats from {config}: Input should be"),
        ("window = 24", {}, "daily.window from {config}: 24 is no span: give one such as"),
        ('window = "a week"', {}, "daily.window from {config}: 'a week' is no span"),
        ("feed_days = 0", {}, "daily.feed_days from {config}: Input should be greater than"),
        ('sources = ["-"]', {}, "daily.sources from {config}: '-' (stdin)"),
        ("colour = 1", {}, "daily.colour from {config}: Extra inputs are not permitted"),
        ("", {"BRIEFER_SMTP_PORT": "smtp"}, "daily.mail.port from BRIEFER_SMTP_PORT"),
        ("", {"BRIEFER_SMTP_TO": "nobody"}, "daily.mail.to from BRIEFER_SMTP_TO: 'nobody' is"),
        ("", {"BRIEFER_SMTP_HOST": "mx"}, "daily.mail.from is not set: give it in [daily.mail]"),
        ("", {"BRIEFER_DAILY_SITE_URL": "ftp://x"}, "daily.site_url from BRIEFER_DAILY_SITE_URL"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_setting_and_where_it_came_from(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    env: dict[str, str],
    expected: str,
) -> None:
    config = _config(tmp_path, f"[daily]\n{table}\n")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        resolve_daily_settings(config_file=config)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(expected.format(config=config)), message


@pytest.mark.parametrize(
    ("written", "span"),
    [('"36h"', dt.timedelta(hours=36)), ('"2d"', dt.timedelta(days=2)), ('"all"', None)],
)
def test_the_window_of_feed_entries_is_written_as_brief_takes_it(
    tmp_path: Path, written: str, span: dt.timedelta | None
) -> None:
    config = _config(tmp_path, f"[daily]\nwindow = {written}\n")
    assert resolve_daily_settings(config_file=config)[0].window == span
    assert resolve_daily_settings(config_file=_config(tmp_path, ""))[0].window == dt.timedelta(
        hours=24
    )


def test_a_password_in_the_file_is_refused_and_a_missing_config_named(tmp_path: Path) -> None:
    config = _config(tmp_path, '[daily.mail]\nhost = "h"\npassword = "hunter2"\n')
    with pytest.raises(ConfigError) as caught:
        resolve_daily_settings(config_file=config)
    assert "password_env" in str(caught.value) and "hunter2" not in str(caught.value)
    with pytest.raises(ConfigError, match=r"--config .*nowhere\.toml: no such file"):
        resolve_daily_settings(config_file=tmp_path / "nowhere.toml")
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(config_file=tmp_path / "nowhere.toml")


# --- the lock ---------------------------------------------------------------------------------

_HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, str(os.getpid()).encode())
print("held", flush=True)
sys.stdin.read()
"""


def test_a_day_locked_by_another_process_is_refused_and_then_free(tmp_path: Path) -> None:
    path = lock_path(tmp_path, DAY)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(DayLockedError) as caught, day_lock(tmp_path, DAY):
            pass
        assert f"pid {holder.pid}" in str(caught.value) and str(path) in str(caught.value)
        with day_lock(tmp_path, DAY + dt.timedelta(days=1)):  # another day is free
            pass
    finally:
        holder.communicate("")  # its end releases the lock
    with day_lock(tmp_path, DAY) as held:
        assert held.read_text(encoding="ascii").strip() == str(os.getpid())
    assert not path.exists()  # removed when the run ends


def test_the_lock_file_of_a_dead_run_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    path = lock_path(tmp_path, DAY)
    path.write_text(dead + "\n", encoding="ascii")  # left behind by a run that was killed
    with day_lock(tmp_path, DAY) as held:
        assert held.read_text(encoding="ascii").strip() == str(os.getpid())


# --- the index and the feed -------------------------------------------------------------------


def _briefing(
    out: Path, day: dt.date, *, hour: int = 6, formats: tuple[str, ...] = ("md", "html")
) -> None:
    data = {
        "date": day.isoformat(),
        "title": f"Harbour news, {day.day} March 2026",
        "generated_at": f"{day.isoformat()}T0{hour}:30:00Z",
        "items": [
            {
                "headline": f"Ferry routes approved on day {day.day}",
                "text": "The council <b>approved</b> them.",
            },
            {"headline": "Fishermen protest", "text": "They cited lost moorings."},
        ],
        "events": [{}, {}],
        "stats": {"documents": 3},
    }
    (out / f"{day.isoformat()}.json").write_text(json.dumps(data), encoding="utf-8")
    for suffix in formats:
        (out / f"{day.isoformat()}.{suffix}").write_text("x", encoding="utf-8")


def test_the_index_lists_every_day_newest_first_with_each_format(tmp_path: Path) -> None:
    for n in (3, 5, 4):
        _briefing(tmp_path, dt.date(2026, 3, n))
    (tmp_path / "2026-03-06.md").write_text("# only markdown", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a briefing", encoding="utf-8")
    days = archived_days(tmp_path)
    assert [d.day.day for d in days] == [6, 5, 4, 3]
    page = render_index(days, "Harbour news")
    assert page.index("2026-03-05.html") < page.index("2026-03-04.html") < page.index("2026-03-03")
    assert '<a href="2026-03-05.md">Markdown</a>' in page
    assert '<a href="2026-03-05.json">JSON</a>' in page
    assert '<a href="2026-03-06.md">Briefing of 2026-03-06</a>' in page  # no JSON: its date
    assert "notes.md" not in page
    assert "prefers-color-scheme: dark" in page and 'name="viewport"' in page  # the page style
    assert '<a href="briefings.atom"' in page


def test_a_page_is_rewritten_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    assert write_if_changed(path, "one")
    before = path.stat().st_mtime_ns
    assert not write_if_changed(path, "one")
    assert path.stat().st_mtime_ns == before
    assert write_if_changed(path, "two") and path.read_text(encoding="utf-8") == "two"


def test_the_atom_feed_reads_back_with_feedparser(tmp_path: Path) -> None:
    for n in (1, 3, 4, 5):
        _briefing(tmp_path, dt.date(2026, 3, n), hour=n)
    _briefing(tmp_path, dt.date(2026, 2, 1), formats=("md",))  # outside a 30-day window
    base = feed_base(tmp_path, "https://example.org/briefings/")
    text = render_atom(archived_days(tmp_path), title="Harbour news", base=base, window=30)
    assert text is not None
    feed = feedparser.parse(text.encode("utf-8"))
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.title == "Harbour news"
    assert feed.feed.id.startswith("urn:uuid:")
    assert feed.feed.updated == "2026-03-05T05:30:00Z"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {
        "self": "https://example.org/briefings/briefings.atom",
        "alternate": "https://example.org/briefings/index.html",
    }
    entries = feed.entries
    assert [e.title for e in entries] == [f"Harbour news, {n} March 2026" for n in (5, 4, 3, 1)]
    assert len({e.id for e in entries}) == 4
    first = entries[0]
    assert first.link == "https://example.org/briefings/2026-03-05.html"
    assert first.updated == "2026-03-05T05:30:00Z"
    assert first.summary == "Ferry routes approved on day 5; Fishermen protest"
    assert "<b>approved</b>" not in first.content[0].value  # the text is escaped, not markup
    assert "&lt;b&gt;approved&lt;/b&gt;" in first.content[0].value
    # A narrower window keeps the days up to the newest; ids stay as they were.
    narrow = render_atom(archived_days(tmp_path), title="Harbour news", base=base, window=2)
    assert narrow is not None
    again = feedparser.parse(narrow.encode("utf-8")).entries
    assert [(e.id, e.link) for e in again] == [(e.id, e.link) for e in entries[:2]]


def test_without_a_site_the_feed_links_the_folder_itself(tmp_path: Path) -> None:
    _briefing(tmp_path, DAY, formats=("md",))
    base = feed_base(tmp_path, None)
    text = render_atom(archived_days(tmp_path), title="T", base=base, window=30)
    assert text is not None
    feed = feedparser.parse(text.encode("utf-8"))
    assert feed.bozo == 0
    [link] = feed.entries[0].links
    assert (link.rel, link.type) == ("alternate", "text/markdown")
    address = (tmp_path.resolve() / "2026-03-05.md").as_uri()
    assert f'href="{address}"' in text
    # feedparser writes file:/// as file:// when it resolves links: its way, not the feed's.
    assert link.href.removeprefix("file://").lstrip("/") == address.removeprefix("file:///")
    assert render_atom([], title="T", base=base, window=30) is None


def test_the_config_example_of_the_docs_reads(tmp_path: Path, repo_root: Path) -> None:
    doc = (repo_root / "docs" / "daily.md").read_text(encoding="utf-8")
    example = doc.split("```toml\n", 1)[1].split("```", 1)[0]
    config = _config(tmp_path, example)
    daily, _ = resolve_daily_settings(config_file=config)
    assert daily.sources[0] == str(config.parent / "feeds.opml")
    assert daily.site_url == "https://example.org/briefings/" and daily.feed_days == 30
    assert daily.window == dt.timedelta(hours=24)
    assert daily.mail is not None and daily.mail.to == ["ana@example.org", "ben@example.org"]
    assert load_settings(config_file=config).store == Path("~/.local/share/briefer/news.db")
