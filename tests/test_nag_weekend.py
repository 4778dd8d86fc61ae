"""Nags over a weekend, through the real app: a reminder held for working hours says one age for its request, a
person's batched message offers each button once per request, and a repeat held over a weekend is not followed
by the next one the very next day."""

import re
from collections import Counter
from datetime import datetime, timedelta

from tests.harness import START, Harness
from tests.stories import buttons, dms, shown

THURSDAY = START + timedelta(days=3)  # Thu 26 Nov, 10:00 in Berlin


def mornings(h: Harness, days: int, user: str) -> list[tuple[str, dict]]:
    """Days go by; the nag jobs run at 09:00 UTC each day, weekends included, and the outbox sends what is due.
    The direct messages `user` received, each with the day it came (Mon 30 Nov)."""
    received: list[tuple[str, dict]] = []
    for _ in range(days):
        h.clock.advance(days=1)
        before = len(dms(h, user))
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()
        received += [(h.clock().strftime("%a %d %b"), dm) for dm in dms(h, user)[before:]]
    return received


def test_a_stale_review_held_over_the_weekend_is_not_repeated_the_next_day(harness: Harness) -> None:
    h = harness
    h.clock.now = THURSDAY
    h.command("security review: vendor LLM reads refund emails", user="U0REQ")
    h.command("security review: vendor OCR for receipts", user="U0REQ")
    h.settle()
    received = mornings(h, 20, "U0SEC1")
    mondays = [dm for when, dm in received if when.startswith("Mon")]
    assert mondays
    for when, dm in received:
        labels = buttons(dm)
        assert all(n == 1 for n in Counter(labels).values()), f"{when}: a button twice: {labels}"
        for line in dm[
            "text"
        ].splitlines():  # held for the weekend, it says one age: "17 days open", "filed 17 days ago"
            if "security review:" in line and (opened := re.search(r"(AIR-\d) security review: (\d+) days open", line)):
                key, n = opened.groups()
                assert f"*{key}* · " in shown(dm) and f"filed by <@U0REQ> {n} days ago" in shown(dm), (when, line)
    first = received[0][1]["text"]  # Monday 30 Nov: the breach, not the at-risk note held since Friday beside it
    assert "first response breached" in first and "first response at risk" not in first
    stale_days = [
        datetime.strptime(f"{when} 2026", "%a %d %b %Y").date()
        for when, dm in received
        if "security review:" in dm["text"]
    ]
    gaps = [(b - a).days for a, b in zip(stale_days, stale_days[1:])]
    assert gaps and min(gaps) >= 3, f"a repeat came too soon: {stale_days}"
