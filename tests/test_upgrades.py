"""Upgrades as a user meets them: the bot started on a database from each earlier version migrates it
and serves every request in it and new ones; `ai-intake run` on a newer version's database stops
with one sentence."""

import json
import sqlite3
from pathlib import Path

import pytest

from storage.db import applied_migrations, known_migrations
from tests.fake_slack import FakeSlack
from tests.harness import START, start_harness
from tests.test_cli import base_env, run_cli
from tests.test_storage import database_at_level, newer_database

KNOWN = known_migrations()


def seed_old_request(path: Path, fake: FakeSlack) -> str:
    """A request filed before the upgrade, its card posted in #support: the columns the first migration made."""
    card_ts = fake.add_message("C0SUPPORT", "AIR-1 card", user="U0BOT")
    with sqlite3.connect(path) as conn:
        conn.execute(
            """INSERT INTO requests (kind, domain, title, priority, status, requester, assignee, source, court,
                                     card_channel, card_ts, created_at, updated_at)
               VALUES ('regression', 'support', 'filed before the upgrade', 'P2', 'open', 'U0REQ', 'U0ENG1', 'command',
                       'assignee', 'C0SUPPORT', ?, ?, ?)""",
            [card_ts, START.isoformat(), START.isoformat()],
        )
        conn.execute(
            "INSERT INTO events (request_id, at, actor, type, data) VALUES (1, ?, 'U0REQ', 'created', '{}')",
            [START.isoformat()],
        )
    return card_ts


@pytest.mark.parametrize("level", range(1, len(KNOWN)))
def test_the_bot_upgrades_a_database_from_each_earlier_level_and_serves_it(
    tmp_path: Path, fake_slack: FakeSlack, level: int
) -> None:
    path = database_at_level(tmp_path / "intake.db", level)
    card_ts = seed_old_request(path, fake_slack)
    h = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        assert applied_migrations(h.bot.db.db) == KNOWN
        assert "filed before the upgrade" in json.dumps(h.command("status AIR-1").json())
        h.click("request.claim", "AIR-1", user="U0ENG1")
        assert "AIR-2" in h.command("question: filed after the upgrade").json()["text"]
        h.settle()
        assert h.bot.queries.get(1).status == "claimed" and h.bot.queries.get(1).version == 2
        assert any(c["ts"] == card_ts for c in fake_slack.calls_to("chat.update"))  # the old card, updated in place
        assert h.bot.queries.get(2).card_ts and h.bot.queries.get(2).card_ts != card_ts
    finally:
        h.stop()


def test_the_bot_starts_on_an_empty_file(tmp_path: Path, fake_slack: FakeSlack) -> None:
    (tmp_path / "intake.db").touch()
    h = start_harness(tmp_path, fake_slack, db_name="intake.db")
    try:
        assert h.bot.db.schema_version() == len(KNOWN)
        assert "AIR-1" in h.command("question: the first one").json()["text"]
    finally:
        h.stop()


def test_run_on_a_newer_versions_database_says_so_in_one_sentence(tmp_path: Path) -> None:
    env = base_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s")
    newer_database(Path(env["AI_INTAKE_DB"]))
    before = Path(env["AI_INTAKE_DB"]).read_bytes()
    result = run_cli("run", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("ai-intake: the database ") and "newer ai-intake" in line
    assert Path(env["AI_INTAKE_DB"]).read_bytes() == before
