"""Waiting on the requester does not wait forever: after `requester_reminder_days` business days they are
reminded, after twice that the request closes as "no answer", and one click (or an answer in the thread)
picks it up again. Through the real app, over simulated days."""

from bot.blocks import ids
from tests.harness import Harness
from tests.stories import buttons, dm_recipients, dms, shown, thread_posts


def mornings(h: Harness, days: int) -> None:
    for _ in range(days):
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()


def waiting_on_the_requester(h: Harness) -> None:
    h.command("question: which eval covers the refund window?", user="U0REQ")  # Monday 10:00 in Berlin
    h.settle()
    h.click(ids.WAIT, "AIR-1", user="U0ENG1")
    h.settle()


def test_the_requester_is_reminded_then_the_request_closes_as_no_answer_and_they_reopen_it(harness: Harness) -> None:
    h = harness
    waiting_on_the_requester(h)
    mornings(h, 2)  # Wednesday: 2 business days
    assert dms(h, "U0REQ") == []
    mornings(h, 1)  # Thursday 10:00: 3 business days
    [reminder] = dms(h, "U0REQ")
    assert reminder["text"].startswith(
        "AIR-1 has waited on <@U0REQ> since Mon 23 Nov 10:00: answer in the thread, "
        "or it closes as no answer on Tue 1 Dec 10:00"
    )
    assert "*AIR-1* · which eval covers the refund window? · filed by <@U0REQ> 3 days ago" in shown(reminder)
    assert "AIR-1 has waited on <@U0REQ>" in thread_posts(h, "AIR-1")[-1]["text"]

    mornings(h, 5)  # Tuesday 1 Dec 10:00: 6 business days
    closed = h.bot.queries.get(1)
    assert (closed.status, closed.closed_as, closed.court) == ("declined", "no_answer", "nobody")
    assert "Closed: no answer" in shown(h.card("AIR-1")) and buttons(h.card("AIR-1")) == ["Reopen"]
    notice = dms(h, "U0REQ")[-1]
    assert notice["text"].startswith("AIR-1 closed as no answer") and buttons(notice) == ["Reopen AIR-1"]
    assert buttons(thread_posts(h, "AIR-1")[-1]) == ["Reopen AIR-1"]
    assert dm_recipients(h) == {"U0REQ"}

    h.click(ids.REOPEN, "AIR-1", user="U0REQ")  # one click, by the requester
    h.settle()
    reopened = h.bot.queries.get(1)
    assert (reopened.status, reopened.closed_as, reopened.court) == ("claimed", None, "assignee")
    mornings(h, 10)
    assert len(dms(h, "U0REQ")) == 2  # nothing more: it is no longer waiting on them


def test_an_answer_in_the_thread_after_the_close_picks_it_up_again(harness: Harness) -> None:
    h = harness
    waiting_on_the_requester(h)
    mornings(h, 8)
    request = h.bot.queries.get(1)
    assert request.closed_as == "no_answer"
    h.reply_in_thread(request.card_channel, request.card_ts, "sorry, I was away: it is the 30-day window", user="U0REQ")
    h.settle()
    answered = h.bot.queries.get(1)
    assert (answered.status, answered.court) == ("claimed", "assignee")
    assert "<@U0REQ> answered; reopened and back with the team." in thread_posts(h, "AIR-1")[-1]["text"]


def test_only_the_requester_and_members_may_reopen_it(harness: Harness) -> None:
    h = harness
    waiting_on_the_requester(h)
    mornings(h, 8)
    h.click(ids.REOPEN, "AIR-1", user="U0OUTSIDER")
    h.settle()
    assert h.bot.queries.get(1).status == "declined"
    assert h.ephemerals("U0OUTSIDER")[-1] == "Only members of support and the requester (or admins) can reopen AIR-1."
    h.click(ids.REOPEN, "AIR-1", user="U0ENG2")
    h.settle()
    assert h.bot.queries.get(1).status == "claimed"
