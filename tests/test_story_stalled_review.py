"""A stalled security review cannot hide: the requester keeps asking in the thread, the reviewer stays silent,
and the ladder climbs anyway, saying who asked; the digests, public and private, tell the truth about it.

Played through the real app over simulated weeks (signed requests in, the jobs on the clock, the outbox to
the fake Slack); then what each person and channel received, and that nothing reached anyone who may not
see it.
"""

from collections.abc import Iterator

import pytest

from tests.harness import CONFIG, Harness, start_harness
from tests.stories import dm_recipients, dms, news_to, shown

TITLE = "vendor LLM reads refund emails"


def day(h: Harness, days: int = 1) -> None:
    """Days go by; the nag jobs run each morning."""
    for _ in range(days):
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()


def test_asking_for_an_update_does_not_restart_the_reviewers_silence(harness: Harness) -> None:
    h = harness  # filed by a mention in #support: confidential, its card in support's private review channel
    _, asked_in = h.mention(f"<@U0BOT> security review: {TITLE}", user="U0REQ", channel="C0SUPPORT")
    h.settle()
    review = h.bot.queries.get(1)
    assert (review.confidential, review.card_channel, review.assignee) == (True, "G0SUPSEC", "U0SEC1")
    h.click("review.start", "AIR-1", user="U0SEC1")
    h.settle()
    for _ in range(3):  # every other day, in the thread of her message (she is not in the private channel)
        day(h, 2)
        h.reply_in_thread("C0SUPPORT", asked_in, "any update?", user="U0REQ")
        h.settle()
    day(h, 1)  # 7 days since the reviewer's last word, 1 since the requester's
    [nag] = dms(h, "U0SEC1")
    assert "ball with <@U0SEC1>, silent for 7 days; <@U0REQ> asked for an update 1 day ago (3 times)" in nag["text"]
    assert f"*AIR-1* · {TITLE}" in shown(nag)  # the reviewer may see it
    assert dm_recipients(h) == {"U0SEC1"}  # rung 1: the ball holder and the domain's reviewers
    [started] = news_to(h, "U0REQ")  # she was told, in her own direct messages, that the review began
    assert started.startswith(f"*AIR-1* ({TITLE}): <@U0SEC1> started the security review.")


# -- the quarter: the ladder climbs, the digests tell the truth ------------------------------------------
PRIVATE = "G0AILEADS"  # the organisation's private digest channel
MEMBERS = {"U0ENG1", "U0ENG2", "U0SEC1", "U0LEAD", "U0PPM", "U0MLPM", "U0ADMIN"}  # support's people, and the admin


@pytest.fixture
def quarter(tmp_path, fake_slack) -> Iterator[Harness]:
    config = {**CONFIG, "digest": {**CONFIG["digest"], "private_channel": PRIVATE}}
    h = start_harness(tmp_path, fake_slack, config=config)
    yield h
    h.stop()


def test_a_confidential_review_left_to_stall_for_a_quarter(quarter: Harness) -> None:
    h = quarter
    _, asked_in = h.mention(f"<@U0BOT> security review: {TITLE}", user="U0REQ", channel="C0SUPPORT")  # Monday 23 Nov
    h.command("regression: refund totals are off by one cent", user="U0REQ2")  # public, and owned at once
    h.settle()
    h.click("request.own", "AIR-2", user="U0PPM")
    h.click("review.start", "AIR-1", user="U0SEC1")
    h.settle()
    for n in range(1, 99):
        h.clock.advance(days=1)
        if n % 3 == 0:
            h.reply_in_thread("C0SUPPORT", asked_in, f"any update? (day {n})", user="U0REQ")
        if n == 63:
            h.click("request.snooze", "AIR-1", user="U0SEC1")  # the morning of a digest
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        if n % 7 == 0:
            h.bot.jobs.send_digest(now=h.clock())
        h.settle()

    # the ladder climbed although the requester wrote every third day
    nags = [e for e in h.bot.queries.status("AIR-1", "U0ADMIN")[1] if e.type == "nag"]
    rungs = [e.data["step"].split("/")[0] for e in nags]
    assert rungs[0] == "rung1" and {"rung2", "rung3", "rung4"} <= set(rungs)
    assert "@2026-11-23" in nags[-1].data["step"]  # one silence, from the start of the review
    top = dms(h, "U0LEAD")[-1]["text"]
    assert "silent for 9" in top and "asked for an update" in top and top.endswith("shown in the org digest")
    assert {"U0SEC1", "U0REQ", "U0LEAD", "U0PPM", "U0MLPM"} <= dm_recipients(h)

    # the public digests count it; the private ones list it in full
    public = [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c["channel"] in ("C0SUPPORT", "C0DIGEST") and "digest" in c["text"]
    ]
    assert public and all(TITLE not in shown(c) for c in public)
    support_digests = [c for c in public if c["channel"] == "C0SUPPORT"]
    assert "1 confidential security review stalled over 7 days, oldest 14 days" in shown(support_digests[1])
    org_last = [c for c in public if c["channel"] == "C0DIGEST"][-1]
    assert "Past the top of the review ladder" in shown(org_last)
    assert "*AIR-1* · confidential security review · silent 98 days · ball with security" in shown(org_last)
    for channel in ("G0SUPSEC", PRIVATE):
        private = [
            c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == channel and "Private digest" in c["text"]
        ]
        assert len(private) == 14
        assert (
            f"*AIR-1* · {TITLE} · Security review · 98 days open · ball with security (<@U0SEC1>) · silent 98 days"
            " — past the top of the ladder"
        ) in shown(private[-1])
        assert "snoozed until" in shown(private[8]) and "<@U0SEC1>" in shown(private[8])  # day 63's digest

    # nobody who may not see it saw its title
    for call in h.fake.calls_to("chat.postMessage") + h.fake.calls_to("chat.update"):
        if TITLE in shown(call):
            assert call["channel"] in ("G0SUPSEC", PRIVATE, "U0REQ") or call["channel"] in MEMBERS, call["channel"]
