"""One run of a day at a time: ``OUT/.<day>.lock``, held with ``flock`` for as long as the run.

The kernel lets go of a ``flock`` when its process ends, however it ends: a lock file left by a
run that was killed is locked by nobody, and the next run takes it over. The file holds the
pid of the run that has it, for the message of a run refused. POSIX only (``fcntl``); on a
network file system, ``flock`` may not be shared between machines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from briefer.errors import ConfigError

__all__ = ["DayLockedError", "day_lock", "lock_path"]


class DayLockedError(ConfigError):
    """Another run of the same day holds its lock: this one did nothing (exit 2)."""


def lock_path(out: Path, day: dt.date) -> Path:
    return out / f".{day.isoformat()}.lock"


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(path.read_text(encoding="ascii").strip() or "x")
        return f"pid {pid}"
    return "another process"


@contextlib.contextmanager
def day_lock(out: Path, day: dt.date) -> Iterator[Path]:
    """Hold the lock of ``day`` in ``out`` or raise ``DayLockedError`` at once (no waiting: a
    scheduled run that finds its day under way has nothing to add)."""
    path = lock_path(out, day)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DayLockedError(
                f"another run of {day} is under way ({_holder(path)} holds {path}); this one "
                "did nothing"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # The run that had it may have removed the file between our open and our lock: a lock
        # on a file no longer at ``path`` guards nothing, so open it again.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        yield path
    finally:
        # Removed while still held, so no other run can lock this file after it is gone.
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
