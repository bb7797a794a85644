"""The ingest stage on real files, folders, stdin and loopback HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import pathlib
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.web_server import WebServer, web_server

from briefer.errors import InputError
from briefer.ingestion import FetchPolicy, IngestResult, load_sources
from briefer.ingestion._decode import decode_text
from briefer.ingestion._html import extract_html
from briefer.ingestion._plain import parse_plain_text
from briefer.ingestion._sources import (
    TITLE_CHARS,
    bounded_title,
    default_count_tokens,
    ingest_text,
)
from briefer.models import Excluded

__all__ = ["web_server"]  # the fixture, imported so pytest finds it

BODY = (
    "Harbour authorities reopened the northern channel on Monday after a week of dredging.\n"
    "\n"
    "Pilots said the first cargo ship passed without delay.\n"
)
HEADER_ARTICLE = (
    "Title: Northern channel reopens\n"
    "Outlet: Harbour Gazette\n"
    "Published: 2024-03-05\n"
    "URL: https://gazette.example/channel\n"
    "\n" + BODY
)

BOILERPLATE_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8">
<title>Ministers agree on river treaty | Valley Courier</title>
<meta property="og:site_name" content="Valley Courier">
<meta property="og:title" content="Ministers agree on river treaty">
<meta property="article:published_time" content="2024-03-05T09:00:00Z">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World desk</a></li>
<li><a href="/sport">Sport scores today</a></li></ul></nav>
<article><h1>Ministers agree on river treaty</h1>
<p>Two neighbouring governments signed a treaty on Tuesday to share the waters of the Long
River, ending a dispute that had lasted more than a decade and twice brought troops to the
border.</p>
<p>The agreement sets quotas for each country during the dry season and creates a joint
commission that will meet every three months, officials said after the signing ceremony.</p>
<p>"This is a day our farmers have waited for," the foreign minister told reporters, adding
that the commission would publish its first report before the end of the year.</p>
</article>
<aside><h3>Related stories</h3><ul><li><a href="/a">Storm floods coastal road</a></li>
<li><a href="/b">Election results announced in the north</a></li></ul></aside>
<footer><p>Copyright 2024 Valley Courier. All rights reserved. Subscribe to our newsletter.</p>
</footer></body></html>
"""


def count_words(text: str) -> int:
    return len(text.split())


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))
    return path


def reasons(result: IngestResult) -> dict[str, str]:
    return {item.input: item.reason for item in result.excluded}


def skipped(result: IngestResult) -> dict[str, bool]:
    return {item.input: item.skipped for item in result.excluded}


def only_reason(path: Path | str, **kwargs: Any) -> str:
    result = load_sources([path], count_tokens=count_words, **kwargs)
    assert result.documents == []
    assert len(result.excluded) == 1
    excluded = result.excluded[0]
    assert excluded.input == str(path)
    assert excluded.stage == "ingest"
    return excluded.reason


# --- plain text -------------------------------------------------------------------------------


def test_header_convention_sets_metadata_and_is_not_text(tmp_path: Path) -> None:
    path = write(tmp_path / "channel.txt", HEADER_ARTICLE)
    result = load_sources([path], count_tokens=count_words)
    assert result.excluded == []
    [doc] = result.documents
    assert doc.text == BODY
    source = doc.source
    assert source.title == "Northern channel reopens"
    assert source.outlet == "Harbour Gazette"
    assert source.published == dt.date(2024, 3, 5)
    assert source.url == "https://gazette.example/channel"
    assert source.path == str(path)
    digest = hashlib.sha256(BODY.encode()).hexdigest()
    assert source.sha256 == digest
    assert source.id == f"src-{digest[:12]}"
    assert source.chars == len(BODY)
    assert source.tokens == count_words(BODY)


def test_crlf_and_bom_become_plain_lf_text(tmp_path: Path) -> None:
    crlf = "\ufeff# River report\r\n\r\nWater rose overnight.\r\nRoads closed.\rSchools shut.\r\n"
    path = write(tmp_path / "river.md", crlf)
    [doc] = load_sources([path], count_tokens=count_words).documents
    assert doc.text == "# River report\n\nWater rose overnight.\nRoads closed.\nSchools shut.\n"
    assert doc.source.title == "River report"


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "wide.txt", "Título\n\nEl río creció.\n".encode("utf-16"))
    [doc] = load_sources([path], count_tokens=count_words).documents
    assert doc.text == "Título\n\nEl río creció.\n"


@pytest.mark.parametrize(
    ("text", "published", "outlet"),
    [
        (
            "N. Korea tests again\n\nDiplomacy 11:15 January 20, 2022\n\n"
            "SEOUL, Jan. 20 (Yonhap) -- North Korea fired a missile, officials said.\n",
            dt.date(2022, 1, 20),
            "Yonhap",
        ),
        (
            "Sanctions proposed\n\nWASHINGTON, January 12, 2022 — The United States proposed "
            "new sanctions on Wednesday.\n",
            dt.date(2022, 1, 12),
            None,
        ),
        (
            "Talks resume\n\nGENEVA, Mar. 3 — Delegates met again. No year is written here.\n",
            None,
            None,
        ),
        (
            "Budget passed\nPublished: 2023-11-02\nBy Ana Ruiz, Reuters\n\nThe vote was close.\n",
            dt.date(2023, 11, 2),
            "Reuters",
        ),
        (
            "Port strike ends\nSource: Coastal Times\n\nDockers returned to work on 2021-06-07.\n",
            None,  # a date inside a sentence is not the publication date
            "Coastal Times",
        ),
        (
            "Port strike ends\n\nUpdated 09:30 June 8, 2021\n\nDockers returned to work.\n",
            dt.date(2021, 6, 8),
            None,
        ),
        (
            "Port strike ends\nBy Ana Ruiz, Staff Writer\n\nDockers returned to work.\n",
            None,
            None,
        ),
        # A byline that carries the date, day before month as most of the world writes it.
        (
            "Race against time at the mine\n\nBy Carmen Rojas | Lima Ledger | 6 March 2024\n\n"
            "Rescue teams took turns in a narrow tunnel on Wednesday.\n",
            dt.date(2024, 3, 6),
            "Lima Ledger",
        ),
        (
            "Ferry routes approved\n\nBy Ana Ruiz · Coastline News · March 6, 2024\n\n"
            "The council approved the routes on Wednesday.\n",
            dt.date(2024, 3, 6),
            "Coastline News",
        ),
        (
            "Ferry routes approved\n\n6 March 2024\n\nThe council approved the routes.\n",
            dt.date(2024, 3, 6),
            None,
        ),
        (
            "Ferry routes approved\n\nThe council approved on 6 March 2024 the routes it had "
            "debated for a year, its chair said.\n",
            None,  # a date inside a sentence is not the publication date
            None,
        ),
    ],
)
def test_dates_and_outlets_from_plain_text(
    text: str, published: dt.date | None, outlet: str | None
) -> None:
    body, meta = parse_plain_text(text)
    assert body == text  # no header: every line stays in the text
    assert meta.published == published
    assert meta.outlet == outlet


def test_header_needs_a_blank_line_and_known_keys() -> None:
    text = "Title: Not a header\nThe story goes straight on.\n"
    body, meta = parse_plain_text(text)
    assert body == text
    assert meta.title == "Title: Not a header"
    unknown = "Mood: grim\n\nText.\n"
    assert parse_plain_text(unknown)[0] == unknown


# --- HTML -------------------------------------------------------------------------------------


def test_html_file_keeps_article_drops_boilerplate(tmp_path: Path) -> None:
    path = write(tmp_path / "treaty.html", BOILERPLATE_HTML)
    [doc] = load_sources([path], count_tokens=count_words).documents
    paragraphs = doc.text.split("\n\n")
    assert any(p.startswith("Two neighbouring governments signed a treaty") for p in paragraphs)
    assert any(p.startswith('"This is a day our farmers') for p in paragraphs)
    for boilerplate in ("World desk", "Related stories", "Storm floods", "Copyright", "Subscribe"):
        assert boilerplate not in doc.text
    assert doc.source.title == "Ministers agree on river treaty"
    assert doc.source.outlet == "Valley Courier"
    assert doc.source.published == dt.date(2024, 3, 5)
    assert doc.source.url is None


def test_html_without_article_text(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
    )
    path = write(tmp_path / "menu.htm", html)
    assert only_reason(path) == "no article text found"
    assert extract_html(html)[0] == ""


# --- exclusions -------------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    assert only_reason(tmp_path / "nowhere.txt") == "no such file or directory"


@pytest.mark.parametrize("content", ["", "   \n\t\n  \r\n"])
def test_empty_and_whitespace_only(tmp_path: Path, content: str) -> None:
    assert only_reason(write(tmp_path / "blank.txt", content)) == "empty"


def test_header_only_is_empty(tmp_path: Path) -> None:
    path = write(tmp_path / "header.txt", "Title: Nothing follows\nOutlet: Gazette\n\n")
    assert only_reason(path) == "empty"


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        bytes(range(1, 9)) * 200 + b"some words",
    ],
)
def test_binary_files(tmp_path: Path, content: bytes) -> None:
    assert only_reason(write(tmp_path / "image.txt", content)) == "binary file, not text"


def test_invalid_utf8_names_the_byte(tmp_path: Path) -> None:
    path = write(tmp_path / "latin.txt", "Caf\u00e9 au lait".encode("latin-1"))
    assert only_reason(path) == "not valid UTF-8 text (byte 0xE9 at offset 3); save it as UTF-8"


def test_html_meta_charset_is_honoured_for_html_files(tmp_path: Path) -> None:
    html = BOILERPLATE_HTML.replace('charset="utf-8"', 'charset="windows-1252"').replace(
        "farmers", "farmers’"
    )
    path = write(tmp_path / "cp1252.html", html.encode("cp1252"))
    [doc] = load_sources([path], count_tokens=count_words).documents
    assert "farmers’" in doc.text


def test_too_large_is_refused_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(20 * 1024 * 1024 + 1)  # sparse: instant to make
    real_open = pathlib.Path.open

    def guarded_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        assert self != big, "the large file was opened"
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", guarded_open)
    assert only_reason(big) == "larger than 20 MB"
    small = write(tmp_path / "small.txt", "x" * 2048)
    assert only_reason(small, max_file_bytes=1024) == "larger than 1 KB"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied(tmp_path: Path) -> None:
    path = write(tmp_path / "secret.txt", "classified")
    path.chmod(0)
    try:
        assert only_reason(path) == "permission denied"
    finally:
        path.chmod(0o644)


def test_unsupported_file_named_directly(tmp_path: Path) -> None:
    path = write(tmp_path / "report.pdf", b"%PDF-1.7")
    assert only_reason(path) == "unsupported file type .pdf (briefer reads .txt, .md, .html, .htm)"


def test_unsupported_url_scheme_input() -> None:
    assert only_reason("ftp://example.org/a.txt") == (
        "unsupported URL scheme ftp: only http and https are fetched"
    )


# --- folders ----------------------------------------------------------------------------------


def test_folder_walk_nested_mixed_hidden_and_link_loop(tmp_path: Path) -> None:
    root = tmp_path / "news"
    write(root / "b.txt", "Bravo story\n\nText of bravo.\n")
    write(root / "a" / "deep" / "c.md", "# Charlie\n\nText of charlie.\n")
    write(root / "a" / "d.html", BOILERPLATE_HTML)
    write(root / "a" / "scan.pdf", b"%PDF-1.7")
    write(root / ".hidden.txt", "Hidden\n\nNever read.\n")
    write(root / ".git" / "notes.txt", "Hidden folder\n\nNever read.\n")
    (root / "a" / "deep" / "loop").symlink_to(root, target_is_directory=True)

    result = load_sources([root], count_tokens=count_words)

    titles = [doc.source.title for doc in result.documents]
    # Name order within each folder: "d.html" sorts before "deep".
    assert titles == ["Ministers agree on river treaty", "Charlie", "Bravo story"]
    assert [doc.source.path for doc in result.documents] == [
        str(root / "a" / "d.html"),
        str(root / "a" / "deep" / "c.md"),
        str(root / "b.txt"),
    ]
    assert reasons(result) == {str(root / "a" / "scan.pdf"): "unsupported file type .pdf"}
    assert [item.skipped for item in result.excluded] == [True]
    # The same call gives the same result.
    assert load_sources([root], count_tokens=count_words) == result


def test_folder_without_usable_files(tmp_path: Path) -> None:
    folder = tmp_path / "attachments"
    write(folder / "scan.pdf", b"%PDF-1.7")
    write(folder / ".DS_Store", b"\x00\x01")
    result = load_sources([folder], count_tokens=count_words)
    assert result.documents == []
    assert reasons(result) == {
        str(folder / "scan.pdf"): "unsupported file type .pdf",
        str(folder): "no usable files (looked for .txt, .md, .html, .htm)",
    }
    # The picture is passed over; the folder that gave nothing is a loss.
    assert skipped(result) == {str(folder / "scan.pdf"): True, str(folder): False}


def test_files_in_a_folder_that_are_no_articles_are_skipped_not_lost(tmp_path: Path) -> None:
    folder = tmp_path / "today"
    write(folder / "story.txt", HEADER_ARTICLE)
    write(folder / "story copy.txt", HEADER_ARTICLE)
    write(folder / "photo.jpg", b"\xff\xd8\xff\xe0" + bytes(200))
    write(folder / "notes.md", "")
    write(folder / "blank.txt", "  \n\n")
    write(folder / "header-only.txt", "Title: Draft\nURL: https://gazette.example/draft\n\n")
    write(folder / "assets" / "blob.txt", bytes(range(256)) * 4)
    write(folder / "assets" / "frame.html", "<html><body><script>x()</script></body></html>")
    write(folder / "old" / "latin1.txt", "Café talks resumed on Monday.\n".encode("latin-1"))
    result = load_sources([folder], count_tokens=count_words)
    assert [doc.source.path for doc in result.documents] == [str(folder / "story copy.txt")]
    # Excluded entries name each file by its path, never by the URL its header gives.
    assert skipped(result) == {
        str(folder / "assets" / "blob.txt"): True,
        str(folder / "assets" / "frame.html"): True,
        str(folder / "blank.txt"): True,
        str(folder / "header-only.txt"): True,
        str(folder / "notes.md"): True,
        str(folder / "old" / "latin1.txt"): False,  # an article, in the wrong encoding
        str(folder / "photo.jpg"): True,
        str(folder / "story.txt"): True,  # a copy: its text is read once
    }
    assert reasons(result)[str(folder / "story.txt")] == f"duplicate of {folder / 'story copy.txt'}"
    assert reasons(result)[str(folder / "notes.md")] == "empty"
    assert reasons(result)[str(folder / "photo.jpg")] == "unsupported file type .jpg"


def test_the_same_files_named_directly_are_losses(tmp_path: Path) -> None:
    files = [
        write(tmp_path / "photo.jpg", b"\xff\xd8\xff\xe0" + bytes(200)),
        write(tmp_path / "notes.md", ""),
        write(tmp_path / "blob.txt", bytes(range(256)) * 4),
        write(tmp_path / "frame.html", "<html><body><script>x()</script></body></html>"),
    ]
    result = load_sources(files, count_tokens=count_words)
    assert skipped(result) == {str(path): False for path in files}


def test_a_folder_of_skipped_files_is_itself_a_loss(tmp_path: Path) -> None:
    empty_notes = tmp_path / "notes"
    write(empty_notes / "notes.md", "")
    unreadable = tmp_path / "old"
    write(unreadable / "latin1.txt", "Café talks resumed on Monday.\n".encode("latin-1"))
    result = load_sources([empty_notes, unreadable], count_tokens=count_words)
    assert skipped(result) == {
        str(empty_notes / "notes.md"): True,
        str(empty_notes): False,
        # The file says what went wrong; the folder adds nothing.
        str(unreadable / "latin1.txt"): False,
    }


def test_a_folder_holding_copies_of_files_named_before_is_no_loss(tmp_path: Path) -> None:
    story = write(tmp_path / "story.txt", HEADER_ARTICLE)
    write(tmp_path / "copies" / "story.txt", HEADER_ARTICLE)
    result = load_sources([story, tmp_path / "copies", story], count_tokens=count_words)
    assert [doc.source.path for doc in result.documents] == [str(story)]
    assert [(e.input, e.reason, e.skipped) for e in result.excluded] == [
        (str(tmp_path / "copies" / "story.txt"), f"duplicate of {story}", True),
        # Named twice by the user: not skipped (a file named directly never is).
        (str(story), "already read", False),
    ]


def test_excluded_entries_written_before_skipped_existed_still_load() -> None:
    old = '{"input": "a.txt", "reason": "empty", "stage": "ingest"}'
    assert Excluded.model_validate_json(old).skipped is False


def test_broken_link_in_folder(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    write(folder / "ok.txt", "Fine\n\nA fine story.\n")
    (folder / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (folder / "x.txt").symlink_to(folder / "y.txt")
    (folder / "y.txt").symlink_to(folder / "x.txt")
    result = load_sources([folder], count_tokens=count_words)
    assert len(result.documents) == 1
    assert reasons(result) == {
        str(folder / "gone.txt"): "no such file or directory (broken link)",
        str(folder / "x.txt"): "too many levels of symbolic links",
        str(folder / "y.txt"): "too many levels of symbolic links",
    }


# --- duplicates and order ---------------------------------------------------------------------


def test_same_text_twice_is_kept_once(tmp_path: Path) -> None:
    first = write(tmp_path / "one.txt", HEADER_ARTICLE)
    # Different header, same text: still the same document.
    second = write(tmp_path / "two.txt", "Title: Other\n\n" + BODY.replace("\n", "\r\n"))
    other = write(tmp_path / "three.txt", "Another story\n\nSomething else happened.\n")
    result = load_sources([first, other, second], count_tokens=count_words)
    assert [doc.source.path for doc in result.documents] == [str(first), str(other)]
    assert reasons(result) == {str(second): f"duplicate of {first}"}


def test_mixed_inputs_keep_their_order(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "Alpha\n\nFirst.\n")
    b = write(tmp_path / "b.txt", "Beta\n\nSecond.\n")
    result = load_sources(
        [b, tmp_path / "missing.txt", a, "-"],
        stdin=io.StringIO("Gamma\n\nThird, from stdin.\n"),
        count_tokens=count_words,
    )
    assert [doc.source.title for doc in result.documents] == ["Beta", "Alpha", "Gamma"]
    assert [item.input for item in result.excluded] == [str(tmp_path / "missing.txt")]


# --- stdin ------------------------------------------------------------------------------------


def test_stdin_as_text() -> None:
    text = "Storm warning\r\n\r\nWinds of 120 km/h are expected tonight.\r\n"
    result = load_sources(["-"], stdin=io.StringIO(text), count_tokens=count_words)
    [doc] = result.documents
    assert doc.text == "Storm warning\n\nWinds of 120 km/h are expected tonight.\n"
    assert doc.source.title == "Storm warning"
    assert doc.source.path is None


def test_stdin_as_html_text() -> None:
    result = load_sources(["-"], stdin=io.StringIO(BOILERPLATE_HTML), count_tokens=count_words)
    [doc] = result.documents
    assert doc.source.outlet == "Valley Courier"
    assert "Related stories" not in doc.text


def test_stdin_as_list_of_paths_and_urls(tmp_path: Path, web_server: WebServer) -> None:
    a = write(tmp_path / "a.txt", "Alpha\n\nFirst.\n")
    folder = tmp_path / "more"
    write(folder / "b.md", "# Beta\n\nSecond.\n")
    url = web_server.route("/story", body=BOILERPLATE_HTML)
    listing = f"{a}\n\n  {folder}  \n{url}\n"
    result = load_sources(
        ["-"],
        stdin=io.StringIO(listing),
        fetch_policy=FetchPolicy(allow_private=True),
        count_tokens=count_words,
    )
    assert result.excluded == []
    assert [doc.source.title for doc in result.documents] == [
        "Alpha",
        "Beta",
        "Ministers agree on river treaty",
    ]
    assert result.documents[2].source.url == url


def test_stdin_list_is_read_line_by_line(tmp_path: Path, web_server: WebServer) -> None:
    a = write(tmp_path / "a.txt", "Alpha\n\nFirst.\n")
    url = web_server.route("/story", body=BOILERPLATE_HTML)
    listing = (
        "# today's reading\n"
        f"{url}\n"
        "http//example.org/typo\n"
        "file:///etc/passwd\n"
        "\n"
        f"{a}   # the draft\n"
        "-\n"
        "morning links\n"
    )
    result = load_sources(
        ["-"],
        stdin=io.StringIO(listing),
        fetch_policy=FetchPolicy(allow_private=True),
        count_tokens=count_words,
    )
    assert [(doc.source.url, doc.source.path) for doc in result.documents] == [
        (url, None),
        (None, str(a)),
    ]
    assert reasons(result) == {
        "http//example.org/typo": "not a valid URL: write it with http:// or https://",
        "file:///etc/passwd": "unsupported URL scheme file: only http and https are fetched",
        "-": "stdin cannot be listed on stdin",
        "morning links": "not a URL or an existing path",
    }
    assert not any(item.skipped for item in result.excluded)


def test_stdin_list_reads_home_folder_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path / "news" / "a.txt", "Alpha\n\nFirst.\n")
    result = load_sources(["-"], stdin=io.StringIO("~/news/a.txt\n"), count_tokens=count_words)
    assert [doc.source.path for doc in result.documents] == [str(tmp_path / "news" / "a.txt")]


@pytest.mark.parametrize(
    "text",
    [
        # A paragraph makes it an article, whatever else it holds.
        "https://example.org/a\nand then a sentence of prose that runs on for twelve words.\n",
        "Storm warning\n\nWinds of 120 km/h are expected tonight along the coast, forecasters "
        "said.\nhttps://example.org/a\nhttps://example.org/b\nhttps://example.org/c\n",
        # Short lines, fewer than half of them written as inputs.
        "Storm warning\nWinds tonight\nSee https://example.org/a\nhttps://example.org/b\n",
        # A markdown article: its headings are not comments.
        "# Storm warning\n\nWinds of 120 km/h are expected tonight.\n\n## Ferries\n\nCancelled.\n",
    ],
)
def test_stdin_article_that_mentions_urls_stays_an_article(text: str) -> None:
    result = load_sources(["-"], stdin=io.StringIO(text), count_tokens=count_words)
    assert result.excluded == []
    [doc] = result.documents
    assert doc.text == text
    assert doc.source.path is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("http//example.org/story\n", "not a valid URL: write it with http:// or https://"),
        ("htps://example.org/story\n", "not a valid URL: write it with http:// or https://"),
        ("www.example.org/story\n", "not a valid URL: write it with http:// or https://"),
        ("file:///etc/passwd\n", "unsupported URL scheme file: only http and https are fetched"),
        ("./missing/story.txt\n", "no such file or directory"),
    ],
)
def test_stdin_single_bad_line_is_excluded_not_briefed(text: str, reason: str) -> None:
    result = load_sources(["-"], stdin=io.StringIO(text), count_tokens=count_words)
    assert result.documents == []
    assert reasons(result) == {text.strip(): reason}


def test_stdin_of_comment_lines_alone_is_excluded() -> None:
    result = load_sources(["-"], stdin=io.StringIO("# today\n\n# nothing yet\n"))
    assert result.documents == []
    assert reasons(result) == {"-": "only lines starting with #: no article text, URL or path"}


def test_mistyped_url_on_the_command_line_says_so(tmp_path: Path) -> None:
    assert only_reason("http//example.org/a") == (
        "not a valid URL: write it with http:// or https://"
    )
    assert only_reason(tmp_path / "missing.txt") == "no such file or directory"


def test_stdin_empty() -> None:
    result = load_sources(["-"], stdin=io.StringIO("  \n"), count_tokens=count_words)
    assert reasons(result) == {"-": "empty"}


# --- URLs -------------------------------------------------------------------------------------


def test_urls_fetched_with_outlet_falling_back_to_host(web_server: WebServer) -> None:
    plain_html = BOILERPLATE_HTML.replace(
        '<meta property="og:site_name" content="Valley Courier">', ""
    ).replace(" | Valley Courier", "")
    first = web_server.route("/one", body=plain_html)
    second = web_server.route(
        "/two", body="Wire copy\n\nA plain text story.\n", content_type="text/plain"
    )
    missing = web_server.url("/gone")
    broken = web_server.route("/broken", status=500)
    result = load_sources(
        [first, missing, second, broken],
        fetch_policy=FetchPolicy(allow_private=True),
        count_tokens=count_words,
    )
    assert [doc.source.url for doc in result.documents] == [first, second]
    assert [doc.source.outlet for doc in result.documents] == ["127.0.0.1", "127.0.0.1"]
    assert result.documents[1].text == "Wire copy\n\nA plain text story.\n"
    assert reasons(result) == {
        missing: "HTTP 404 Not Found",
        broken: "HTTP 500 Internal Server Error",
    }


def test_url_refused_by_default_policy(web_server: WebServer) -> None:
    url = web_server.route("/story", body=BOILERPLATE_HTML)
    assert only_reason(url) == (
        "refused: 127.0.0.1 is a loopback address (use --allow-private to allow)"
    )
    assert web_server.requests == []


# --- building blocks --------------------------------------------------------------------------


def test_ingest_text_ids_and_empty() -> None:
    doc = ingest_text("Same words.\r\n", input="memo", title="Memo", count_tokens=count_words)
    again = ingest_text("Same words.\n", input="other", count_tokens=count_words)
    assert doc.id == again.id
    assert doc.text == "Same words.\n"
    with pytest.raises(InputError) as caught:
        ingest_text(" \n ", input="memo")
    assert str(caught.value) == "memo: empty"


def test_default_token_count_uses_the_project_tokenizer() -> None:
    text = "The commission will meet every three months."
    try:
        from briefer.llm.tokens import count_tokens
    except ImportError:
        expected = len(text) // 4
    else:
        expected = count_tokens(text)
    assert default_count_tokens(text) == expected
    assert load_sources(["-"], stdin=io.StringIO(text)).documents[0].source.tokens == expected


def test_decode_text_reasons() -> None:
    assert decode_text(b"plain ascii") == ("plain ascii", "utf-8")
    with pytest.raises(ValueError, match="binary file, not text"):
        decode_text(b"abc\x00def")


def test_plain_text_title_skips_saved_page_chrome(tmp_path: Path) -> None:
    page = tmp_path / "saved.txt"
    page.write_text(
        "Accessibility links\n\nBreaking News\n\nCouncil weighs new measures\n\nBody text here.\n",
        encoding="utf-8",
    )
    [doc] = load_sources([page]).documents
    assert doc.source.title == "Council weighs new measures"


# --- outlets named in the text ----------------------------------------------------------------

LEAD = "The harbour council approved the new ferry routes on Monday after a long debate.\n"


def with_byline(line: str) -> str:
    return f"Ferry routes approved\n\n{line}\n\n{LEAD}"


def with_footer(line: str) -> str:
    return f"Ferry routes approved\n\n{LEAD}\nMayors of the coast welcomed the vote.\n\n{line}\n"


@pytest.mark.parametrize(
    ("text", "outlet"),
    [
        (with_byline("By ANA RUIZ | Coastline News"), "Coastline News"),
        (with_byline("By Ana Ruiz, Coastline News"), "Coastline News"),
        (with_byline("By Ana Ruiz and Li Wei, Coastline News"), "Coastline News"),
        (with_byline("By Ana Ruiz, Li Wei and Tom Hart, Coastline News"), "Coastline News"),
        (with_byline("Ana Ruiz, Coastline News correspondent"), "Coastline News"),
        (with_byline("Ana Ruiz and Li Wei, Coastline News correspondents"), "Coastline News"),
        (with_byline("By Ana Ruiz, Coastline News Senior Correspondent"), "Coastline News"),
        (with_byline("By Ana Ruiz (Coastline News)"), "Coastline News"),
        (with_byline("By Ana Ruiz for Coastline News"), "Coastline News"),
        (with_byline("By Ana Ruiz for the Coastline News"), "Coastline News"),
        (with_byline("Ana Ruiz — Coastline News"), "Coastline News"),
        (with_byline("Ana Ruiz | Coastline News"), "Coastline News"),
        (with_byline("By Ana Ruiz | Politics | Coastline News"), "Coastline News"),
        (with_byline("By Ana Ruiz, Reuters"), "Reuters"),
        (with_byline("By Ana Ruiz, Reuters staff"), "Reuters"),
        (with_byline("By Reuters staff"), "Reuters"),
        (with_byline("By The Associated Press"), "The Associated Press"),
        (with_byline("By Ana Ruiz | coastline.example"), "coastline.example"),
        ("Ferry routes approved\n\nLONDON (Coastline News) — " + LEAD, "Coastline News"),
        ("Ferry routes approved\n\nBEIRUT, Lebanon (AP) — " + LEAD, "AP"),
        ("Ferry routes approved\n\nSEOUL, Jan. 20 (Yonhap) -- " + LEAD, "Yonhap"),
        (
            with_footer("Reporting by Ana Ruiz for Coastline News; editing by Tom Hart"),
            "Coastline News",
        ),
        (with_footer("(Reporting by Ana Ruiz in Seoul for Coastline News)"), "Coastline News"),
        (with_footer("© 2024 Coastline News"), "Coastline News"),
        (with_footer("Copyright Coastline News 2024. All rights reserved."), "Coastline News"),
        (
            with_footer("Copyright © 2020–2024 Coastline News Ltd. All rights reserved."),
            "Coastline News",
        ),
        (with_footer("This article first appeared in Coastline News"), "Coastline News"),
        (
            with_footer("This article was originally published on The Conversation."),
            "The Conversation",
        ),
        (with_footer("This story first ran on coastline.example."), "coastline.example"),
        # A byline at the bottom, where some pages put the author's box.
        (with_footer("Ana Ruiz — Coastline News"), "Coastline News"),
    ],
)
def test_outlet_from_bylines_datelines_and_footers(text: str, outlet: str) -> None:
    body, meta = parse_plain_text(text)
    assert body == text
    assert meta.outlet == outlet


@pytest.mark.parametrize(
    "text",
    [
        with_byline("By Ana Ruiz, Staff Writer"),
        with_byline("By Ana Ruiz, Senior Correspondent"),
        with_byline("Ana Ruiz, Senior Correspondent"),
        with_byline("Ana Ruiz, Washington correspondent"),  # a beat, not an outlet
        with_byline("By Ana Ruiz | World"),
        with_byline("By Ana Ruiz, Politics"),
        with_byline("By Ana Ruiz | Middle East"),
        with_byline("By Ana Ruiz, Li Wei"),  # a second author
        with_byline("By Ana Ruiz, Li Wei and Tom Hart"),
        with_byline("By ANA RUIZ, LI WEI"),
        with_byline("By Ana Ruiz | Ana Ruiz"),
        with_byline("By Ana Ruiz"),
        with_byline("By Ana Ruiz | March 4, 2024"),
        with_byline("By Ana Ruiz | Updated 10:30 GMT"),
        with_footer("© 2024 Ana Ruiz"),  # a person may hold the copyright
        with_footer("© Getty Images"),
        with_footer("(Reporting by Ana Ruiz; Editing by Tom Hart)"),
        "Kim Jong Un — The Man Behind the Missiles\n\n" + LEAD,  # a title, signed by no one
        "Ferry routes approved\n\n" + LEAD,
    ],
)
def test_roles_sections_people_and_silence_name_no_outlet(text: str) -> None:
    assert parse_plain_text(text)[1].outlet is None


def test_author_header_is_not_the_outlet() -> None:
    text = "Title: Ferry routes approved\nAuthor: Tom Hart\n\n" + with_footer("© 2024 Tom Hart")
    assert parse_plain_text(text)[1].outlet is None


def test_bylines_are_read_only_near_the_top_and_bottom() -> None:
    filler = "".join(f"Paragraph {i} of the council minutes, on ferries.\n\n" for i in range(40))
    deep = f"Ferry routes approved\n\n{filler}By Ana Ruiz, Coastline News\n\n{filler}"
    assert parse_plain_text(deep)[1].outlet is None
    bottom = f"Ferry routes approved\n\n{filler}{filler}© 2024 Coastline News\n"
    assert parse_plain_text(bottom)[1].outlet == "Coastline News"


def test_huge_single_line_is_read_in_linear_time() -> None:
    size = 6 * 1024 * 1024
    texts = [
        "word " * (size // 5),
        "By " + "Ana Ruiz, " * (size // 10),
        "Published:" + " " * size + "x",
        "Source:" + " " * size + "x y",
        "Title:" + " " * size + "x\n\nbody",
        "© 2024 " + "Coastline " * (size // 10),
        "SEOUL, " + "A" * size,
        "March 4 " * (size // 8),
    ]
    started = time.monotonic()
    for text in texts:
        parse_plain_text(text)
    assert time.monotonic() - started < 20


def test_a_file_of_one_huge_line_gets_a_bounded_title(tmp_path: Path) -> None:
    words = " ".join(f"word{i % 97}" for i in range(1_000_000))  # about 6.8 MB, one line
    path = write(tmp_path / "one-line.txt", words + "\n")
    started = time.monotonic()
    [doc] = load_sources([path], count_tokens=count_words).documents
    assert time.monotonic() - started < 5
    title = doc.source.title
    assert title is not None and len(title) <= TITLE_CHARS and title.endswith("…")
    kept = title.removesuffix("…")
    # Cut at a word: what is kept is the text's start, and the text goes on with a space.
    assert words.startswith(kept) and words[len(kept)] == " "
    assert len(kept) > TITLE_CHARS // 2


@pytest.mark.parametrize(
    "title",
    [
        "word " * 10_000,  # a header's Title line
        "x" * 10_000,  # one endless word: cut where it is
    ],
)
def test_header_and_html_titles_are_bounded(title: str) -> None:
    _, meta = parse_plain_text(f"Title: {title}\n\nThe council met on Monday.\n")
    doc = ingest_text("The council met on Monday.", input="-", title=meta.title)
    assert doc.source.title is not None and len(doc.source.title) == TITLE_CHARS
    page = BOILERPLATE_HTML.replace("Ministers agree on river treaty", title)
    [html_doc] = load_sources(["-"], stdin=io.StringIO(page), count_tokens=count_words).documents
    assert html_doc.source.title is not None and len(html_doc.source.title) <= TITLE_CHARS


def test_bounded_title_keeps_a_headline_and_cuts_at_a_word() -> None:
    headline = "North Korea weighs lifting its test moratorium"
    assert bounded_title(headline) == headline
    assert bounded_title(None) is None
    assert bounded_title("a" * TITLE_CHARS) == "a" * TITLE_CHARS
    long = "alpha " * 60
    cut = bounded_title(long)
    assert cut is not None and cut.endswith("alpha…") and len(cut) <= TITLE_CHARS


# --- outlets in HTML markup -------------------------------------------------------------------

ARTICLE_BODY = (
    "<article><h1>Ministers agree on river treaty</h1><p>Two neighbouring governments signed a "
    "treaty on Tuesday to share the waters of the Long River, ending a long dispute.</p>"
    "<p>The agreement sets quotas for each country during the dry season.</p></article>"
)


def page(head: str, body: str = ARTICLE_BODY) -> str:
    return f"<html><head><title>Ministers agree</title>{head}</head><body>{body}</body></html>"


def json_ld(data: str) -> str:
    return f'<script type="application/ld+json">{data}</script>'


@pytest.mark.parametrize(
    "head",
    [
        '<meta property="og:site_name" content="Valley Courier">',
        '<meta content="Valley Courier" property="og:site_name">',
        '<meta name="application-name" content="Valley Courier">',
        json_ld(
            '{"@context": "https://schema.org", "@type": "NewsArticle",'
            ' "publisher": {"@type": "NewsMediaOrganization", "name": "Valley Courier"}}'
        ),
        json_ld(
            '{"@context": "https://schema.org", "@type": "NewsArticle",'
            ' "publisher": "Valley Courier"}'
        ),
        json_ld(
            '[{"@type": "NewsArticle",'
            ' "publisher": {"@type": "Organization", "name": "Valley Courier"}}]'
        ),
        json_ld(
            '{"@context": "https://schema.org", "@graph": ['
            '{"@type": "NewsArticle", "publisher": {"@id": "#org"}},'
            ' {"@type": "Organization", "@id": "#org", "name": "Valley Courier"}]}'
        ),
        # og:site_name first, even beside a longer JSON-LD name.
        '<meta property="og:site_name" content="Valley Courier">'
        + json_ld(
            '{"@context": "https://schema.org", "publisher": {"name": "Valley Courier Media"}}'
        ),
        '<meta name="copyright" content="© 2024 Valley Courier">',
    ],
)
def test_outlet_from_html_metadata(head: str) -> None:
    assert extract_html(page(head))[1].outlet == "Valley Courier"
    assert extract_html(page(head), "https://valley.example/a")[1].outlet == "Valley Courier"


def test_html_outlet_from_the_text_then_the_host_then_nothing() -> None:
    footer = ARTICLE_BODY.replace(
        "</article>", "<p>This article first appeared in Valley Courier.</p></article>"
    )
    assert extract_html(page("", footer))[1].outlet == "Valley Courier"
    assert extract_html(page(""), "https://valley.example/a")[1].outlet == "valley.example"
    assert extract_html(page(""))[1].outlet is None
    broken = json_ld('{"publisher": ') + json_ld('{"@context": "https://schema.org", "a": [[[[')
    assert extract_html(page(broken))[1].outlet is None


# --- dates without a year ---------------------------------------------------------------------

TODAY = dt.date.today()


def dated(text: str) -> tuple[dt.date | None, str | None]:
    meta = parse_plain_text(text)[1]
    # Whatever day this runs: no year the text does not write is the clock's.
    assert meta.published is None or meta.published.year != TODAY.year
    return meta.published, meta.published_text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Title: Talks resume\nPublished: March 4\n\nDelegates met again.\n", "March 4"),
        ("Title: Talks resume\nDate: Dec. 30\n\nDelegates met again.\n", "Dec. 30"),
        ("Talks resume\nPublished: March 4\n\nDelegates met again.\n", "March 4"),
        ("Talks resume\nPosted on: 4 March\n\nDelegates met again.\n", "4 March"),
        ("Talks resume\nUpdated 09:30 Tuesday, Mar. 4th\n\nDelegates met again.\n", "Mar. 4th"),
        ("Talks resume\nPublished: March 4 at 2130 GMT\n\nDelegates met again.\n", "March 4"),
        ("Talks resume\n\nGENEVA, Mar. 3 — Delegates met again.\n", "Mar. 3"),
        ("Talks resume\n\nSEOUL, Jan. 20 (Yonhap) -- Delegates met again.\n", "Jan. 20"),
    ],
)
def test_date_without_a_year_keeps_its_words_and_no_year(text: str, words: str) -> None:
    assert dated(text) == (None, words)


@pytest.mark.parametrize(
    "text",
    [
        "Title: Talks resume\nPublished: Tuesday\n\nDelegates met again.\n",
        "Talks resume\nPublished: Tuesday\n\nDelegates met again.\n",
        "Talks resume\nUpdated 11:15\n\nDelegates met again.\n",
        "Talks resume\nPublished: March\n\nDelegates met again.\n",
        "Talks resume\nPosted by Ana Ruiz\n\nDelegates met again.\n",
    ],
)
def test_weekday_time_or_month_alone_gives_no_date(text: str) -> None:
    assert dated(text) == (None, None)


def test_dateline_takes_the_year_of_a_full_date_at_the_top() -> None:
    text = (
        "N. Korea tests again\n\nDiplomacy 11:15 January 20, 2022\n\n"
        "SEOUL, Jan. 20 (Yonhap) -- North Korea fired a missile, officials said.\n"
    )
    assert dated(text) == (dt.date(2022, 1, 20), None)
    header = "Title: Talks\nPublished: March 4\n\nUpdated 2019-03-05 10:00\n\nDelegates met.\n"
    assert dated(header) == (dt.date(2019, 3, 4), None)
    month = "Talks\n\nGENEVA, Mar. 3 — Delegates met for the third time in March 2019.\n"
    assert dated(month) == (dt.date(2019, 3, 3), None)


def test_year_from_a_date_across_new_year() -> None:
    text = "Talks\nPublished: Dec. 30\nUpdated Jan. 2, 2019\n\nDelegates met again.\n"
    assert dated(text) == (dt.date(2018, 12, 30), None)


def test_historical_date_lends_no_year() -> None:
    filler = "".join(f"Paragraph {i} on the talks.\n\n" for i in range(30))
    deep = f"Talks\n\nGENEVA, Mar. 3 — Delegates met.\n\n{filler}The accord of March 1, 2018.\n"
    assert dated(deep) == (None, "Mar. 3")
    # Near the top, but months away: about something else.
    near = "Talks\n\nGENEVA, Mar. 3 — Delegates met, recalling the accord of June 12, 2018.\n"
    assert dated(near) == (None, "Mar. 3")


def test_published_text_reaches_the_source(tmp_path: Path) -> None:
    path = write(tmp_path / "talks.txt", "Title: Talks\nPublished: March 4\n\nDelegates met.\n")
    [doc] = load_sources([path], count_tokens=count_words).documents
    assert doc.source.published is None
    assert doc.source.published_text == "March 4"
    full = ingest_text("Text.", input="x", published=dt.date(2019, 3, 4), published_text="March 4")
    assert full.source.published_text is None  # a full date needs no words


def test_html_date_from_the_text_keeps_its_words() -> None:
    body = ARTICLE_BODY.replace("<h1>", "<p>Published: March 4</p><h1>")
    text, meta = extract_html(page("", body))
    assert "Published: March 4" in text
    assert (meta.published, meta.published_text) == (None, "March 4")
    marked = '<meta property="article:published_time" content="2019-03-04T09:00:00Z">'
    assert extract_html(page(marked, body))[1].published == dt.date(2019, 3, 4)
