"""Opening the SQLite database: WAL, full sync, a busy timeout, migrations; one writer, committing in groups."""

import itertools
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from bot.domain.errors import Busy, IntakeError, NotSaved
from sqlite_utils.migrations import Migrations

from storage.migrations import migrations
from storage.writer import Batch, Checkpointer, WriterLock

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
INTERACTIVE_WAIT_SECONDS = 2.0
"""How long a unit of work a person waits for may wait for the writer (this process's, then SQLite's lock) before
it gives up with `Busy`, nothing written: Slack gives up on an answer after 3 s."""
BATCH_MAX_SECONDS = 0.010
BATCH_MAX_UNITS = 256
"""A batch is committed when nobody else waits for the writer, or once it is this old or this big, so that its
first unit is not kept waiting by a steady stream of others."""


class StorageError(Exception):
    """The database cannot be opened or written; the message says which file and why."""


WRITE_FAILURES = {
    "SQLITE_FULL": "the database's disk is full",
    "SQLITE_READONLY": "the database is read-only",
    "SQLITE_IOERR": "the database's disk could not be written",
    "SQLITE_CANTOPEN": "the database's files could not be opened for writing",
    "SQLITE_PERM": "the database may not be written",
}
"""SQLite's primary error codes that mean "nothing can be saved now", and how a person is told why."""


def not_saved(exc: BaseException) -> NotSaved | None:
    """The NotSaved for a write that failed because the database cannot be written now (`WRITE_FAILURES`), else
    None (a bug, a constraint: not the person's to retry)."""
    if not isinstance(exc, sqlite3.Error):
        return None
    name = getattr(exc, "sqlite_errorname", None) or ""
    for code, reason in WRITE_FAILURES.items():
        if name == code or name.startswith(code + "_"):
            return NotSaved(reason)
    text = str(exc)
    if "disk is full" in text:
        return NotSaved(WRITE_FAILURES["SQLITE_FULL"])
    if "readonly" in text or "read-only" in text:
        return NotSaved(WRITE_FAILURES["SQLITE_READONLY"])
    if "disk I/O error" in text:
        return NotSaved(WRITE_FAILURES["SQLITE_IOERR"])
    return None


NO_MMAP = "PRAGMA mmap_size = 0"
"""Every connection reads the database file with read(), never through a memory map: an I/O error on a mapped
file (a read-only or full file system, a file cut short) is a SIGBUS that kills the process, where read() returns
an error SQLite reports."""


class Upgraded(IntakeError, StorageError):
    """A newer ai-intake migrated the database past this version while this one ran: this process writes no more.

    Its message is for the person whose action was not saved; `reason` says what happened, for the log and /readyz."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "ai-intake is being upgraded and did not save this; nothing changed. Please try again in a minute."
        )
        self.reason = reason

    def __str__(self) -> str:
        return self.reason  # the command line and the log say what happened; `message` is for the person


def known_migrations(schema: Migrations = migrations) -> list[str]:
    """The names of this version's migrations of `schema` (the main database's by default), in order."""
    return [m.name for m in schema._migrations]


def applied_migrations(db: Database, schema: Migrations = migrations) -> list[str]:
    """The names of the migrations of `schema` applied to `db`, in the order they were applied."""
    return [m.name for m in schema.applied(db)]


def refuse_newer(db: Database, *, path: str, schema: Migrations = migrations) -> None:
    """Raise StorageError when `db` holds a migration this version does not know (a newer ai-intake wrote it)."""
    unknown = [name for name in applied_migrations(db, schema) if name not in set(known_migrations(schema))]
    if unknown:
        raise StorageError(
            f"the database {path} was upgraded by a newer ai-intake (its migration {unknown[-1]} is unknown to this "
            f"version), so this version leaves it untouched: run that newer version, or restore a backup made by this one."
        )


class Db:
    """One writer connection shared by every thread, committing in groups, and one reader connection per thread.

    Bolt runs listeners on a thread pool and APScheduler runs jobs on others. Every write is a unit of
    work (`write()`) run on the one writer connection, by the calling thread, while it holds `lock`
    (a `WriterLock`: first come first served, interactive units before background ones). Units run
    inside one open SQLite transaction (`BEGIN IMMEDIATE`, so a second process waits for SQLite's
    lock instead of failing), each in its own SAVEPOINT, so a unit that fails rolls back alone. The
    thread that finishes a unit while nobody else waits for the writer (or once the batch is 10 ms
    old or 256 units big) COMMITs for everyone in the batch; each unit's caller returns when that
    COMMIT is on disk. Under load, batches form by themselves; alone, a unit commits at once.

    Reads use the calling thread's own connection: in WAL mode they never wait for the writer, and a
    long job reading the whole queue does not hold up an ack.
    """

    def __init__(
        self, path: str | Path, *, batch_max_seconds: float = BATCH_MAX_SECONDS, schema: Migrations = migrations
    ) -> None:
        self.path = str(path)
        self.schema = schema
        """The migrations this file is kept at: the main database's, or a file beside it of its own (the inbox)."""
        self.batch_max_seconds = batch_max_seconds
        self.lock = WriterLock()
        self._batch: Batch | None = None
        self._savepoints = itertools.count(1)
        self.commits = 0
        self.busy = 0
        """How many units of work were refused with `Busy` (the writer stayed busy too long): /metrics reads it."""
        """How many batches were committed (the benchmarks and tests read it)."""
        self._local = threading.local()
        self._readers: list[Database] = []
        self._readers_lock = threading.Lock()
        self._checkpointer: Checkpointer | None = None
        self.stopped: str | None = None
        """Why this process stopped writing (the file was migrated past this version while it ran), or None."""
        self._data_version: int | None = None  # the writer's PRAGMA data_version when the schema was last checked
        try:
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
            self.db = Database(conn)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            refuse_newer(self.db, path=self.path, schema=schema)
            self._configure()
            self._migrate()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database {self.path}: {exc}") from None
        except StorageError:
            if self._checkpointer is not None:
                self._checkpointer.stop()
            self.db.close()
            raise

    def _configure(self) -> None:
        if self.path != ":memory:":
            self.db.enable_wal()
            self.db.conn.execute(
                "PRAGMA wal_autocheckpoint = 0"
            )  # the checkpointer's thread does it (storage/writer.py)
            self._checkpointer = Checkpointer(self.path)
        self.db.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.db.conn.execute(NO_MMAP)
        self.db.conn.execute("PRAGMA synchronous = FULL")
        self.db.conn.execute("PRAGMA foreign_keys = ON")

    def _migrate(self) -> None:
        """Apply the pending migrations all in one transaction: a database is upgraded whole or not at all.

        The write lock is taken first, so a second process starting at the same moment waits and then
        finds nothing pending; the version is checked again under that lock.
        """
        pending = self.schema.pending(self.db)
        if not pending:
            return
        if not all(m.transactional for m in pending):
            self.schema.apply(self.db)  # a migration that cannot run in a transaction (VACUUM) runs alone
            return
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            refuse_newer(self.db, path=self.path, schema=self.schema)
            self.schema.apply(self.db)
        except StorageError:
            self.db.conn.execute("ROLLBACK")
            raise
        except Exception as exc:
            done = set(
                applied_migrations(self.db, self.schema)
            )  # inside the transaction: those before the one that failed
            failed = next((m.name for m in pending if m.name not in done), "?")
            self.db.conn.execute("ROLLBACK")
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise StorageError(
                f"cannot upgrade the database {self.path}: migration {failed} failed ({reason}); nothing was "
                f"changed (the upgrade is one transaction): restore a backup, or report it with the "
                f"database's schema level."
            ) from None
        except BaseException:
            self.db.conn.execute("ROLLBACK")
            raise
        self.db.conn.execute("COMMIT")

    @contextmanager
    def write(self, *, durable: bool = True, interactive: bool = True, wait: float | None = None) -> Iterator[Database]:
        """One unit of work: everything inside is written together or not at all, in the writer's open batch.

        Returns once the batch's COMMIT is on disk (fsynced: synchronous=FULL); `durable=False` returns
        as soon as the unit is in the batch: it commits with the batch, and what the caller does next
        (a unit that waits) commits after it. `interactive` units (what a person waits for) go before
        background ones and wait at most `wait` seconds (default `INTERACTIVE_WAIT_SECONDS`) for the
        writer, then raise `Busy` with nothing written; background units wait as long as SQLite's busy
        timeout allows. A unit inside another on the same thread is a savepoint within it.
        """
        if self.stopped is not None:
            raise Upgraded(self.stopped)
        budget = (INTERACTIVE_WAIT_SECONDS if wait is None else wait) if interactive else None
        deadline = None if budget is None else time.monotonic() + budget
        if not self.lock.acquire(interactive=interactive, timeout=budget):
            self.busy += 1
            raise Busy()
        nested = self.lock.depth() > 1
        batch: Batch | None = None
        try:
            try:
                if self._batch is None:
                    self._begin(deadline)
                batch = self._batch
                assert batch is not None
                conn = self.db.conn
                name = f"unit{next(self._savepoints)}"
                conn.execute(f"SAVEPOINT {name}")
            except sqlite3.Error as exc:
                self._fail_batch(exc)
                if (saved := not_saved(exc)) is None:
                    raise
                raise saved from exc
            try:
                yield self.db
            except BaseException as exc:
                self._undo(name, exc)
                if (saved := not_saved(exc)) is None:
                    raise
                raise saved from exc
            try:
                conn.execute(f"RELEASE {name}")
            except sqlite3.Error as exc:
                self._fail_batch(exc)
                if (saved := not_saved(exc)) is None:
                    raise
                raise saved from exc
            if not nested:
                batch.units += 1
        finally:
            if not nested:
                self._commit_unless_others_follow()
            self.lock.release()
        if durable and not nested and batch is not None:
            try:
                batch.wait()
            except sqlite3.Error as exc:
                if (saved := not_saved(exc)) is None:
                    raise
                raise saved from exc

    def _begin(self, deadline: float | None) -> None:
        """Open the next batch: SQLite's write lock, waited for until `deadline` at most (then `Busy`)."""
        conn = self.db.conn
        if deadline is not None:
            conn.execute(f"PRAGMA busy_timeout = {max(0, int((deadline - time.monotonic()) * 1000))}")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if deadline is not None and "locked" in str(exc):
                self.busy += 1
                raise Busy() from None
            raise
        finally:
            if deadline is not None:
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            self._check_schema()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._batch = Batch()

    def _check_schema(self) -> None:
        """Under SQLite's write lock, before a batch's first unit: when another connection committed since the last
        look (`PRAGMA data_version` changed), is the schema still this version's? A newer ai-intake that migrated the
        file meanwhile stops this process's writes for good (`Upgraded`), before a unit written for the old schema
        lands in the new one. One PRAGMA per batch; the migrations are read only after another process wrote."""
        version = self.db.conn.execute("PRAGMA data_version").fetchone()[0]
        if version == self._data_version:
            return
        unknown = [
            name for name in applied_migrations(self.db, self.schema) if name not in set(known_migrations(self.schema))
        ]
        if unknown:
            self.stopped = (
                f"the database {self.path} was migrated past this version while it ran (its migration "
                f"{unknown[-1]} is unknown here): this process stopped writing; stop it and run the newer "
                f"version"
            )
            log.error("ai-intake stops writing: %s", self.stopped)
            raise Upgraded(self.stopped)
        self._data_version = version

    def _undo(self, name: str, exc: BaseException) -> None:
        """Roll back one failed unit; when SQLite already rolled back the whole transaction (an I/O error, a full
        disk), the batch failed for every unit in it."""
        conn = self.db.conn
        if conn.in_transaction:
            try:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                return
            except sqlite3.Error:
                pass
        self._fail_batch(exc)

    def _commit_unless_others_follow(self) -> None:
        """COMMIT the open batch, unless another unit is about to join it (it will commit, or the one after it)."""
        batch = self._batch
        if batch is None:
            return
        if (
            batch.units
            and self.lock.waiting()
            and batch.units < BATCH_MAX_UNITS
            and time.monotonic() - batch.started < self.batch_max_seconds
        ):
            return
        self.commit_batch()

    def commit_batch(self) -> None:
        """COMMIT the open batch now (the caller holds the writer) and answer its units."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        conn = self.db.conn
        try:
            if conn.in_transaction:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            batch.finish(exc)
            return
        self.commits += 1
        if self._checkpointer is not None:
            self._checkpointer.committed()
        batch.finish()

    def _fail_batch(self, exc: BaseException) -> None:
        batch, self._batch = self._batch, None
        conn = self.db.conn
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if batch is not None:
            batch.finish(sqlite3.OperationalError(f"the transaction was rolled back: {exc}"))

    def probe_write(self, *, wait: float) -> str | None:
        """Why a write could not begin now (one phrase), or None: takes the writer and SQLite's write lock
        (`BEGIN IMMEDIATE`), then rolls back, waiting at most `wait` seconds in all. A batch already open
        means a write has begun: it is committed, not rolled back."""
        deadline = time.monotonic() + wait
        if not self.lock.acquire(interactive=True, timeout=wait):
            return f"the writer has been busy for over {wait:g} s"
        try:
            if self._batch is not None:
                return None
            conn = self.db.conn
            try:
                conn.execute(f"PRAGMA busy_timeout = {max(0, int((deadline - time.monotonic()) * 1000))}")
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        # BEGIN IMMEDIATE takes the WAL's write lock even on a read-only file: a statement
                        # that writes (none of its rows match) is what finds out.
                        conn.execute("DELETE FROM outbox WHERE 0")
                    finally:
                        conn.execute("ROLLBACK")
                finally:
                    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            except sqlite3.Error as exc:
                return f"a write cannot begin: {exc}"
            return None
        finally:
            self._commit_unless_others_follow()
            self.lock.release()

    def pages_left(self, *, wait: float = 2.0) -> int | None:
        """Bytes the writer may still add below its `max_page_count` (a limit of the connection, so asked of the
        writer's); None for an in-memory database, or when the writer stayed busy `wait` seconds."""
        if self.path == ":memory:" or not self.lock.acquire(interactive=True, timeout=wait):
            return None
        try:
            count, most, size = (
                self.db.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "max_page_count", "page_size")
            )
        finally:
            self.lock.release()
        return max(0, most - count) * size

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

    def data_version(self) -> int:
        """SQLite's `PRAGMA data_version` on this thread's reader: it changes when another connection commits."""
        with self.read() as reader:
            return reader.conn.execute("PRAGMA data_version").fetchone()[0]

    def _open_reader(self) -> Database:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute(NO_MMAP)
        reader = Database(conn, execute_plugins=False)
        self._local.reader = reader
        with self._readers_lock:
            self._readers.append(reader)
        return reader

    def schema_version(self) -> int:
        """How many migrations have been applied."""
        with self.read():
            return len(self.schema.applied(self.db))

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self.lock:
            self.commit_batch()
            with self._readers_lock:
                for reader in self._readers:
                    reader.conn.close()
                self._readers.clear()
            self.db.close()
