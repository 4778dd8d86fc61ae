"""Generated databases for the jobs and startup benchmarks (not a benchmark itself).

`dataset(n, open_share)` returns the path of a database of `n` requests, `open_share` of them open,
generated once with direct SQL inserts into a database opened through `storage.db.Db` (so the schema
and migrations are the real ones) and cached under bench/.data/ (gitignored).

What is in one:
- six domains (`CONFIG`, written to bench/.data/jobs-config.yml for `ai-intake run`), 4 % unrouted;
  kinds feature 30 %, regression 20 %, question 25 %, eval 15 %, security review 10 % (confidential);
- 500 requests a day, the last one an hour before `NOW` (Monday 23 Nov 2026, 09:00 in Berlin);
- open requests: three quarters among the newest 15 % (half of those are open), the rest scattered
  over the whole history (forgotten regressions, stale security reviews, long waits);
- each request's event history as the service writes it: created, then claimed (or review
  started), some waiting on the requester and replied, comments, ownership, changes requested,
  resolved / withdrawn / approved for closed ones; about 5 events a request;
- steady state: every nag the rules found due up to an hour before `NOW` is recorded (a
  `notifications` row and a `nag` event), as if the scheduler had been running, so a job at `NOW`
  finds only what fell due in the last hour;
- each request's kept facts (`request_facts`, `sla_clocks`: `bot.domain.facts.request_facts` of the request and
  its events under `CONFIG`, as every unit of work of a running bot stores them; nag events change none) and the
  basis they were computed under (`facts_basis`), so the bot finds nothing to catch up when it starts;
- and each open request's `next_nag_at` is what a running bot would have stored after that hour-old
  run (as `bot.usecases.jobs.Jobs.run_nags` does): `bot.domain.nags.next_check_at(request, events, config,
  now=NOW - 1 h, sent=the nags recorded)`, or at its last change for the few changed since (as
  `Intake` recomputes it on every change); closed requests: NULL. So a job at `NOW` loads only the
  requests whose next check fell in the last hour: the steady state, not the first run after
  migration m006 (which looks at every open request once).
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import random
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import DATA  # noqa: E402
from bot.domain.models import KIND_DEFAULT_PRIORITY  # noqa: E402
from storage.facts import clock_rows, fact_row  # noqa: E402

GEN_VERSION = 4  # 3: next_nag_at (migration m006) as a running bot leaves it; no ANALYZE (the bot runs none);
# 4: each request's kept facts (migration m020) as a running bot writes them
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # Monday 09:00 in Berlin
PER_DAY = 500
CHUNK = 20_000
BOT = "ai-intake"

DOMAINS = ("support", "search", "billing", "onboard", "fraud", "docs")


def _domain(name: str) -> dict[str, Any]:
    code = name[:3].upper()
    return {
        "name": name,
        "channels": [f"C0{code}"],
        "engineers": [f"U0{code}ENG{i}" for i in (1, 2, 3)],
        "reviewers": [f"U0{code}SEC"],
        "product_owner": f"U0{code}PPM",
        "platform_owner": f"U0{code}MLPM",
        "lead": f"U0{code}LEAD",
        "keywords": [name],
        "review_channel": f"G0{code}SEC",
    }


CONFIG: dict[str, Any] = {  # the tests' organisation (tests/harness.py), with more domains; not imported: it would
    "timezone": "Europe/Berlin",  # load the test harness into every measured process and inflate its peak RSS
    "admins": ["U0ADMIN"],
    "triage_channel": "C0TRIAGE",
    "digest": {"channel": "C0DIGEST", "cron": "0 9 * * mon"},
    "business_hours": {"days": "mon-fri", "start": "09:00", "end": "17:00"},
    "domains": [_domain(d) for d in DOMAINS],
    "holidays": ["2026-12-25"],
}
KINDS = (("feature", 30), ("regression", 20), ("question", 25), ("eval", 15), ("security_review", 10))
DEFAULT_PRIORITY = KIND_DEFAULT_PRIORITY
RAISED = {"P4": "P3", "P3": "P2", "P2": "P1", "P1": "P1"}
TOPICS = (
    "refund intent answers with the wrong window",
    "ranking ignores the query language",
    "summaries of long tickets lose the customer's ask",
    "fraud score drifts after the model update",
    "onboarding assistant invents plan names",
    "docs search returns deprecated pages",
    "add an eval for multilingual queries",
    "which eval covers refunds?",
)

REQUEST_COLUMNS = (
    "id",
    "kind",
    "domain",
    "title",
    "description",
    "priority",
    "status",
    "stage",
    "requester",
    "assignee",
    "owner",
    "confidential",
    "source",
    "links",
    "origin_channel",
    "origin_ts",
    "origin_key",
    "permalink",
    "card_channel",
    "card_ts",
    "court",
    "route_reasons",
    "disclaimers",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "version",
)
HOUR = 3600 * 10**6
DAY = 24 * HOUR
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def config_path() -> Path:
    import yaml

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / "jobs-config.yml"
    text = yaml.safe_dump(CONFIG, sort_keys=False)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def label(n: int, open_share: float) -> str:
    size = f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"
    return size if open_share == 0.10 else f"{size}, {open_share:.0%} open"


def path_of(n: int, open_share: float) -> Path:
    from storage.migrations import migrations

    schema = len(migrations._migrations) if hasattr(migrations, "_migrations") else 0
    return DATA / f"jobs-{n}-{round(open_share * 1000)}-g{GEN_VERSION}s{schema}.db"


def dataset(n: int, open_share: float = 0.10, *, log: Any = None) -> tuple[Path, float | None]:
    """(path, seconds it took to generate, None when it was cached)."""
    path = path_of(n, open_share)
    if path.exists():
        return path, None
    DATA.mkdir(parents=True, exist_ok=True)
    for stale in DATA.glob(f"jobs-{n}-{round(open_share * 1000)}-g*.db"):  # an older generator or schema
        stale.unlink()
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    started = time.monotonic()
    _generate(partial, n, open_share, log=log)
    partial.rename(path)
    return path, time.monotonic() - started


def _iso(us: int) -> str:
    return (EPOCH + timedelta(microseconds=us)).isoformat(timespec="microseconds")


def _open_ids(n: int, open_share: float, rng: random.Random) -> set[int]:
    count = round(n * open_share)
    recent_from = n - round(n * 0.15)
    recent = min(round(count * 0.75), n - recent_from)
    chosen = set(rng.sample(range(recent_from + 1, n + 1), recent))
    older = range(1, recent_from + 1)
    chosen |= set(rng.sample(older, min(count - recent, len(older))))
    return chosen


def _generate(path: Path, n: int, open_share: float, *, log: Any) -> None:
    from storage.db import Db

    rng = random.Random(n * 7919 + round(open_share * 1000))
    Db(path).close()  # the real schema and migrations
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # generating: nothing to recover; WAL again at the end
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    open_ids = _open_ids(n, open_share, rng)
    request_sql = (
        f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) VALUES ({', '.join('?' for _ in REQUEST_COLUMNS)})"
    )
    event_sql = "INSERT INTO events (request_id, at, actor, type, data) VALUES (?, ?, ?, ?, ?)"
    from storage.facts import CLOCK_COLUMNS, FACT_COLUMNS

    fact_sql = f"INSERT INTO request_facts ({', '.join(FACT_COLUMNS)}) VALUES ({', '.join('?' for _ in FACT_COLUMNS)})"
    clock_sql = f"INSERT INTO sla_clocks ({', '.join(CLOCK_COLUMNS)}) VALUES ({', '.join('?' for _ in CLOCK_COLUMNS)})"
    chunks = [
        (lo, min(lo + CHUNK, n + 1), n, sorted(i for i in range(lo, min(lo + CHUNK, n + 1)) if i in open_ids))
        for lo in range(1, n + 1, CHUNK)
    ]
    conn.execute("BEGIN")
    with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
        for done, (requests, events, facts, clocks) in enumerate(pool.imap(_chunk, chunks), 1):
            conn.executemany(request_sql, requests)
            conn.executemany(event_sql, events)
            conn.executemany(fact_sql, facts)
            conn.executemany(clock_sql, clocks)
            if log and done * CHUNK % 200_000 == 0:
                log(f"  generated {done * CHUNK:,} of {n:,} requests")
    from bot.runtime.config import parse_config
    from bot.domain.facts import FACTS_VERSION
    from bot.usecases.facts import config_basis

    conn.execute(
        "INSERT INTO facts_basis (id, version, basis) VALUES (1, ?, ?)",
        [FACTS_VERSION, config_basis(parse_config(CONFIG))],
    )
    conn.execute("COMMIT")
    conn.close()
    _record_steady_state(path, at=NOW - timedelta(hours=1))
    conn = sqlite3.connect(path, isolation_level=None)
    # No ANALYZE: the bot never runs it, so its databases have no sqlite_stat1 and the query planner
    # works without statistics; with them it picks other indexes (the routing load query 10x slower).
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


Rows = list[tuple[Any, ...]]


def _chunk(args: tuple[int, int, int, list[int]]) -> tuple[Rows, Rows, Rows, Rows]:
    """Rows of requests lo..hi-1 (of n), their events, and their kept facts (`request_facts` and `sla_clocks`
    rows); each chunk has its own seeded random source."""
    lo, hi, n, open_ids = args
    rng = random.Random(n * 7919 + lo)
    now_us = int((NOW - EPOCH).total_seconds()) * 10**6
    last_us = now_us - HOUR
    first_us = last_us - (n - 1) * DAY // PER_DAY
    kinds = [k for k, w in KINDS for _ in range(w)]
    domains = [_domain(d) for d in DOMAINS]
    opened = set(open_ids)
    requests: Rows = []
    events: Rows = []
    facts: Rows = []
    clocks: Rows = []
    for rid in range(lo, hi):
        row, history = _request(rid, first_us + (rid - 1) * DAY // PER_DAY, rid in opened, last_us, rng, kinds, domains)
        requests.append(row)
        events.extend(history)
        kept = _facts(row, history)
        facts.append(fact_row(kept))
        clocks.extend(clock_rows(kept))
    return requests, events, facts, clocks


_CONFIG: list[Any] = []  # the parsed CONFIG, once per worker


def _facts(row: tuple[Any, ...], history: Rows) -> Any:
    """The facts a running bot keeps for this request: `request_facts` of the request and its events."""
    from bot.runtime.config import parse_config
    from bot.domain.facts import request_facts
    from bot.domain.models import Event
    from storage.rows import request_from_row as as_request

    if not _CONFIG:
        _CONFIG.append(parse_config(CONFIG))
    request = as_request({**dict(zip(REQUEST_COLUMNS, row)), "origin_private": 0})
    events = [
        Event(id=i, request_id=rid, at=datetime.fromisoformat(at), actor=actor, type=type_, data=json.loads(data))
        for i, (rid, at, actor, type_, data) in enumerate(history, 1)
    ]
    return request_facts(request, events, _CONFIG[0])


def _request(
    rid: int,
    created: int,
    is_open: bool,
    last_us: int,
    rng: random.Random,
    kinds: list[str],
    domains: list[dict[str, Any]],
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    kind = rng.choice(kinds)
    domain = None if rng.random() < 0.04 else rng.choice(domains)
    review = kind == "security_review"
    priority = DEFAULT_PRIORITY[kind]
    if rng.random() < 0.1:
        priority = RAISED[priority]
    requester = f"U0R{rng.randrange(500):04d}"
    if domain is None:
        assignee, card_channel = None, "C0TRIAGE"
    else:
        assignee = domain["reviewers"][0] if review else rng.choice(domain["engineers"])
        card_channel = domain["review_channel"] if review else domain["channels"][0]
    court0 = ("triage" if domain is None else "lead") if assignee is None else ("reviewer" if review else "assignee")
    title = f"{TOPICS[rid % len(TOPICS)]} (#{rid})"
    reasons = [f"routed to {domain['name']} (keywords)" if domain else "no domain matched: triage"]
    if assignee:
        reasons.append(f"assigned to <@{assignee}> (fewest open)")
    history: list[tuple[Any, ...]] = []
    t = created

    def add(at: int, actor: str, type_: str, data: dict[str, Any]) -> None:
        history.append((rid, _iso(at), actor, type_, json.dumps(data)))

    add(
        t,
        requester,
        "created",
        {
            "kind": kind,
            "domain": domain and domain["name"],
            "assignee": assignee,
            "priority": priority,
            "source": "command",
            "confidential": review,
            "reasons": reasons,
            "court": court0,
        },
    )
    status, stage, court, owner = "open", ("requested" if review else None), court0, None
    first_response = resolved = None
    version = 1
    # Open requests stop somewhere in their life; old open ones have been quiet for long.
    horizon = last_us - rng.randrange(HOUR, 3 * HOUR) if is_open else last_us
    span = max(horizon - t, HOUR)

    def step(lo: float, hi: float) -> int:
        return int(span * rng.uniform(lo, hi))

    worker = assignee or (domain["lead"] if domain else "U0ADMIN")
    start_work = not is_open or rng.random() < 0.7
    if start_work:
        t += min(step(0.02, 0.2), 2 * DAY)
        if review:
            stage, status, court = "in_review", "claimed", "reviewer"
            add(t, worker, "review_started", {"court": court, "status": status, "first_response": True})
        else:
            status, court = "claimed", ("assignee" if assignee else "lead")
            if kind == "regression":
                owner = worker
            add(
                t,
                worker,
                "claimed",
                {"assignee": worker, "previous": assignee, "court": court, "status": status, "first_response": True},
            )
        assignee = worker if assignee is None else assignee
        first_response = t
        version += 1
        if rng.random() < 0.3 or (is_open and rng.random() < 0.3):
            t += step(0.05, 0.15)
            if review:
                stage = "changes_requested"
                add(t, worker, "review_changes_requested", {"court": "requester", "status": "waiting"})
            else:
                add(t, worker, "waiting", {"court": "requester", "status": "waiting"})
            status, court = "waiting", "requester"
            version += 1
            if not is_open or rng.random() < 0.5:
                t += step(0.05, 0.15)
                if review:
                    stage = "in_review"
                status, court = "claimed", ("reviewer" if review else "assignee")
                add(t, requester, "replied", {"by": "requester", "court": court, "status": status})
                version += 1
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            t += step(0.01, 0.1)
            add(
                t,
                worker,
                "commented",
                {
                    "by": "member",
                    "text": "looking into it",
                    "ts": f"{t // 10**6}.000100",
                    "court": court,
                    "status": status,
                },
            )
            version += 1
    if not is_open:
        t = min(t + step(0.05, 0.3), last_us)
        if review:
            stage, status = "approved", "resolved"
            add(t, worker, "review_approved", {"court": "nobody", "status": status})
        elif rng.random() < 0.1:
            status = "declined"
            add(t, requester, "withdrawn", {"court": "nobody", "status": status})
        else:
            status = "resolved"
            add(t, worker, "resolved", {"court": "nobody", "status": status})
        court, resolved = "nobody", t
        version += 1
    row = (
        rid,
        kind,
        domain and domain["name"],
        title,
        f"Seen since the last release; {TOPICS[(rid * 7) % len(TOPICS)]}. Examples in the thread.",
        priority,
        status,
        stage,
        requester,
        assignee,
        owner,
        int(review),
        "command",
        "[]",
        None,
        None,
        None,
        None,
        card_channel,
        f"{created // 10**6}.000100",
        court,
        json.dumps(reasons),
        "[]",
        _iso(created),
        _iso(t),
        _iso(first_response) if first_response else None,
        _iso(resolved) if resolved else None,
        version,
    )
    return row, history


def open_items(conn: sqlite3.Connection) -> list[tuple[Any, list[Any]]]:
    """The open requests with their events as domain models, through indexed queries (for the generator)."""
    from bot.domain.models import OPEN_STATUSES, Event
    from storage.rows import request_from_row as _request

    conn.row_factory = sqlite3.Row
    marks = ", ".join("?" for _ in OPEN_STATUSES)
    requests = {
        r["id"]: _request(dict(r))
        for r in conn.execute(f"SELECT * FROM requests WHERE status IN ({marks})", OPEN_STATUSES)
    }
    events: dict[int, list[Event]] = {rid: [] for rid in requests}
    rows = conn.execute(
        f"""SELECT e.* FROM requests r JOIN events e ON e.request_id = r.id
                            WHERE r.status IN ({marks}) ORDER BY e.request_id, e.id""",
        OPEN_STATUSES,
    )
    for e in rows:
        events[e["request_id"]].append(Event.model_validate({**dict(e), "data": json.loads(e["data"])}))
    conn.row_factory = None
    return [(requests[rid], events[rid]) for rid in sorted(requests)]


_ITEMS: list[tuple[Any, list[Any]]] = []  # the open requests, shared with the forked workers below
Nagged = tuple[int, str, str, list[str]]  # (request id, rule, step, recipients)


def _record_steady_state(path: Path, *, at: datetime) -> None:
    """Record every nag due at `at` as sent (notification + nag event), as the scheduler would have, and
    set each open request's `next_nag_at` as that run would have (`next_check_at` after recording)."""
    global _ITEMS

    conn = sqlite3.connect(path, isolation_level=None)
    _ITEMS = open_items(conn)
    spans = [(lo, min(lo + CHUNK // 4, len(_ITEMS))) for lo in range(0, len(_ITEMS), CHUNK // 4)]
    due: list[Nagged] = []
    checks: list[tuple[str | None, int]] = []
    with multiprocessing.get_context("fork").Pool(min(2, os.cpu_count() or 1)) as pool:
        for found, next_at in pool.imap(functools.partial(_steady_span, at=at), spans):
            due += found
            checks += next_at
    _ITEMS = []
    due.sort(key=lambda d: (d[0], d[1], d[2]))
    stamp = at.isoformat(timespec="microseconds")
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO notifications (request_id, rule, step, recipients, sent_at) VALUES (?, ?, ?, ?, ?)",
        [(rid, rule, step, json.dumps(people), stamp) for rid, rule, step, people in due],
    )
    conn.executemany(
        "INSERT INTO events (request_id, at, actor, type, data) VALUES (?, ?, ?, ?, ?)",
        [
            (rid, stamp, BOT, "nag", json.dumps({"rule": rule, "step": step, "recipients": people}))
            for rid, rule, step, people in due
        ],
    )
    conn.executemany("UPDATE requests SET next_nag_at = ? WHERE id = ?", checks)
    conn.execute("COMMIT")
    conn.close()


def _steady_span(span: tuple[int, int], *, at: datetime) -> tuple[list[Nagged], list[tuple[str | None, int]]]:
    """For _ITEMS[lo:hi]: the nags due at `at` (as (request id, rule, step, recipients)), and each
    request's next check once they are recorded (as (next_nag_at, request id)), exactly as
    `bot.usecases.jobs.Jobs.run_nags` computes them."""
    from bot.runtime.config import parse_config
    from bot.domain.nags import nags_due, next_check_at
    from storage.rows import to_db_time

    config = parse_config(CONFIG)
    items = _ITEMS[span[0] : span[1]]
    due = nags_due(items, config, now=at, sent=set())
    sent = {d.sent_key for d in due}
    # As run_nags: the events it loaded (not the nag events it records; they are not activity). A request
    # changed after `at` (the newest ones) got its check recomputed by that change, as Intake does.
    checks = []
    for request, events in items:
        when = max([at, *(e.at for e in events)])
        next_at = next_check_at(request, events, config, now=when, sent=sent)
        checks.append((to_db_time(next_at) if next_at else None, request.id))
    return [(d.request_id, d.rule, d.step, list(d.recipients)) for d in due], checks


def describe(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "requests": one("SELECT count(*) FROM requests"),
            "open": one("SELECT count(*) FROM requests WHERE status IN ('open', 'claimed', 'waiting')"),
            "events": one("SELECT count(*) FROM events"),
            "notifications": one("SELECT count(*) FROM notifications"),
            "bytes": path.stat().st_size,
        }
    finally:
        conn.close()
