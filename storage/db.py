"""Opening the SQLite database: WAL, full sync, a busy timeout, migrations, one writer at a time."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from storage.migrations import migrations

BUSY_TIMEOUT_MS = 10_000


class StorageError(Exception):
    """The database cannot be opened or written; the message says which file and why."""


class Db:
    """One connection shared by every thread, used under a lock.

    Bolt runs listeners on a thread pool and APScheduler runs jobs on others, so the connection is
    opened with `check_same_thread=False` and every use holds `lock`. Writes take SQLite's write
    lock up front (`BEGIN IMMEDIATE`), so a second process waits (busy timeout) instead of failing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
            self.db = Database(conn)
            self._configure()
            migrations.apply(self.db)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from None

    def _configure(self) -> None:
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.conn.execute("PRAGMA synchronous = FULL")
        self.db.conn.execute("PRAGMA foreign_keys = ON")

    @contextmanager
    def write(self) -> Iterator[Database]:
        """One unit of work: everything inside commits together or not at all."""
        with self.lock:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Database]:
        with self.lock:
            yield self.db

    def schema_version(self) -> int:
        """How many migrations have been applied."""
        with self.read():
            return len(migrations.applied(self.db))

    def close(self) -> None:
        with self.lock:
            self.db.close()
