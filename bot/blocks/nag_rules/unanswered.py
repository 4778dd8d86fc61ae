"""The unanswered-change nag (`change.unacknowledged`): its sentence, and the lines the digests give a change
nobody answered (the decision with its answers as offers, and its count in the heading)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.blocks.common import user
from bot.blocks.nag_rules.words import mentions
from bot.blocks.change_text import QUESTIONS, describe, shipper
from bot.domain.changes import ShippedChange
from bot.domain.nag_facts import Offer, UnansweredFacts
from bot.blocks.words import local_when
from bot.domain.text import escape, escape_within

DIGEST_OFFERS = (Offer.COVERED, Offer.NEEDS_WORK, Offer.NOT_RELEVANT)
"""What an unanswered change listed in a digest offers: its answers (answering from the digest answers it)."""


def sentence(f: UnansweredFacts) -> str:
    """E.g. "CHG-7 has waited 2 business days for an answer from <@U0MLPM>: Product shipped *express-refund
    intent* (intent) in support (<@U0PPM>, Mon 23 Nov 10:00). Does the prompt/eval suite cover it?", and at
    the lead's step " Escalated to <@U0LEAD>."."""
    change, n = f.change, f.waited_days
    text = (
        f"{change.id} has waited {n} business day{'' if n == 1 else 's'} for an answer from <@{f.asked}>: "
        f"{change.side.capitalize()} shipped {describe(change)} in {escape(change.domain)} "
        f"({shipper(change)}, {local_when(change.at, tz=ZoneInfo(f.tz))}). {QUESTIONS[change.side]}"
    )
    return text + (f" Escalated to {mentions(f.escalated_to, joined=' and ')}." if f.escalated_to else "")


def digest_count(n: int, *, after_days: float) -> str:
    """The changes that need a decision, counted for a digest's heading."""
    return f"{n} {'change' if n == 1 else 'changes'} unanswered for {after_days:g} business days or more"


def digest_line(
    shipped: ShippedChange, waited_days: float, *, snoozed: tuple[datetime, str | None] | None = None
) -> str:
    """An unanswered change among a digest's decisions: what shipped, whom it asked, how long it waited."""
    line = (
        f":hourglass: *{shipped.id}* · {shipped.side} shipped {describe(shipped)} in {escape_within(shipped.domain, 40)} · "
        f"asked {user(shipped.asked)} · unanswered for {waited_days:.1f} business days"
    )
    if snoozed is not None:
        until, by = snoozed
        line += f" · snoozed until {until:%a %d %b} ({user(by)})"
    return line
