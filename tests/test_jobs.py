"""SLA alerts, nags and the digest through the real app: move the clock, run the job, read what was posted."""

import json
from datetime import timedelta
import subprocess
import sys

from bot.entry.scheduler import Scheduler
from tests.harness import Harness, write_config
from tests.stories import dms
from tests.test_cli import ROOT, base_env


def test_unowned_regression_pings_both_owners_once_then_the_lead(harness: Harness) -> None:
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    harness.clock.advance(hours=3)
    assert harness.bot.jobs.run_nags(job="nags", now=harness.clock()) == []
    harness.clock.advance(hours=2)  # 5 business hours on Monday
    lines = harness.bot.jobs.run_nags(job="nags", now=harness.clock())
    harness.settle()
    assert {line.split(":")[0] for line in lines} == {"U0PPM", "U0MLPM"}
    for owner in ("U0PPM", "U0MLPM"):
        [message] = dms(harness, owner)
        actions = [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert "request.own" in actions and "request.disclaim" in actions
    request = harness.bot.queries.get(1)
    assert any("AIR-1" in m["text"] for m in harness.fake.thread(request.card_channel, request.card_ts))
    assert harness.bot.jobs.run_nags(job="nags", now=harness.clock()) == []  # a re-run sends nothing
    harness.clock.advance(hours=20)  # past 2H business hours (into Tuesday): the lead too
    lines = harness.bot.jobs.run_nags(job="nags", now=harness.clock())
    assert "U0LEAD" in {line.split(":")[0] for line in lines}
    harness.click("request.own", "AIR-1", user="U0PPM")
    harness.settle()
    harness.clock.advance(days=1)
    assert harness.bot.jobs.run_nags(job="nags", now=harness.clock()) == []


def test_sla_breach_alerts_assignee_and_lead_once(harness: Harness) -> None:
    harness.command("eval: outage of the refund agent for customers")  # P3 raised to P2 (first response 4 h)
    harness.settle()
    harness.clock.advance(hours=5)
    lines = harness.bot.jobs.run_nags(job="sla", now=harness.clock())
    harness.settle()
    recipients = {line.split(":")[0] for line in lines}
    assert recipients == {"U0ENG1", "U0LEAD"}
    assert "breached" in dms(harness, "U0ENG1")[0]["text"]
    assert harness.bot.jobs.run_nags(job="sla", now=harness.clock()) == []
    events = [e for e in harness.bot.queries.status("AIR-1", "U0ENG1")[1] if e.type == "nag"]
    assert events and events[0].data["rule"] == "sla.breached"


def test_snooze_quiets_nags(harness: Harness) -> None:
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    harness.click("request.snooze", "AIR-1", user="U0PPM")
    harness.settle()
    harness.clock.advance(hours=5)
    assert harness.bot.jobs.run_nags(job="nags", now=harness.clock()) == []
    harness.clock.advance(days=2)
    assert harness.bot.jobs.run_nags(job="nags", now=harness.clock()) != []


def test_weekly_digest_once_per_channel_and_week(harness: Harness) -> None:
    harness.command("regression: refund intent answers with the wrong window")
    harness.command("security review: new vendor model for refunds")
    harness.command("question: search ranking eval?", channel="C0SEARCH")
    harness.settle()
    harness.clock.advance(days=7)
    lines = harness.bot.jobs.send_digest(now=harness.clock())
    harness.settle()
    channels = {c["channel"] for c in harness.fake.calls_to("chat.postMessage") if "Weekly digest" in c["text"]}
    assert channels == {"C0SUPPORT", "C0SEARCH", "C0DIGEST"}
    org = next(c for c in harness.fake.calls_to("chat.postMessage") if c["channel"] == "C0DIGEST")
    text = json.dumps(org["blocks"])
    assert "Needs a decision" in text and "AIR-1" in text and "request.own" in text
    assert "new vendor model" not in text and "Confidential open" in text
    assert lines
    before = len(harness.fake.calls_to("chat.postMessage"))
    harness.bot.jobs.send_digest(now=harness.clock())
    harness.clock.advance(hours=1)
    harness.bot.jobs.send_digest(now=harness.clock())
    harness.settle()
    assert len(harness.fake.calls_to("chat.postMessage")) == before


def test_the_scheduler_lease_lets_one_process_act(harness: Harness) -> None:
    first = Scheduler(harness.bot.jobs, harness.bot.store, harness.bot.config, clock=harness.bot.clock, holder="host:1")
    second = Scheduler(
        harness.bot.jobs, harness.bot.store, harness.bot.config, clock=harness.bot.clock, holder="host:2"
    )
    harness.command("eval: outage of the refund agent for customers")
    harness.settle()
    harness.clock.advance(hours=5)
    assert first.run("sla") != []
    assert second.run("sla") == []
    assert not first.digest_missed(harness.clock())  # no digest was ever sent: nothing to catch up
    harness.bot.jobs.send_digest(now=harness.clock())
    assert first.digest_missed(harness.clock() + timedelta(days=8))


def test_jobs_run_dry_run_prints_and_sends_nothing(tmp_path, harness: Harness) -> None:
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    env = base_env(tmp_path)
    env["AI_INTAKE_DB"] = str(harness.bot.db.path)
    env["AI_INTAKE_CONFIG"] = str(write_config(tmp_path / "c.yml"))
    result = subprocess.run(
        [sys.executable, "-m", "bot", "jobs", "run", "nags", "--at", "2026-11-23T15:00:00+00:00", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "would send 2 message(s)" in result.stdout and "U0PPM" in result.stdout
    assert harness.bot.jobs.run_nags(job="nags", now=harness.clock().replace(hour=15)) != []  # nothing was recorded


def test_nags_wait_for_the_recipients_working_hours_but_p1_breaches_do_not(harness: Harness) -> None:
    harness.fake.add_user("U0PPM", tz="America/Los_Angeles")
    harness.fake.add_user("U0MLPM", tz="Europe/Berlin")
    harness.command("regression: refund intent answers with the wrong window")
    harness.settle()
    harness.clock.advance(hours=5)  # Monday 14:00 UTC: 15:00 in Berlin, 06:00 in Los Angeles
    harness.bot.jobs.run_nags(job="nags", now=harness.clock())
    harness.settle()
    assert len(dms(harness, "U0MLPM")) == 1 and dms(harness, "U0PPM") == []
    harness.clock.advance(hours=3)  # 09:00 in Los Angeles
    harness.settle()
    assert len(dms(harness, "U0PPM")) == 1


def test_a_p1_breach_goes_out_at_night(harness: Harness) -> None:
    harness.fake.add_user("U0ENG1", tz="Asia/Tokyo")
    harness.command("regression: outage: refunds down for all customers")  # P2 raised to P1: 1 h first response
    harness.settle()
    harness.clock.advance(hours=2)  # Monday 11:00 UTC: 20:00 in Tokyo
    harness.bot.jobs.run_nags(job="sla", now=harness.clock())
    harness.settle()
    assert any("breached" in m["text"] for m in dms(harness, "U0ENG1"))
