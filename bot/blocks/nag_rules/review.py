"""The stale-review nag (`review.stale`): its sentence, and the lines the digests give a stalled review (the
decision with its offers, the top of the ladder, the private digest's silence)."""

from bot.blocks.nag_rules.words import age, days, mentions
from bot.blocks.words import COURT_LABEL
from bot.domain.nag_facts import Ask, Offer, ReviewFacts, days_of
from bot.domain.text import escape, escape_within, truncate

DIGEST_OFFERS = (Offer.START_REVIEW, Offer.SNOOZE)
"""What a stalled review listed in a digest offers."""


def sentence(f: ReviewFacts) -> str:
    """E.g. "AIR-7 security review: 63 days open: 51 waiting on security, 9 on the requester; ball with
    <@U0SEC1>, silent for 19 days; <@U0ANA> asked for an update 2 days ago"; the ladder's `top` rung says
    it is in the org digest."""
    spent = ", ".join(
        f"{days_of(s)} {'waiting ' if i == 0 else ''}on {COURT_LABEL[c]}" for i, (c, s) in enumerate(f.courts)
    )
    text = (
        f"{f.key} security review: {days(f.open_seconds)} open"
        + (f": {spent}" if spent else "")
        + f"; ball with {mentions(f.holders) or 'nobody'}, silent for {days(f.silent_seconds)}"
    )
    if f.asks:
        text += "; " + "; ".join(_asked(a) for a in f.asks)
        if f.last_said:
            text += f"; last asked: “{escape(truncate(' '.join(f.last_said.split()), 200))}”"
    return text + ("; shown in the org digest" if f.top else "")


def _asked(a: Ask) -> str:
    """ "<@U0ANA> asked for an update 2 days ago (3 times)"; anyone but the requester "wrote in the thread"."""
    verb = "asked for an update" if a.requester else "wrote in the thread"
    return f"<@{a.who}> {verb} {age(a.ago_seconds)} ago" + (f" ({a.times} times)" if a.times > 1 else "")


def digest_line(key: str, silent_days: int) -> str:
    """A stalled review among a digest's decisions."""
    return f":hourglass: *{key}* security review: its ball holder silent for {silent_days} days"


def top_rung_line(key: str, silent_days: int, court: str, title: str | None) -> str:
    """A review past the top of the ladder, in the organisation's digest; a title only where it may be seen."""
    what = escape_within(title, 120) if title is not None else "confidential security review"
    return f"*{key}* · {what} · silent {silent_days} days · ball with {COURT_LABEL.get(court, court)}"


TOP_RUNG_HEADING = "*:rotating_light: Past the top of the review ladder*, as its nag promised:"


def hidden_count(n: int, *, stale_days: int, longest: int | None) -> str:
    """The stalled confidential reviews a channel may not list, counted."""
    what = "confidential security review" if n == 1 else "confidential security reviews"
    return f"{n} {what} stalled over {stale_days} days, oldest {longest} days"


def private_silence(silent_days: int, *, top: bool) -> str:
    """A stalled review's silence in the private digest's line."""
    return f"silent {silent_days} {'day' if silent_days == 1 else 'days'}" + (
        " — past the top of the ladder" if top else ""
    )
