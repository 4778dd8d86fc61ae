"""Logs a person and a machine can read: one line (or one JSON object) per record, no secret in either format."""

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bot.runtime.logs import setup_logging
from bot.runtime.settings import SettingsError, load_settings
from tests.harness import SIGNING_SECRET
from tests.test_cli import ROOT, base_env, free_port

TOKEN = "xoxb-1234-5678-abcdefghijklmnop"
log = logging.getLogger("bot.test_logs")


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """What the bot's own handler writes, in the format the test sets up; the handler is removed afterwards."""
    out = io.StringIO()
    yield out
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "_ai_intake", False):
            logging.getLogger().removeHandler(handler)


def lines(out: io.StringIO) -> list[str]:
    return out.getvalue().splitlines()


def test_the_format_comes_from_the_environment_and_a_bad_one_is_one_sentence() -> None:
    assert load_settings({}).log_format == "text"
    assert load_settings({"AI_INTAKE_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError) as raised:
        load_settings({"AI_INTAKE_LOG_FORMAT": "xml"})
    assert str(raised.value) == "AI_INTAKE_LOG_FORMAT must be text or json, got 'xml'."


def test_json_is_one_object_per_line_with_the_extra_fields(logged: io.StringIO) -> None:
    setup_logging(fmt="json", stream=logged, secrets=[SIGNING_SECRET])
    log.warning(
        "filed %s for %s\nFORGED line",
        "AIR-7",
        "U0REQ",
        extra={"request": "AIR-7", "user_id": "U0REQ", "team_id": "T0TEAM"},
    )
    [line] = lines(logged)
    record = json.loads(line)
    assert record["message"] == "filed AIR-7 for U0REQ\nFORGED line"
    assert (record["level"], record["logger"]) == ("WARNING", "bot.test_logs")
    assert (record["request"], record["user_id"], record["team_id"]) == ("AIR-7", "U0REQ", "T0TEAM")
    assert record["time"].endswith("+00:00")


def test_secrets_are_redacted_in_message_fields_and_traceback_in_both_formats(logged: io.StringIO) -> None:
    for fmt in ("json", "text"):
        logged.seek(0)
        logged.truncate()
        setup_logging(fmt=fmt, stream=logged, secrets=[SIGNING_SECRET])
        try:
            raise RuntimeError(f"Slack said no to {TOKEN} signed with {SIGNING_SECRET}")
        except RuntimeError:
            log.exception("token %s", TOKEN, extra={"header": f"Bearer {TOKEN}", "secret": SIGNING_SECRET})
        written = logged.getvalue()
        assert TOKEN not in written and SIGNING_SECRET not in written, fmt
        assert written.count("[redacted]") >= 5, (fmt, written)
        if fmt == "json":
            record = json.loads(written)
            assert "RuntimeError" in record["exc_info"] and record["header"] == "Bearer [redacted]"


def test_text_escapes_control_characters_so_nobody_can_forge_a_line(logged: io.StringIO) -> None:
    setup_logging(fmt="text", stream=logged)
    forged = "refund\n2026-11-23 09:00:00,000 ERROR bot: forged\r\x1b[31mred\x00\u2028\u202eevil"
    log.warning("title %s", forged, extra={"user_id": "U0\nX"})
    [line] = lines(logged)
    assert line.endswith(
        "title refund\\n2026-11-23 09:00:00,000 ERROR bot: forged\\r\\x1b[31mred\\x00\\u2028\\u202eevil user_id=U0\\nX"
    )
    assert " WARNING bot.test_logs: " in line


def test_a_traceback_keeps_its_lines_in_the_text_format(logged: io.StringIO) -> None:
    setup_logging(fmt="text", stream=logged)
    try:
        raise ValueError("bad \x1b[2J value")
    except ValueError:
        log.exception("it failed")
    written = lines(logged)
    assert written[0].endswith("it failed") and written[1] == "Traceback (most recent call last):"
    assert written[-1] == "ValueError: bad \\x1b[2J value"


def test_ai_intake_run_logs_json_lines(tmp_path, fake_slack) -> None:
    port = free_port()
    env = base_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        PORT=str(port),
        HOST="127.0.0.1",
        AI_INTAKE_LOG_FORMAT="json",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    try:
        while not any("serving HTTP" in line for line in seen) and len(seen) < 50:
            seen.append(process.stderr.readline())  # until it listens
    finally:
        process.terminate()
        seen.append(process.communicate(timeout=10)[1])
    written = "".join(seen)
    records = [json.loads(line) for line in written.splitlines()]
    assert any(r["message"].startswith("ai-intake serving HTTP on 127.0.0.1") for r in records), records
    assert any(r["message"] == "ai-intake stopping (SIGTERM)" for r in records), records
    assert fake_slack.token not in written and SIGNING_SECRET not in written


def test_ai_intake_run_with_a_bad_log_format_says_what_to_set(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=base_env(tmp_path, AI_INTAKE_LOG_FORMAT="xml"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (
        result.returncode == 2 and result.stderr == "ai-intake: AI_INTAKE_LOG_FORMAT must be text or json, got 'xml'.\n"
    )
