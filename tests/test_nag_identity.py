"""Every nag says what its request is: key, title where its reader may see it, requester, age, and in a direct
message a link to the card (its permalink, fetched once and remembered, or its channel and ts). Through the
real app: the jobs queue, the outbox sends to the fake Slack, and the tests read what each person got."""

from bot.blocks import ids
from tests.harness import Harness
from tests.stories import buttons, dms, shown
from tests.test_confidentiality import file_by_form

TITLE = "refund bot answers with the wrong window"


def thread_nags(h: Harness, key: str) -> list[dict]:
    request = h.bot.queries.get(int(key.split("-")[1]))
    return [
        m
        for m in h.fake.thread(request.card_channel, request.card_ts)
        if m.get("blocks") and m["ts"] != request.card_ts
    ]


def test_a_nag_dm_says_what_the_request_is_and_links_to_its_card(harness: Harness) -> None:
    h = harness
    h.command(f"regression: {TITLE}", user="U0REQ")
    h.settle()
    h.clock.advance(hours=5)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    request = h.bot.queries.get(1)
    link = request.card_permalink
    assert link and link.startswith("https://") and request.card_ts.replace(".", "") in link
    for owner in ("U0PPM", "U0MLPM"):
        [dm] = dms(h, owner)
        text = shown(dm)
        assert f"*AIR-1* · {TITLE} · filed by <@U0REQ> 5 hours ago · <{link}|open the card>" in text
        assert buttons(dm) == ["Take ownership AIR-1", "Not mine AIR-1", "Snooze AIR-1"]
    assert len(h.fake.calls_to("chat.getPermalink")) == 1  # fetched once, for the first DM; remembered after

    h.clock.advance(hours=20)  # the lead step: three more DMs, no more look-ups
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    assert link in shown(dms(h, "U0LEAD")[0])
    assert len(h.fake.calls_to("chat.getPermalink")) == 1


def test_a_card_slack_will_not_link_to_is_named_by_its_channel_and_ts(harness: Harness) -> None:
    h = harness
    h.command(f"regression: {TITLE}")
    h.settle()
    h.fake.fail("chat.getPermalink", times=2, error="message_not_found")
    h.clock.advance(hours=5)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    request = h.bot.queries.get(1)
    assert request.card_permalink is None
    for owner in ("U0PPM", "U0MLPM"):
        assert f"card in <#C0SUPPORT> (ts {request.card_ts})" in shown(dms(h, owner)[0])
    h.clock.advance(hours=20)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    assert h.bot.queries.get(1).card_permalink  # asked again, and remembered once Slack answered


def test_a_confidential_title_shows_in_a_dm_to_a_member_and_never_in_a_public_thread(harness: Harness) -> None:
    h = harness  # search has no private review channel: the card and its thread are in public #search
    file_by_form(
        h,
        user="U0REQ",
        kind="regression",
        title="SECRET ranking leak",
        description="",
        channel="C0SEARCH",
        confidential=True,
    )
    h.settle()
    assert h.bot.queries.get(1).card_channel == "C0SEARCH"
    h.clock.advance(hours=5)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    [thread] = thread_nags(h, "AIR-1")
    assert "SECRET" not in shown(thread) and "Confidential regression · filed by <@U0REQ>" in shown(thread)
    for owner in ("U0PPM2", "U0MLPM2"):
        assert "*AIR-1* · SECRET ranking leak · filed by" in shown(dms(h, owner)[0])


def test_thread_nags_name_the_request_as_the_channel_may_see_it(harness: Harness) -> None:
    h = harness
    h.command(f"eval: {TITLE}")  # P3: first response in 16 business hours, at risk at 12
    h.settle()
    h.clock.advance(days=1, hours=5)  # Tuesday 15:00 in Berlin: 13 business hours
    h.bot.jobs.run_nags(job="sla", now=h.clock())
    h.settle()
    [line] = thread_nags(h, "AIR-1")
    assert line["text"].startswith("AIR-1 first response at risk")
    assert f"*AIR-1* · {TITLE} · filed by <@U0REQ> 1 day ago" in shown(line)
    assert ids.SNOOZE not in shown(line)  # snoozing is a button of the direct message
