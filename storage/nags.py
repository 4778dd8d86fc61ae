"""What the nag jobs read and write: the requests whose next check has come (each with its events), the nags
already recorded for them, when each request is next looked at, and each nag sent. Reached as `tx.nags`.

Closed requests have no next check, so the `next_nag_at` index alone finds the due ones.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlite_utils import Database

from bot.domain.models import Event, Request
from storage.rows import requests_with_events, to_db_time


class NagCandidates(NamedTuple):
    """What the nag jobs read: the due requests with their events, and the nags already recorded for them."""

    items: list[tuple[Request, list[Event]]]
    sent: set[tuple[int, str, str]]


def _due(now: datetime, kinds: Sequence[str] | None, waiting: bool) -> tuple[str, list[Any]]:
    where, params = "next_nag_at <= ?", [to_db_time(now)]
    if kinds is not None:
        where += f" AND (kind IN ({', '.join('?' for _ in kinds)}){' OR status = ?' if waiting else ''})"
        params += [*kinds, *(["waiting"] if waiting else [])]
    return where, params


class NagsTx:
    """The nags' part of one transaction or read (`tx.nags`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def due_ids_for_nags(
        self, now: datetime, *, kinds: Sequence[str] | None = None, waiting: bool = False
    ) -> list[int]:
        """The ids of the requests whose next nag check has come by `now` (only of `kinds`, when given, and,
        with `waiting`, any waiting on its requester), in order: `nag_candidates` reads them a page at a time."""
        where, params = _due(now, kinds, waiting)
        return sorted(r[0] for r in self.db.conn.execute(f"SELECT id FROM requests WHERE {where}", params))

    def nag_candidates(self, ids: Sequence[int]) -> NagCandidates:
        """The requests with these ids with their events, and the nags already recorded for them."""
        ids = sorted(set(ids))
        if not ids:
            return NagCandidates([], set())
        where = f"id IN ({', '.join('?' for _ in ids)})"
        return NagCandidates(requests_with_events(self.db, where, ids), self._notifications(where, ids))

    def notifications_of(self, request_id: int) -> set[tuple[int, str, str]]:
        """(request id, rule, step) of every nag recorded for the request."""
        return self._notifications("id = ?", [request_id])

    def _notifications(self, where: str, params: list[Any]) -> set[tuple[int, str, str]]:
        """(request id, rule, step) of every nag recorded for the requests matching `where`."""
        rows = self.db.conn.execute(
            f"SELECT request_id, rule, step FROM notifications WHERE request_id IN (SELECT id FROM requests WHERE {where})",
            params,
        )
        return {(r[0], r[1], r[2]) for r in rows}

    def set_next_check(self, request_id: int, at: datetime | None) -> None:
        """When the nag jobs should next look at this request (None: not until it changes)."""
        self.db.execute(
            "UPDATE requests SET next_nag_at = ? WHERE id = ?", [to_db_time(at) if at else None, request_id]
        )

    def set_next_checks(self, checks: list[tuple[Request, datetime | None]]) -> None:
        """Set many next checks at once; a request changed since it was read keeps the check its change set."""
        self.db.conn.executemany(
            "UPDATE requests SET next_nag_at = ? WHERE id = ? AND version = ?",
            [(to_db_time(at) if at else None, r.id, r.version) for r, at in checks],
        )

    def record_notification(
        self, request_id: int, rule: str, step: str, *, recipients: list[str], at: datetime
    ) -> bool:
        """Remember a nag as sent; False when it was recorded before (a second process, a re-run)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO notifications (request_id, rule, step, recipients, sent_at) VALUES (?, ?, ?, ?, ?)",
            [request_id, rule, step, json.dumps(recipients), to_db_time(at)],
        )
        return cursor.rowcount == 1
