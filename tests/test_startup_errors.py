"""Start-up errors are one sentence (a port in use, a migration that fails, named), never a traceback, and one
JSON object in JSON mode. A real `ai-intake run` process against the fake Slack."""

import json
import socket
import sqlite3
from pathlib import Path

from tests.fake_slack import FakeSlack
from tests.harness import SIGNING_SECRET
from tests.test_cli import base_env, free_port, run_cli
from tests.test_storage import KNOWN, database_at_level


def env_for(tmp_path: Path, fake_slack: FakeSlack, **extra: str) -> dict[str, str]:
    return base_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        HOST="127.0.0.1",
        **extra,
    )


def test_a_port_in_use_is_one_sentence(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("run", env=env_for(tmp_path, fake_slack, PORT=str(port)))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"ai-intake: cannot listen on 127.0.0.1:{port}: the port is in use (another "
        "ai-intake, or another program, listens there); stop that, or set PORT to a free port."
    )


def test_a_metrics_port_in_use_names_its_variable_in_json(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli(
            "run",
            env=env_for(
                tmp_path,
                fake_slack,
                PORT=str(free_port()),
                AI_INTAKE_METRICS_PORT=str(port),
                AI_INTAKE_LOG_FORMAT="json",
            ),
        )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line an object
    assert records[-1]["level"] == "CRITICAL" and records[-1]["message"] == (
        f"cannot listen on 127.0.0.1:{port}: the port is in use (another ai-intake, or another program, listens there); "
        "stop that, or set AI_INTAKE_METRICS_PORT to a free port."
    )
    assert fake_slack.token not in done.stderr


def test_a_failing_migration_is_named_and_changes_nothing(tmp_path: Path, fake_slack: FakeSlack) -> None:
    level = KNOWN.index("m021_outbox_failures")
    db = database_at_level(tmp_path / "old.db", level)
    with sqlite3.connect(db) as conn:  # a column of that name already there: the migration cannot add it
        conn.execute("ALTER TABLE outbox ADD COLUMN failures TEXT")
    env = env_for(tmp_path, fake_slack, PORT=str(free_port()))
    env["AI_INTAKE_DB"] = str(db)
    done = run_cli("run", env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"ai-intake: cannot upgrade the database {db}: migration m021_outbox_failures failed (duplicate column name: "
        "failures); nothing was changed (the upgrade is one transaction): restore a backup, or report it with the "
        "database's schema level."
    )
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone() == (level,)


def test_a_bad_setting_in_json_mode_is_one_json_object(tmp_path: Path) -> None:
    done = run_cli("run", env=base_env(tmp_path, AI_INTAKE_LOG_FORMAT="json"))  # no token
    assert done.returncode == 2
    [record] = [json.loads(line) for line in done.stderr.splitlines()]
    assert record["level"] == "CRITICAL" and record["message"].startswith("Set SLACK_BOT_TOKEN")


def test_an_invalid_config_in_json_mode_is_one_json_object(tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = env_for(tmp_path, fake_slack, AI_INTAKE_LOG_FORMAT="json")
    Path(env["AI_INTAKE_CONFIG"]).write_text("triage_channel: C0TRIAGE\ndomains: nope\n")
    done = run_cli("run", env=env)
    assert done.returncode == 1
    [record] = [json.loads(line) for line in done.stderr.splitlines()]
    assert record["level"] == "CRITICAL" and record["message"].startswith("the config is not valid: domains")
    assert record["problems"] and record["problems"][0].startswith("domains")
