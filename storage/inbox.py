"""The inbox: signed deliveries acknowledged at once and worked after their ack (`bot.listeners.inbox`).

A command, a click or a shortcut that arrives over HTTP is kept here (its raw body, the headers its signature
and its parsing need, when it arrived) in one small unit of work, and Slack gets an empty 200 as soon as it is
on disk. The inbox worker then runs each through the Bolt app in the order kept and marks it done. Deliveries are
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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from storage.db import Db
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


class Inbox:
    """The `inbox` table of one database (the inbox's own file, or an in-memory database)."""

    def __init__(self, db: Db, *, owned: bool = False) -> None:
        self.db = db
        self.owned = owned
        """Whether `db` is the inbox's own file, closed with it."""

    def close(self) -> None:
        if self.owned:
            self.db.close()

    def keep(
        self, key: str, *, body: str, headers: Mapping[str, str], at: datetime, wait: float | None = None
    ) -> int | None:
        """Keep a delivery (durably: returns once it is on disk); its `seq`, or None when the key was kept before (a
        retry or replay of the same bytes). `wait`: seconds to wait for the writer before `Busy` (default: what a
        person's unit of work waits)."""
        with self.db.write(wait=wait) as db:
            cursor = db.execute(
                "INSERT INTO inbox (key, body, headers, received_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
                [key, body, json.dumps(dict(headers)), to_db_time(at)],
            )
            return cursor.lastrowid if cursor.rowcount == 1 else None

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
