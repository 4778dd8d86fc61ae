"""Ephemeral answers and thread replies: help, quick-create confirmation, status, mine, queue."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, SectionBlock

from bot.blocks import ids
from bot.blocks.card import STATUS_LABEL, TITLE_LIMIT, kind_label, shown_title
from bot.blocks.common import SECTION_LIMIT, button, context, local, section, user
from bot.domain.history import worst_sla_state
from bot.domain.parsing import SUBCOMMANDS, cut_sentence
from bot.domain.models import Away, Event, Listing, Request
from bot.domain.policy import Config
from bot.domain.text import escape_within
from bot.domain.visibility import visible_to

HELP = """*ai-intake* routes requests for AI help to the embedded AI engineer of the right domain.
• `/ai-request` — open the form
• `/ai-request the refund bot stopped answering in French` — file at once; triage reads the kind from the words \
(or name it first, `regression: …`: {kinds})
• `/ai-request mine` — what is assigned to you and what you filed
• `/ai-request queue [domain]` — a domain's open requests ({domains})
• `/ai-request status AIR-12` — one request and its history
• `/ai-request shipped [product|platform] [kind:] <what>` — log a change your side shipped; the other side is asked \
whether it is covered (no text opens the form)
• `/ai-request changes [domain]` — the latest changes logged
• `/ai-request search <words>` — past requests holding those words
• `/ai-request duplicate AIR-12 of AIR-7` — close AIR-12 as a duplicate of AIR-7 (its requester is told)
• `/ai-request away [until 2026-12-07]` — triage assigns you nothing new (until the day you are back)
• `/ai-request back` — triage assigns to you again
• `/ai-request help` — this text
A long list or history ends with how many more there are: add `page 2` (`/ai-request queue support page 2`).
In a channel, mention `@ai-intake <text>` to file from a message (reply in a request's thread to comment), \
use the message shortcut *Create AI request*, or react with :ticket:."""
LIST_TITLE_LIMIT = 100
"""A title in a list line is cut (visibly) here, so a page of lines stays well inside a message's limits."""
EVENTS_PER_PAGE = 20


def help_text(config: Config) -> str:
    domains = ", ".join(d.name for d in config.domains) or "none configured yet"
    return HELP.format(kinds=", ".join(config.kind_names), domains=domains)


def usage_text(subcommand: str, config: Config) -> str:
    """How to type `subcommand`, for text that started with its word but did not fit it (nothing was filed)."""
    usage = SUBCOMMANDS[subcommand].usage
    said = next((line for line in help_text(config).splitlines() if line.startswith(f"• `/ai-request {usage}`")), "")
    return (f"Nothing was filed: `{subcommand}` is a command, typed as `/ai-request {usage}`.\n{said}\n"
            f"To file a request that starts with “{subcommand}”, name its kind first "
            f"(`/ai-request question: {subcommand} …`) or use the form (`/ai-request`).")


SLA_LABEL = {"breached": ":red_circle: SLA breached", "at_risk": ":large_orange_circle: SLA at risk", "on_track": "on track"}


def line(request: Request, *, redact: bool, sla_state: str | None = None, title_limit: int = LIST_TITLE_LIMIT) -> str:
    """One request as a list line: key, priority, kind, title (cut visibly at `title_limit`), status, assignee, SLA state."""
    title = shown_title(request, redact=True) if redact else escape_within(request.title, title_limit)
    sla = f" · {SLA_LABEL[sla_state]}" if sla_state in SLA_LABEL else ""
    return f"*{request.key}* {request.priority} {kind_label(request.kind)} — {title} · {request.status} · {user(request.assignee, none='unassigned')}{sla}"


def listed_line(request: Request, events: Sequence[Event], config: Config, *, now: datetime, viewer: str) -> str:
    """A list line as `viewer` sees it at `now`: a confidential title hidden unless they may see it, and the
    worst state of its SLA clocks."""
    redact = not visible_to(config, request, user=viewer)
    return line(request, redact=redact, sla_state=worst_sla_state(request, events, config, now=now))


def cut_note(request: Request, cut: Sequence[str]) -> str:
    """What was cut to fit what is stored, in one line (where the whole text still is, when it came from a message)."""
    return ":scissors: " + cut_sentence(cut, whole_elsewhere=request.origin_ts is not None)


def filed_reply(request: Request, config: Config, *, created: bool, user: str | None = None,
                channel: str | None = None, cut: Sequence[str] = ()) -> tuple[str, list[Block]]:
    """The answer to filing: the key, where it went and why, what was cut to fit, and "Edit details".

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
    if cut:
        blocks.append(context(cut_note(request, cut)))
    blocks.append(ActionsBlock(elements=[
        button("Edit details", ids.EDIT, request.key),
        button("Withdraw", ids.WITHDRAW, request.key, confirm=f"Withdraw {request.key}? It will be closed as declined."),
    ]))
    return f"{verb} {request.key} → {where}", blocks


def status_reply(request: Request, events: list[Event], config: Config, *, viewer: str, page: int = 1) -> tuple[str, list[Block]]:
    """One request and its history as `viewer` sees it (times in its domain's zone): the newest `EVENTS_PER_PAGE`
    events on page 1, older ones on the pages after, and how to see them."""
    tz = config.calendar(request.domain).tz
    head = line(request, redact=not visible_to(config, request, user=viewer), title_limit=TITLE_LIMIT)
    end = max(0, len(events) - (page - 1) * EVENTS_PER_PAGE)
    start = max(0, end - EVENTS_PER_PAGE)
    history = [f"{local(e.at, tz)} · {user(e.actor)} · {e.type.replace('_', ' ')}" for e in events[start:end]]
    blocks: list[Block] = [section(head)]
    if history:
        blocks += line_sections(f"*History* (events {start + 1}–{end} of {len(events)}, oldest first)", history)
    else:
        pages = max(1, -(-len(events) // EVENTS_PER_PAGE))
        blocks.append(section(f"_No events on page {page}: the history has {len(events)} ({pages} page{'s' if pages > 1 else ''})._"))
    if start > 0:
        more = f"status {request.key} page {page + 1}"
        blocks.append(context(f"+{start} earlier: `/ai-request {more}` (or `ai-intake export` for everything)"))
        blocks.append(ActionsBlock(elements=[button("Earlier events", ids.LIST_PAGE, more)]))
    if request.card_channel and request.card_ts:
        blocks.append(context(f"Card in <#{request.card_channel}>"))
    return f"{request.key}: {STATUS_LABEL.get(request.status, request.status)}", blocks


@dataclass(frozen=True)
class Group:
    """One list under its heading, a page of it, and the `/ai-request` words that show the next page."""

    heading: str
    listing: Listing
    next_page: str


def list_reply(title: str, groups: Sequence[Group], config: Config, *, now: datetime, viewer: str) -> tuple[str, list[Block]]:
    """A titled list of requests in groups, each line as `viewer` sees it at `now` (`listed_line`). A group with more
    than its page says how many and how to see them, with a "Next page" button (`list.page`): nothing is dropped."""
    blocks: list[Block] = [section(f"*{title}*")]
    next_pages: list[str] = []
    for group in groups:
        lines = [listed_line(r, events, config, now=now, viewer=viewer) for r, events in group.listing.items]
        blocks += line_sections(f"*{group.heading}* ({shown_of(group.listing)})", lines or ["_nothing_"])
        if group.listing.more:
            blocks.append(context(f"+{group.listing.more} more: `/ai-request {group.next_page}`"))
            if group.next_page not in next_pages:
                next_pages.append(group.next_page)
    if next_pages:
        blocks.append(ActionsBlock(elements=[button("Next page", ids.LIST_PAGE, value) for value in next_pages[:5]]))
    return title, blocks


def shown_of(listing: Listing) -> str:
    """"32" when everything is on the page, else "16–30 of 32"."""
    if not listing.skipped and not listing.more:
        return str(listing.total)
    if not listing.items:
        return f"none here, {listing.total} in all"
    return f"{listing.skipped + 1}–{listing.skipped + len(listing.items)} of {listing.total}"


def line_sections(heading: str, lines: Sequence[str]) -> list[SectionBlock]:
    """`heading` and `lines` in as many sections as their length needs (a section holds `SECTION_LIMIT` characters):
    every line is shown whole."""
    sections: list[SectionBlock] = []
    text = heading
    for one in lines:
        if len(text) + 1 + len(one) > SECTION_LIMIT:
            sections.append(section(text))
            text = one
        else:
            text = f"{text}\n{one}"
    sections.append(section(text))
    return sections


def away_reply(away: Away) -> tuple[str, list[Block]]:
    """The answer to `/ai-request away`."""
    if away.until is None:
        return notice("You are away: triage assigns you nothing new until you type `/ai-request back`. "
                      "What you hold stays yours: reassign it if it cannot wait.")
    return notice(f"You are away until {away.until:%a %d %b} (back that day): triage assigns you nothing new until then "
                  "(`/ai-request back` ends it sooner). What you hold stays yours: reassign it if it cannot wait.")


def back_reply(was_away: bool) -> tuple[str, list[Block]]:
    """The answer to `/ai-request back`."""
    if was_away:
        return notice("Welcome back: triage assigns to you again.")
    return notice("You were not away (by `/ai-request away`): triage assigns to you as before.")


def duplicate_notice(config: Config, request: Request, original: Request, actor: str) -> str:
    """What the requester of a request closed as a duplicate is told (by direct message): which one to follow, and
    where its card is when they may see it."""
    mine = f"Your request {request.key} “{escape_within(request.title, 120)}”" if visible_to(config, request, user=request.requester) \
        else f"Your request {request.key}"
    if visible_to(config, original, user=request.requester):
        where = (f"<{original.card_permalink}|its card>" if original.card_permalink
                 else f"its card in <#{original.card_channel}>" if original.card_channel else "it")
        follow = f"{original.key} “{escape_within(original.title, 120)}”: follow {where}"
    else:
        follow = f"{original.key}, a confidential request its people are working on"
    return f"{mine} was closed by {user(actor)} as a duplicate of {follow}. If it is not the same, say so in your request's thread."


def notice(text: str) -> tuple[str, list[Block]]:
    return text, [section(text)]


def when(at: datetime | None, tz: ZoneInfo) -> str:
    return local(at, tz) if at else "—"
