"""Opening the store's file and running its transactions, safely beside other runs.

The file is in WAL mode (readers never block the writer nor the writer readers; a write is
appended to ``<file>-wal`` and folded back into the file by SQLite's automatic checkpoints) with
``synchronous = FULL`` (a committed run survives a power cut as well as a killed process; it
costs one sync per run). WAL needs the shared memory of one machine: the file must be on a
local disk, not a network share.

Every write is one ``BEGIN IMMEDIATE`` … ``COMMIT``: the write lock is taken first, so a
transaction never fails half-way because another run wrote in between (a deferred transaction
would, with ``SQLITE_BUSY`` and no wait). A run that finds the lock taken waits up to the busy
timeout, then tries again a bounded number of times, then raises ``StoreError``: another run
holds the file. Reads run in a deferred transaction, which sees one snapshot.

Every SQLite error is translated here into a one-line ``StoreError`` naming the file and what to
do: a damaged file (move it aside), a locked one (wait), a file of a newer briefer (upgrade).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from briefer.errors import StoreError
from briefer.stories._schema import SCHEMA_VERSION, migrate

__all__ = ["BUSY_TIMEOUT", "RETRIES", "StoreError", "connect", "read", "translated", "write"]

T = TypeVar("T")

BUSY_TIMEOUT = 5.0  # seconds SQLite waits for the write lock, per attempt
RETRIES = 3  # further attempts after the first, with a growing pause between them
_PAUSE = 0.2

_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_CORRUPT, _SQLITE_NOTADB = 5, 6, 11, 26
_NO_STORE = "or run with --no-store"


def damaged(path: Path, why: str = "is not a briefer story store or is damaged") -> StoreError:
    return StoreError(
        f"{path} {why}: move it aside (briefer starts a new store), {_NO_STORE}", path=str(path)
    )


def locked(path: Path) -> StoreError:
    return StoreError(
        f"{path} is locked: another briefer run holds it: wait for it to finish, {_NO_STORE}",
        path=str(path),
    )


def too_new(path: Path, version: int) -> StoreError:
    return StoreError(
        f"{path} was written by a newer briefer (store schema {version}, this briefer reads up "
        f"to {SCHEMA_VERSION}): upgrade briefer, {_NO_STORE}",
        path=str(path),
    )


def _code(error: sqlite3.Error) -> int:
    return int(getattr(error, "sqlite_errorcode", 0)) & 0xFF


def _busy(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return _code(error) in (_SQLITE_BUSY, _SQLITE_LOCKED) or "locked" in text or "busy" in text


def translated(path: Path, error: sqlite3.Error) -> StoreError:
    """The ``StoreError`` a SQLite error means for the person running briefer."""
    if _busy(error):
        return locked(path)
    text = str(error).lower()
    if (
        _code(error) in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
        or "malformed" in text
        or ("not a database" in text)
    ):
        return damaged(path)
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return StoreError(
        f"{path}: the story store cannot be used ({reason}), {_NO_STORE}", path=str(path)
    )


def write(conn: sqlite3.Connection, path: Path, work: Callable[[], T], retries: int = RETRIES) -> T:
    """``work`` inside ``BEGIN IMMEDIATE`` … ``COMMIT``: all of it or nothing. The lock is
    waited for (busy timeout), then asked again ``retries`` times; a ``StoreError`` after."""
    for attempt in range(retries + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            if _busy(error) and attempt < retries:
                time.sleep(_PAUSE * (attempt + 1))
                continue
            raise translated(path, error) from error
        try:
            result = work()
            conn.execute("COMMIT")
        except BaseException as error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise translated(path, error) from error
            raise
        return result
    raise locked(path)  # not reached: the last attempt raises


def read(conn: sqlite3.Connection, path: Path, work: Callable[[], T]) -> T:
    """``work`` in one read transaction: every query sees the same snapshot."""
    try:
        conn.execute("BEGIN")
        try:
            return work()
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
    except sqlite3.Error as error:
        raise translated(path, error) from error


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def connect(path: Path, timeout: float = BUSY_TIMEOUT) -> sqlite3.Connection:
    """A connection to the store at ``path``, created with its folder on first use, in WAL
    mode, at ``SCHEMA_VERSION`` (a file of an earlier version is migrated, in one
    transaction)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"{path}: cannot create the story store's folder ({error.strerror or error}): "
            f"set BRIEFER_STORE to another file, {_NO_STORE}",
            path=str(path),
        ) from error
    if path.is_dir():
        raise StoreError(
            f"{path} is a folder, not a story store file: set BRIEFER_STORE to a file, {_NO_STORE}",
            path=str(path),
        )
    try:
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as error:
        raise translated(path, error) from error
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        for attempt in range(RETRIES + 1):
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as error:
                if not _busy(error) or attempt == RETRIES:
                    raise
                time.sleep(_PAUSE * (attempt + 1))
        if str(mode).lower() != "wal":
            raise StoreError(
                f"{path}: the story store cannot use WAL mode (journal mode "
                f"{mode}): keep it on a local disk, {_NO_STORE}",
                path=str(path),
            )
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        version = _version(conn)
        if version > SCHEMA_VERSION:
            raise too_new(path, version)
        if version < SCHEMA_VERSION:

            def upgrade() -> None:
                # Another run may have migrated the file since we looked.
                now = _version(conn)
                if now > SCHEMA_VERSION:
                    raise too_new(path, now)
                if now < SCHEMA_VERSION:
                    migrate(conn, now)

            write(conn, path, upgrade)
    except sqlite3.Error as error:
        conn.close()
        raise translated(path, error) from error
    except BaseException:
        conn.close()
        raise
    return conn
