"""A crash in the middle of a digest run: after the restart every channel has its digest exactly once."""

import subprocess
import sys

from tests.harness import Harness, start_harness, write_config
from tests.test_cli import ROOT, base_env


AT = "2026-11-30T08:00:00+00:00"  # the Monday after the harness's start


def file_some(h: Harness) -> None:
    h.command("regression: refund intent answers with the wrong window")
    h.command("question: search ranking eval?", channel="C0SEARCH")
    h.settle()


def digest_posts(fake, channel: str) -> list[dict]:
    return [m for m in fake.messages(channel) if "Weekly digest" in m.get("text", "")]


def test_killed_mid_digest_then_rerun_posts_each_digest_once(tmp_path, fake_slack) -> None:
    h = start_harness(tmp_path, fake_slack)
    file_some(h)
    db_path = h.bot.db.path
    h.stop()
    env = base_env(tmp_path, SLACK_BOT_TOKEN=fake_slack.token, SLACK_API_URL=fake_slack.url)
    env["AI_INTAKE_DB"] = db_path
    env["AI_INTAKE_CONFIG"] = str(write_config(tmp_path / "c.yml"))
    command = [sys.executable, "-m", "bot", "jobs", "run", "digest", "--at", AT]

    fake_slack.hold_answer("chat.postMessage", nth=2)  # the second digest reaches Slack, its answer never comes back
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert fake_slack.held.wait(timeout=30), "the job never got to its second digest"
        process.kill()  # kill -9 while the second post is in flight
        process.wait(timeout=10)
    finally:
        fake_slack.release.set()
    posted_before = sum(len(digest_posts(fake_slack, c)) for c in ("C0SUPPORT", "C0SEARCH", "C0DIGEST"))
    assert posted_before == 2

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    for channel in ("C0SUPPORT", "C0SEARCH", "C0DIGEST"):
        assert len(digest_posts(fake_slack, channel)) == 1, channel
    once_more = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert once_more.returncode == 0
    assert sum(len(digest_posts(fake_slack, c)) for c in ("C0SUPPORT", "C0SEARCH", "C0DIGEST")) == 3
