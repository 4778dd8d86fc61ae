"""How rows of the database read as the domain's models and back: the time format every table stores, a request's
row, and requests read with their events. The rooms of a transaction (`storage.store`, `facts`, `digest`,
`changes`, `people`, `nags`, `queue`) build on it; it imports no other storage module.
"""

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlite_utils import Database

from bot.domain.models import OPEN_STATUSES, Event, Request

JSON_COLUMNS = ("links", "route_reasons", "disclaimers")
TIME_COLUMNS = ("created_at", "updated_at", "first_response_at", "resolved_at")
OPEN_MARKS = ", ".join("?" for _ in OPEN_STATUSES)
"""Placeholders for the open statuses, bound as `OPEN_STATUSES`: `status IN ({OPEN_MARKS})`."""


def to_db_time(at: datetime) -> str:
    """UTC ISO-8601 with microseconds: sorts as text in time order."""
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def request_from_row(row: dict[str, Any]) -> Request:
    """The request a `requests` row holds (its bookkeeping columns left out)."""
    data = dict(row)
    data.pop("origin_key", None)
    data.pop("next_nag_at", None)
    for column in JSON_COLUMNS:
        data[column] = json.loads(data[column] or "[]")
    data["confidential"] = bool(data["confidential"])
    data["origin_private"] = bool(data.get("origin_private"))
    return Request.model_validate(data)


def row_of_request(request: Request) -> dict[str, Any]:
    """The `requests` row that holds `request`."""
    data = request.model_dump(mode="python")
    for column in JSON_COLUMNS:
        data[column] = json.dumps(data[column], default=str)
    for column in TIME_COLUMNS:
        data[column] = to_db_time(data[column]) if data[column] else None
    data["confidential"] = int(data["confidential"])
    data["origin_private"] = int(data["origin_private"])
    return data


def grouped(requests: list[Request], rows: Iterable[tuple[Any, ...]]) -> list[tuple[Request, list[Event]]]:
    """Each request with its events, from event rows (id, request_id, at, actor, type, data) in request order."""
    by_id: dict[int, list[Event]] = {r.id: [] for r in requests}
    for event_id, request_id, at, actor, kind, data in rows:
        if request_id in by_id:
            by_id[request_id].append(
                Event(
                    id=event_id,
                    request_id=request_id,
                    at=datetime.fromisoformat(at),
                    actor=actor,
                    type=kind,
                    data=json.loads(data),
                )
            )
    return [(r, by_id[r.id]) for r in requests]


def requests_with_events(db: Database, where: str, params: list[Any]) -> list[tuple[Request, list[Event]]]:
    """Requests matching `where` (on the requests table), each with its events, in two indexed queries."""
    # No ORDER BY: without statistics SQLite would walk the whole table in id order rather than use
    # the index that answers `where`; the few rows found are sorted here instead.
    requests = sorted(
        (request_from_row(r) for r in db.query(f"SELECT * FROM requests WHERE {where}", params)), key=lambda r: r.id
    )
    if not requests:
        return []
    rows = db.conn.execute(
        f"""SELECT e.id, e.request_id, e.at, e.actor, e.type, e.data FROM events e
            WHERE e.request_id IN (SELECT id FROM requests WHERE {where}) ORDER BY e.request_id, e.id""",
        params,
    )
    return grouped(requests, rows)


def with_events_of(db: Database, requests: list[Request]) -> list[tuple[Request, list[Event]]]:
    """`requests`, each with its events, in one query."""
    if not requests:
        return []
    marks = ", ".join("?" for _ in requests)
    rows = db.conn.execute(
        f"SELECT id, request_id, at, actor, type, data FROM events WHERE request_id IN ({marks}) ORDER BY request_id, id",
        [r.id for r in requests],
    )
    return grouped(requests, rows)
