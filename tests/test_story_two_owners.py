"""The two owners in one room: a regression nobody owns is put to the product owner and the platform owner
together, in one message in its card's thread, then to the lead; whoever takes it holds the ball.

Played through the real app over simulated days: signed requests in, the jobs on the clock, the outbox to
the fake Slack; then what each person received, where, and that nobody else received anything.
"""

from datetime import timedelta

from bot.blocks import ids
from bot.domain.history import court_seconds
from tests.harness import Harness
from tests.stories import buttons, dm_recipients, dms, select, shown, thread_posts
from tests.test_authorization_matrix import submit_disclaim

TITLE = "refund bot answers with the wrong window"
OWNERS = ("U0PPM", "U0MLPM")


def nags(h: Harness) -> None:
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()


def test_both_owners_are_asked_in_one_thread_message_then_the_lead_hands_it_to_one(harness: Harness) -> None:
    h = harness
    h.command(f"regression: {TITLE}", user="U0REQ")  # Monday 10:00 in Berlin; triage assigns an engineer
    h.settle()
    assert h.bot.queries.get(1).assignee == "U0ENG1"

    h.clock.advance(hours=3, minutes=59)
    nags(h)
    assert thread_posts(h, "AIR-1") == [] and dm_recipients(h) == set()
    h.clock.advance(minutes=1)  # 4 business hours unowned
    nags(h)
    [asked] = thread_posts(h, "AIR-1")
    assert "<@U0PPM> or <@U0MLPM>, take ownership, or say why it is not yours" in asked["text"]
    assert "has had no owner for 4 business hours" in asked["text"]
    assert buttons(asked) == ["Take ownership AIR-1", "Not mine AIR-1"]
    assert f"*AIR-1* · {TITLE} · filed by <@U0REQ> 4 hours ago" in shown(asked)
    for owner in OWNERS:  # each owner's DM names the other one too
        [dm] = dms(h, owner)
        assert "<@U0PPM> or <@U0MLPM>" in dm["text"] and buttons(dm) == [
            "Take ownership AIR-1",
            "Not mine AIR-1",
            "Snooze AIR-1",
        ]
    assert dm_recipients(h) == set(OWNERS)

    h.clock.advance(hours=20)  # Tuesday 10:00: 8 business hours, the lead is added in the same thread
    nags(h)
    first, second = thread_posts(h, "AIR-1")
    assert first == asked and "escalated to <@U0LEAD>" in second["text"] and "<@U0PPM> or <@U0MLPM>" in second["text"]
    assert buttons(second) == ["Take ownership AIR-1", "Not mine AIR-1", "Hand AIR-1 to…"]
    [lead_dm] = dms(h, "U0LEAD")
    assert buttons(lead_dm) == ["Take ownership AIR-1", "Not mine AIR-1", "Snooze AIR-1", "Hand AIR-1 to…"]
    assert [buttons(dms(h, o)[-1]) for o in OWNERS] == [["Take ownership AIR-1", "Not mine AIR-1", "Snooze AIR-1"]] * 2

    h.clock.advance(hours=1)  # the product owner says it is not theirs: the ball is with the lead
    submit_disclaim(h, "AIR-1", "U0PPM")
    h.settle()
    assert h.bot.queries.get(1).court == "lead"
    assert "Hand to… (lead)" in buttons(h.card("AIR-1"))
    select(h, ids.HAND, user="U0PPM", message=lead_dm, channel="U0PPM", pick="U0MLPM")  # not the lead: refused
    h.settle()
    assert h.bot.queries.get(1).owner is None
    assert h.fake.responses[-1]["body"]["text"] == "Only the lead of support (or admins) can hand over AIR-1."

    h.clock.advance(hours=1)  # the lead picks the platform owner in the select of his direct message
    select(h, ids.HAND, user="U0LEAD", message=lead_dm, channel="U0LEAD", pick="U0MLPM")
    h.settle()
    handed = h.bot.queries.get(1)
    assert (handed.owner, handed.assignee, handed.court) == ("U0MLPM", "U0MLPM", "assignee")
    card = shown(h.card("AIR-1"))
    assert "*Ball in court*\\nthe assignee" in card and "*Owner*\\n<@U0MLPM>" in card and "Hand to" not in card
    assert "<@U0LEAD> handed this to <@U0MLPM>, who owns it now." in thread_posts(h, "AIR-1")[-1]["text"]

    before = len(h.fake.calls_to("chat.postMessage"))
    for _ in range(10):  # two weeks later: owned, so nobody is nagged about an owner again
        h.clock.advance(days=1)
        nags(h)
    assert [c for c in h.fake.calls_to("chat.postMessage")[before:] if "no owner" in c["text"]] == []
    _, events = h.bot.queries.status("AIR-1", "U0ADMIN")
    courts = court_seconds(events, now=h.clock())
    assert courts["lead"] == timedelta(hours=1).total_seconds() and courts["assignee"] > 0
    # who heard of it: the two owners and the lead, nobody else (not the requester, not search's people)
    assert dm_recipients(h) == {*OWNERS, "U0LEAD"}


def test_taking_ownership_after_a_not_mine_puts_the_ball_with_the_owner(harness: Harness) -> None:
    h = harness
    h.command(f"regression: {TITLE}", user="U0REQ")
    h.settle()
    h.clock.advance(hours=4)
    nags(h)
    submit_disclaim(h, "AIR-1", "U0MLPM")  # platform: "not ours"
    h.settle()
    assert h.bot.queries.get(1).court == "lead"
    h.click(ids.OWN, "AIR-1", user="U0PPM")
    h.settle()
    owned = h.bot.queries.get(1)
    assert (owned.owner, owned.assignee, owned.court) == ("U0PPM", "U0PPM", "assignee")
    assert "*Ball in court*\\nthe assignee" in shown(h.card("AIR-1"))


def test_taking_ownership_leaves_an_engineer_who_claimed_it_at_work(harness: Harness) -> None:
    h = harness
    h.command(f"regression: {TITLE}", user="U0REQ")
    h.settle()
    h.click(ids.CLAIM, "AIR-1", user="U0ENG1")
    h.click(ids.OWN, "AIR-1", user="U0PPM")
    h.settle()
    owned = h.bot.queries.get(1)
    assert (owned.owner, owned.assignee, owned.court) == ("U0PPM", "U0ENG1", "assignee")


def test_the_owner_who_takes_what_triage_only_suggested_holds_the_ball_and_hears_its_clock(harness: Harness) -> None:
    """Triage suggested an engineer, who never touched it; the product owner takes ownership: the ball is hers, taking
    it was the first response, and the SLA's nags go to her, never to the engineer merely suggested."""
    h = harness
    h.command(f"regression: {TITLE}", user="U0REQ")  # P2: first response 4 business hours, resolution 40
    h.settle()
    h.clock.advance(hours=1)
    h.click(ids.OWN, "AIR-1", user="U0PPM")
    h.settle()
    owned = h.bot.queries.get(1)
    assert (owned.owner, owned.assignee, owned.court) == ("U0PPM", "U0PPM", "assignee")
    assert owned.first_response_at == h.clock()
    with h.bot.store.reading() as tx:
        [taken] = [e for e in tx.events(1) if e.type == "owned"]
    assert taken.data.get("first_response") is True
    for _ in range(8):  # eight mornings: the resolution clock (40 business hours) comes to risk, then breaches
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.settle()
    assert any("resolution at risk" in dm["text"] for dm in dms(h, "U0PPM"))
    assert any("resolution breached" in dm["text"] for dm in dms(h, "U0PPM"))
    assert dms(h, "U0ENG1") == [], "merely suggested by triage: told nothing"
