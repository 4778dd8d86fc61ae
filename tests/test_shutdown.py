"""`ai-intake run` stops on SIGTERM whenever it comes, and within 8 s whatever Slack does: during start-up while
Slack cannot be reached (as PID 1 in a container, a process that does not handle SIGTERM ignores it, and `docker
stop` ends in SIGKILL), and while a post to Slack hangs. What was not sent stays queued, and is not posted twice
when the bot comes back. A real process, signalled as Docker signals it."""

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.entry.run import SHUTDOWN_SECONDS
from tests.fake_slack import FakeSlack
from tests.harness import SIGNING_SECRET, Clock, command_form, send_form, start_harness
from tests.test_cli import ROOT, base_env, free_port


def start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], words: str) -> list[str]:
    """Read the process's log until a line holding `words` (the lines read); fails if it ends first."""
    lines = []
    assert process.stderr is not None
    for line in process.stderr:
        lines.append(line)
        if words in line:
            return lines
    raise AssertionError(f"the bot ended without saying {words!r}: {''.join(lines)[-2000:]}")


def test_sigterm_during_start_up_while_slack_cannot_be_reached_stops_it(tmp_path: Path) -> None:
    nowhere = free_port()  # nothing listens there: every connection is refused
    process = start(
        base_env(
            tmp_path,
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=f"http://127.0.0.1:{nowhere}/api/",
            PORT=str(free_port()),
            HOST="127.0.0.1",
        )
    )
    try:
        wait_for_line(process, "Slack cannot be reached")  # retrying with backoff, not serving yet
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and "ai-intake stopping (SIGTERM)" in rest and "Traceback" not in rest


def test_sigterm_while_a_post_hangs_ends_within_the_grace_and_keeps_the_message(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    port = free_port()
    env = base_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        PORT=str(port),
        HOST="127.0.0.1",
    )
    process = start(env)
    try:
        wait_for_line(process, "serving HTTP")
        fake_slack.hold_answer("chat.postMessage", nth=1)  # Slack takes the card and never answers
        body = command_form(fake_slack, "regression: refund window wrong")
        assert send_form(f"http://127.0.0.1:{port}", body, timeout=10) == (
            200,
            b"",
        )  # acked at once; answered at the response_url
        assert fake_slack.held.wait(timeout=30)
        for _ in range(200):
            if fake_slack.responses:
                break
            time.sleep(0.05)
        assert "AIR-1" in fake_slack.responses[0]["body"]["text"]
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=SHUTDOWN_SECONDS + 20)  # a bound for the test, not a measurement
    finally:
        process.kill()
        fake_slack.release.set()
    assert process.returncode == 0 and "ai-intake stopping (SIGTERM)" in rest
    # the worker process holds the post: its own watchdog ends it a second before the front's would
    assert f"still stopping after {SHUTDOWN_SECONDS - 1:.0f} s" in rest and "what was not sent stays queued" in rest
    with sqlite3.connect(tmp_path / "bot.db") as conn:
        assert conn.execute("SELECT kind, status, attempts FROM outbox").fetchall() == [("card", "pending", 1)]

    again = start_harness(
        tmp_path, fake_slack, db_name="bot.db", clock=Clock(datetime.now(timezone.utc) + timedelta(minutes=1))
    )
    try:
        again.settle()
        assert (
            len(fake_slack.messages("C0SUPPORT")) == 1
        )  # the card Slack took is found by its metadata, not posted again
        assert again.bot.queries.get(1).card_ts == fake_slack.messages("C0SUPPORT")[0]["ts"]
    finally:
        again.stop()
