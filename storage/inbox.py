"""The inbox: signed deliveries acknowledged at once and worked after their ack (`bot.listeners.inbox`).

A command, a click or a shortcut that arrives over HTTP is kept here (its raw body, the headers its signature
and its parsing need, when it arrived), and Slack gets an empty 200 as soon as it is on disk. The acks hand
their deliveries to the inbox's `Keeper`, one thread that writes all it was handed since its last round in one unit
of work. The inbox worker then runs each through the Bolt app in the order kept and marks it done. Deliveries are
keyed `sig:<signature>` (as `deliveries` is): Slack's retries and replays of the same bytes are kept once.

A delivery not marked done when the process stops (a crash, kill -9) is worked again at the next start: its
effect's unit of work claimed the same key in `deliveries`, so one whose effect committed is dropped as a replay
and one whose effect did not is applied now. Done rows are pruned once older than a signature may be
(`PRUNE_AFTER`): a replay of them is refused at the door as stale, so the table stays the size of a few minutes
of traffic.

The inbox lives in a file of its own beside the database (`<db>.inbox`, with its own migrations, `schema`): the
process that acks (`ai-intake run`'s HTTP side) writes only there, so an ack's commit never waits behind the
worker process's filings, which write the main database. Nothing in it outlives a few minutes, so backups leave it
out; a delivery acked and not yet worked when a backup is restored is lost with the minutes since the backup.
"""

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.domain.errors import Busy
from storage.db import INTERACTIVE_WAIT_SECONDS, Db
from storage.rows import from_db_time, to_db_time

log = logging.getLogger(__name__)
SUFFIX = ".inbox"
"""The inbox's own file beside the database (`<db>.inbox`)."""
schema = Migrations("ai_intake_inbox")
"""The inbox file's migrations (its own set: the file holds the inbox alone)."""


@schema()
def m001_inbox(db: Database) -> None:
    """One row per delivery kept, keyed by its signature or event id, with its raw body, headers, arrival and when it
    was worked; the pending ones indexed in the order kept."""
    db.execute(
        """CREATE TABLE inbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            body TEXT NOT NULL,
            headers TEXT NOT NULL,
            received_at TEXT NOT NULL,
            done_at TEXT
        )"""
    )
    db.execute("CREATE INDEX inbox_pending ON inbox (seq) WHERE done_at IS NULL")


def inbox_path(db_path: str | Path) -> Path | None:
    """The inbox's file beside the database `db_path` (`<db>.inbox`); None for an in-memory database, whose inbox is
    its own `inbox` table."""
    if str(db_path) == ":memory:":
        return None
    return Path(f"{db_path}{SUFFIX}")


def open_inbox(db_path: str | Path, main: Db) -> "Inbox":
    """The inbox of the database at `db_path`, in its own file (`inbox_path`): the acks commit there, never waiting
    for the main database's writer (a filing, a job, another process). Deliveries an earlier version kept in the
    main database's `inbox` table and did not work are moved over first, in their order. An in-memory database
    keeps its inbox in its own table (`main`)."""
    path = inbox_path(db_path)
    if path is None:
        return Inbox(main)
    inbox = Inbox(Db(path, schema=schema), owned=True)
    with main.read() as db:
        left = list(
            db.query("SELECT seq, key, body, headers, received_at FROM inbox WHERE done_at IS NULL ORDER BY seq")
        )
    if left:
        with inbox.db.write() as db:
            for row in left:
                db.execute(
                    "INSERT INTO inbox (key, body, headers, received_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(key) DO NOTHING",
                    [row["key"], row["body"], row["headers"], row["received_at"]],
                )
        with main.write(interactive=False) as db:
            db.execute("DELETE FROM inbox WHERE seq <= ?", [left[-1]["seq"]])
        log.info("moved %d kept deliveries into the inbox's own file", len(left))
    return inbox


PRUNE_AFTER = timedelta(minutes=10)
"""Done deliveries older than this are deleted (a signature older than 5 minutes is refused at the door)."""


@dataclass(frozen=True)
class Kept:
    """One delivery in the inbox: its place in the order (`seq`), key, raw body, headers and arrival time."""

    seq: int
    key: str
    body: str
    headers: dict[str, str]
    received_at: datetime


@dataclass(eq=False)
class _Keeping:
    """One delivery handed to the keeper, and what became of it once `kept` is set."""

    key: str
    row: list[str]
    deadline: float
    kept: threading.Event = field(default_factory=threading.Event)
    seq: int | None = None
    error: BaseException | None = None


class Keeper:
    """The inbox's one writing thread for the acks: each ack hands its delivery over and waits for one answer.

    At 50 acks in flight, each ack taking the writer itself meant two hand-overs per ack between threads that
    need the interpreter's lock to run: the writer's lock passed from ack to ack, then the batch's commit
    announced to each. Here the keeper takes every delivery handed over since its last round, writes them in
    one unit (one writer, one COMMIT and fsync), and wakes each ack once. A delivery whose `wait` passed before
    the keeper reached it is not written: its ack gets `Busy`, as when it waited for the writer itself."""

    def __init__(self, db: Db) -> None:
        self._db = db
        self._cond = threading.Condition()
        self._handed: list[_Keeping] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def keep(self, key: str, row: list[str], wait: float) -> int | None:
        item = _Keeping(key, row, time.monotonic() + wait)
        with self._cond:
            if self._closed:
                raise Busy()
            self._handed.append(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ai-intake-keeper", daemon=True)
                self._thread.start()
            self._cond.notify()
        item.kept.wait()
        if item.error is not None:
            raise item.error
        return item.seq

    def waiting(self) -> int:
        """How many deliveries wait for the keeper's next round."""
        with self._cond:
            return len(self._handed)

    def close(self, timeout: float = 5.0) -> None:
        """Keep what was handed over, then stop; a delivery handed over after this is answered `Busy`."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._handed and not self._closed:
                    self._cond.wait()
                if not self._handed:
                    return
                round_, self._handed = self._handed, []
            try:
                self._write(round_)
            except BaseException as exc:  # the unit failed as a whole: every ack of the round is told
                for item in round_:
                    if item.error is None:
                        item.seq, item.error = None, exc
            finally:
                for item in round_:
                    item.kept.set()

    def _write(self, round_: list[_Keeping]) -> None:
        wait = max(item.deadline for item in round_) - time.monotonic()
        if wait <= 0:
            raise Busy()
        with self._db.write(wait=wait) as db:
            now = time.monotonic()
            for item in round_:
                if item.deadline < now:  # its ack gave up waiting: not written, as if it never came in
                    item.error = Busy()
                    continue
                cursor = db.execute(
                    "INSERT INTO inbox (key, body, headers, received_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(key) DO NOTHING",
                    [item.key, *item.row],
                )
                item.seq = cursor.lastrowid if cursor.rowcount == 1 else None


class Inbox:
    """The `inbox` table of one database (the inbox's own file, or an in-memory database)."""

    def __init__(self, db: Db, *, owned: bool = False) -> None:
        self.db = db
        self.owned = owned
        """Whether `db` is the inbox's own file, closed with it."""
        self.keeper = Keeper(db)

    def close(self) -> None:
        self.keeper.close()
        if self.owned:
            self.db.close()

    def keep(
        self, key: str, *, body: str, headers: Mapping[str, str], at: datetime, wait: float | None = None
    ) -> int | None:
        """Keep a delivery (durably: returns once it is on disk); its `seq`, or None when the key was kept before (a
        retry or replay of the same bytes). `wait`: seconds to wait for the writer before `Busy`, nothing kept
        (default: what a person's unit of work waits). Written by the inbox's `Keeper`."""
        row = [body, json.dumps(dict(headers)), to_db_time(at)]
        return self.keeper.keep(key, row, INTERACTIVE_WAIT_SECONDS if wait is None else wait)

    def pending(self, *, after: int = 0, limit: int = 200) -> list[Kept]:
        """Deliveries not yet done, in the order kept, after `seq` `after`."""
        with self.db.read() as db:
            rows = list(
                db.query(
                    "SELECT seq, key, body, headers, received_at FROM inbox WHERE done_at IS NULL AND seq > ? "
                    "ORDER BY seq LIMIT ?",
                    [after, limit],
                )
            )
        return [
            Kept(
                seq=row["seq"],
                key=row["key"],
                body=row["body"],
                headers=json.loads(row["headers"]),
                received_at=from_db_time(row["received_at"]) or datetime.min,
            )
            for row in rows
        ]

    def done(self, marks: Iterable[tuple[int, datetime]]) -> None:
        """Mark deliveries worked (each `seq` with when it was worked), in one unit. Not waited for on disk: a crash
        before it commits works them again, which their keys make harmless."""
        with self.db.write(durable=False, interactive=False) as db:
            db.conn.executemany(
                "UPDATE inbox SET done_at = ? WHERE seq = ?", [(to_db_time(at), seq) for seq, at in marks]
            )

    def prune(self, *, now: datetime) -> int:
        """Delete done deliveries received more than `PRUNE_AFTER` before `now`; how many."""
        with self.db.write(durable=False, interactive=False) as db:
            cursor = db.execute(
                "DELETE FROM inbox WHERE done_at IS NOT NULL AND received_at < ?", [to_db_time(now - PRUNE_AFTER)]
            )
            return cursor.rowcount

    def count_pending(self) -> int:
        with self.db.read() as db:
            return db.execute("SELECT count(*) FROM inbox WHERE done_at IS NULL").fetchone()[0]
