"""The outbox table, read and written: queue a Slack message in the unit of work that decided it, and the worker's
bookkeeping (what is due, each attempt, sent, superseded, retried, failed). Reached as `tx.outbox`; the kinds and
payloads it stores are spelled in `storage/outbox.py`.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from storage.outbox import HomeRefresh, Payload
from storage.people import PeopleTx
from storage.rows import from_db_time, to_db_time


@dataclass(frozen=True)
class OutboxItem:
    """One queued message as stored; `attempts` > 0 means an earlier attempt may have reached Slack."""

    id: int
    kind: str
    request_id: int | None
    payload: dict[str, Any]
    attempts: int
    queued_at: str = ""
    """When it was queued, as stored: with `id`, what names this item in the send journal (`storage.backup.SendJournal`)."""


@dataclass(frozen=True)
class OutboxItemState:
    """Where one queued item stands: `status` pending, sent, superseded or failed; when it is next tried, and why it
    was not sent (yet)."""

    id: int
    kind: str
    request_id: int | None
    payload: dict[str, Any]
    status: str
    next_attempt_at: datetime | None
    error: str | None


class OutboxTx:
    """The outbox's part of one transaction (`tx.outbox`). `queued` says whether this unit queued a message (or
    brought one forward): the unit of work rings the outbox worker after its commit then."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.queued = False

    def enqueue(
        self,
        message: Payload,
        *,
        at: datetime,
        request_id: int | None = None,
        key: str | None = None,
        unless_pending: bool = False,
    ) -> bool:
        """Queue a Slack message for the outbox worker, due at `at`; False when nothing was added: `key` was
        queued before, or (`unless_pending`) the same message is still waiting to be sent."""
        payload = json.dumps(message.row())
        if (
            unless_pending
            and self.db.conn.execute(
                "SELECT 1 FROM outbox WHERE kind = ? AND status = 'pending' AND payload = ? LIMIT 1",
                [message.kind, payload],
            ).fetchone()
        ):
            return False
        cursor = self.db.execute(
            """INSERT OR IGNORE INTO outbox (key, request_id, kind, payload, next_attempt_at, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [key, request_id, str(message.kind), payload, to_db_time(at), to_db_time(at)],
        )
        self.queued = self.queued or cursor.rowcount == 1
        return cursor.rowcount == 1

    def refresh_homes(self, users: Iterable[str | None], *, at: datetime) -> None:
        """Queue a fresh App Home for those of `users` who use it (one not already waiting to be sent)."""
        for user in PeopleTx(self.db).home_viewers({u for u in users if u}):
            self.enqueue(HomeRefresh(user=user), at=at, unless_pending=True)

    def due(self, now: datetime, *, limit: int = 50) -> list[OutboxItem]:
        rows = self.db.query(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?",
            [to_db_time(now), limit],
        )
        return [
            OutboxItem(r["id"], r["kind"], r["request_id"], json.loads(r["payload"]), r["attempts"], r["created_at"])
            for r in rows
        ]

    def pending_nags(self, users: Sequence[str], *, not_keyed: str | None = None) -> dict[str, list[OutboxItem]]:
        """Each of `users`' batched nags not sent yet (held for their working hours, or due), oldest first: one
        read of the pending items for all of them; `not_keyed`: leaving out the items whose key starts so."""
        if not users:
            return {}
        skip, params = "", list[Any]()
        if not_keyed:
            skip, params = "AND (key IS NULL OR key < ? OR key >= ?)", [not_keyed, not_keyed + "\U0010ffff"]
        rows = self.db.query(
            f"""SELECT *, json_extract(payload, '$.user') AS user FROM outbox
                WHERE status = 'pending' AND kind = 'nag' {skip}
                AND json_extract(payload, '$.user') IN ({", ".join("?" for _ in users)})
                ORDER BY id""",
            [*params, *users],
        )
        found: dict[str, list[OutboxItem]] = {}
        for r in rows:
            found.setdefault(r["user"], []).append(
                OutboxItem(
                    r["id"], r["kind"], r["request_id"], json.loads(r["payload"]), r["attempts"], r["created_at"]
                )
            )
        return found

    def supersede_unsent(self, item: OutboxItem, *, at: datetime) -> bool:
        """Mark a pending item superseded (a newer message carries what it said) unless the worker has begun an
        attempt at it since it was read (its attempts moved on); False then, and it is left to be sent."""
        cursor = self.db.execute(
            "UPDATE outbox SET status = 'superseded', sent_at = ? WHERE id = ? AND status = 'pending' AND attempts = ?",
            [to_db_time(at), item.id, item.attempts],
        )
        return cursor.rowcount == 1

    def has_pending(self, request_id: int, *, kind: str) -> bool:
        """Whether an item of `kind` for the request still waits to be sent."""
        rows = self.db.query(
            "SELECT 1 AS x FROM outbox WHERE request_id = ? AND kind = ? AND status = 'pending' LIMIT 1",
            [request_id, str(kind)],
        )
        return next(rows, None) is not None

    def has_sent_digest(self) -> bool:
        return next(self.db.query("SELECT 1 AS x FROM outbox WHERE key LIKE 'digest:%' LIMIT 1"), None) is not None

    def next_due(self) -> datetime | None:
        row = next(self.db.query("SELECT min(next_attempt_at) AS at FROM outbox WHERE status = 'pending'"))
        return from_db_time(row["at"])

    def mark_attempt(self, item_id: int) -> bool:
        """Count an attempt before it is made: after a crash, `attempts > 0` says it may have reached Slack.
        False when the item is no longer pending (a newer message superseded it since it was read): skip it."""
        cursor = self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1 WHERE id = ? AND status = 'pending'", [item_id]
        )
        return cursor.rowcount == 1

    def mark_sent(self, item_id: int, *, at: datetime, ts: str | None = None) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, ts = ? WHERE id = ?",
            [to_db_time(at), ts, item_id],
        )

    def mark_superseded(self, request_id: int, *, kind: str, up_to: int, at: datetime) -> None:
        """A newer render of the same card covers these older pending ones."""
        self.db.execute(
            "UPDATE outbox SET status = 'superseded', sent_at = ? WHERE request_id = ? AND kind = ? AND status = 'pending' AND id < ?",
            [to_db_time(at), request_id, str(kind), up_to],
        )

    def mark_item_superseded(self, item_id: int, *, at: datetime) -> None:
        """A newer render of the same card, sent in its place, covers this pending one."""
        self.db.execute(
            "UPDATE outbox SET status = 'superseded', sent_at = ? WHERE id = ? AND status = 'pending'",
            [to_db_time(at), item_id],
        )

    def mark_retry(self, item_id: int, *, next_at: datetime, error: str, failed: bool = False) -> None:
        """Try the item again at `next_at`; `failed`: this attempt failed (counted: `failures`), rather than waited
        (held for working hours, paced, or waiting for the card it threads under)."""
        self.db.execute(
            "UPDATE outbox SET next_attempt_at = ?, error = ?, failures = failures + ? WHERE id = ?",
            [to_db_time(next_at), error, int(failed), item_id],
        )

    def mark_failed(self, item_id: int, *, error: str, at: datetime) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'failed', error = ?, sent_at = ? WHERE id = ?",
            [error, to_db_time(at), item_id],
        )

    def supersede_keys(self, *, prefix: str, at: datetime) -> int:
        """Mark the pending items whose key starts with `prefix` superseded (a whole message replaces its parts)."""
        cursor = self.db.execute(
            "UPDATE outbox SET status = 'superseded', sent_at = ? WHERE key >= ? AND key < ? AND status = 'pending'",
            [to_db_time(at), prefix, prefix + "\U0010ffff"],
        )
        return cursor.rowcount

    def rows(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM outbox ORDER BY id"))

    def last_id(self) -> int:
        """The id of the newest outbox item (0: none yet): what is queued after it is newer."""
        return next(self.db.query("SELECT coalesce(max(id), 0) AS n FROM outbox"))["n"]

    def release_run(self, *, after: int, queued_at: datetime, now: datetime) -> list[int]:
        """The items a job run queued (newer than the item `after`, queued at its evaluation time `queued_at`), made
        due at `now` when they were due later (a run evaluated at a later time goes out now); their ids."""
        where = "id > ? AND created_at = ?"
        params = [after, to_db_time(queued_at)]
        self.db.execute(
            f"UPDATE outbox SET next_attempt_at = ? WHERE {where} AND status = 'pending' AND next_attempt_at > ?",
            [to_db_time(now), *params, to_db_time(now)],
        )
        self.queued = True
        return [r["id"] for r in self.db.query(f"SELECT id FROM outbox WHERE {where} ORDER BY id", params)]

    def items(self, ids: Sequence[int]) -> list[OutboxItemState]:
        """Where each of these outbox items stands, in id order."""
        ids = sorted(set(ids))
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        rows = self.db.query(f"SELECT * FROM outbox WHERE id IN ({marks}) ORDER BY id", ids)
        return [
            OutboxItemState(
                r["id"],
                r["kind"],
                r["request_id"],
                json.loads(r["payload"]),
                r["status"],
                from_db_time(r["next_attempt_at"]),
                r["error"],
            )
            for r in rows
        ]

    def pending_count(self) -> int:
        return next(self.db.query("SELECT count(*) AS n FROM outbox WHERE status = 'pending'"))["n"]
