"""Snooze through the real app: pressing again extends from the running snooze, never past snooze_max_days
from the first press in the silence; the thread hears of it once; the presser is told until when."""

from bot.blocks import ids
from tests.harness import Harness
from tests.stories import thread_posts


def snoozed_lines(h: Harness) -> list[str]:
    return [m["text"] for m in thread_posts(h, "AIR-1") if "snoozed" in m["text"]]


def test_pressing_again_extends_up_to_the_cap_and_the_thread_hears_it_once(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window")  # Monday 10:00 in Berlin
    h.settle()
    told = []
    for _ in range(3):
        h.click(ids.SNOOZE, "AIR-1", user="U0PPM")
        h.settle()
        told.append(h.ephemerals("U0PPM")[-1])
        h.clock.advance(hours=1)
    assert told == [
        "AIR-1 is snoozed until Tue 24 Nov 10:00.",
        "AIR-1 is snoozed until Wed 25 Nov 10:00.",
        "AIR-1 is snoozed until Thu 26 Nov 10:00.",
    ]
    assert snoozed_lines(h) == ["<@U0PPM> snoozed reminders until Tue 24 Nov 10:00."]

    h.click(ids.SNOOZE, "AIR-1", user="U0MLPM")  # three days from the first press: no further
    h.settle()
    assert h.ephemerals("U0MLPM")[-1].startswith(
        "AIR-1 cannot be snoozed any longer: a snooze lasts at most 3 days from the first press (<@U0PPM>, Mon 23 Nov 10:00)."
    )
    _, events = h.bot.queries.status("AIR-1", "U0ADMIN")
    assert [e.type for e in events].count("snoozed") == 3

    h.clock.advance(days=2, hours=21)  # Thursday 10:00: the snooze is over, the nags come back
    lines = h.bot.jobs.run_nags(job="nags", now=h.clock())
    assert lines and all("AIR-1" in line for line in lines)
