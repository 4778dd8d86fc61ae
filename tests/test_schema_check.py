"""A bot left running while a newer version migrates its database stops writing, says why, and loses nothing it
acknowledged: the requester is told nothing was saved, /readyz names the migration, and no card goes out for a
request that was not filed. Through the real app; the newer version is a second connection that migrates the file."""

import json
import logging
import sqlite3

import pytest

from tests.harness import Harness
from tests.test_health import readyz
from tests.test_storage import AT


def newer_version_migrates(path: str) -> None:
    """What a newer ai-intake does when it starts on the file: a migration of its own, in one transaction."""
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE requests ADD COLUMN from_the_future TEXT")
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('ai_intake', 'm999_from_the_future', ?)",
            [str(AT)],
        )


def test_an_old_bot_stops_writing_when_a_newer_one_migrates_the_file(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    assert "AIR-1" in h.command("question: how do evals work").json()["text"]
    h.settle()
    cards = len(h.fake.calls_to("chat.postMessage"))
    newer_version_migrates(h.bot.db.path)

    with caplog.at_level(logging.ERROR, logger="storage.db"):
        answer = h.command("regresion: refund bot quotes the wrong window, customers noticed").json()["text"]
        click = h.click("request.claim", "AIR-1", user="U0ENG1")
        assert h.bot.pool.wait_idle(timeout=10)
    assert answer == "ai-intake is being upgraded and did not save this; nothing changed. Please try again in a minute."
    assert click.status == 200  # acked; the claim is not saved (and the stopped bot cannot queue a reply either)
    assert h.bot.queries.get(2) is None and h.bot.queries.get(1).status == "open"  # nothing written on the new schema
    assert len(h.fake.calls_to("chat.postMessage")) == cards  # no card for a request that was not filed
    stops = [r.getMessage() for r in caplog.records if "stops writing" in r.getMessage()]
    assert len(stops) == 1 and "m999_from_the_future" in stops[0]  # said once, with the migration's name

    status, body = readyz(h)
    assert status == 503 and "m999_from_the_future is unknown here" in body["schema"]
    assert "how do evals work" in json.dumps(h.command("status AIR-1").json())  # reads still answer


def test_writes_by_another_process_of_the_same_version_change_nothing(harness: Harness) -> None:
    h = harness
    h.command("question: how do evals work")
    with sqlite3.connect(h.bot.db.path) as other:  # `ai-intake jobs run` beside the bot, say
        other.execute("UPDATE requests SET title = title WHERE id = 1")
    assert "AIR-2" in h.command("question: where are the dashboards").json()["text"]
    assert readyz(h)[0] == 200 and h.bot.db.stopped is None
