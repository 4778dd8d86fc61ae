"""The change log's queries: changes and their append-only events, read back as the domain's records.

A `changes` row is what the queries find a change by (its domain and time, the hook's id for it,
whether it is answered, when its nag is next due); its events (`change.logged`, `change.answered`,
`change.nag`, `change.snoozed`) are the truth the domain replays. Reached as `tx.changes` inside one `Store` transaction or read.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.domain.changes import (
    NAMED_CAUSE,
    Acknowledgement,
    ChangeEvent,
    ChangeRecord,
    ChangeSnooze,
    ShippedChange,
    answered_event,
    change_key,
    change_number,
    logged_event,
    nagged_event,
    named_cause_event,
    replay,
    snoozed_event,
)
from storage.rows import to_db_time as _time


class ChangeLogTx:
    """The change log's part of one transaction (`tx.changes`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing -------------------------------------------------------------------------------
    def insert(self, change: ShippedChange) -> ShippedChange:
        """Log `change` (its id is given here: CHG-<row id>) with its `change.logged` event. Raises
        sqlite3.IntegrityError when its hook origin was logged before."""
        origin = change.origin
        cursor = self.db.execute(
            "INSERT INTO changes (domain, side, asset, asked, at, hook_source, hook_id, next_nag_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                change.domain,
                change.side,
                change.asset,
                change.asked,
                _time(change.at),
                origin.source if origin else None,
                origin.id if origin else None,
                _time(change.at),
            ],
        )
        logged = change.model_copy(update={"id": change_key(int(cursor.lastrowid or 0))})
        self._add_event(logged_event(logged))
        return logged

    def answer(self, answer: Acknowledgement) -> bool:
        """Record the first answer to a change with its event; False when it was answered already (a
        second person at the same moment): then nothing is written. An answered change is nagged no more."""
        cursor = self.db.execute(
            "UPDATE changes SET answered_at = ?, next_nag_at = NULL WHERE id = ? AND answered_at IS NULL",
            [_time(answer.at), change_number(answer.change_id)],
        )
        if cursor.rowcount != 1:
            return False
        self._add_event(answered_event(answer))
        return True

    def snooze(self, change_id: str, snooze: ChangeSnooze) -> bool:
        """Record a snooze of the change's nags with its event, and have the nag job look at the change again;
        False when it was answered meanwhile (then nothing is written)."""
        cursor = self.db.execute(
            "UPDATE changes SET next_nag_at = ? WHERE id = ? AND answered_at IS NULL",
            [_time(snooze.at), change_number(change_id)],
        )
        if cursor.rowcount != 1:
            return False
        self._add_event(snoozed_event(change_id, snooze))
        return True

    def record_nag(
        self, change_id: str, *, rule: str, step: str, recipients: Sequence[str], at: datetime, actor: str
    ) -> bool:
        """Remember a change's nag as sent, with its event; False when it was recorded before (a re-run, a second
        process): then nothing is written."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO change_notifications (change_id, rule, step, recipients, sent_at) VALUES (?, ?, ?, ?, ?)",
            [change_number(change_id), rule, step, json.dumps(list(recipients)), _time(at)],
        )
        if cursor.rowcount != 1:
            return False
        self._add_event(nagged_event(change_id, rule=rule, step=step, recipients=recipients, at=at, actor=actor))
        return True

    def named_as_cause(self, record: ChangeRecord, *, regression: str, by: str, at: datetime) -> None:
        """Record that a regression was resolved with this (answered) change as its cause."""
        self._add_event(named_cause_event(record, regression=regression, by=by, at=at))

    def named_causes_since(self, since: datetime) -> list[tuple[str, datetime, str | None]]:
        """(change id, when, the answer it had) of every change named as a cause after its answer, since `since`."""
        rows = self.db.query(
            "SELECT change_id, at, data FROM change_events WHERE type = ? AND at > ? ORDER BY id",
            [NAMED_CAUSE, _time(since)],
        )
        return [
            (change_key(r["change_id"]), datetime.fromisoformat(r["at"]), json.loads(r["data"]).get("answer"))
            for r in rows
        ]

    def set_next_checks(self, checks: Iterable[tuple[str, datetime | None]]) -> None:
        """When the nag job should next look at each change (None: not until it changes); an answered change keeps none."""
        self.db.conn.executemany(
            "UPDATE changes SET next_nag_at = ? WHERE id = ? AND answered_at IS NULL",
            [(_time(at) if at else None, change_number(change_id)) for change_id, at in checks],
        )

    def _add_event(self, event: ChangeEvent) -> None:
        self.db.execute(
            "INSERT INTO change_events (change_id, at, actor, type, data) VALUES (?, ?, ?, ?, ?)",
            [
                change_number(event.change_id),
                _time(event.at),
                event.actor,
                event.type,
                json.dumps(event.data, default=str),
            ],
        )

    # -- reading -------------------------------------------------------------------------------
    def by_origin(self, source: str, hook_id: str) -> ChangeRecord | None:
        """The change a hook source logged under its own id, if it did."""
        row = next(
            self.db.query("SELECT id FROM changes WHERE hook_source = ? AND hook_id = ?", [source, hook_id]), None
        )
        return self.record(change_key(row["id"])) if row else None

    def origin_ids(self, source: str, *, prefix: str, suffix: str) -> list[str]:
        """The ids `source` logged changes under that start with `prefix` and hold `suffix` ("refund-answer@" and
        "#production": where a prompt's label has been), oldest first."""
        rows = self.db.query(
            "SELECT hook_id FROM changes WHERE hook_source = ? AND hook_id >= ? AND hook_id < ? ORDER BY id",
            [source, prefix, prefix + "\uffff"],
        )
        return [r["hook_id"] for r in rows if suffix in r["hook_id"]]

    def record(self, change_id: str) -> ChangeRecord | None:
        """One change with its answer, or None when there is no such change."""
        found = self._records("id = ?", [change_number(change_id)])
        return found[0] if found else None

    def in_domain(self, domain: str, *, since: datetime, until: datetime) -> list[ChangeRecord]:
        """The changes of `domain` logged from `since` to `until` (both included), oldest first."""
        return self._records("domain = ? AND at >= ? AND at <= ?", [domain, _time(since), _time(until)])

    def latest(self, domain: str | None, *, limit: int) -> list[ChangeRecord]:
        """The `limit` most recently logged changes (of `domain`, or of every domain), newest first."""
        where, params = ("domain = ?", [domain]) if domain else ("1 = 1", [])
        rows = self.db.query(f"SELECT id FROM changes WHERE {where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return sorted(self._records_of([r["id"] for r in rows]), key=lambda r: change_number(r.change.id), reverse=True)

    def unanswered(self, *, asked: str | None = None, limit: int = 500) -> list[ChangeRecord]:
        """Changes nobody has answered yet (asked of `asked`, when given), oldest first: what the
        `change.unacknowledged` nag and a person's App Home read."""
        where, params = "answered_at IS NULL", []
        if asked is not None:
            where, params = where + " AND asked = ?", [asked]
        rows = self.db.query(f"SELECT id FROM changes WHERE {where} ORDER BY at, id LIMIT ?", [*params, limit])
        return self._records_of([r["id"] for r in rows])

    def due_for_nags(self, now: datetime, *, limit: int = 5000) -> tuple[list[ChangeRecord], set[tuple[str, str, str]]]:
        """The changes whose next nag check has come by `now` (unanswered ones only: an answer clears it), oldest
        first, and the (change id, rule, step) of every nag already recorded for them."""
        rows = self.db.conn.execute(
            "SELECT id FROM changes WHERE next_nag_at <= ? ORDER BY id LIMIT ?", [_time(now), limit]
        )
        numbers = [r[0] for r in rows]
        if not numbers:
            return [], set()
        marks = ", ".join("?" for _ in numbers)
        sent = self.db.conn.execute(
            f"SELECT change_id, rule, step FROM change_notifications WHERE change_id IN ({marks})", numbers
        )
        return self._records_of(numbers), {(change_key(n), rule, step) for n, rule, step in sent}

    def for_digest(self, since: datetime) -> list[ChangeRecord]:
        """The changes a digest of the week after `since` reads: those logged since, and those unanswered then
        (still unanswered, or answered since), oldest first."""
        return self._records("at > ? OR answered_at IS NULL OR answered_at > ?", [_time(since), _time(since)])

    def regressions_changed_since(self, since: datetime) -> list[int]:
        """The ids of the regressions changed since `since` (those resolved since among them), in order: what the
        digest counts closed, with or without an eval case (`tx.by_ids_with_events` reads them)."""
        rows = self.db.conn.execute(
            "SELECT id FROM requests WHERE kind = 'regression' AND updated_at > ? ORDER BY id", [_time(since)]
        )
        return [r[0] for r in rows]

    def page_after(self, last: int, *, limit: int) -> list[tuple[ChangeRecord, list[ChangeEvent]]]:
        """Up to `limit` changes numbered above `last`, in number order, each with its events in the order they were
        recorded (the export reads them so), all read at once."""
        rows = self.db.query("SELECT id FROM changes WHERE id > ? ORDER BY id LIMIT ?", [last, limit])
        events = self._events_of([r["id"] for r in rows])
        by_change: dict[str, list[ChangeEvent]] = {}
        for event in events:
            by_change.setdefault(event.change_id, []).append(event)
        return [(record, by_change[record.change.id]) for record in replay(events)]

    def open_regressions_after(self, domain: str, *, since: datetime, until: datetime) -> list[int]:
        """The ids of `domain`'s open regressions filed from `since` to `until`: those a change logged at
        `since` is a suspect of (their cards show whether it was answered)."""
        rows = self.db.query(
            "SELECT id FROM requests WHERE kind = 'regression' AND domain = ? AND status IN ('open', 'claimed', 'waiting') "
            "AND created_at >= ? AND created_at <= ? ORDER BY id",
            [domain, _time(since), _time(until)],
        )
        return [r["id"] for r in rows]

    def question(self, key: str) -> tuple[str | None, bool]:
        """Where the outbox item queued under `key` (a change's question) stands: (its ts once sent, whether it
        still waits to be sent)."""
        row = next(self.db.query("SELECT status, ts FROM outbox WHERE key = ?", [key]), None)
        if row is None:
            return None, False
        return (row["ts"] if row["status"] == "sent" else None), row["status"] == "pending"

    def by_question(self, channel: str, ts: str) -> str | None:
        """The id of the change whose question was posted as (channel, ts), if one was."""
        rows = self.db.query(
            "SELECT key, payload FROM outbox WHERE kind = 'change' AND status = 'sent' AND ts = ? "
            "AND key LIKE 'change:%:question'",
            [ts],
        )
        for row in rows:
            if json.loads(row["payload"]).get("channel") == channel:
                return str(row["key"]).split(":")[1]
        return None

    def events(self, change_id: str) -> list[ChangeEvent]:
        """The change's events, in the order they were recorded."""
        return self._events_of([change_number(change_id)])

    def _records(self, where: str, params: list[Any], *, limit: int = 10_000) -> list[ChangeRecord]:
        rows = self.db.query(f"SELECT id FROM changes WHERE {where} ORDER BY id LIMIT ?", [*params, limit])
        return self._records_of([r["id"] for r in rows])

    def _records_of(self, ids: Sequence[int]) -> list[ChangeRecord]:
        """The records of these change numbers, in the order the changes were logged."""
        return replay(self._events_of(ids))

    def _events_of(self, ids: Iterable[int]) -> list[ChangeEvent]:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        rows = self.db.conn.execute(
            f"SELECT change_id, at, actor, type, data FROM change_events WHERE change_id IN ({marks}) ORDER BY id",
            wanted,
        )
        return [
            ChangeEvent(
                change_id=change_key(number),
                at=datetime.fromisoformat(at),
                actor=actor,
                type=kind,
                data=json.loads(data),
            )
            for number, at, actor, kind, data in rows
        ]
