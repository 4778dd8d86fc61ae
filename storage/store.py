"""Reading and writing requests, events, deliveries and the outbox. Returns domain models.

Every write happens inside `Store.transaction()`: one use case, one unit of work (committed with the
others of its batch: see `storage.db.Db.write`). The unit claims the signed delivery it runs for
(`Store.claiming`), and once committed rings the outbox when it queued a message and runs its
`after_commit` hooks: no use case does either by hand.
"""

import copy
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from bot.domain.history import NAG_EVENTS
from bot.domain.models import OPEN_STATUSES, PRIORITY_WEIGHT, Event, Request
from bot.domain.triage import RoutingState, words
from storage.changes import ChangeLogTx
from storage.channels import ChannelsTx
from storage.db import Db
from storage.digest import DigestTx
from storage.facts import FactsTx
from storage.jobs import JobsTx
from storage.nags import NagsTx
from storage.people import PeopleTx
from storage.queue import OutboxTx
from storage.rows import (
    OPEN_MARKS,
    from_db_time,
    request_from_row,
    requests_with_events,
    row_of_request,
    to_db_time,
    with_events_of,
)
from storage.search import SearchTx
from storage.training import TrainingTx
from storage.unit import Delivery, Replayed

if TYPE_CHECKING:
    from bot.domain.facts import RequestFacts

FactsOf = Callable[[Request, list[Event]], "RequestFacts"]
"""Computes a request's facts from the request and its events (`bot.domain.facts.request_facts` with the config)."""

VOCABULARY_WINDOW = 200
_OPEN = OPEN_MARKS


def _in_domain(domain: "str | None | Unrouted") -> tuple[str, list[Any]]:
    where, params = f"status IN ({_OPEN})", list(OPEN_STATUSES)
    if domain is UNROUTED:
        return where + " AND domain IS NULL", params
    if domain is not None:
        return where + " AND domain = ?", [*params, domain]
    return where, params


class Unrouted(Enum):
    """The scope of requests no domain took (the triage queue), for `open_in_domain`."""

    UNROUTED = "unrouted"


UNROUTED = Unrouted.UNROUTED


class Tx:
    """The operations of one transaction. Obtain through `Store.transaction()`.

    A unit of work remembers which requests it changed (inserted, saved, or gave an event other than a nag), and
    `keep_facts` stores their facts, computed by `facts_of` from what the unit leaves; `Store.transaction` calls it
    at the end of every unit, so the facts change in the same transaction as their request.
    """

    def __init__(self, db: Database, *, facts_of: FactsOf | None = None) -> None:
        self.db = db
        self._facts_of = facts_of
        self._changed: set[int] = set()
        self._outbox = OutboxTx(db)
        self._after_commit: list[Callable[[], None]] = []

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once this unit of work has committed (never when it rolls back)."""
        self._after_commit.append(hook)

    def committed(self) -> None:
        """This unit of work is on disk: run its `after_commit` hooks, in the order they were given."""
        for hook in self._after_commit:
            hook()

    @property
    def facts(self) -> FactsTx:
        """The facts kept for each request, in this transaction."""
        return FactsTx(self.db)

    @property
    def digest(self) -> DigestTx:
        """What the weekly digest reads, aggregated from the kept facts, in this transaction."""
        return DigestTx(self.db)

    def keep_facts(self) -> None:
        """Store the facts of every request this unit changed (nothing when the store keeps none)."""
        if not self._changed or self._facts_of is None:
            return
        changed, self._changed = sorted(self._changed), set()
        self.facts.put(self._facts_of(request, events) for request, events in self.by_ids_with_events(changed))

    @property
    def changes(self) -> ChangeLogTx:
        """The change log's queries, in this transaction."""
        return ChangeLogTx(self.db)

    @property
    def training(self) -> TrainingTx:
        """What triage learns from (its examples, nearest first), in this transaction."""
        return TrainingTx(self.db)

    @property
    def outbox(self) -> OutboxTx:
        """The outbox: Slack messages queued in this unit of work, and the worker's bookkeeping."""
        return self._outbox

    @property
    def channels(self) -> ChannelsTx:
        """Whether each channel is private, as last checked, in this transaction."""
        return ChannelsTx(self.db)

    @property
    def jobs(self) -> JobsTx:
        """The jobs' leases and hand-runs, in this transaction."""
        return JobsTx(self.db)

    @property
    def nags(self) -> NagsTx:
        """What the nag jobs read and record (due requests, nags sent, next checks), in this transaction."""
        return NagsTx(self.db)

    @property
    def people(self) -> PeopleTx:
        """What the bot remembers of people (notify levels, away, time zones, App Home viewers), in this transaction."""
        return PeopleTx(self.db)

    @property
    def search(self) -> SearchTx:
        """Full-text search over requests, in this transaction."""
        return SearchTx(self.db)

    # -- requests ------------------------------------------------------------------------------
    def get(self, request_id: int) -> Request | None:
        rows = list(self.db.query("SELECT * FROM requests WHERE id = ?", [request_id]))
        return request_from_row(rows[0]) if rows else None

    def get_by_origin(self, origin_key: str) -> Request | None:
        rows = list(self.db.query("SELECT * FROM requests WHERE origin_key = ?", [origin_key]))
        return request_from_row(rows[0]) if rows else None

    def insert_request(self, request: Request, *, origin_key: str | None) -> Request:
        """Insert a new request (its id is assigned here). Raises sqlite3.IntegrityError on a duplicate origin."""
        row = row_of_request(request)
        row.pop("id")
        row["origin_key"] = origin_key
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.db.execute(f"INSERT INTO requests ({columns}) VALUES ({marks})", list(row.values()))
        self._changed.add(int(cursor.lastrowid or 0))
        return request.model_copy(update={"id": cursor.lastrowid})

    def save(self, before: Request, after: Request) -> bool:
        """Write `after` if the stored row is still at `before.version`; False when someone else won."""
        row = row_of_request(after.model_copy(update={"version": before.version + 1}))
        request_id = row.pop("id")
        assignments = ", ".join(f"{c} = ?" for c in row)
        cursor = self.db.execute(
            f"UPDATE requests SET {assignments} WHERE id = ? AND version = ?",
            [*row.values(), request_id, before.version],
        )
        if cursor.rowcount == 1:
            self._changed.add(request_id)
        return cursor.rowcount == 1

    def set_card(self, request_id: int, *, channel: str, ts: str) -> None:
        """Remember where the request's card was posted (not a state change: no event, no version)."""
        self.db.execute("UPDATE requests SET card_channel = ?, card_ts = ? WHERE id = ?", [channel, ts, request_id])

    def set_card_permalink(self, request_id: int, permalink: str) -> None:
        """Remember the card's permalink (not a state change: no event, no version)."""
        self.db.execute("UPDATE requests SET card_permalink = ? WHERE id = ?", [permalink, request_id])

    def by_thread(self, channel: str, thread_ts: str) -> Request | None:
        """The request whose card, or whose origin message, starts the thread (channel, thread_ts)."""
        rows = list(
            self.db.query(
                """SELECT * FROM requests WHERE (card_channel = :c AND card_ts = :t)
                   OR (origin_channel = :c AND origin_ts = :t) ORDER BY id LIMIT 1""",
                {"c": channel, "t": thread_ts},
            )
        )
        return request_from_row(rows[0]) if rows else None

    def open_assigned_to(self, user: str, *, limit: int, offset: int = 0) -> list[Request]:
        """Open requests assigned to `user`, oldest first (from the `offset`th)."""
        return self._requests(
            f"assignee = ? AND status IN ({_OPEN})", [user, *OPEN_STATUSES], limit=limit, offset=offset
        )

    def count_open_assigned_to(self, user: str) -> int:
        return self._count(f"assignee = ? AND status IN ({_OPEN})", [user, *OPEN_STATUSES])

    def open_filed_by(self, user: str, *, limit: int, offset: int = 0) -> list[Request]:
        """Open requests `user` filed, oldest first (from the `offset`th)."""
        return self._requests(
            f"requester = ? AND status IN ({_OPEN})", [user, *OPEN_STATUSES], limit=limit, offset=offset
        )

    def count_open_filed_by(self, user: str) -> int:
        return self._count(f"requester = ? AND status IN ({_OPEN})", [user, *OPEN_STATUSES])

    def open_in_domain(self, domain: "str | None | Unrouted", *, limit: int, offset: int = 0) -> list[Request]:
        """Open requests of `domain` (None: of every domain and none; `UNROUTED`: of none), oldest first (from the
        `offset`th)."""
        where, params = _in_domain(domain)
        return self._requests(where, params, limit=limit, offset=offset)

    def count_open_in_domain(self, domain: "str | None | Unrouted") -> int:
        """How many requests `open_in_domain(domain)` would find without a limit."""
        where, params = _in_domain(domain)
        return self._count(where, params)

    def _count(self, where: str, params: list[Any]) -> int:
        return next(self.db.query(f"SELECT count(*) AS n FROM requests WHERE {where}", params))["n"]

    def origin_family(self, prefix: str, *, since: datetime, limit: int) -> list[int]:
        """The ids of the newest requests whose origin key starts with `prefix` (a hook's alert and its other lives,
        or every group's alerts of one name), open or closed since `since`, newest first. Reads the origin key's
        index only."""
        rows = self.db.query(
            f"SELECT id FROM requests WHERE origin_key >= ? AND origin_key < ? AND (status IN ({_OPEN}) OR resolved_at >= ?)"
            " ORDER BY id DESC LIMIT ?",
            [prefix, prefix + "\uffff", *OPEN_STATUSES, to_db_time(since), limit],
        )
        return [r["id"] for r in rows]

    def requests_after(self, last_id: int, *, limit: int) -> list[Request]:
        """Up to `limit` requests with ids above `last_id`, in id order, without their events."""
        return self._requests("id > ?", [last_id], limit=limit)

    def page_after(self, last_id: int, *, limit: int) -> list[tuple[Request, list[Event]]]:
        """Up to `limit` requests with ids above `last_id`, in id order, each with its events."""
        requests = self._requests("id > ?", [last_id], limit=limit)
        return with_events_of(self.db, requests)

    def last_changed(self) -> datetime | None:
        """When the most recently changed request last changed (None: no requests)."""
        row = next(self.db.query("SELECT max(updated_at) AS at FROM requests"))
        return from_db_time(row["at"])

    def _requests(self, where: str, params: list[Any], *, limit: int, offset: int = 0) -> list[Request]:
        sql = f"SELECT * FROM requests WHERE {where} ORDER BY id LIMIT ? OFFSET ?"
        return [request_from_row(r) for r in self.db.query(sql, [*params, limit, offset])]

    # -- events --------------------------------------------------------------------------------
    def add_event(self, event: Event) -> None:
        """Append `event` to its request's log (a nag's event is not a change of the request: its facts stay)."""
        if event.type not in NAG_EVENTS:
            self._changed.add(event.request_id)
        self.db.execute(
            "INSERT INTO events (request_id, at, actor, type, data) VALUES (?, ?, ?, ?, ?)",
            [event.request_id, to_db_time(event.at), event.actor, event.type, json.dumps(event.data, default=str)],
        )

    def events(self, request_id: int) -> list[Event]:
        rows = self.db.query("SELECT * FROM events WHERE request_id = ? ORDER BY id", [request_id])
        return [Event.model_validate({**r, "data": json.loads(r["data"])}) for r in rows]

    # -- routing state -------------------------------------------------------------------------
    def routing_state(
        self, *, people: Sequence[str] = (), with_vocabulary: bool = False, on: date | None = None
    ) -> RoutingState:
        """What triage needs: the open load of `people` (only theirs: the candidates of one domain),
        when each was last assigned, which of them are away on the day `on`, and, `with_vocabulary`, the
        words of recent requests per domain."""
        load: Counter[str] = Counter()
        count: Counter[str] = Counter()
        people = sorted(set(people))
        who = ", ".join("?" for _ in people)
        rows = (
            self.db.query(  # counted by triggers as requests change (migration m011)
                f"SELECT assignee, priority, n FROM open_load WHERE assignee IN ({who}) AND n > 0",
                people,
            )
            if people
            else []
        )
        for row in rows:
            load[row["assignee"]] += PRIORITY_WEIGHT.get(row["priority"], 1) * row["n"]
            count[row["assignee"]] += row["n"]
        last = {
            r["user_id"]: from_db_time(r["last_assigned_at"])
            for r in (
                self.db.query(f"SELECT * FROM people WHERE last_assigned_at IS NOT NULL AND user_id IN ({who})", people)
                if people
                else []
            )
        }
        vocabulary: dict[str, Counter[str]] = {}
        # Only requests anyone may see teach triage words: routing reasons quote them (bot/domain/visibility.py).
        for row in (
            []
            if not with_vocabulary
            else self.db.query(
                "SELECT domain, title FROM requests WHERE domain IS NOT NULL AND confidential = 0 ORDER BY id DESC LIMIT ?",
                [VOCABULARY_WINDOW],
            )
        ):
            vocabulary.setdefault(row["domain"], Counter()).update(set(words(row["title"])))
        away = frozenset(a.user for a in self.people.away_among(people, on=on)) if on and people else frozenset()
        return RoutingState(
            open_load=dict(load), open_count=dict(count), last_assigned=last, vocabulary=vocabulary, away=away
        )

    def open_load_drift(self) -> list[tuple[str, str, int, int]]:
        """(assignee, priority, counted, actual) wherever the `open_load` counters differ from the requests table
        (none, unless something wrote requests around the triggers)."""
        actual = {
            (a, p): n
            for a, p, n in self.db.conn.execute(
                f"""SELECT assignee, priority, count(*) FROM requests WHERE assignee IS NOT NULL AND status IN ({_OPEN})
                GROUP BY assignee, priority""",
                list(OPEN_STATUSES),
            )
        }
        counted = {(a, p): n for a, p, n in self.db.conn.execute("SELECT assignee, priority, n FROM open_load")}
        return sorted(
            (a, p, counted.get((a, p), 0), actual.get((a, p), 0))
            for a, p in set(actual) | set(counted)
            if counted.get((a, p), 0) != actual.get((a, p), 0)
        )

    # -- jobs -------------------------------------------------------------------------------------
    def by_ids_with_events(self, ids: Sequence[int]) -> list[tuple[Request, list[Event]]]:
        """The requests with these ids (the ones that exist), in id order, each with its events."""
        ids = sorted(set(ids))
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        return requests_with_events(self.db, f"id IN ({marks})", ids)

    def requests_by_ids(self, ids: Sequence[int]) -> list[Request]:
        """The requests with these ids (the ones that exist), in id order, without their events."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        return self._requests(f"id IN ({', '.join('?' for _ in wanted)})", wanted, limit=len(wanted))

    # -- deliveries ----------------------------------------------------------------------------
    def delivery_seen(self, key: str) -> bool:
        return self.db.conn.execute("SELECT 1 FROM deliveries WHERE key = ?", [key]).fetchone() is not None

    def claim_delivery(self, key: str, at: datetime) -> bool:
        """Record a delivery key; False when it was seen before (a retry or a duplicate)."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO deliveries (key, received_at) VALUES (?, ?)", [key, to_db_time(at)]
        )
        return cursor.rowcount == 1

    def card_places(self, ids: Sequence[int]) -> dict[int, tuple[str | None, bool]]:
        """The channel each of these requests' card is in (None: none yet) and whether it is posted, by id: the outbox
        worker's pacing check and lanes, before it reads the requests whole."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        rows = self.db.query(
            f"SELECT id, card_channel, card_ts FROM requests WHERE id IN ({', '.join('?' for _ in wanted)})", wanted
        )
        return {r["id"]: (r["card_channel"], bool(r["card_ts"])) for r in rows}

    # -- figures for /metrics ------------------------------------------------------------------
    def open_count_by_status(self) -> dict[str, int]:
        """How many requests are open, per open status (a status with none is left out)."""
        sql = f"SELECT status, count(*) AS n FROM requests WHERE status IN ({_OPEN}) GROUP BY status"
        return {row["status"]: row["n"] for row in self.db.query(sql, list(OPEN_STATUSES))}


class Store:
    """The database, handing out one `Tx` per unit of work."""

    def __init__(self, db: Db, *, facts_of: FactsOf | None = None, ring: Callable[[], None] | None = None) -> None:
        """`facts_of` computes a request's facts (`bot.domain.facts.request_facts` with the config): every unit of
        work keeps the facts of the requests it changes. Without it (tools that open the database without the
        config) no facts are kept; `ai-intake doctor` finds those missing. `ring` wakes the outbox worker: called
        after each commit that queued a Slack message."""
        self._db = db
        self._facts_of = facts_of
        self._ring = ring
        self._delivery: Delivery | None = None

    def claiming(self, delivery: Delivery) -> "Store":
        """This store, for the use cases of one signed delivery: its first interactive unit of work records
        `delivery`'s key with its change, or raises `Replayed` (nothing written) when the key was recorded before."""
        bound = copy.copy(self)
        bound._delivery = delivery
        return bound

    def change_count(self) -> int:
        """A number that changes whenever any connection, of this process or another, commits to the database."""
        return self._db.data_version()

    @contextmanager
    def transaction(self, *, durable: bool = True, background: bool = False) -> Iterator[Tx]:
        """One unit of work; returns when it is on disk (`durable=False`: as soon as it is in the open batch).

        Interactive units (the default: what a person waits for) go first and raise `Busy`, nothing
        written, when the writer stays busy for over 2 s; `background` ones (jobs, the outbox's
        bookkeeping) wait their turn. Keep a background unit short (tens of milliseconds): work in chunks.
        An interactive unit run for a signed delivery claims it (`claiming`); once committed, the unit rings the
        outbox if it queued a message, then runs its `after_commit` hooks.
        """
        delivery = (
            self._delivery if self._delivery is not None and not self._delivery.claimed and not background else None
        )
        with self._db.write(durable=durable, interactive=not background) as db:
            tx = Tx(db, facts_of=self._facts_of)
            if delivery is not None and not tx.claim_delivery(delivery.key, delivery.at):
                raise Replayed(delivery.key)
            yield tx
            tx.keep_facts()
        if delivery is not None:
            delivery.claimed = True
        if tx.outbox.queued and self._ring is not None:
            self._ring()
        tx.committed()

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        with self._db.read() as db:
            yield Tx(db)

    def healthy(self) -> bool:
        try:
            with self._db.read() as db:
                next(db.query("SELECT 1 AS ok"))
            return True
        except Exception:
            return False
