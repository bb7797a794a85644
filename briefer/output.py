"""Writing results: atomically, so a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path

from briefer.errors import OutputError

__all__ = ["write_atomic", "write_output"]


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write to a temporary file beside ``path``, flush it to disk, then rename over ``path``.

    A crash at any point leaves either the old file or the new one, never a mix.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    # Make the rename itself durable (POSIX; directories cannot be opened on Windows).
    if hasattr(os, "O_DIRECTORY"):
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_output(path: Path | None, text: str) -> None:
    """The result to ``path`` (atomically) or, when None, to stdout."""
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
