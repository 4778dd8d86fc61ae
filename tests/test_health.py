"""/healthz (alive: the process serves, its writer is not wedged) and /readyz (ready: the database reads and takes
writes, its schema is this version's, the outbox drains, the scheduler runs), through the real server.

A read-only database is `PRAGMA query_only` on the bot's writer, a database locked by someone else is a second
connection holding SQLite's write lock (both hold as root, which ignores file modes), a full disk is a free-space
floor above the disk's size, a wedged writer is a unit of work that does not end. Time is the harness's clock.
"""

import json
import sqlite3
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.entry.server import OUTBOX_STALLED_AFTER
from storage.health import FAILING_AFTER, write_problem
from tests.fake_slack import FakeSlack
from tests.harness import Harness, start_harness
from tests.stories import writer_held
from tests.test_nag_deferral import MONDAY_UTC, file_before_the_weekend

ALIVE = {"alive": True, "writer": "ok"}


def get(h: Harness, path: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(h.url + path, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def healthz(h: Harness) -> tuple[int, dict[str, Any]]:
    return get(h, "/healthz")


def readyz(h: Harness) -> tuple[int, dict[str, Any]]:
    return get(h, "/readyz")


def test_a_healthy_bot_is_alive_and_ready(harness: Harness) -> None:
    assert healthz(harness) == (200, ALIVE)
    assert readyz(harness) == (
        200,
        {
            "database": "ok",
            "writes": "ok",
            "schema": "ok",
            "outbox": "ok",
            "outbox_pending": 0,
            "outbox_overdue_seconds": 0.0,
            "outbox_failing": 0,
            "scheduler": "running",
            "worker": "running",
        },
    )


def test_a_read_only_database_is_not_ready_but_alive(harness: Harness) -> None:
    writer = harness.bot.db.db.conn
    writer.execute("PRAGMA query_only = ON")
    try:
        status, body = readyz(harness)
        alive = healthz(harness)
        harness.command("regression: refund window wrong")
        assert harness.bot.pool.wait_idle(timeout=10) and harness.bot.queries.get(1) is None  # writes do fail
    finally:
        writer.execute("PRAGMA query_only = OFF")
    assert status == 503 and body["writes"] == "a write cannot begin: attempt to write a readonly database"
    assert body["database"] == "ok"  # reads still work
    assert alive == (200, ALIVE)  # restarting would not make the file writable
    assert readyz(harness)[0] == 200


def test_a_database_another_process_holds_locked_is_not_ready_but_alive(harness: Harness) -> None:
    other = sqlite3.connect(harness.bot.db.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        status, body = readyz(harness)
        alive = healthz(harness)
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert status == 503 and body["writes"] == "a write cannot begin: database is locked"
    assert alive == (200, ALIVE)
    assert readyz(harness)[0] == 200


def test_a_wedged_writer_is_not_alive(harness: Harness) -> None:
    with writer_held(harness):
        status, body = healthz(harness)
    assert (status, body) == (503, {"alive": True, "writer": "the writer has been busy for over 2 s"})
    assert healthz(harness) == (200, ALIVE)


def test_a_full_disk_is_a_write_problem(harness: Harness) -> None:
    problem = write_problem(harness.bot.db, min_free_bytes=2**62)
    assert problem is not None and problem.startswith("the database's disk is full (")
    assert write_problem(harness.bot.db) is None


def test_a_message_nobody_sends_stalls_the_outbox(harness: Harness) -> None:
    assert harness.command("regression: refund window wrong").status == 200
    assert harness.bot.pool.wait_idle(timeout=10)  # filed; the card is due, and no worker runs here to send it
    harness.clock.advance(minutes=5)
    status, body = readyz(harness)
    assert (status, body["outbox"], body["outbox_overdue_seconds"], body["outbox_pending"]) == (200, "ok", 300.0, 1)
    harness.clock.advance(seconds=OUTBOX_STALLED_AFTER.total_seconds() - 300 + 1)
    status, body = readyz(harness)
    assert (status, body["outbox"], body["outbox_overdue_seconds"]) == (503, "stalled", 601.0)
    assert healthz(harness) == (200, ALIVE)  # the process is fine; what sends is not
    assert "ai_intake_outbox_overdue_seconds 601.0" in harness.bot.metrics.text()
    harness.settle()  # the card goes out
    assert readyz(harness)[1]["outbox"] == "ok" and readyz(harness)[0] == 200


def test_a_nag_held_for_working_hours_is_never_stuck(harness: Harness) -> None:
    h = harness
    file_before_the_weekend(h, "refund bot quotes the wrong window")
    h.clock.now = MONDAY_UTC + timedelta(hours=9)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()  # the owners' nags: the Los Angeles owner's is held until 09:00 there (17:00 UTC)
    for hours in range(1, 8):
        h.clock.now = MONDAY_UTC + timedelta(hours=9 + hours, minutes=59)
        status, body = readyz(h)
        assert (status, body["outbox"], body["outbox_pending"], body["outbox_overdue_seconds"]) == (
            200,
            "ok",
            1,
            0.0,
        ), hours
    scrape = h.bot.metrics.text()
    assert "ai_intake_outbox_overdue_seconds 0.0" in scrape and "ai_intake_outbox_failing 0.0" in scrape
    assert "ai_intake_outbox_pending 1.0" in scrape
    h.clock.now = MONDAY_UTC + timedelta(hours=17)
    h.settle()
    assert readyz(h)[1]["outbox_pending"] == 0


def test_a_backlog_draining_at_slacks_pace_is_never_stuck(tmp_path: Path, fake_slack: FakeSlack) -> None:
    h = start_harness(tmp_path, fake_slack, post_interval=30.0)  # one post every 30 s per channel
    try:
        for n in range(40):
            h.command(f"question: how do evals work, take {n}")
        assert h.bot.pool.wait_idle(timeout=10)
        seen = []
        for _ in range(60):
            h.bot.outbox.drain()
            status, body = readyz(h)
            seen.append((status, body["outbox"]))
            if body["outbox_pending"] == 0:
                break
            h.clock.advance(seconds=30)
        assert body["outbox_pending"] == 0 and len(fake_slack.calls_to("chat.postMessage")) == 40
        assert len(seen) > OUTBOX_STALLED_AFTER.total_seconds() / 30  # the last card waited well past ten minutes
        assert set(seen) == {(200, "ok")}
    finally:
        h.stop()


def test_a_message_failing_again_and_again_is_stuck_until_slack_answers(
    harness: Harness, fake_slack: FakeSlack
) -> None:
    h = harness
    fake_slack.fail("chat.postMessage", times=FAILING_AFTER, error="service_unavailable")
    h.command("regression: refund window wrong")
    assert h.bot.pool.wait_idle(timeout=10)
    for attempt in range(1, FAILING_AFTER + 1):
        h.bot.outbox.drain()
        status, body = readyz(h)
        expected = (503, "failing", 1) if attempt == FAILING_AFTER else (200, "ok", 0)
        assert (status, body["outbox"], body["outbox_failing"]) == expected, attempt
        h.clock.advance(seconds=300)  # the backoff's longest wait
    assert "ai_intake_outbox_failing 1.0" in h.bot.metrics.text()
    assert healthz(h) == (200, ALIVE)
    h.settle()  # Slack answers again: the card goes out
    assert readyz(h)[0] == 200 and h.bot.queries.get(1).card_ts
