"""The facts kept for each request (`bot.domain.facts`): written in the unit of work of every change of the request,
read back by the digest, the export and `ai-intake doctor`. Reached as `tx.facts`.

Two tables: `request_facts`, one row per request, and `sla_clocks`, one row per SLA target and cycle. Times are
stored as the rest of the database stores them (UTC ISO-8601 text with microseconds), seconds as REAL: both read
back exactly as they were computed, so a recomputation compares equal.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.domain.facts import RequestFacts, TargetClock
from bot.domain.history import CourtRecord
from bot.domain.sla import Clock
from storage.rows import from_db_time, to_db_time

CLOCK_COLUMNS = (
    "request_id",
    "target",
    "cycle",
    "ended_by",
    "started_at",
    "target_seconds",
    "at_risk",
    "cursor",
    "counted",
    "remaining",
    "paused",
    "paused_since",
    "due_at",
    "satisfied_at",
    "elapsed",
    "state",
)
FACT_COLUMNS = (
    "request_id",
    "version",
    "court",
    "court_since",
    "court_seconds",
    "silent_since",
    "last_human_at",
    "stalled_since",
    "unowned_since",
    "snoozed_until",
    "snoozed_by",
)


def _time(at: datetime | None) -> str | None:
    return to_db_time(at) if at is not None else None


def fact_row(facts: RequestFacts) -> tuple[Any, ...]:
    """The `request_facts` row of `facts`, in `FACT_COLUMNS` order."""
    courts = facts.courts
    return (
        facts.request_id,
        facts.version,
        courts.court,
        _time(courts.since),
        json.dumps(courts.closed),
        to_db_time(facts.silent_since),
        _time(facts.last_human_at),
        _time(facts.stalled_since),
        _time(facts.unowned_since),
        _time(facts.snoozed_until),
        facts.snoozed_by,
    )


def clock_rows(facts: RequestFacts) -> list[tuple[Any, ...]]:
    """The `sla_clocks` rows of `facts`, in `CLOCK_COLUMNS` order."""
    rows = []
    for kept in facts.clocks:
        c = kept.clock
        rows.append(
            (
                facts.request_id,
                kept.target,
                kept.cycle,
                kept.ended_by,
                to_db_time(c.started_at),
                c.target_seconds,
                c.at_risk_ratio,
                to_db_time(c.cursor),
                c.counted,
                c.remaining,
                c.paused,
                _time(c.paused_since),
                _time(c.due_at),
                _time(c.satisfied_at),
                c.elapsed,
                c.state,
            )
        )
    return rows


def _clock(row: Sequence[Any]) -> TargetClock:
    (
        _,
        target,
        cycle,
        ended_by,
        started_at,
        target_seconds,
        at_risk,
        cursor,
        counted,
        remaining,
        paused,
        paused_since,
        due_at,
        satisfied_at,
        elapsed,
        state,
    ) = row
    clock = Clock(
        started_at=datetime.fromisoformat(started_at),
        target_seconds=target_seconds,
        at_risk_ratio=at_risk,
        cursor=datetime.fromisoformat(cursor),
        counted=counted,
        remaining=remaining,
        paused=paused,
        paused_since=from_db_time(paused_since),
        due_at=from_db_time(due_at),
        satisfied_at=from_db_time(satisfied_at),
        elapsed=elapsed,
        state=state,
    )
    return TargetClock(target=target, cycle=cycle, clock=clock, ended_by=ended_by)


def _facts(row: Sequence[Any], clocks: list[TargetClock]) -> RequestFacts:
    (
        request_id,
        version,
        court,
        court_since,
        court_seconds,
        silent_since,
        last_human_at,
        stalled_since,
        unowned_since,
        snoozed_until,
        snoozed_by,
    ) = row
    return RequestFacts(
        request_id=request_id,
        clocks=tuple(clocks),
        courts=CourtRecord(json.loads(court_seconds), court, from_db_time(court_since)),
        silent_since=datetime.fromisoformat(silent_since),
        last_human_at=from_db_time(last_human_at),
        stalled_since=from_db_time(stalled_since),
        unowned_since=from_db_time(unowned_since),
        snoozed_until=from_db_time(snoozed_until),
        snoozed_by=snoozed_by,
        version=version,
    )


class FactsTx:
    """The kept facts, in one transaction or read (`tx.facts`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, facts: Iterable[RequestFacts]) -> None:
        """Store these facts, replacing what was kept for their requests."""
        facts = list(facts)
        if not facts:
            return
        conn = self.db.conn
        ids = [(f.request_id,) for f in facts]
        conn.executemany("DELETE FROM sla_clocks WHERE request_id = ?", ids)
        conn.executemany(
            f"INSERT OR REPLACE INTO request_facts ({', '.join(FACT_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in FACT_COLUMNS)})",
            [fact_row(f) for f in facts],
        )
        conn.executemany(
            f"INSERT INTO sla_clocks ({', '.join(CLOCK_COLUMNS)}) VALUES ({', '.join('?' for _ in CLOCK_COLUMNS)})",
            [row for f in facts for row in clock_rows(f)],
        )

    def of(self, ids: Sequence[int], *, clocks: bool = True) -> dict[int, RequestFacts]:
        """The facts kept for these requests (those that have any), by request id; without their SLA clocks (an empty
        `clocks`) unless `clocks`."""
        ids = sorted(set(ids))
        if not ids:
            return {}
        marks = ", ".join("?" for _ in ids)
        kept: dict[int, list[TargetClock]] = {}
        if clocks:
            for row in self.db.conn.execute(
                f"SELECT {', '.join(CLOCK_COLUMNS)} FROM sla_clocks WHERE request_id IN ({marks}) "
                "ORDER BY request_id, target, cycle",
                ids,
            ):
                kept.setdefault(row[0], []).append(_clock(row))
        rows = self.db.conn.execute(
            f"SELECT {', '.join(FACT_COLUMNS)} FROM request_facts WHERE request_id IN ({marks})", ids
        )
        return {row[0]: _facts(row, _ordered(kept.get(row[0], []))) for row in rows}

    def outdated(self, *, version: int, after: int = 0, limit: int = 1000) -> list[int]:
        """Up to `limit` ids above `after`, in order, of requests with no facts kept or facts of another version."""
        rows = self.db.conn.execute(
            """SELECT r.id FROM requests r LEFT JOIN request_facts f ON f.request_id = r.id
               WHERE r.id > ? AND (f.request_id IS NULL OR f.version != ?) ORDER BY r.id LIMIT ?""",
            [after, version, limit],
        )
        return [row[0] for row in rows]

    def basis(self) -> tuple[int, str] | None:
        """(facts version, config fingerprint) every request's facts were last brought up to (None: never)."""
        row = self.db.conn.execute("SELECT version, basis FROM facts_basis WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    def set_basis(self, *, version: int, basis: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO facts_basis (id, version, basis) VALUES (1, ?, ?)", [version, basis])

    def count_outdated(self, *, version: int) -> int:
        """How many requests have no facts kept, or facts of another version."""
        row = self.db.conn.execute(
            """SELECT count(*) FROM requests r LEFT JOIN request_facts f ON f.request_id = r.id
               WHERE f.request_id IS NULL OR f.version != ?""",
            [version],
        ).fetchone()
        return int(row[0])


def _ordered(clocks: list[TargetClock]) -> list[TargetClock]:
    """The first response's clock first, then the resolution cycles in order (as `request_facts` makes them)."""
    return sorted(clocks, key=lambda c: (c.target != "first_response", c.cycle))
