"""A month from the requesters' side: Ana asks about her confidential security review, Bob's question is worked
by a stand-in while its engineer is away, and Christmas Friday's digest goes out on Thursday. What each requester
received, where, and that no confidential word reached a place that may not see it.

Played through the real app over simulated weeks: signed requests in, the jobs and the scheduler's runs on the
clock, the outbox to the fake Slack.
"""

import copy
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from bot.blocks import ids
from bot.entry.scheduler import Scheduler
from tests.harness import CONFIG, Harness, start_harness
from tests.stories import buttons, dms, leaks, news_to, shown

SECRET = re.compile(r"Zephyr", re.IGNORECASE)
SUPPORT_PEOPLE = {"U0ENG1", "U0ENG2", "U0SEC1", "U0LEAD", "U0PPM", "U0MLPM", "U0ADMIN", "U0ANA"}
ANA, BOB = "U0ANA", "U0BOB"


@pytest.fixture
def month(tmp_path, fake_slack) -> Iterator[Harness]:
    config = copy.deepcopy(CONFIG)
    config["digest"] = {"channel": "C0DIGEST", "cron": "0 16 * * fri"}  # Fridays 16:00 in Berlin; 25 Dec is a holiday
    h = start_harness(tmp_path, fake_slack, config=config)
    yield h
    h.stop()


def dm_bot(h: Harness, user: str, text: str) -> None:
    ts = h.fake.add_message(f"D{user}", text, user=user)
    h.event(
        {
            "type": "message",
            "channel": f"D{user}",
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "im",
        }
    )
    h.settle()


def test_a_month_from_the_requesters_side(month: Harness) -> None:
    h = month
    scheduler = Scheduler(h.bot.jobs, h.bot.store, h.bot.config, clock=h.bot.clock, holder="host:1")
    # -- Monday 23 Nov: Ana files a confidential review in #support; Bob a question --------------------------
    h.mention("<@U0BOT> security review: Zephyr vendor LLM reads refund emails", user=ANA, channel="C0SUPPORT")
    filed = h.command("question: which eval covers the refund window?", user=BOB).json()["text"]
    h.settle()
    review, question = h.bot.queries.get(1), h.bot.queries.get(2)
    assert (review.card_channel, review.assignee, question.assignee) == ("G0SUPSEC", "U0SEC1", "U0ENG1")
    assert "Filed AIR-2" in filed
    # ben (U0ENG1) goes away for two weeks; eve (U0ENG2) covers and is sent what he holds
    assert (
        "<@U0ENG2> covers for you" in h.command("away until 2026-12-07 cover <@U0ENG2>", user="U0ENG1").json()["text"]
    )
    h.settle()
    assert any("AIR-2" in m["text"] and "asked you to cover" in m["text"] for m in dms(h, "U0ENG2"))

    # -- Tuesday: the stand-in claims Bob's question and needs to know more; Bob answers by DM ------------
    h.clock.advance(days=1)
    h.reassign("AIR-2", user="U0ENG2", to="U0ENG2")
    h.click(ids.CLAIM, "AIR-2", user="U0ENG2")
    h.click(ids.WAIT, "AIR-2", user="U0ENG2")
    h.settle()
    dm_bot(h, BOB, "the German one, for the refund agent")
    assert h.bot.queries.get(2).status == "claimed", "his answer by direct message handed the ball back"
    h.click(ids.RESOLVE, "AIR-2", user="U0ENG2")
    h.settle()

    # -- Ana asks about her review, in #support, twice; the second names the vendor ----------------------
    h.clock.advance(days=2)
    h.mention("<@U0BOT> any update on air-1?", user=ANA, channel="C0SUPPORT")
    h.mention("<@U0BOT> AIR-1: Zephyr legal needs an answer by Friday", user=ANA, channel="C0SUPPORT")
    h.settle()
    assert h.bot.queries.get(3) is None, "her asks filed nothing"

    # -- the month: nags every morning, the scheduler's digest runs every afternoon ---------------------
    digest_days = []
    while h.clock() < datetime(2026, 12, 28, 9, 0, tzinfo=timezone.utc):
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()
        afternoon = h.clock() + timedelta(hours=6)  # 16:00 in Berlin
        for job in ("digest-eve", "digest"):
            saved, h.clock.now = h.clock.now, afternoon
            if job == "digest-eve" or afternoon.weekday() == 4:
                if scheduler.run(job):
                    digest_days.append(afternoon.strftime("%a %d %b"))
            h.settle()
            h.clock.now = saved

    # -- what Bob received: each step of his question, in his direct messages ------------------------------
    bob = news_to(h, BOB)
    assert [line.split(": ", 1)[1].split(".")[0] for line in bob] == [
        "it is now with <@U0ENG2>",
        "<@U0ENG2> is working on it now",
        "it waits on you: <@U0ENG2> asked you something in its thread",
        "<@U0ENG2> resolved it",
    ]
    assert any("Noted on *AIR-2*" in m["text"] for m in dms(h, BOB))
    # -- what Ana received: answers in #support without her title; the ladder in her DMs, working links ----
    answers = [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c["channel"] == "C0SUPPORT" and "Noted on *AIR-1*" in c["text"]
    ]
    assert len(answers) == 2 and all("Confidential security review" in c["text"] for c in answers)
    ladder = [m for m in dms(h, ANA) if "security review:" in m["text"]]
    assert ladder, "the ladder's second rung names her"
    for message in ladder:
        assert "G0SUPSEC" not in shown(message) and "/ai-request status AIR-1" in shown(message)
        assert not any(label.startswith("Snooze") for label in buttons(message))
    reviewer = [m for m in dms(h, "U0SEC1") if "security review:" in m["text"]]
    assert reviewer and "last asked: “AIR-1: Zephyr legal needs an answer by Friday”" in reviewer[-1]["text"]
    # -- ben heard nothing while away; the digest skipped Christmas and went on Thursday -------------------
    assert not [m for m in dms(h, "U0ENG1") if "AIR-" in m["text"]]
    assert "Thu 24 Dec" in digest_days and "Fri 25 Dec" not in digest_days and "Fri 18 Dec" in digest_days
    # -- and no confidential word reached a place that may not see it ------------------------------------
    assert leaks(h, SECRET, people=SUPPORT_PEOPLE, channels={"G0SUPSEC"}) == []
