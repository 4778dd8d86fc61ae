"""What the weekly digest reads, aggregated in SQL from the facts kept for each request (`storage/facts.py`): a
week's counts, medians and breaches, the open requests by kind, those waiting on a decision or snoozed, the oldest
open; whole rows only of the confidential requests a private digest lists. Reached as `tx.digest`.

Each query reads through an index that follows what it asks for (the week's satisfied or due targets, the open
requests, the stalled, unowned or snoozed ones), so the digest's cost follows the requests in its window and the
open ones, not the history.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.domain.digest import OLDEST_LIMIT, ConfidentialRef, OpenCount, Pending, Week, Weeks
from bot.domain.facts import RequestFacts
from bot.domain.models import OPEN_STATUSES, Request
from storage.facts import FactsTx
from storage.rows import request_from_row, to_db_time

OPEN = "status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")"
"""Spelled out, not bound: the partial indexes on open requests (migration m020) are used only for this very term."""
BY_KIND = "INDEXED BY requests_open_kind"
"""The open requests through their partial index by domain and kind (migration m020): without statistics (the bot
runs no ANALYZE) SQLite would pick the status index and read every open row from the table, 10x slower at 100k."""
IN_WEEK = "c.{column} > :start AND c.{column} <= :end"
_PENDING = "r.id, r.domain, {since}, r.confidential, r.origin_channel, r.origin_private, r.court, r.title"


def _pending(row: Sequence[Any], *, by: str | None = None) -> Pending:
    rid, domain, since, confidential, origin_channel, origin_private, court, title = row[:8]
    return Pending(
        id=rid,
        domain=domain,
        since=datetime.fromisoformat(since),
        confidential=bool(confidential),
        origin_channel=origin_channel,
        origin_private=bool(origin_private),
        court=court,
        title=title,
        by=by,
    )


COUNTED = "(c.target != 'resolution' OR c.ended_by = 'resolved')"
"""The satisfied SLA clocks the digest's figures count: every first response, and the resolutions that resolved."""


class DigestTx:
    """The digest's reads, in one read (`tx.digest`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return list(self.db.conn.execute(sql, params))

    # -- a week --------------------------------------------------------------------------------
    def week(self, start: datetime, end: datetime) -> Weeks:
        # A resolution counts only when it was one: a request withdrawn or closed as a duplicate (declined) is in
        # none of the week's resolution figures (resolved, median resolution, attainment), the same in each.
        """The figures of the week (start, end], per domain (None: unrouted) and for every request together."""
        span = {"start": to_db_time(start), "end": to_db_time(end)}
        counts: dict[str | None, dict[str, Any]] = defaultdict(dict)
        for domain, n in self._rows(
            "SELECT domain, count(*) FROM requests WHERE created_at > :start AND created_at <= :end GROUP BY domain",
            span,
        ):
            counts[domain]["opened"] = n
        satisfied = IN_WEEK.format(column="satisfied_at")
        for domain, resolved, met, missed in self._rows(
            f"""SELECT r.domain, count(DISTINCT CASE WHEN c.target = 'resolution' AND c.ended_by = 'resolved'
                                                        THEN c.request_id END),
                           sum(c.state = 'met' AND {COUNTED}), sum(c.state = 'missed' AND {COUNTED})
                    FROM sla_clocks c JOIN requests r ON r.id = c.request_id WHERE {satisfied} GROUP BY r.domain""",
            span,
        ):
            counts[domain].update(resolved=resolved, met=met, missed=missed)
        for domain, n in self._rows(
            f"""SELECT r.domain, count(*) FROM sla_clocks c JOIN requests r ON r.id = c.request_id
                    WHERE {IN_WEEK.format(column="due_at")} AND (c.state IS NULL OR c.state != 'met') GROUP BY r.domain""",
            span,
        ):
            counts[domain]["breaches"] = n
        medians = self._medians(span)
        by_domain = {
            domain: Week(start, end, **figures, **medians.get((0, domain), {})) for domain, figures in counts.items()
        }
        whole = {
            name: sum(f.get(name, 0) for f in counts.values())
            for name in ("opened", "resolved", "met", "missed", "breaches")
        }
        return Weeks(by_domain, Week(start, end, **whole, **medians.get((1, None), {})))

    def _medians(self, span: dict[str, str]) -> dict[tuple[int, str | None], dict[str, float]]:
        """The median business seconds of the week's satisfied targets, per (whole, domain) and target: the middle
        one, or the mean of the two middle ones (as `statistics.median`), picked by a window over each group."""
        rows = self._rows(
            f"""WITH done AS (SELECT r.domain AS domain, c.target AS target, c.elapsed AS elapsed
                              FROM sla_clocks c JOIN requests r ON r.id = c.request_id
                              WHERE {IN_WEEK.format(column="satisfied_at")} AND {COUNTED}),
                     scoped AS (SELECT 0 AS whole, domain, target, elapsed FROM done
                                UNION ALL SELECT 1, NULL, target, elapsed FROM done),
                     ranked AS (SELECT whole, domain, target, elapsed,
                                       row_number() OVER (PARTITION BY whole, domain, target ORDER BY elapsed) AS i,
                                       count(*) OVER (PARTITION BY whole, domain, target) AS n FROM scoped)
                SELECT whole, domain, target, elapsed FROM ranked WHERE i IN ((n + 1) / 2, (n + 2) / 2)
                ORDER BY whole, domain, target, i""",
            span,
        )
        middles: dict[tuple[int, str | None, str], list[float]] = defaultdict(list)
        for whole, domain, target, elapsed in rows:
            middles[(whole, domain, target)].append(elapsed)
        out: dict[tuple[int, str | None], dict[str, float]] = defaultdict(dict)
        for (whole, domain, target), values in middles.items():
            median = values[0] if len(values) == 1 else (values[0] + values[1]) / 2
            out[(whole, domain)][f"median_{target}_seconds"] = median
        return out

    # -- the open requests ---------------------------------------------------------------------
    def open_counts(self) -> list[OpenCount]:
        """How many requests are open, per domain and kind, and how many of them are confidential."""
        return [
            OpenCount(domain, kind, n, confidential)
            for domain, kind, n, confidential in self._rows(
                f"SELECT domain, kind, count(*), sum(confidential) FROM requests {BY_KIND} WHERE {OPEN} GROUP BY domain, kind"
            )
        ]

    def confidential_refs(self) -> list[ConfidentialRef]:
        """Where each open confidential request was filed (what decides which channels may list it)."""
        return [
            ConfidentialRef(rid, domain, origin_channel, bool(private))
            for rid, domain, origin_channel, private in self._rows(
                f"SELECT id, domain, origin_channel, origin_private FROM requests {BY_KIND} WHERE {OPEN} AND confidential = 1"
            )
        ]

    def stalled(self, *, silent_since: datetime) -> list[Pending]:
        """The open security reviews whose ball holder has been silent since `silent_since` or earlier."""
        return [
            _pending(row)
            for row in self._rows(
                f"""SELECT {_PENDING.format(since="f.stalled_since")} FROM request_facts f JOIN requests r ON r.id = f.request_id
                WHERE f.stalled_since <= ?""",
                [to_db_time(silent_since)],
            )
        ]

    def unowned(self) -> list[Pending]:
        """The open regressions nobody owns (`since`: when each was filed)."""
        return [
            _pending(row)
            for row in self._rows(
                f"""SELECT {_PENDING.format(since="f.unowned_since")} FROM request_facts f JOIN requests r ON r.id = f.request_id
                WHERE f.unowned_since IS NOT NULL"""
            )
        ]

    def snoozed(self, *, now: datetime) -> list[Pending]:
        """The open requests snoozed past `now` (`since`: until when; `by`: who pressed it): the snoozes first, through
        their index (CROSS JOIN keeps SQLite from starting at the open requests)."""
        return [
            _pending(row, by=row[8])
            for row in self._rows(
                f"""SELECT {_PENDING.format(since="f.snoozed_until")}, f.snoozed_by FROM request_facts f
                CROSS JOIN requests r ON r.id = f.request_id WHERE f.snoozed_until > ? AND r.{OPEN}""",
                [to_db_time(now)],
            )
        ]

    def oldest_open(self, domains: Iterable[str | None], *, shown: Iterable[int] = ()) -> list[Pending]:
        """Up to `OLDEST_LIMIT` of the oldest open requests of each of `domains` (None: unrouted) that are not
        confidential, or are among `shown` (`since`: when each was filed)."""
        shown = sorted(set(shown))
        listable = f"(confidential = 0 OR id IN ({', '.join('?' for _ in shown)}))" if shown else "confidential = 0"
        found: list[Pending] = []
        for domain in domains:
            where = "domain IS NULL" if domain is None else "domain = ?"
            params = [] if domain is None else [domain]
            found += [
                _pending(row)
                for row in self._rows(
                    f"""SELECT {_PENDING.format(since="r.created_at")} FROM requests r WHERE {OPEN} AND {where} AND {listable}
                    ORDER BY created_at, id LIMIT {OLDEST_LIMIT}""",
                    [*params, *shown],
                )
            ]
        return found

    def confidential_listing(self) -> list[tuple[Request, RequestFacts]]:
        """Every open confidential request, whole, with its facts (the private digests list them in full), those
        without their SLA clocks: what needs a decision is read from the rest."""
        requests = sorted(
            (
                request_from_row(r)
                for r in self.db.query(f"SELECT * FROM requests {BY_KIND} WHERE {OPEN} AND confidential = 1")
            ),
            key=lambda r: r.id,
        )
        facts = FactsTx(self.db).of([r.id for r in requests], clocks=False)
        return [(r, facts[r.id]) for r in requests if r.id in facts]
