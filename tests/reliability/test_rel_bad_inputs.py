"""Bad inputs, through the real CLI: each becomes a one-line reason on stderr and in
``excluded``, never a traceback; exit 3 while some input is usable, 1 when none is. A file in a
folder that is no article is a note (``skipped``), not a loss."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from helpers.web_server import WebServer, web_server
from reliability.support import BRIEFER, REPO, Run, assert_no_traceback, run_cli
from typer.testing import CliRunner

from briefer.cli import app
from briefer.ingestion._sources import TITLE_CHARS

__all__ = ["web_server"]

GOOD = "Title: Harbour report\n\nThe Dunmere council approved ten new ferry routes on Monday.\n"
ARTICLE_HTML = (
    "<html><head><title>Ferry routes approved</title></head><body><article><h1>Ferry routes "
    "approved</h1><p>The Dunmere council approved ten new ferry routes on Monday after a long "
    "debate about moorings and fares in the old harbour.</p></article></body></html>"
)


def excluded_of(run: Run) -> dict[str, str]:
    """{input: reason} from ``estimate --json``, after checking stderr says the same."""
    result = json.loads(run.stdout)
    reasons: dict[str, str] = {}
    for item in result["excluded"]:
        reason = item["reason"]
        assert reason.strip() and "\n" not in reason, item
        if item["skipped"]:
            assert f"{item['input']}: {reason}" in run.stderr  # a note, however it is labelled
        else:
            assert f"excluded: {item['input']}: {reason}" in run.stderr
        reasons[item["input"]] = reason
    return reasons


def estimate_in_process(args: list[str], stdin: str | None = None) -> Run:
    """``briefer estimate --json ARGS`` through typer's runner, with ``stdin`` on stdin."""
    result = CliRunner().invoke(app, ["estimate", "--json", *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    run = Run(result.exit_code, result.stdout, result.stderr)
    assert_no_traceback(run)
    return run


def make_bad_files(folder: Path) -> dict[str, str]:
    """Bad files, each with a word its reason must contain."""
    folder.mkdir()
    expected: dict[str, str] = {}

    def add(name: str, data: bytes, reason: str) -> None:
        (folder / name).write_bytes(data)
        expected[str(folder / name)] = reason

    add("empty.txt", b"", "empty")
    add("blank.txt", b"  \n\t\n   \r\n", "empty")
    add("binary.txt", bytes(range(256)) * 40, "binary")
    add("latin1.txt", "Café au lait at the harbour, every morning.\n".encode("latin-1"), "UTF-8")
    add("scripts.html", b"<html><head><script>var a = 1;</script></head><body>"
        b"<script>alert(1)</script><script>document.write('x')</script></body></html>",
        "no article text")  # fmt: skip
    add("picture.png", b"\x89PNG\r\n\x1a\n" + bytes(100), "unsupported file type")
    huge = folder / "huge.txt"
    with huge.open("wb") as handle:  # 50 MB, sparse: refused from its size, never read
        handle.truncate(50 * 1024 * 1024)
    expected[str(huge)] = "larger than 20 MB"
    loop_a, loop_b = folder / "loop-a.txt", folder / "loop-b.txt"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    expected[str(loop_a)] = "symbolic links"
    expected[str(folder / "missing.txt")] = "no such file"
    return expected


def test_bad_files_and_schemes_each_get_a_one_line_reason(tmp_path: Path) -> None:
    bad = make_bad_files(tmp_path / "bad")
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(
        "Title: Rapport UTF-16\n\nThe Farrow council approved six ferry routes on Friday.\n"
        .encode("utf-16")
    )  # fmt: skip
    # One paragraph of 10,000 lines: long, but valid text.
    long_paragraph = tmp_path / "long.txt"
    long_paragraph.write_text(
        "\n".join(f"Line {i} of the harbour council minutes, on ferries." for i in range(10_000))
    )
    schemes = {
        "file:///etc/passwd": "unsupported URL scheme file",
        "ftp://example.com/a.txt": "unsupported URL scheme ftp",
    }
    inputs = [*bad, *schemes, utf16, long_paragraph]
    started = time.monotonic()
    run = run_cli(["estimate", "--json", *inputs])
    assert time.monotonic() - started < 30
    assert_no_traceback(run)
    assert run.code == 3, run.stderr
    reasons = excluded_of(run)
    for given, word in {**bad, **schemes}.items():
        assert given in reasons, f"{given} not excluded"
        assert word in reasons[given], (given, reasons[given])
    documents = {d["input"]: d for d in json.loads(run.stdout)["documents"]}
    # UTF-16 with a byte-order mark is text: read, title and all.
    assert documents[str(utf16)]["title"] == "Rapport UTF-16"
    assert documents[str(long_paragraph)]["tokens"] > 10_000
    assert set(documents) == {str(utf16), str(long_paragraph)}


def test_nothing_usable_exits_1(tmp_path: Path) -> None:
    bad = make_bad_files(tmp_path / "bad")
    run = run_cli(["estimate", *bad])
    assert_no_traceback(run)
    assert run.code == 1
    assert run.stderr.count("excluded:") >= len(bad)


@pytest.mark.slow  # several processes or a whole run each: seconds
def test_brief_from_replay_excludes_bad_inputs_and_exits_3_or_1(tmp_path: Path) -> None:
    bad = make_bad_files(tmp_path / "bad")
    out = tmp_path / "b.json"
    replay = REPO / "examples" / "recordings"
    articles = REPO / "examples" / "articles"
    run = run_cli(["brief", articles, *bad, "--replay", replay, "-o", out, "--quiet"])
    assert_no_traceback(run)
    assert run.code == 3, run.stderr
    briefing = json.loads(out.read_text("utf-8"))
    excluded = {e["input"]: e["reason"] for e in briefing["excluded"]}
    assert set(bad) <= set(excluded)
    for given, reason in excluded.items():
        assert f"excluded: {given}: {reason}" in run.stderr
    assert len(briefing["sources"]) == len(list(articles.iterdir()))

    none = run_cli(["brief", *bad, "--replay", replay, "-o", tmp_path / "none.md", "--quiet"])
    assert_no_traceback(none)
    assert none.code == 1
    assert "no usable input" in none.stderr
    assert not (tmp_path / "none.md").exists()


@pytest.mark.slow
def test_a_folder_of_ten_thousand_files_is_estimated_in_bounded_time(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10_000):
        (folder / f"a{i:05d}.txt").write_text(
            f"Report {i}: the council of town {i} approved {i} ferry routes on Monday.\n"
        )
    (folder / "notes.txt").write_bytes("Café\n".encode("latin-1"))
    started = time.monotonic()
    run = run_cli(["estimate", "--json", folder], timeout=60)
    took = time.monotonic() - started
    assert_no_traceback(run)
    assert run.code == 3
    result = json.loads(run.stdout)
    assert len(result["documents"]) == 10_000
    assert result["calls"] == 10_001  # one per file, and the composition
    assert excluded_of(run) == {
        str(folder / "notes.txt"): "not valid UTF-8 text (byte 0xE9 at offset 3); save it as UTF-8"
    }
    assert took < 20, f"estimate of 10,000 files took {took:.1f} s"


@pytest.fixture
def bad_urls(web_server: WebServer) -> dict[str, str]:
    """URLs on a loopback server, each with a word its reason must contain."""
    big = 2 * 1024 * 1024
    return {
        web_server.route("/missing", status=404, body="gone"): "HTTP 404",
        web_server.route("/broken", status=500, body="oops"): "HTTP 500",
        web_server.route("/slow", body=ARTICLE_HTML, hold=True): "timed out",
        web_server.route("/huge", filler_bytes=big): "larger than",
        web_server.route("/stream", filler_bytes=big, send_length=False): "larger than",
        web_server.route("/paper.pdf", body=b"%PDF-1.4", content_type="application/pdf"): (
            "unsupported content type application/pdf"
        ),
        web_server.route("/loop-a", status=302, location="/loop-b"): "too many redirects",
        web_server.route("/binary", body=bytes(range(256)), content_type="text/plain"): "binary",
        web_server.route("/scripts", body="<html><script>alert(1)</script></html>"): (
            "no article text"
        ),
        web_server.route("/empty", body=""): "empty",
    }


@pytest.mark.slow  # several processes or a whole run each: seconds
def test_bad_urls_each_get_a_one_line_reason(
    web_server: WebServer, bad_urls: dict[str, str]
) -> None:
    web_server.route("/loop-b", status=302, location="/loop-a")
    good = web_server.route("/article", body=ARTICLE_HTML)
    env = {"BRIEFER_FETCH_TIMEOUT": "0.5"}
    started = time.monotonic()
    run = run_cli(
        ["estimate", "--json", "--allow-private", "--max-bytes", "1000000", *bad_urls, good],
        env=env,
    )
    assert time.monotonic() - started < 20
    assert_no_traceback(run)
    assert run.code == 3, run.stderr
    reasons = excluded_of(run)
    for url, word in bad_urls.items():
        assert url in reasons, f"{url} not excluded: {run.stderr}"
        assert word in reasons[url], (url, reasons[url])
    assert [d["input"] for d in json.loads(run.stdout)["documents"]] == [good]

    only_bad = run_cli(["estimate", "--allow-private", *list(bad_urls)[:3]], env=env)
    assert_no_traceback(only_bad)
    assert only_bad.code == 1


def test_file_names_that_are_not_utf8_are_shown_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    bad = os.path.join(os.fsencode(folder), b"\xff-latin1.txt")
    good = os.path.join(os.fsencode(folder), b"\xfe-good.txt")
    with open(bad, "wb") as handle:
        handle.write("Café\n".encode("latin-1"))
    with open(good, "wb") as handle:  # an example article: its replies are recorded
        handle.write((REPO / "examples" / "articles" / "meridian-wire-2022-01-13.txt").read_bytes())
    estimate = run_cli(["estimate", "--json", folder])
    assert_no_traceback(estimate)
    assert estimate.code == 3, estimate.stderr
    result = json.loads(estimate.stdout)
    assert [d["input"] for d in result["documents"]] == [f"{folder}/\\xfe-good.txt"]
    not_utf8 = "not valid UTF-8 text (byte 0xE9 at offset 3); save it as UTF-8"
    assert excluded_of(estimate) == {f"{folder}/\\xff-latin1.txt": not_utf8}

    out = tmp_path / "b.json"
    replay = REPO / "examples" / "recordings"
    briefing = run_cli(["brief", folder, "--replay", replay, "-o", out, "--no-compose"])
    assert_no_traceback(briefing)
    assert briefing.code == 3
    written = json.loads(out.read_text("utf-8"))
    assert [s["path"] for s in written["sources"]] == [f"{folder}/\\xfe-good.txt"]


@pytest.mark.slow  # several processes or a whole run each: seconds
@pytest.mark.parametrize("io_encoding", ["utf-8:surrogateescape", "utf-8:strict"])
def test_stdin_is_judged_by_its_bytes_whatever_the_locale(tmp_path: Path, io_encoding: str) -> None:
    """``-`` reads the bytes on stdin as a file's: invalid UTF-8 is reported with its offset,
    binary is refused, UTF-16 with a byte-order mark is read."""
    env = {**os.environ, "PYTHONIOENCODING": io_encoding, "NO_COLOR": "1", "COLUMNS": "200"}
    cases = {
        "Café, harbour news of the day.\n".encode("latin-1"): "not valid UTF-8 text (byte 0xE9",
        bytes(range(32)) * 20: "binary",
        b"  \n\n": "empty",
    }
    for data, reason in cases.items():
        done = subprocess.run(
            [str(BRIEFER), "estimate", "--json", "-"], input=data, capture_output=True, env=env
        )
        stderr = done.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, stderr
        assert done.returncode == 1, stderr
        excluded = json.loads(done.stdout)["excluded"]
        assert len(excluded) == 1 and reason in excluded[0]["reason"], excluded
        assert f"excluded: -: {excluded[0]['reason']}" in stderr
    text = "Title: Rapport\n\nThe Farrow council approved six ferry routes on Friday.\n"
    done = subprocess.run(
        [str(BRIEFER), "estimate", "--json", "-"],
        input=text.encode("utf-16"),
        capture_output=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert [d["title"] for d in json.loads(done.stdout)["documents"]] == ["Rapport"]


def test_a_folder_nested_a_thousand_deep_is_walked_quickly(tmp_path: Path) -> None:
    top = tmp_path / "deep"
    levels = [top, *(top.joinpath(*["d"] * n) for n in range(1, 1_101))]
    for level in levels:
        level.mkdir()
    bottom = levels[-1] / "bottom.txt"
    bottom.write_text(GOOD)
    (top / "top.txt").write_bytes("Café\n".encode("latin-1"))
    try:
        started = time.monotonic()
        run = run_cli(["estimate", "--json", top])
        took = time.monotonic() - started
        assert_no_traceback(run)
        assert run.code == 3, run.stderr
        assert [d["input"] for d in json.loads(run.stdout)["documents"]] == [str(bottom)]
        assert took < 5, f"{took:.1f} s"
    finally:  # bottom up: a recursive removal would pass the recursion limit
        bottom.unlink()
        for level in reversed(levels[1:]):
            level.rmdir()


# --- folders: what is no article is a note ---------------------------------------------------


def test_pictures_and_empty_notes_in_a_folder_are_skipped_notes(tmp_path: Path) -> None:
    folder = tmp_path / "today"
    folder.mkdir()
    (folder / "harbour.txt").write_text(GOOD)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(500))
    (folder / "notes.md").write_bytes(b"")
    run = estimate_in_process([str(folder)])
    result = json.loads(run.stdout)
    assert [d["input"] for d in result["documents"]] == [str(folder / "harbour.txt")]
    assert excluded_of(run) == {
        str(folder / "notes.md"): "empty",
        str(folder / "photo.jpg"): "unsupported file type .jpg",
    }
    assert all(item["skipped"] for item in result["excluded"])
    # Whether notes alone leave a run whole is the command's to decide; never "nothing usable".
    assert run.code in (0, 3)

    named = estimate_in_process([str(folder / "harbour.txt"), str(folder / "notes.md")])
    assert named.code == 3, named.stderr
    [item] = json.loads(named.stdout)["excluded"]
    assert (item["input"], item["reason"], item["skipped"]) == (
        str(folder / "notes.md"),
        "empty",
        False,
    )


# --- a file of one huge line -------------------------------------------------------------------


def one_line_file(path: Path, size: int) -> Path:
    words = ("the", "council", "approved", "ferry", "routes", "on", "monday", "after", "debate")
    line = " ".join(words[i % len(words)] for i in range(size // 6))
    path.write_text(line[:size] + "\n", encoding="utf-8")
    return path


def test_a_one_line_file_gets_a_short_title_from_estimate(tmp_path: Path) -> None:
    path = one_line_file(tmp_path / "line.txt", 300_000)
    run = estimate_in_process([str(path)])
    assert run.code == 0, run.stderr
    [document] = json.loads(run.stdout)["documents"]
    assert document["chunks"] > 1
    assert len(document["title"]) <= TITLE_CHARS and document["title"].endswith("…")


@pytest.mark.slow
def test_a_6_mb_one_line_file_is_estimated_in_seconds(tmp_path: Path) -> None:
    path = one_line_file(tmp_path / "line.txt", 6 * 1024 * 1024)
    started = time.monotonic()
    run = run_cli(["estimate", "--json", path], timeout=120)
    took = time.monotonic() - started
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    [document] = json.loads(run.stdout)["documents"]
    assert document["chunks"] > 100
    assert len(document["title"]) <= TITLE_CHARS
    # About 4 s here; the title searched again for every chunk took minutes.
    assert took < 20, f"estimate of a 6 MB line took {took:.1f} s"


# --- a list on stdin -----------------------------------------------------------------------------


def test_a_list_on_stdin_is_read_line_by_line(tmp_path: Path, web_server: WebServer) -> None:
    saved = tmp_path / "harbour.txt"
    saved.write_text(GOOD)
    url = web_server.route("/ferries", body=ARTICLE_HTML)
    listing = (
        f"# today\n{url}\nhttp//example.org/typo\nfile:///etc/passwd\n\n{saved}  # yesterday's\n"
    )
    run = estimate_in_process(["--allow-private", "-"], stdin=listing)
    assert run.code == 3, run.stderr
    result = json.loads(run.stdout)
    assert [d["input"] for d in result["documents"]] == [url, str(saved)]
    assert excluded_of(run) == {
        "http//example.org/typo": "not a valid URL: write it with http:// or https://",
        "file:///etc/passwd": "unsupported URL scheme file: only http and https are fetched",
    }
    # One extraction call per article and the composition: none on the list itself.
    assert result["calls"] == 3
    assert [path for path, _ in web_server.requests] == ["/ferries"]


def test_an_article_on_stdin_that_cites_urls_is_one_article() -> None:
    article = (
        "Ferry routes approved\n\n"
        "The Dunmere council approved ten new ferry routes on Monday after a long debate.\n\n"
        "Sources:\nhttps://example.org/council\nhttps://example.org/harbour\n"
    )
    run = estimate_in_process(["-"], stdin=article)
    assert run.code == 0, run.stderr
    result = json.loads(run.stdout)
    assert [(d["input"], d["title"]) for d in result["documents"]] == [
        ("-", "Ferry routes approved")
    ]
    assert result["excluded"] == []
