"""Nags held for a person's working hours do not pile up: a later step of the same rule for the same request
supersedes the held one, the person gets one message with the latest of each, and a nag whose request was
closed or taken meanwhile is not sent. Through the real app, with the clock moved by hand."""

import json
from datetime import timedelta

from bot.blocks import ids
from bot.outbox.worker import Flight
from tests.harness import START, Harness
from tests.stories import dm_recipients, dms

FRIDAY_2PM_BERLIN = START + timedelta(days=4, hours=4)
MONDAY_UTC = START + timedelta(days=7, hours=-9)  # Mon 30 Nov 00:00 UTC


def at(h: Harness, hour_utc: int) -> None:
    """Monday 30 Nov, `hour_utc`:00 UTC: run the nag jobs, let the outbox send what is due."""
    h.clock.now = MONDAY_UTC + timedelta(hours=hour_utc)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()


def file_before_the_weekend(h: Harness, *titles: str) -> None:
    """Regressions filed on Friday afternoon in Berlin, an hour apart; the product owner works in Los Angeles."""
    h.fake.add_user("U0PPM", tz="America/Los_Angeles")  # 09:00-17:00 there is 17:00-01:00 UTC
    h.fake.add_user("U0MLPM", tz="Europe/Berlin")
    h.clock.now = FRIDAY_2PM_BERLIN
    for title in titles:
        h.command(f"regression: {title}")
        h.settle()
        h.clock.advance(hours=1)


def test_a_held_nag_superseded_by_a_later_step_is_not_sent_and_others_wait_in_one_message(harness: Harness) -> None:
    h = harness
    file_before_the_weekend(h, "refund bot quotes the wrong window", "refund bot forgets the order number")
    at(h, 9)  # AIR-1 unowned for 4 business hours: the owners; the LA owner's DM is held (01:00 there)
    at(h, 10)  # AIR-2 too
    at(h, 13)  # AIR-1 at 8 business hours: the lead step
    at(h, 14)  # AIR-2 too
    assert dms(h, "U0PPM") == []
    assert [d["text"].split(" regression")[0] for d in dms(h, "U0MLPM")] == ["AIR-1", "AIR-2", "AIR-1", "AIR-2"]
    at(h, 17)  # 09:00 in Los Angeles: one message, the latest step of each
    [dm] = dms(h, "U0PPM")
    lines = dm["text"].splitlines()
    assert lines[0] == "2 reminders, most urgent first:"
    assert all("escalated to <@U0LEAD>" in line for line in lines[1:]) and len(lines) == 3
    assert {"AIR-1", "AIR-2"} == {line.split("• ")[1].split(" ")[0] for line in lines[1:]}
    with h.bot.store.reading() as tx:
        statuses = [
            r["status"] for r in tx.outbox.rows() if r["kind"] == "nag" and json.loads(r["payload"])["user"] == "U0PPM"
        ]
    assert statuses == ["superseded", "superseded", "superseded", "sent"]
    assert dm_recipients(h) == {"U0PPM", "U0MLPM", "U0LEAD"}  # the owners and, at the lead step, the lead: nobody else
    assert [d["text"].split(" regression")[0] for d in dms(h, "U0LEAD")] == ["AIR-1", "AIR-2"]


def test_a_held_nag_is_dropped_when_its_request_is_taken_meanwhile(harness: Harness) -> None:
    h = harness
    file_before_the_weekend(h, "refund bot quotes the wrong window")
    at(h, 9)
    h.click(ids.OWN, "AIR-1", user="U0MLPM")  # the platform owner takes it before Los Angeles wakes up
    h.settle()
    at(h, 17)
    assert dms(h, "U0PPM") == []
    assert len(dms(h, "U0MLPM")) == 1


def test_a_message_folded_into_a_newer_one_after_the_worker_read_it_is_not_sent_twice(harness: Harness) -> None:
    h = harness
    file_before_the_weekend(h, "refund bot quotes the wrong window")
    at(h, 9)  # the owners step; the LA owner's message is held until 17:00 UTC
    h.clock.now = MONDAY_UTC + timedelta(hours=17)
    with h.bot.store.reading() as tx:
        [held] = [item for item in tx.outbox.due(h.clock()) if item.kind == "nag"]  # the worker has read it…
    h.clock.now = MONDAY_UTC + timedelta(hours=13)
    h.bot.jobs.run_nags(job="nags", now=h.clock())  # …when the lead step folds it into a newer message
    h.clock.now = MONDAY_UTC + timedelta(hours=17)
    h.bot.outbox._send_batch([held], Flight())  # the worker goes on with what it read: the item is no longer pending
    assert dms(h, "U0PPM") == []
    h.settle()
    [dm] = dms(h, "U0PPM")
    assert "escalated to <@U0LEAD>" in dm["text"] and "2 reminders" not in dm["text"]
