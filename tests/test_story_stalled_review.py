"""A stalled security review cannot hide: the requester keeps asking in the thread, the reviewer stays silent,
and the ladder climbs anyway, saying who asked; the digests, public and private, tell the truth about it.

Played through the real app over simulated weeks (signed requests in, the jobs on the clock, the outbox to
the fake Slack); then what each person and channel received, and that nothing reached anyone who may not
see it.
"""

from tests.harness import Harness
from tests.stories import dm_recipients, dms, shown

TITLE = "vendor LLM reads refund emails"


def day(h: Harness, days: int = 1) -> None:
    """Days go by; the nag jobs run each morning."""
    for _ in range(days):
        h.clock.advance(days=1)
        h.bot.jobs.run_nags(job="sla", now=h.clock())
        h.bot.jobs.run_nags(job="nags", now=h.clock())
        h.settle()


def test_asking_for_an_update_does_not_restart_the_reviewers_silence(harness: Harness) -> None:
    h = harness
    h.command(f"security review: {TITLE}", user="U0REQ")  # confidential; its card in support's private channel
    h.settle()
    review = h.bot.queries.get(1)
    assert (review.confidential, review.card_channel, review.assignee) == (True, "G0SUPSEC", "U0SEC1")
    h.click("review.start", "AIR-1", user="U0SEC1")
    h.settle()
    for _ in range(3):  # every other day: "any update?"
        day(h, 2)
        h.reply_in_thread("G0SUPSEC", review.card_ts, "any update?", user="U0REQ")
        h.settle()
    day(h, 1)  # 7 days since the reviewer's last word, 1 since the requester's
    [nag] = dms(h, "U0SEC1")
    assert "ball with <@U0SEC1>, silent for 7 days; <@U0REQ> asked for an update 1 day ago (3 times)" in nag["text"]
    assert f"*AIR-1* · {TITLE}" in shown(nag)  # the reviewer may see it
    assert dm_recipients(h) == {"U0SEC1"}  # rung 1: the ball holder and the domain's reviewers
