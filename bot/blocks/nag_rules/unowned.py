"""The unowned-regression nag (`regression.unowned`): its sentence, and the lines the digests give an unowned
regression (the decision with its offers, the private digest's hours, the count of those not listed)."""

from zoneinfo import ZoneInfo

from bot.blocks.nag_rules.words import mentions
from bot.domain.nag_facts import Offer, UnownedFacts
from bot.blocks.words import hours_text, local_when
from bot.domain.text import escape, truncate

DIGEST_OFFERS = (Offer.TAKE, Offer.NOT_MINE)
"""What an unowned regression listed in a digest offers."""


def sentence(f: UnownedFacts) -> str:
    """E.g. "AIR-5 regression has had no owner for 4 business hours (filed Mon 23 Nov 10:00): <@U0PPM> or
    <@U0MLPM>, take ownership, or say why it is not yours". Both owners are named in every copy (the
    thread's and each direct message), so each sees that the other was asked too."""
    filed = local_when(f.filed, tz=ZoneInfo(f.tz))
    head = f"{f.key} regression has had no owner for {hours_text(f.elapsed)} business hours (filed {filed})"
    lead = mentions(f.lead, joined=" or ")
    if f.disclaimed:
        return f"{head}; {disclaimers(f.disclaimers)}; {lead}: take it, or hand it to someone"
    asked = mentions(f.owners, joined=" or ") or lead
    if f.step == "lead":
        return f"{head}: {asked}, take ownership, or say why it is not yours; escalated to {lead}"
    return f"{head}: {asked}, take ownership, or say why it is not yours"


def disclaimers(said: tuple[tuple[str, str], ...]) -> str:
    """ "<@U0PPM> says it is not theirs: “reason”", the reasons escaped (they are user text)."""
    return "; ".join(f"<@{by}> says it is not theirs: “{escape(truncate(reason, 200))}”" for by, reason in said)


def digest_line(key: str, hours: float) -> str:
    """An unowned regression among a digest's decisions."""
    return f":warning: *{key}* regression unowned for {hours:.1f} business hours"


def hidden_count(n: int, *, longest: float | None) -> str:
    """The unowned confidential regressions a channel may not list, counted."""
    what = "confidential regression" if n == 1 else "confidential regressions"
    return f"{n} {what} unowned, the longest for {longest:.1f} business hours"


def private_hours(hours: float) -> str:
    """An unowned regression's hours in the private digest's line."""
    return f"unowned for {hours:.1f} business hours"
