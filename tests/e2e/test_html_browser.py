"""The HTML briefing in a real browser: headless Chromium lays out the example briefing (as the
model composed it, as the deterministic composer did, and as a store hands it, opening with what
changed since the last briefing) and a stored story's timeline at a desktop width (1280 px) and a
phone's (390 px), in light and dark mode, and the page is measured
where a reader would notice: no sideways scrolling on the phone, lines of one paragraph evenly
spaced with citation marks in them, no mark alone at the start of a line, links readable in dark
mode, and every in-page link (contents, marks, back-links, sources) leading somewhere.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
messages ending in a NUL byte on file descriptors 3 and 4), so no websocket client is needed.
The test is skipped, saying why, when Chromium is not installed (``.ci/run`` installs it).
Set ``HTML_SCREENSHOTS`` to a folder to keep the screenshots it takes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import select
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import briefer
from briefer.composition._deterministic import compose_deterministic
from briefer.models import Briefing, StoryChange, StoryDay, StorySummary, StoryTimeline
from briefer.rendering import render_html, render_story

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "examples" / "articles"
RECORDINGS = ROOT / "examples" / "recordings"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-pipe",
)
TIMEOUT = 20.0
PHONE = (390, 844)
DESKTOP = (1280, 900)


def _chromium() -> str | None:
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


class Browser:
    """One headless Chromium, one page, driven over the DevTools protocol on a pipe."""

    def __init__(self, executable: str, profile: Path) -> None:
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # The browser reads commands on fd 3 and writes replies on fd 4.
        self.pid = os.posix_spawn(
            executable,
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            os.environ,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, commands_read, 3),
                (os.POSIX_SPAWN_DUP2, replies_write, 4),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
        os.close(commands_read)
        os.close(replies_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        self.call("Page.enable", session=True)

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(e["method"] == event for e in self._events):
            self._events.append(self._read_message(deadline))
        self._events.clear()

    def open(self, url: str, width: int, height: int, *, dark: bool) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            session=True,
        )
        scheme = "dark" if dark else "light"
        self.call(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            session=True,
        )
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(reply["exceptionDetails"])
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> None:
        shot = self.call(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=True
        )
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, TimeoutError, RuntimeError, ConnectionError):
            pass
        finally:
            os.close(self._commands)
            os.close(self._replies)
            deadline = time.monotonic() + 5
            while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
                if time.monotonic() > deadline:
                    # It did not close when asked: end it (this browser only, by its pid).
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    break
                time.sleep(0.05)


# Measured in the page, after layout: what a reader would see go wrong.
MEASURE = r"""
(() => {
  const doc = document.documentElement;
  const byHref = (a) => document.getElementById(a.getAttribute('href').slice(1));
  // The top of every line of plain text in a paragraph (marks left out: they are moved up on
  // purpose, and a line is as tall as its plain text when they do not push it down).
  const lineTops = (p) => {
    const tops = new Set();
    const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('a.cite') || !node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) {
        if (r.width > 0) tops.add(Math.round(r.top * 2) / 2);
      }
    }
    return [...tops].sort((a, b) => a - b);
  };
  const withMarks = [...document.querySelectorAll('main section p')]
    .filter((p) => p.querySelector('a.cite'));
  const gaps = withMarks.map((p) => {
    const tops = lineTops(p);
    return tops.slice(1).map((t, i) => t - tops[i]);
  });
  // A mark shares its line with the last letter before it (or follows another mark).
  const orphans = [];
  for (const mark of document.querySelectorAll('a.cite')) {
    const before = mark.previousSibling;
    if (before && before.nodeType === 1 && before.matches('a.cite')) continue;
    if (!before || !before.textContent.trim()) {
      orphans.push(mark.id + ': no word before it');
      continue;
    }
    const range = document.createRange();
    range.setStart(before, before.textContent.length - 1);
    range.setEnd(before, before.textContent.length);
    const letter = range.getBoundingClientRect();
    if (Math.abs(mark.getBoundingClientRect().bottom - letter.bottom) > letter.height) {
      orphans.push(mark.id);
    }
  }
  const links = [...document.querySelectorAll('a[href^="#"]')];
  const rgb = (c) => c.match(/[\d.]+/g).slice(0, 3).map(Number);
  const linear = (v) => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  const luminance = (c) => {
    const [r, g, b] = rgb(c).map(linear);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const contrast = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05);
  };
  const background = getComputedStyle(doc).backgroundColor;
  const lowest = (selector) => Math.min(...[...document.querySelectorAll(selector)]
    .map((e) => contrast(getComputedStyle(e).color, background)));
  return {
    width: doc.clientWidth,
    scrollWidth: doc.scrollWidth,
    wide: [...document.querySelectorAll('main *')]
      .filter((e) => e.getBoundingClientRect().right > doc.clientWidth + 0.5)
      .map((e) => e.tagName + '.' + e.className).slice(0, 5),
    dark: matchMedia('(prefers-color-scheme: dark)').matches,
    background,
    gaps,
    orphans,
    links: links.length,
    unresolved: links.filter((a) => !byHref(a)).map((a) => a.getAttribute('href')),
    toc: [...document.querySelectorAll('nav.toc a')].map((a) => a.getAttribute('href')),
    marks: document.querySelectorAll('a.cite').length,
    // For each back-link: the class of what it leads to, where that leads, and its entry.
    backLinks: [...document.querySelectorAll('#citations .back a')].map((a) => {
      const mark = byHref(a);
      return [mark ? mark.className : null, mark ? mark.getAttribute('href') : null,
        a.closest('li[id]').id];
    }),
    linkContrast: lowest('a'),
    textContrast: lowest('p, li, h1, h2, h3, blockquote'),
  };
})()
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); .ci/run installs it")
    with tempfile.TemporaryDirectory(prefix="briefer-chromium-") as profile:
        session = Browser(executable, Path(profile))
        try:
            yield session
        finally:
            session.close()


def _stored(composed: Briefing) -> Briefing:
    """The example as a store hands it the day after a briefing: the two stories reported by
    several outlets updated (an outlet new to each), three continuing, the others new."""
    events = []
    for n, event in enumerate(composed.events):
        if event.corroboration > 1:
            newest = max(event.source_ids, key=lambda sid: _published(composed, sid))
            changes = [StoryChange(kind="outlet", source_ids=[newest])]
            events.append(event.model_copy(update={"status": "updated", "changes": changes}))
        else:
            events.append(event.model_copy(update={"status": "continuing" if n % 3 else "new"}))
    stored = composed.model_copy(update={"events": events, "previous": dt.date(2022, 1, 11)})
    items = compose_deterministic(stored, stored.sources)
    return stored.model_copy(update={"composer": "deterministic", "items": items})


def _published(briefing: Briefing, source_id: str) -> dt.date:
    source = next(s for s in briefing.sources if s.id == source_id)
    return source.published or dt.date.min


def _story(composed: Briefing) -> StoryTimeline:
    """The example's most reported event as a stored story: a day per source, each day's event
    with that day's quotes, an outlet new to it on every later day."""
    event = max(composed.events, key=lambda e: e.corroboration)
    by_day = sorted(event.source_ids, key=lambda sid: _published(composed, sid))
    days = []
    for n, sid in enumerate(by_day):
        quoted = [e for e in event.evidence if e.source_id == sid]
        day_event = event.model_copy(
            update={"evidence": quoted, "source_ids": [sid], "corroboration": 1, "conflicts": []}
        )
        changes = [StoryChange(kind="outlet", source_ids=[sid])] if n else []
        days.append(
            StoryDay(
                day=_published(composed, sid),
                status="updated" if n else "new",
                changes=changes,
                event=day_event,
            )
        )
    outlets = [s.outlet or s.id for s in composed.sources if s.id in by_day]
    summary = StorySummary(
        id="story-1",
        title=event.summary,
        first_day=days[0].day,
        last_day=days[-1].day,
        days=len(days),
        outlets=outlets,
        open_conflicts=len(event.conflicts),
    )
    return StoryTimeline(
        summary=summary, days=days, stances=composed.stances, sources=composed.sources
    )


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example briefing as the model composed it, as the deterministic composer did, as a
    store hands it; and a stored story of it."""
    folder = tmp_path_factory.mktemp("pages")
    composed = briefer.brief([ARTICLES], client=briefer.ReplayClient(RECORDINGS))
    assert composed.events and composed.stances
    plain = composed.model_copy(
        update={
            "composer": "deterministic",
            "items": compose_deterministic(composed, composed.sources),
        }
    )
    out = {}
    for name, briefing in (("composed", composed), ("deterministic", plain)):
        path = folder / f"{name}.html"
        path.write_text(render_html(briefing), encoding="utf-8")
        out[name] = path
    stored = _stored(composed)
    assert {i.section for i in stored.items} >= {"since", "top"}
    out["since"] = folder / "since.html"
    out["since"].write_text(render_html(stored), encoding="utf-8")
    out["story"] = folder / "story.html"
    out["story"].write_text(render_story(_story(composed), "html"), encoding="utf-8")
    return out


def _shots() -> Path | None:
    folder = os.environ.get("HTML_SCREENSHOTS")
    if not folder:
        return None
    Path(folder).mkdir(parents=True, exist_ok=True)
    return Path(folder)


@pytest.mark.parametrize(
    ("page", "size", "dark"),
    [
        ("composed", PHONE, False),
        ("composed", PHONE, True),
        ("composed", DESKTOP, False),
        ("deterministic", PHONE, False),
        ("since", PHONE, False),
        ("since", PHONE, True),
        ("since", DESKTOP, False),
    ],
)
def test_the_page_reads_well_in_a_browser(
    browser: Browser, pages: dict[str, Path], page: str, size: tuple[int, int], dark: bool
) -> None:
    width, height = size
    browser.open(pages[page].as_uri(), width, height, dark=dark)
    m = browser.evaluate(MEASURE)
    shots = _shots()
    if shots:
        browser.screenshot(shots / f"{page}-{width}-{'dark' if dark else 'light'}.png")

    # The layout is as wide as the screen (less a desktop scroll bar).
    assert width - 20 <= m["width"] <= width and m["dark"] == dark
    # Nothing wider than the screen, so nothing scrolls sideways.
    assert m["scrollWidth"] <= m["width"], m["wide"]
    assert m["wide"] == []
    # Every line of a paragraph with marks stands as far below the last as any other.
    assert m["marks"] > 10
    for gaps in m["gaps"]:
        assert not gaps or max(gaps) - min(gaps) <= 1, gaps
    assert m["orphans"] == []
    # Contents, marks, back-links and source links all lead to something on the page.
    assert m["links"] > 20 and m["unresolved"] == []
    assert "#section-top" in m["toc"] and "#citations" in m["toc"] and "#sources" in m["toc"]
    if page == "since":
        assert m["toc"][0] == "#section-since"
    assert len(m["toc"]) >= 7
    for kind, target, entry in m["backLinks"]:
        assert kind == "cite" and target == f"#{entry}", entry
    assert len(m["backLinks"]) == m["marks"]
    # Text and links readable on the page's background, light or dark (WCAG AA: 4.5).
    assert m["linkContrast"] >= 4.5 and m["textContrast"] >= 4.5, m
    if dark:
        assert m["background"] != "rgb(255, 255, 255)"


@pytest.mark.parametrize(("size", "dark"), [(PHONE, False), (PHONE, True), (DESKTOP, False)])
def test_a_story_page_reads_well_in_a_browser(
    browser: Browser, pages: dict[str, Path], size: tuple[int, int], dark: bool
) -> None:
    width, height = size
    browser.open(pages["story"].as_uri(), width, height, dark=dark)
    m = browser.evaluate(MEASURE)
    shots = _shots()
    if shots:
        browser.screenshot(shots / f"story-{width}-{'dark' if dark else 'light'}.png")

    assert width - 20 <= m["width"] <= width and m["dark"] == dark
    assert m["scrollWidth"] <= m["width"], m["wide"]
    assert m["wide"] == []
    assert m["marks"] > 10
    for gaps in m["gaps"]:
        assert not gaps or max(gaps) - min(gaps) <= 1, gaps
    assert m["orphans"] == []
    # A day per source, who said what and the sources, each in the contents; every mark leads
    # to the quotes it rests on, and back.
    assert m["toc"][:3] == ["#day-1", "#day-2", "#day-3"]
    assert m["toc"][-2:] == ["#stances", "#sources"]
    assert m["unresolved"] == [] and m["links"] > 2 * m["marks"]
    assert m["linkContrast"] >= 4.5 and m["textContrast"] >= 4.5, m
    if dark:
        assert m["background"] != "rgb(255, 255, 255)"
