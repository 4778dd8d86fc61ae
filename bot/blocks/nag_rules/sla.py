"""The SLA nags (`sla.at_risk`, `sla.breached`): their sentence. Their one offer is a snooze (none for a P1 breach)."""

from zoneinfo import ZoneInfo

from bot.domain.nag_facts import SlaFacts
from bot.blocks.words import sla_line


def sentence(f: SlaFacts) -> str:
    """E.g. "AIR-12 first response at risk: due Tue 24 Nov 14:00, 3 business hours elapsed of 4, paused
    2 h waiting on the requester"."""
    label = f.target.replace("_", " ") + (f" (cycle {f.cycle}, after reopening)" if f.cycle > 1 else "")
    text = f"{f.key} {label} {sla_line(f.status, tz=ZoneInfo(f.tz))}"
    if f.status.paused_seconds > 0:
        text += " waiting on the requester"
    if f.unassigned:
        text += "; nobody is assigned"
    return text
