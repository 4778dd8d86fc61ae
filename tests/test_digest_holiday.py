"""No digest on a holiday: one due on a holiday Friday goes on the business day before, for that week, and the
holiday itself sends nothing. Through the real app and the scheduler's own runs, the clock moved by hand."""

import copy
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from bot.entry.scheduler import Scheduler
from tests.harness import CONFIG, Clock, Harness, start_harness


@pytest.fixture
def fridays(tmp_path, fake_slack) -> Iterator[Harness]:
    config = copy.deepcopy(CONFIG)
    config["digest"] = {"channel": "C0DIGEST", "cron": "0 16 * * fri"}  # Fridays 16:00 in Berlin; 25 Dec is a holiday
    h = start_harness(
        tmp_path, fake_slack, config=config, clock=Clock(datetime(2026, 12, 17, 15, 0, tzinfo=timezone.utc))
    )
    yield h
    h.stop()


def digests(h: Harness) -> list[str]:
    return [c["channel"] for c in h.fake.calls_to("chat.postMessage") if "Weekly digest" in c["text"]]


def at(h: Harness, scheduler: Scheduler, when: datetime, job: str) -> list[str]:
    h.clock.now = when
    lines = scheduler.run(job)
    h.settle()
    return lines


def test_a_digest_due_on_a_holiday_goes_out_the_business_day_before(fridays: Harness) -> None:
    h = fridays
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.settle()
    scheduler = Scheduler(h.bot.jobs, h.bot.store, h.bot.config, clock=h.bot.clock, holder="host:1")
    assert (
        at(h, scheduler, datetime(2026, 12, 17, 15, 0, tzinfo=timezone.utc), "digest-eve") == []
    )  # Thursday: Friday is no holiday
    assert at(h, scheduler, datetime(2026, 12, 18, 15, 0, tzinfo=timezone.utc), "digest") != []  # Friday 18 Dec
    sent = len(digests(h))
    assert sent >= 2  # support's, search's and the organisation's
    assert at(h, scheduler, datetime(2026, 12, 24, 15, 0, tzinfo=timezone.utc), "digest-eve") != []  # Thursday 24 Dec
    assert len(digests(h)) == 2 * sent, "the holiday's digest went out on Thursday"
    assert at(h, scheduler, datetime(2026, 12, 25, 15, 0, tzinfo=timezone.utc), "digest") == []  # Christmas: nothing
    assert len(digests(h)) == 2 * sent
    assert at(h, scheduler, datetime(2026, 12, 31, 15, 0, tzinfo=timezone.utc), "digest-eve") == []
    assert (
        at(h, scheduler, datetime(2027, 1, 1, 15, 0, tzinfo=timezone.utc), "digest") != []
    )  # not a holiday of this config
    assert len(digests(h)) == 3 * sent
