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


def known_migrations() -> list[str]:
    """The names of this version's migrations, in order."""
    return [m.name for m in migrations._migrations]


def applied_migrations(db: Database) -> list[str]:
    """The names of the migrations applied to `db`, in the order they were applied."""
    return [m.name for m in migrations.applied(db)]


def refuse_newer(db: Database, *, path: str) -> None:
    """Raise StorageError when `db` holds a migration this version does not know (a newer ai-intake wrote it)."""
    unknown = [name for name in applied_migrations(db) if name not in set(known_migrations())]
    if unknown:
        raise StorageError(
            f"the database {path} was upgraded by a newer ai-intake (its migration {unknown[-1]} is unknown to this "
            f"version), so this version leaves it untouched: run that newer version, or restore a backup made by this one."
        )


class Db:
    """One writer connection shared by every thread under a lock, and one reader connection per thread.

    Bolt runs listeners on a thread pool and APScheduler runs jobs on others. Writes go through the
    writer (opened with `check_same_thread=False`, used under `lock`) and take SQLite's write lock up
    front (`BEGIN IMMEDIATE`), so a second process waits (busy timeout) instead of failing. Reads use
    the calling thread's own connection: in WAL mode they never wait for the writer, and a long job
    reading the whole queue does not hold up an ack.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.lock = threading.RLock()
        self._local = threading.local()
        self._readers: list[Database] = []
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
            self.db = Database(conn)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            refuse_newer(self.db, path=self.path)
            self._configure()
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from None
        except StorageError:
            self.db.close()
            raise

    def _configure(self) -> None:
        if self.path != ":memory:":
            self.db.enable_wal()
        self.db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.conn.execute("PRAGMA synchronous = FULL")
        self.db.conn.execute("PRAGMA foreign_keys = ON")

    def _migrate(self) -> None:
        """Apply the pending migrations all in one transaction: a database is upgraded whole or not at all.

        The write lock is taken first, so a second process starting at the same moment waits and then
        finds nothing pending; the version is checked again under that lock.
        """
        pending = migrations.pending(self.db)
        if not pending:
            return
        if not all(m.transactional for m in pending):
            migrations.apply(self.db)  # a migration that cannot run in a transaction (VACUUM) runs alone
            return
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            refuse_newer(self.db, path=self.path)
            migrations.apply(self.db)
        except BaseException:
            self.db.conn.execute("ROLLBACK")
            raise
        self.db.conn.execute("COMMIT")

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[Database]:
        """One unit of work: everything inside commits together or not at all.

        `durable=False` skips the fsync of this commit (WAL with synchronous=NORMAL): it stays
        consistent, and becomes durable with the next durable commit, which writes the log after it.
        """
        with self.lock:
            if not durable:
                self.db.conn.execute("PRAGMA synchronous = NORMAL")
            try:
                self.db.conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self.db
                except BaseException:
                    self.db.conn.execute("ROLLBACK")
                    raise
                self.db.conn.execute("COMMIT")
            finally:
                if not durable:
                    self.db.conn.execute("PRAGMA synchronous = FULL")

    @contextmanager
    def read(self) -> Iterator[Database]:
        """A consistent read (one read transaction) on this thread's own connection."""
        if self.path == ":memory:":
            with self.lock:
                yield self.db
            return
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._open_reader()
        if reader.conn.in_transaction:  # a read nested in another read on this thread
            yield reader
            return
        reader.conn.execute("BEGIN")
        try:
            yield reader
        finally:
            reader.conn.execute("COMMIT")

    def _open_reader(self) -> Database:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        reader = Database(conn, execute_plugins=False)
        self._local.reader = reader
        with self.lock:
            self._readers.append(reader)
        return reader

    def schema_version(self) -> int:
        """How many migrations have been applied."""
        with self.read():
            return len(migrations.applied(self.db))

    def close(self) -> None:
        with self.lock:
            for reader in self._readers:
                reader.conn.close()
            self._readers.clear()
            self.db.close()
