"""`ai-intake jobs run` by hand, beside a running bot: the messages go out now, and the command tells the truth.

`--at` is when the rules are evaluated, not when their messages may leave: they are due at once. The
command sends them itself when no running bot holds the outbox; otherwise it waits (bounded) while the
running bot sends them. Either way it prints, per message, what was sent, what is still queued and why,
and what failed — never "sent" for a message still in the outbox.

No deadline here is tight (the command waits up to 30 s, the outbox lease lasts 30 s): these run beside the other
worker's tests.
"""

import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.outbox.worker import LEASE
from tests.harness import START, Harness, write_config
from tests.test_cli import ROOT, base_env


def zone_at_night() -> str:
    """A time zone in which it is now between midnight and six: nobody's working hours, whatever the date."""
    now = datetime.now(timezone.utc)
    for hours in range(-12, 15):
        zone = f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT"
        if now.astimezone(ZoneInfo(zone)).hour < 6:
            return zone
    raise AssertionError("every hour of the day has a zone")


def cli(h: Harness, tmp_path, *args: str) -> list[str]:
    env = base_env(tmp_path, SLACK_BOT_TOKEN=h.fake.token, SLACK_API_URL=h.fake.url)
    env["AI_INTAKE_DB"] = str(h.bot.db.path)
    env["AI_INTAKE_CONFIG"] = str(write_config(tmp_path / "c.yml"))
    return [sys.executable, "-m", "bot", "jobs", "run", *args], env


def run(h: Harness, tmp_path, *args: str) -> subprocess.CompletedProcess:
    command, env = cli(h, tmp_path, *args)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def release_the_outbox(h: Harness) -> None:
    """The harness's bot stops holding the outbox: no running bot sends, so the command must."""
    with h.bot.store.transaction() as tx:
        tx.jobs.release_lease(LEASE, holder=h.bot.outbox.holder)


def dms(h: Harness, user: str) -> list[str]:
    return [c["text"] for c in h.fake.calls_to("chat.postMessage") if c["channel"] == user]


def test_with_no_bot_running_the_command_sends_now_and_says_what_waits(harness: Harness, tmp_path) -> None:
    h = harness
    h.fake.add_user("U0ENG2", tz=zone_at_night())
    h.command("regression: outage: refunds down for all customers")  # P1 (1 h to first response) for U0ENG1
    h.command("eval: outage of the refund agent for customers")  # P2 (4 h) for U0ENG2, whose night it is now
    h.settle()
    release_the_outbox(h)
    at = (START + timedelta(hours=5)).isoformat()  # both breached then; the command runs days later
    done = run(h, tmp_path, "sla", "--at", at)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"sla at {at}: queued" in out
    assert "sent      direct message to U0ENG1" in out and "sent      thread of AIR-1" in out
    assert "sent      direct message to U0LEAD" in out, "the lead's batch holds a P1 breach: it goes out at once"
    [waiting] = [line for line in out.splitlines() if "U0ENG2" in line]
    assert waiting.strip().startswith("queued    direct message to U0ENG2: outside the recipient's working hours until")
    assert any("breached" in t for t in dms(h, "U0ENG1")) and dms(h, "U0ENG2") == []


def test_beside_a_running_bot_it_waits_while_that_bot_sends(harness: Harness, tmp_path) -> None:
    h = harness
    h.command("regression: refund window wrong")
    h.settle()  # the harness's bot now holds the outbox, as a running bot does
    h.clock.now = datetime.now(timezone.utc) + timedelta(minutes=1)  # its clock: now, so what the command queues is due
    command, env = cli(h, tmp_path, "digest", "--at", (START + timedelta(days=4, hours=7)).isoformat())
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()

    def running_bot() -> None:
        while not stop.wait(0.1):
            h.bot.outbox.drain()

    sender = threading.Thread(target=running_bot, daemon=True)
    sender.start()
    try:
        out, err = process.communicate(timeout=120)
    finally:
        stop.set()
        sender.join(timeout=10)
    assert process.returncode == 0, err
    assert "queued 3 message(s)" in out
    for channel in ("C0SUPPORT", "C0SEARCH", "C0DIGEST"):
        assert f"sent      message in {channel}" in out
        assert any("Weekly digest" in m.get("text", "") for m in h.fake.messages(channel))


def test_a_running_bot_that_does_not_send_in_time_is_reported_not_sent(harness: Harness, tmp_path) -> None:
    h = harness
    h.command("regression: refund window wrong")
    h.settle()  # the harness's bot holds the outbox, and will not send anything while the command waits
    done = run(h, tmp_path, "digest", "--at", (START + timedelta(days=4, hours=7)).isoformat(), "--wait", "1")
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()[1:]]
    assert len(lines) == 3 and all(line.startswith("queued    message in C0") for line in lines)
    assert all("the running bot holds the outbox and has not sent it yet" in line for line in lines)
    assert not any(line.startswith("sent") for line in lines)
    assert not any("Weekly digest" in m.get("text", "") for m in h.fake.messages("C0SUPPORT"))


def test_a_time_without_a_zone_is_read_in_the_organisations_zone(harness: Harness, tmp_path) -> None:
    h = harness
    h.command("question: which eval covers the refund window?")  # P4: 40 business hours to first response
    h.settle()
    done = run(h, tmp_path, "sla", "--dry-run", "--at", "2026-11-23T14:00")
    assert done.returncode == 0, done.stderr
    assert "sla at 2026-11-23T14:00:00+01:00: would send" in done.stdout, (
        done.stdout
    )  # 14:00 in Berlin, as the console reads it
    done = run(h, tmp_path, "sla", "--dry-run", "--at", "2026-11-23T14:00Z")
    assert "sla at 2026-11-23T14:00:00+00:00: would send" in done.stdout, done.stdout
