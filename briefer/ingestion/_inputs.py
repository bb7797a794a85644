"""What an input is: a file, a folder walked, a URL, or stdin (an article, or a list of inputs).

Inputs, processed in the order given (the result is deterministic):

- a **file**: ``.html``/``.htm`` are HTML pages (``_html``); ``.txt``/``.md`` are plain text
  (``_plain``); whatever its name, a file whose root element is a feed's (RSS, RDF, Atom,
  OPML: ``_feeds``) is read as a feed, and ``.xml``, ``.rss``, ``.atom``, ``.rdf`` and
  ``.opml`` files named directly are read as feeds. Files larger than ``max_file_bytes`` are
  refused from their size alone, without being read. A file named directly without a suffix is
  read as plain text; one with another suffix is excluded (unsupported file type).
- a **folder**: walked recursively in name order; ``.txt``, ``.md``, ``.html``, ``.htm`` are read,
  hidden files and folders (``.name``) are passed over silently, and a folder reached twice
  through symbolic links is walked once. A file in it that is no article is **skipped with a
  note** (an ``Excluded`` entry with ``skipped=True``, which does not make the result partial):
  another type of file (``photo.jpg``), an empty or binary file, an HTML page with no article
  text (a saved page's frames), a copy of a text already read. A file that should have been
  read and could not be stays a loss (``skipped=False``): not valid UTF-8, too large,
  unreadable, a broken link. So is the folder itself when it held no article and no file that
  failed ("no usable files"). A file named directly that fails is a loss, whatever the reason.
- an **http(s) URL**: fetched by ``_fetch`` (several at once, while files are read), then read
  as a feed when its root element is a feed's, else as HTML or text according to its content
  type. The outlet falls back to the host name.
- ``-``: **stdin** (``sys.stdin`` unless a stream is passed): a list of inputs, or the text of one
  article (HTML when it starts with a tag). Leaving out blank lines and comment lines (``#``
  first), stdin is a **list** when no line is a paragraph (12 words or more) and more than half
  of the lines are written as inputs: a URL of any scheme, an attempt at one (``http//…``,
  ``htps://…``, ``www.…``, ``example.org/story``), an existing path, or a word written as a path
  (starting ``/``, ``./``, ``../`` or ``~``; ending ``/``, ``.txt``, ``.md``, ``.html`` or
  ``.htm``). Anything else is an article, which may well contain URLs. A list is read line by
  line: a trailing ``  # note`` is dropped, each line is an input of its own (paths, folders and
  URLs, as if named on the command line; a leading ``~`` is the home folder), and a line that
  cannot be used is excluded alone with its reason (a mistyped URL, an unsupported scheme such
  as ``file://``, ``-``, a line that names nothing) while the others are read. Stdin holding
  only comment lines is excluded. To brief text that reads as a list, save it to a file.

An input is expanded (``expand_input``) into what is to be read: ``FileInput``, ``UrlInput``,
``TextInput`` (stdin's article), ``Unusable`` (excluded with its reason, or skipped with a
note), and after a folder's files its ``FolderEnd``. Reading them is ``_sources``'.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from briefer.errors import first_line
from briefer.ingestion._decode import decode_text, normalize_newlines

__all__ = [
    "FEED_SUFFIXES",
    "HTML_SUFFIXES",
    "KINDS_READ",
    "STDIN",
    "TEXT_SUFFIXES",
    "FileInput",
    "Folder",
    "FolderEnd",
    "Input",
    "TextInput",
    "Unusable",
    "UrlInput",
    "expand_input",
]

TEXT_SUFFIXES = frozenset({".txt", ".md"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
# Read when a file is named directly (a feed is known by its content, whatever its name).
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf", ".opml"})
STDIN = "-"


@dataclass(frozen=True, eq=False)
class Folder:
    """One folder named by the user (compared by identity: the same folder named twice is
    walked twice, and each walk answers for itself)."""

    label: str


@dataclass(frozen=True)
class FileInput:
    label: str
    path: Path
    # The folder it was found in; None for a file named directly.
    folder: Folder | None = None


@dataclass(frozen=True)
class UrlInput:
    label: str


@dataclass(frozen=True)
class TextInput:
    label: str
    text: str


@dataclass(frozen=True)
class Unusable:
    label: str
    reason: str
    folder: Folder | None = None
    # Passed over with a note (a file in a folder that is no article), not a loss.
    skipped: bool = False


@dataclass(frozen=True)
class FolderEnd:
    """After a folder's files: a folder that gave no article is reported itself."""

    folder: Folder


Input = FileInput | UrlInput | TextInput | Unusable | FolderEnd

KINDS_READ = ".txt, .md, .html, .htm"


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in text)


def _scheme_of(text: str) -> str | None:
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", text)
    return match.group(1).lower() if match else None


# An attempt at a web address that is not one: "http//…", "htps://…", "http:/…", "www.…", or a
# host and path without a scheme ("example.org/story").
_URL_ATTEMPT = re.compile(
    r"^(?:h?t?tps?[:/]|www\.|(?:[A-Za-z0-9-]{1,63}\.){1,10}[A-Za-z]{2,24}/)", re.IGNORECASE
)
# A path as people write one: absolute, relative, home, a folder's trailing slash, or a file
# of a kind briefer reads.
_PATH_LIKE = re.compile(r"^(?:/|\./|\.\./|~)|/$|\.(?:txt|md|html?)$", re.IGNORECASE)


def _url_attempt(text: str) -> bool:
    return not any(c.isspace() for c in text) and bool(_URL_ATTEMPT.match(text))


def _supported(path: Path) -> bool:
    return path.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES


def _folder_entries(
    folder: Path, visited: set[tuple[int, int]], owner: Folder
) -> list[os.DirEntry[str]] | Unusable:
    """The entries of ``folder`` in name order; none if the folder was seen already (by device
    and inode: one call, where resolving the real path costs one per level of the path)."""
    try:
        info = folder.stat()
    except OSError:
        pass  # scandir below says what is wrong
    else:
        if (info.st_dev, info.st_ino) in visited:
            return []
        visited.add((info.st_dev, info.st_ino))
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda entry: entry.name)
    except PermissionError:
        return Unusable(str(folder), "permission denied", owner)
    except OSError as exc:
        return Unusable(str(folder), (exc.strerror or "cannot be read").lower(), owner)


def _walk_folder(folder: Path, owner: Folder) -> Iterator[Input]:
    """Files under ``folder`` in name order; each real folder once, so link loops end.

    Depth first with a stack of its own: a tree of any depth walks without recursion.
    """
    visited: set[tuple[int, int]] = set()
    stack: list[Iterator[os.DirEntry[str]]] = []

    def enter(path: Path) -> Iterator[Input]:
        found = _folder_entries(path, visited, owner)
        if isinstance(found, Unusable):
            yield found
        else:
            stack.append(iter(found))

    yield from enter(folder)
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
            is_file = entry.is_file()
        except OSError:
            is_dir = is_file = False
        if is_dir:
            yield from enter(path)
        elif not is_file:
            if entry.is_symlink():
                yield Unusable(entry.path, _link_problem(entry.path), owner)
            # Sockets, pipes and devices are not articles: passed over.
        elif _supported(path):
            yield FileInput(entry.path, path, owner)
        else:
            suffix = path.suffix.lower() or "(none)"
            yield Unusable(entry.path, f"unsupported file type {suffix}", owner, skipped=True)


def _link_problem(path: str) -> str:
    try:
        os.stat(path)
    except FileNotFoundError:
        return "no such file or directory (broken link)"
    except OSError as exc:
        return (exc.strerror or "cannot be read").lower()
    return "not a regular file"


def _missing(label: str) -> str:
    """Why ``label`` names nothing: a web address mistyped, or no such path."""
    if _url_attempt(label):
        return "not a valid URL: write it with http:// or https://"
    return "no such file or directory"


def _expand_path(label: str) -> Iterator[Input]:
    path = Path(label)
    try:
        info = path.stat()
    except FileNotFoundError:
        yield Unusable(label, _missing(label))
        return
    except PermissionError:
        yield Unusable(label, "permission denied")
        return
    except OSError as exc:
        yield Unusable(label, (exc.strerror or "cannot be read").lower())
        return
    if stat.S_ISDIR(info.st_mode):
        folder = Folder(label)
        yield from _walk_folder(path, folder)
        yield FolderEnd(folder)
    else:
        # A file named explicitly is read whatever its name, unless clearly unsupported.
        suffix = path.suffix.lower()
        if suffix and not _supported(path) and suffix not in FEED_SUFFIXES:
            yield Unusable(label, f"unsupported file type {suffix} (briefer reads {KINDS_READ})")
        else:
            yield FileInput(label, path)


def _read_stdin(stdin: IO[str]) -> str:
    """The text on ``stdin``; ValueError with the reason when it is not text. Its bytes, when
    there are any to read, are judged like a file's, whatever the locale's encoding is (a
    stream decoded with surrogateescape would pass on bytes no output can hold)."""
    buffer = getattr(stdin, "buffer", None)
    if buffer is not None:
        return decode_text(buffer.read())[0]
    raw = stdin.read()
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        return decode_text(raw.encode("utf-8", "surrogateescape"))[0]
    return raw


# A line of this many words is a paragraph: stdin holding one is an article, not a list.
_PROSE_WORDS = 12
# A long line of a list that names nothing is shown by its start.
_LABEL_CHARS = 120
_TRAILING_COMMENT = re.compile(r"\s+#.*$")


def _list_line(line: str) -> str:
    """A stripped line of a list without its trailing ``  # comment`` (a path holding " #"
    that exists keeps it)."""
    if " #" in line or "\t#" in line:
        bare = _TRAILING_COMMENT.sub("", line)
        if bare != line and not _path_exists(line):
            return bare
    return line


def _names_an_input(line: str) -> bool:
    """Whether a line of stdin is written as an input: a URL of any scheme or an attempt at
    one, an existing path, or one written as a path (see the module docstring)."""
    if _path_exists(line):
        return True
    if any(c.isspace() for c in line):
        return False
    return _scheme_of(line) is not None or _url_attempt(line) or bool(_PATH_LIKE.search(line))


def _stdin_list(text: str) -> list[str] | None:
    """The entries of stdin when it is a list of inputs, else None (it is an article)."""
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line and not line.startswith("#")]
    if not lines:
        # Blank (an empty article) or headings alone (no article either way): not a list.
        return None
    if any(len(line.split(maxsplit=_PROSE_WORDS)) >= _PROSE_WORDS for line in lines):
        return None
    entries = [_list_line(line) for line in lines]
    named = sum(1 for entry in entries if _names_an_input(entry))
    return entries if named * 2 > len(entries) else None


def _list_entry(line: str) -> Iterator[Input]:
    """The inputs one line of a list on stdin names; an unusable line is excluded alone."""
    if line == STDIN:
        yield Unusable(line, "stdin cannot be listed on stdin")
        return
    if _names_an_input(line):
        # No shell expanded this line: "~/news" is the user's home folder, as it would be there.
        yield from expand_input(os.path.expanduser(line), stdin=None)
        return
    label = line if len(line) <= _LABEL_CHARS else line[: _LABEL_CHARS - 1] + "…"
    yield Unusable(label, "not a URL or an existing path")


def _stdin_inputs(stdin: IO[str] | None) -> Iterator[Input]:
    if stdin is None:
        stdin = sys.stdin
    try:
        raw = _read_stdin(stdin)
    except ValueError as exc:  # also UnicodeDecodeError
        yield Unusable(STDIN, first_line(exc) if str(exc).strip() else "not text")
        return
    except OSError as exc:
        yield Unusable(STDIN, f"cannot read stdin ({type(exc).__name__})")
        return
    entries = _stdin_list(normalize_newlines(raw))
    if entries is None:
        if raw.strip() and all(
            not line.strip() or line.lstrip().startswith("#") for line in raw.splitlines()
        ):
            yield Unusable(STDIN, "only lines starting with #: no article text, URL or path")
            return
        yield TextInput(STDIN, raw)
        return
    for entry in entries:
        yield from _list_entry(entry)


def _path_exists(text: str) -> bool:
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


def expand_input(label: str, *, stdin: IO[str] | None) -> Iterator[Input]:
    if label == STDIN:
        yield from _stdin_inputs(stdin)
        return
    if _is_url(label):
        yield UrlInput(label)
        return
    scheme = _scheme_of(label)
    if scheme is not None and not _url_attempt(label):
        yield Unusable(label, f"unsupported URL scheme {scheme}: only http and https are fetched")
        return
    yield from _expand_path(label)  # a mistyped "htps://…" is said to be one there
