"""The weekly digest: what needs a human decision first (with buttons), then the week's figures."""

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock

from bot.blocks import ids
from bot.blocks.common import button, context, section
from bot.domain.digest import DigestFigures, change

MAX_BLOCKS = 45
DECISIONS_LIMIT = 10


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f} h"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def render_digest(figures: DigestFigures, *, title: str) -> list[tuple[str, list[Block]]]:
    """One or more (text, blocks) messages, each inside Block Kit's 50-block limit."""
    prev = figures.previous
    blocks: list[Block] = [HeaderBlock(text=title[:150])]
    decisions: list[Block] = []
    for request_id, key, hours in figures.unowned_regressions[:DECISIONS_LIMIT]:
        decisions.append(section(f":warning: *{key}* regression unowned for {hours:.1f} business hours"))
        decisions.append(ActionsBlock(elements=[button("Take ownership", ids.OWN, key, style="primary"), button("Not mine", ids.DISCLAIM, key)]))
    for request_id, key, days in figures.stale_reviews[:DECISIONS_LIMIT]:
        decisions.append(section(f":hourglass: *{key}* security review: no human action for {days} days"))
        decisions.append(ActionsBlock(elements=[button("Start review", ids.REVIEW_START, key), button("Snooze 1 day", ids.SNOOZE, key)]))
    if decisions:
        blocks.append(section("*Needs a decision*"))
        blocks += decisions
    else:
        blocks.append(section("*Needs a decision*\nNothing: no unowned regression, no stalled review. :tada:"))
    blocks.append(DividerBlock())
    kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(figures.open_by_kind.items())) or "none"
    fields = [
        f"*Opened*\n{figures.opened} ({change(figures.opened, prev and prev.opened)})",
        f"*Resolved*\n{figures.resolved} ({change(figures.resolved, prev and prev.resolved)})",
        f"*Open now*\n{kinds}",
        f"*Median first response*\n{_hours(figures.median_first_response_seconds)}",
        f"*Median resolution*\n{_hours(figures.median_resolution_seconds)}",
        f"*SLA attainment*\n{_pct(figures.sla_attainment)} ({change(figures.sla_attainment, prev and prev.sla_attainment, points=True)})",
        f"*Breaches*\n{figures.breaches} ({change(figures.breaches, prev and prev.breaches)})",
    ]
    if figures.confidential_open:
        fields.append(f"*Confidential open*\n{figures.confidential_open} (details in the private review channel)")
    blocks.append(section(None, fields=fields))
    if figures.oldest_open:
        blocks.append(section("*Oldest open*\n" + "\n".join(f"*{key}* — {days} days" for _, key, days in figures.oldest_open)))
    if figures.snoozed:
        blocks.append(context("Snoozed: " + ", ".join(f"{key} until {until:%a %d %b}" for _, key, until in figures.snoozed)))
    text = f"{title}: {figures.opened} opened, {figures.resolved} resolved, {len(figures.unowned_regressions)} unowned regressions"
    return [(text if i == 0 else f"{title} (continued)", blocks[i:i + MAX_BLOCKS]) for i in range(0, len(blocks), MAX_BLOCKS)]
