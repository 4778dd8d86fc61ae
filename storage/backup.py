"""Backups and restores of the database: a consistent copy while the bot runs, a checked restore while it does not.

`backup` uses SQLite's online backup API in one step: it reads one snapshot (a read transaction,
which in WAL mode never blocks the bot's writer), so the copy is the database as of one instant,
never torn between two transactions. The copy is written beside its destination and renamed into
place when it is complete and checked, in rollback-journal mode: a single file, no -wal or -shm.

`restore` checks the copy first (`PRAGMA integrity_check`, an ai-intake database, no migration newer
than this version), then takes the target database with an exclusive lock. Every open SQLite
connection to a WAL database holds a shared lock on it, so the lock is refused while any process
has it open — a running bot, on this host or in another container sharing the volume — and
nothing is written. The database being replaced is first copied aside, so a restore loses nothing.
The restored copy's lease rows (the notifier's and the scheduler's, held by whatever process ran
when the backup was taken) are dropped: nobody holds them now. Request keys given since the backup
are not given again.
"""

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database

from storage.db import BUSY_TIMEOUT_MS, StorageError, applied_migrations, known_migrations, refuse_newer


@dataclass(frozen=True)
class Summary:
    """What a database file holds: its requests and its migration level against this version's."""

    path: Path
    requests: int
    level: int
    known: int
    size: int

    def describe(self) -> str:
        return (f"{self.requests} request(s), schema level {self.level} of {self.known}, "
                f"{self.size / 1e6:.1f} MB, integrity ok")


@dataclass(frozen=True)
class Restored:
    """The outcome of a restore: what is now in place, and where the replaced database was kept."""

    summary: Summary
    kept: Path | None


def backup(source: Path, target: Path) -> Summary:
    """Copy the database `source` to the new file `target` while the bot may be running and writing.

    Raises StorageError (nothing written at `target`) when `source` is missing or not a database,
    or when `target` already exists or its folder does not.
    """
    if not source.is_file():
        raise StorageError(f"there is no database at {source} to back up (set AI_INTAKE_DB to the bot's database).")
    _refuse_existing(target)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with _closing(_open_read_only(source)) as src, _closing(sqlite3.connect(partial, isolation_level=None)) as dst:
            try:
                src.backup(dst)
            except sqlite3.DatabaseError as exc:
                raise StorageError(f"cannot back up {source}: {exc}.") from None
            dst.execute("PRAGMA journal_mode = DELETE")
            requests, level = _check(dst, path=target, what="the new backup", newer_ok=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return _summary(target, requests=requests, level=level)


def inspect(path: Path) -> Summary:
    """Check a backup file without changing it; raises StorageError saying why it cannot be restored."""
    if not path.is_file():
        raise StorageError(f"there is no backup file at {path}.")
    with _closing(_open_read_only(path)) as conn:
        requests, level = _check(conn, path=path, what=str(path))
    return _summary(path, requests=requests, level=level)


def restore(copy: Path, target: Path, *, now: datetime) -> Restored:
    """Replace the database `target` with the checked backup `copy`, unless any process has `target` open.

    The database replaced (when there was one with tables) is first copied to
    `<target>.before-restore-<now as UTC>`. Raises StorageError, having changed nothing, when the
    copy fails its checks or `target` is in use.
    """
    if target.exists() and copy.resolve() == target.resolve():
        raise StorageError(f"{copy} is the bot's database itself; restore from a backup file.")
    inspect(copy)
    with _closing(_take_exclusively(target)) as dst:
        kept = _keep_aside(dst, target, now=now)
        given = _last_ids(dst)
        with _closing(_open_read_only(copy)) as src:
            src.backup(dst)
        _release_leases(dst)
        _never_reuse_keys(dst, given=given)
        requests, level = _check(dst, path=target, what="the restored database")
    return Restored(summary=_summary(target, requests=requests, level=level), kept=kept)


# -- helpers --------------------------------------------------------------------------------------
class _closing:
    """`with` for a sqlite3 connection that closes it (sqlite3's own `with` only commits)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        self.conn.close()


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise StorageError(f"{target} already exists; give the backup a new name (nothing was written).")
    if not target.parent.is_dir():
        raise StorageError(f"the folder {target.parent} does not exist; create it or pick another place for the backup.")


def _open_read_only(path: Path) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path} is not a readable SQLite database ({exc}).") from None
    return conn


def _summary(path: Path, *, requests: int, level: int) -> Summary:
    return Summary(path=path, requests=requests, level=level, known=len(known_migrations()), size=path.stat().st_size)


def _check(conn: sqlite3.Connection, *, path: Path, what: str, newer_ok: bool = False) -> tuple[int, int]:
    """(requests, migration level) after checking integrity and, unless `newer_ok` (a copy is a copy),
    that this version knows every migration."""
    try:
        verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        verdict = [str(exc)]
    if verdict != ["ok"]:
        raise StorageError(f"{what} is damaged (integrity_check: {verdict[0]}); it cannot be restored.")
    db = Database(conn, execute_plugins=False)
    level = len(applied_migrations(db))
    if level == 0:
        raise StorageError(f"{what} is not an ai-intake database (it has no ai-intake migrations).")
    if not newer_ok:
        refuse_newer(db, path=str(path))
    return conn.execute("SELECT count(*) FROM requests").fetchone()[0], level


def _take_exclusively(target: Path) -> sqlite3.Connection:
    """A connection holding `target` with an exclusive lock, in rollback-journal mode, or StorageError if in use."""
    try:
        conn = sqlite3.connect(target, isolation_level=None, timeout=0)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot open {target} to restore into it: {exc}.") from None
    try:
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the lock, or fails while anyone has it open
        conn.execute("PRAGMA journal_mode = DELETE")  # the WAL is checkpointed into the file and removed
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise StorageError(f"the database {target} is in use (is ai-intake running on it?); stop the bot, then restore. "
                               f"Nothing was changed.") from None
        raise StorageError(f"cannot restore into {target}: {exc}.") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StorageError(f"{target} is not an SQLite database ({exc}); move it away, then restore.") from None
    return conn


def _release_leases(conn: sqlite3.Connection) -> None:
    """Drop the copy's lease rows: they name the process that ran when the backup was taken, and nobody
    holds this file now (the exclusive lock says so), so the next bot takes them at once instead of
    waiting for them to run out."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'leases'").fetchone():
        conn.execute("DELETE FROM leases")


def _last_ids(conn: sqlite3.Connection) -> dict[str, int]:
    """The last id each table with ids never reused (AUTOINCREMENT) gave: requests (AIR-n), changes (CHG-n) …"""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        return {}
    return {name: seq for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence")}


def _never_reuse_keys(conn: sqlite3.Connection, *, given: dict[str, int]) -> None:
    """Requests and changes logged after the backup are not in it, but their cards and messages are still in
    Slack (their buttons still name them): the next request, change (and every other row with such an id) gets
    one past every one the replaced database gave, so AIR-12 or CHG-3 never names two things."""
    restored = _last_ids(conn)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for name, last in given.items():
        if name in tables and last > restored.get(name, 0):
            conn.execute("DELETE FROM sqlite_sequence WHERE name = ?", [name])
            conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", [name, last])


def _keep_aside(conn: sqlite3.Connection, target: Path, *, now: datetime) -> Path | None:
    """Copy the database about to be replaced next to it; None when it holds nothing yet."""
    if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
        return None
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kept = target.with_name(f"{target.name}.before-restore-{stamp}")
    _refuse_existing(kept)
    with _closing(sqlite3.connect(kept, isolation_level=None)) as aside:
        conn.backup(aside)
    return kept
