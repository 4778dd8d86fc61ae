"""Ephemeral answers and thread replies: help, quick-create confirmation, status, mine, queue."""

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.blocks import ids
from bot.blocks.card import STATUS_LABEL, kind_label, shown_title
from bot.blocks.common import button, context, local, section, user
from bot.domain.history import worst_sla_state
from bot.domain.models import Event, Request, WithEvents
from bot.domain.policy import Config
from bot.domain.visibility import visible_to

HELP = """*ai-intake* routes requests for AI help to the embedded AI engineer of the right domain.
• `/ai-request` — open the form
• `/ai-request regression: refund bot answers with the wrong window` — file at once (`kind:` is optional: {kinds})
• `/ai-request mine` — what is assigned to you and what you filed
• `/ai-request queue [domain]` — a domain's open requests ({domains})
• `/ai-request status AIR-12` — one request and its history
• `/ai-request shipped [product|platform] [kind:] <what>` — log a change your side shipped; the other side is asked \
whether it is covered (no text opens the form)
• `/ai-request changes [domain]` — the latest changes logged
• `/ai-request search <words>` — past requests holding those words
• `/ai-request help` — this text
In a channel, mention `@ai-intake <text>` to file from a message (reply in a request's thread to comment), \
use the message shortcut *Create AI request*, or react with :ticket:."""
LIST_LIMIT = 15


def help_text(config: Config) -> str:
    domains = ", ".join(d.name for d in config.domains) or "none configured yet"
    return HELP.format(kinds=", ".join(config.kind_names), domains=domains)


SLA_LABEL = {"breached": ":red_circle: SLA breached", "at_risk": ":large_orange_circle: SLA at risk", "on_track": "on track"}


def line(request: Request, *, redact: bool, sla_state: str | None = None) -> str:
    """One request as a list line: key, priority, kind, title, status, assignee, SLA state."""
    title = shown_title(request, redact=redact)
    sla = f" · {SLA_LABEL[sla_state]}" if sla_state in SLA_LABEL else ""
    return f"*{request.key}* {request.priority} {kind_label(request.kind)} — {title} · {request.status} · {user(request.assignee, none='unassigned')}{sla}"


def listed_line(request: Request, events: Sequence[Event], config: Config, *, now: datetime, viewer: str) -> str:
    """A list line as `viewer` sees it at `now`: a confidential title hidden unless they may see it, and the
    worst state of its SLA clocks."""
    redact = not visible_to(config, request, user=viewer)
    return line(request, redact=redact, sla_state=worst_sla_state(request, events, config, now=now))


def filed_reply(request: Request, config: Config, *, created: bool, user: str | None = None,
                channel: str | None = None) -> tuple[str, list[Block]]:
    """The answer to filing: the key, where it went and why, and "Edit details".

    Its audience is `user` (an ephemeral answer or a direct message) or `channel` (the thread the
    request was filed from): where `visible_to` hides a confidential request's words, the title is
    replaced and the routing reasons are left out.
    """
    where = f"<#{request.card_channel}>" if request.card_channel else "triage"
    verb = "Filed" if created else "Already filed as"
    redact = not visible_to(config, request, user=user, channel=channel)
    text = f"{verb} *{request.key}*: {shown_title(request, redact=redact)} → {where}"
    blocks: list[Block] = [section(text)]
    if not redact:
        blocks.append(context(":compass: " + "; ".join(request.route_reasons)))
    blocks.append(ActionsBlock(elements=[
        button("Edit details", ids.EDIT, request.key),
        button("Withdraw", ids.WITHDRAW, request.key, confirm=f"Withdraw {request.key}? It will be closed as declined."),
    ]))
    return f"{verb} {request.key} → {where}", blocks


def status_reply(request: Request, events: list[Event], config: Config, *, viewer: str) -> tuple[str, list[Block]]:
    """One request and its last ten events, as `viewer` sees it (times in its domain's zone)."""
    tz = config.calendar(request.domain).tz
    head = line(request, redact=not visible_to(config, request, user=viewer))
    history = [f"{local(e.at, tz)} · {user(e.actor)} · {e.type.replace('_', ' ')}" for e in events[-10:]]
    blocks: list[Block] = [section(head), section("\n".join(history) or "_no history_")]
    if request.card_channel and request.card_ts:
        blocks.append(context(f"Card in <#{request.card_channel}>"))
    return f"{request.key}: {STATUS_LABEL.get(request.status, request.status)}", blocks


def list_reply(title: str, groups: list[tuple[str, list[WithEvents]]], config: Config, *, now: datetime, viewer: str,
               total: int | None = None) -> tuple[str, list[Block]]:
    """A titled list of requests in groups, each line as `viewer` sees it at `now` (`listed_line`)."""
    blocks: list[Block] = [section(f"*{title}*")]
    shown = 0
    for heading, requests in groups:
        lines = [listed_line(r, events, config, now=now, viewer=viewer) for r, events in requests[:LIST_LIMIT]]
        blocks.append(section(f"*{heading}*\n" + ("\n".join(lines) if lines else "_nothing_")))
        shown += len(lines)
    if total is not None and total > shown:
        blocks.append(context(f"Showing the {shown} oldest of {total}."))
    return title, blocks


def notice(text: str) -> tuple[str, list[Block]]:
    return text, [section(text)]


def when(at: datetime | None, tz: ZoneInfo) -> str:
    return local(at, tz) if at else "—"
