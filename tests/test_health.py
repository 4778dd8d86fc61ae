"""/healthz tells the truth about writes: 503 when a write cannot begin or a queued message is stuck.

Through the real server. A read-only database is `PRAGMA query_only` on the bot's writer, a
database locked by someone else is a second connection holding SQLite's write lock (both hold as
root, which ignores file modes), a full disk is a free-space floor above the disk's size.
"""

import json
import sqlite3
import urllib.error
import urllib.request
from typing import Any

from bot.server import OUTBOX_STUCK_AFTER
from storage.health import write_problem
from tests.harness import Harness


def healthz(h: Harness) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(h.url + "/healthz", timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_healthy_bot_says_every_part_is_ok(harness: Harness) -> None:
    assert healthz(harness) == (200, {"database": "ok", "writes": "ok", "outbox": "ok", "outbox_oldest_pending_seconds": None,
                                      "scheduler": "running"})


def test_a_read_only_database_is_503(harness: Harness) -> None:
    writer = harness.bot.db.db.conn
    writer.execute("PRAGMA query_only = ON")
    try:
        status, body = healthz(harness)
        harness.command("regression: refund window wrong")
        assert harness.bot.pool.wait_idle(timeout=10) and harness.bot.queries.get(1) is None  # writes do fail
    finally:
        writer.execute("PRAGMA query_only = OFF")
    assert status == 503 and body["writes"] == "a write cannot begin: attempt to write a readonly database"
    assert body["database"] == "ok"  # reads still work
    assert healthz(harness)[0] == 200


def test_a_database_another_process_holds_locked_is_503(harness: Harness) -> None:
    other = sqlite3.connect(harness.bot.db.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        status, body = healthz(harness)
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert status == 503 and body["writes"] == "a write cannot begin: database is locked"
    assert healthz(harness)[0] == 200


def test_a_full_disk_is_a_write_problem(harness: Harness) -> None:
    problem = write_problem(harness.bot.db, min_free_bytes=2**62)
    assert problem is not None and problem.startswith("the database's disk is full (")
    assert write_problem(harness.bot.db) is None


def test_a_message_stuck_in_the_outbox_for_over_ten_minutes_is_503(harness: Harness) -> None:
    assert harness.command("regression: refund window wrong").status == 200
    assert harness.bot.pool.wait_idle(timeout=10)  # filed; the card waits in the outbox (nobody drains it)
    harness.clock.advance(minutes=5)
    status, body = healthz(harness)
    assert (status, body["outbox"], body["outbox_oldest_pending_seconds"]) == (200, "ok", 300.0)
    harness.clock.advance(seconds=OUTBOX_STUCK_AFTER.total_seconds() - 300 + 1)
    status, body = healthz(harness)
    assert (status, body["outbox"], body["outbox_oldest_pending_seconds"]) == (503, "stuck", 601.0)
    harness.settle()  # the card goes out
    assert healthz(harness) == (200, {"database": "ok", "writes": "ok", "outbox": "ok", "outbox_oldest_pending_seconds": None,
                                      "scheduler": "running"})
