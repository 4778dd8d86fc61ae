"""`ai-intake run` when something it needs is missing or broken at start.

- Slack cannot be reached (SLACK_API_URL points at a closed port): the bot says so in one line,
  keeps running and tries again with growing delays — no crash loop, no silent hang.
- Slack answers auth.test with a 5xx: the same (an outage is not a bad token).
- Slack refuses the token (`invalid_auth`): the bot exits with one sentence naming the setting.
- The database cannot be opened or written (a path under a missing directory, a directory, a file
  that is not a database): one sentence naming the file, a non-zero exit code, no traceback.

The delays are injected where they are counted; the bot process waiting for Slack is given 30 s to say it twice,
so these run beside the other worker's tests.
"""

import logging
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.entry.app import build_app
from bot.entry.run import start_with_retries
from bot.runtime.config import parse_config
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, SIGNING_SECRET
from tests.test_cli import ROOT, base_env, free_port, run_cli


RETRYING = re.compile(r"Slack cannot be reached \((?P<why>.+)\); trying again in (?P<delay>\d+) s")


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_env(tmp_path: Path, fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = base_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.url,
        PORT=str(free_port()),
        HOST="127.0.0.1",
    )
    env.update(extra)
    return env


def stderr_lines(process: subprocess.Popen) -> "queue.Queue[str | None]":
    """The process's stderr, a line at a time, read on a thread (None at the end)."""
    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump() -> None:
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_slack_unreachable_at_start_is_said_and_retried_with_growing_delays(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = run_env(tmp_path, fake_slack, SLACK_API_URL=f"http://127.0.0.1:{closed_port()}/api/")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    lines, seen, retries = stderr_lines(process), [], []
    try:
        deadline = time.monotonic() + 30
        while len(retries) < 2 and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            assert line is not None, "the bot exited while Slack was unreachable:\n" + "".join(seen)
            seen.append(line)
            if found := RETRYING.search(line):
                retries.append(found)
        assert process.poll() is None, "the bot stopped instead of waiting for Slack"
    finally:
        process.kill()
        process.wait(timeout=10)
    text = "".join(seen)
    assert len(retries) == 2, "no 'Slack cannot be reached … trying again in N s' line:\n" + text
    assert "Connection refused" in retries[0]["why"]
    assert int(retries[0]["delay"]) < int(retries[1]["delay"])
    assert "Traceback" not in text and fake_slack.token not in text and SIGNING_SECRET not in text


def test_slack_answering_5xx_at_start_is_an_outage_not_a_bad_token(
    tmp_path: Path, fake_slack: FakeSlack, caplog
) -> None:
    fake_slack.fail(
        "auth.test", status=503, error="service_unavailable", times=3
    )  # the first try and the client's 2 retries
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="ai_intake"):
        bot = start_with_retries(
            lambda: build_app(
                config=parse_config(CONFIG),
                db_path=str(tmp_path / "bot.db"),
                token=fake_slack.token,
                signing_secret=SIGNING_SECRET,
                api_url=fake_slack.url,
            ),
            sleep=sleeps.append,
        )
    try:
        assert sleeps == [1.0]
        [said] = [r.getMessage() for r in caplog.records if r.name == "ai_intake"]
        assert said == "Slack cannot be reached (auth.test answered HTTP 503 service_unavailable); trying again in 1 s"
    finally:
        bot.stop()


def test_the_delays_grow_to_a_minute_and_stay_there(caplog) -> None:
    import urllib.error

    attempts = iter(range(10))

    def make() -> str:
        if next(attempts) < 9:
            raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
        return "the bot"

    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="ai_intake"):
        assert start_with_retries(make, sleep=sleeps.append) == "the bot"
    assert sleeps == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert [RETRYING.search(r.getMessage())["delay"] for r in caplog.records] == [
        "1",
        "2",
        "4",
        "8",
        "16",
        "32",
        "60",
        "60",
        "60",
    ]


def test_a_token_slack_refuses_exits_with_one_sentence(tmp_path: Path, fake_slack: FakeSlack) -> None:
    result = run_cli("run", env=run_env(tmp_path, fake_slack, SLACK_BOT_TOKEN="xoxb-not-the-right-token"))
    assert result.returncode == 2
    ours = [line for line in result.stderr.splitlines() if line.startswith("ai-intake:")]
    assert len(ours) == 1 and "Slack refused SLACK_BOT_TOKEN" in ours[0] and "invalid_auth" in ours[0], result.stderr
    assert "Traceback" not in result.stderr and "xoxb-not-the-right-token" not in result.stderr
    assert [c.method for c in fake_slack.calls] == ["auth.test"]  # refused once, not retried


@pytest.mark.parametrize("where", ["under a missing directory", "a directory", "not a database"])
def test_a_database_that_cannot_be_opened_is_named_with_no_traceback(
    tmp_path: Path, fake_slack: FakeSlack, where: str
) -> None:
    path = {
        "under a missing directory": tmp_path / "no" / "such" / "dir" / "bot.db",
        "a directory": tmp_path,
        "not a database": tmp_path / "notes.db",
    }[where]
    if where == "not a database":
        path.write_text("these are my notes, not a SQLite database\n" * 200)
    result = run_cli("run", env=run_env(tmp_path, fake_slack, AI_INTAKE_DB=str(path)))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines and lines[-1].startswith("ai-intake: cannot open the database") and str(path) in lines[-1], (
        result.stderr
    )
    if where == "not a database":
        assert path.read_text().startswith("these are my notes")  # left as it was
