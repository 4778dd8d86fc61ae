"""Ephemeral answers and thread replies: help, quick-create confirmation, status, mine, queue."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import ActionsBlock, Block, SectionBlock

from bot.blocks import checked, ids
from bot.blocks.card import STATUS_LABEL, TITLE_LIMIT, kind_label, shown_title
from bot.blocks.nags import opens_card
from bot.blocks.reasons import routing_line
from bot.blocks.common import SECTION_LIMIT, button, context, local, section, user
from bot.domain.history import worst_sla_state
from bot.domain.parsing import SUBCOMMANDS
from bot.domain.models import Away, Event, Listing, Request
from bot.domain.policy import Config
from bot.blocks.words import COURT_LABEL, cut_sentence
from bot.domain.courts import ball_holders
from bot.domain.text import escape, escape_within, truncate
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
• `/ai-request away [until 2026-12-07]` — triage assigns you nothing new (until the day you are back); add \
`cover @someone` and your nags go to them (else to your lead), who is sent what you hold
• `/ai-request back` — triage assigns to you again
• `/ai-request notify [all|important|none]` — what you are told, by direct message, of the requests you filed
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
    return (
        f"Nothing was filed: `{subcommand}` is a command, typed as `/ai-request {usage}`.\n{said}\n"
        f"To file a request that starts with “{subcommand}”, name its kind first "
        f"(`/ai-request question: {subcommand} …`) or use the form (`/ai-request`)."
    )


SLA_LABEL = {
    "breached": ":red_circle: SLA breached",
    "at_risk": ":large_orange_circle: SLA at risk",
    "on_track": "on track",
}


def line(
    request: Request,
    *,
    redact: bool,
    sla_state: str | None = None,
    title_limit: int = LIST_TITLE_LIMIT,
    away: Mapping[str, Away] | None = None,
) -> str:
    """One request as a list line: key, priority, kind, title (cut visibly at `title_limit`), status, assignee (with
    🌴 and the day they are back when `away` says they are away), SLA state."""
    title = shown_title(request, redact=True) if redact else escape_within(request.title, title_limit)
    sla = f" · {SLA_LABEL[sla_state]}" if sla_state in SLA_LABEL else ""
    gone = away_mark((away or {}).get(request.assignee or ""))
    return (
        f"*{request.key}* {request.priority} {kind_label(request.kind)} — {title} · {request.status} · "
        f"{user(request.assignee, none='unassigned')}{gone}{sla}"
    )


def listed_line(
    request: Request,
    events: Sequence[Event],
    config: Config,
    *,
    now: datetime,
    viewer: str,
    whose: bool = False,
    away: Mapping[str, Away] | None = None,
) -> str:
    """A list line as `viewer` sees it at `now`: a confidential title hidden unless they may see it, and the
    worst state of its SLA clocks; `whose`: and whose court the ball is in (a requester's list of what she filed)."""
    redact = not visible_to(config, request, user=viewer)
    said = line(request, redact=redact, sla_state=worst_sla_state(request, events, config, now=now), away=away)
    return said + (f" · {whose_court(request, config, user=viewer)}" if whose else "")


FOLLOW_UP = (
    "Follow up on one you filed: `@ai-intake any update on AIR-5?` in any channel, a reply in its thread, "
    "or a direct message to ai-intake; `/ai-request status AIR-5` shows where it stands."
)


def cut_note(request: Request, cut: Sequence[str]) -> str:
    """What was cut to fit what is stored, in one line (where the whole text still is, when it came from a message)."""
    return ":scissors: " + cut_sentence(cut, whole_elsewhere=request.origin_ts is not None)


def filed_reply(
    request: Request,
    config: Config,
    *,
    created: bool,
    user: str | None = None,
    channel: str | None = None,
    cut: Sequence[str] = (),
) -> tuple[str, list[checked.Dict]]:
    """The answer to filing: the key, where it went and why, what was cut to fit, and "Edit details".

    Its audience is `user` (an ephemeral answer or a direct message) or `channel` (the thread the
    request was filed from): where `visible_to` hides a confidential request's words, the title is
    replaced and the routing reasons are left out. Its blocks are checked dicts (`bot.blocks.checked`):
    a command's ack carries them.
    """
    where = f"<#{request.card_channel}>" if request.card_channel else "triage"
    if (
        request.card_channel
        and not (user and opens_card(config, request, user))
        and not opens_card(config, request, "")
    ):
        where = f"{request.domain}'s private review channel (you hear of it here and by direct message)"
    verb = "Filed" if created else "Already filed as"
    redact = not visible_to(config, request, user=user, channel=channel)
    text = f"{verb} *{request.key}*: {shown_title(request, redact=redact)} → {where}"
    blocks = [checked.section(text)]
    if not redact:
        blocks.append(checked.context(routing_line(request)))
    if cut:
        blocks.append(checked.context(cut_note(request, cut)))
    blocks.append(
        checked.actions(
            checked.button("Edit details", ids.EDIT, request.key),
            checked.button(
                "Withdraw", ids.WITHDRAW, request.key, confirm=f"Withdraw {request.key}? It will be closed as declined."
            ),
        )
    )
    return f"{verb} {request.key} → {where}", blocks


def status_reply(
    request: Request, events: list[Event], config: Config, *, viewer: str, page: int = 1
) -> tuple[str, list[Block]]:
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
        blocks.append(
            section(
                f"_No events on page {page}: the history has {len(events)} ({pages} page{'s' if pages > 1 else ''})._"
            )
        )
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
    filed: bool = False
    """What the viewer filed: each line says whose court it is in, and the group how to follow one up."""


def list_reply(
    title: str,
    groups: Sequence[Group],
    config: Config,
    *,
    now: datetime,
    viewer: str,
    away: Mapping[str, Away] | None = None,
) -> tuple[str, list[Block]]:
    """A titled list of requests in groups, each line as `viewer` sees it at `now` (`listed_line`). A group with more
    than its page says how many and how to see them, with a "Next page" button (`list.page`): nothing is dropped."""
    blocks: list[Block] = [section(f"*{title}*")]
    next_pages: list[str] = []
    for group in groups:
        lines = [
            listed_line(r, events, config, now=now, viewer=viewer, whose=group.filed, away=away)
            for r, events in group.listing.items
        ]
        blocks += line_sections(f"*{group.heading}* ({shown_of(group.listing)})", lines or ["_nothing_"])
        if group.filed and lines:
            blocks.append(context(FOLLOW_UP))
        if group.listing.more:
            blocks.append(context(f"+{group.listing.more} more: `/ai-request {group.next_page}`"))
            if group.next_page not in next_pages:
                next_pages.append(group.next_page)
    if next_pages:
        blocks.append(ActionsBlock(elements=[button("Next page", ids.LIST_PAGE, value) for value in next_pages[:5]]))
    return title, blocks


def shown_of(listing: Listing) -> str:
    """ "32" when everything is on the page, else "16–30 of 32"."""
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


def away_reply(away: Away) -> tuple[str, list[checked.Dict]]:
    """The answer to `/ai-request away`."""
    covered = (
        f" <@{away.cover}> covers for you: your nags go to them, and they were sent what you hold."
        if away.cover
        else " Your nags go to your lead, who was sent what you hold."
    )
    if away.until is None:
        return notice(
            "You are away: triage assigns you nothing new until you type `/ai-request back`. "
            "What you hold stays yours: reassign it if it cannot wait." + covered
        )
    return notice(
        f"You are away until {away.until:%a %d %b} (back that day): triage assigns you nothing new until then "
        "(`/ai-request back` ends it sooner). What you hold stays yours: reassign it if it cannot wait." + covered
    )


def away_mark(away: Away | None) -> str:
    """ " 🌴 back Mon 07 Dec" beside someone away ("🌴 away" without a date), "" for someone here."""
    if away is None:
        return ""
    return f" :palm_tree: back {away.until:%a %d %b}" if away.until else " :palm_tree: away"


def cover_text(away: Away, held: Sequence[Request], config: Config, *, to: str) -> str:
    """What the stand-in (or the lead) is sent when someone's away begins: who, until when, and what they hold."""
    until = f" until {away.until:%a %d %b}" if away.until else ""
    why = "asked you to cover" if away.cover == to else "is not covered by anyone, so their nags come to you"
    lines = [f"• {line(r, redact=not visible_to(config, r, user=to))}" for r in held[:20]]
    more = [f"… and {len(held) - 20} more: `/ai-request queue`"] if len(held) > 20 else []
    return "\n".join(
        [f"<@{away.user}> is away{until} and {why}: {len(held)} open request(s) they hold:", *lines, *more]
    )


def back_reply(was_away: bool) -> tuple[str, list[checked.Dict]]:
    """The answer to `/ai-request back`."""
    if was_away:
        return notice("Welcome back: triage assigns to you again.")
    return notice("You were not away (by `/ai-request away`): triage assigns to you as before.")


def saved_cut(key: str, cut: Sequence[str]) -> str:
    """What an editor is told when the form's text was cut to fit what is stored."""
    return f"{key} is saved. {cut_sentence(cut)}"


def reply_cut(key: str, *, limit: int) -> str:
    """What someone is told whose thread reply was longer than a history keeps."""
    return f"Your reply is recorded in {key}'s history up to its first {limit:,} characters; the thread keeps it whole."


def everyone_away(request: Request, config: Config, *, domain: str, who: str, to: str) -> str:
    """What the lead (`to`) is told of a request filed while every engineer (`who`: or reviewer) of `domain` is away."""
    title = f" “{escape_within(request.title, 120)}”" if visible_to(config, request, user=to) else ""
    act = "Take ownership of it, or say why it is not yours." if request.is_regression else "Reassign it, or claim it."
    return (
        f"{request.key}{title} was filed for {domain} while every {domain} {who} is away, so nobody "
        f"is assigned: it waits for you (its card is in <#{request.card_channel}>). {act}"
    )


NOT_THERE = {
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "not_in_channel": "the bot is not in that channel; invite it with `/invite @ai-intake`",
    "is_archived": "the channel is archived",
}
"""Why a card could not be posted, for Slack's refusals a person can do something about."""


def card_not_posted(key: str, *, channel: str | None, error: str) -> str:
    """What the requester is told when Slack refused her request's card for good (`error`: Slack's word)."""
    return f"{key} is filed, but its card could not be posted in <#{channel}>: {NOT_THERE.get(error, error)}."


def notice(text: str) -> tuple[str, list[checked.Dict]]:
    """One sentence (or a help text) as the whole answer, in a checked dict (`bot.blocks.checked`)."""
    return text, [checked.section(text)]


def when(at: datetime | None, tz: ZoneInfo) -> str:
    return local(at, tz) if at else "—"


# --- a requester writing about a request she filed: the answer, the thread line, "which one?" ------------------

QUOTE_LIMIT = 300


def _named(request: Request, config: Config, *, user: str, channel: str | None) -> str:
    """ "*AIR-5* (title)" as the place it is said may see it: `channel`, else (a direct message) `user`."""
    shown = visible_to(config, request, channel=channel) if channel else visible_to(config, request, user=user)
    return f"*{request.key}* ({shown_title(request, redact=not shown)})"


def whose_court(request: Request, config: Config, *, user: str) -> str:
    """ "the ball is with <@U0SEC1>", "the ball is with you (it waits on your answer)", "it is closed"."""
    if not request.is_open:
        return f"it is {request.status}"
    if request.court == "requester":
        return "the ball is with you (it waits on your answer)"
    holders = " or ".join(f"<@{u}>" for u in ball_holders(request, config)) or COURT_LABEL.get(request.court, "nobody")
    return f"the ball is with {holders}"


def noted(request: Request, config: Config, *, user: str, channel: str | None) -> str:
    """The answer to a requester's words about her request, where she wrote them (`channel`; None: her DM)."""
    text = (
        f"Noted on {_named(request, config, user=user, channel=channel)}: your words are in its history, and "
        f"{whose_court(request, config, user=user)}. `/ai-request status {request.key}` shows where it stands."
    )
    if channel and not visible_to(config, request, channel=channel):
        text += " It is confidential: it is followed up in your direct messages with ai-intake."
    return text


def asked_line(request: Request, user: str, text: str, *, quoted: bool, direct: bool) -> str:
    """The line in the request's thread: "<@U0ANA> asked: “any update?”" where the thread may see her words, else
    that she asked (by direct message, or elsewhere)."""
    where = " by direct message" if direct else ""
    if quoted:
        return f"<@{user}> asked{where}: “{escape(truncate(' '.join(text.split()), QUOTE_LIMIT))}”"
    return f"<@{user}> asked about it{where}; the request's history has her words."


def which(choices: Sequence[Request], config: Config, *, user: str, channel: str | None) -> str:
    """ "Which one?" when a requester asked about her requests without naming one of several."""
    listed = "\n".join(
        f"• {_named(r, config, user=user, channel=channel)}: {whose_court(r, config, user=user)}" for r in choices
    )
    return (
        f"You have {len(choices)} open requests; name the one you mean (`any update on {choices[0].key}?`):\n{listed}\n"
        "`/ai-request mine` lists them all."
    )


# --- the requester is told what became of her request (a direct message) -----------------------------------------
NEWS = {
    "claimed": "{actor} is working on it now.",
    "reassigned": "it is now with {to}.",
    "handed": "{to} owns and works it now.",
    "reopened": "{actor} reopened it.",
    "review_started": "{actor} started the security review.",
    "waiting": "it waits on you: {actor} asked you something in its thread. {answer}",
    "review_changes_requested": "{actor} requested changes to it. {answer}",
    "resolved": "{actor} resolved it.",
    "review_approved": "{actor} approved the security review; it is resolved.",
    "withdrawn": "{actor} withdrew it.",
}
"""What the requester is told of each event someone else caused (`workflow.TOLD_REQUESTER`), after "*AIR-5* (title): "."""
NEWS_FOOTER = "`/ai-request notify important` tells you only what asks something of you or ends it; `none`, nothing."


def requester_news(
    request: Request, event: str, data: dict, config: Config, *, actor: str, original: Request | None = None
) -> str:
    """The direct message that tells the requester what someone else did to her request (she may see its title).
    A link to its card only where she can open it; a duplicate names the request to follow instead."""
    head = f"*{request.key}* ({shown_title(request, redact=not visible_to(config, request, user=request.requester))}): "
    opens = opens_card(config, request, request.requester) and request.card_channel
    answer = (
        f"Answer in its thread (<#{request.card_channel}>), or write to me here: your words go to the request."
        if opens
        else "Answer by writing to me here: your words go to the request."
    )
    if event == "moved":
        where = f" (its card is now in <#{request.card_channel}>)" if opens else ""
        who = f"<@{data['assignee']}> has it now" if data.get("assignee") else "its lead picks who works it"
        said = f"it moved from {data.get('from') or 'triage'} to {data.get('to')}: {who}{where}."
    elif event == "duplicate":
        said = f"{user(actor)} closed it as a duplicate of *{data.get('of')}*"
        if original is not None:
            said += f" ({shown_title(original, redact=not visible_to(config, original, user=request.requester))})"
        said += f": follow that one (`/ai-request status {data.get('of')}`)."
    else:
        said = NEWS.get(event, "it changed.").format(actor=user(actor), to=user(data.get("to")), answer=answer)
    if event == "resolved" and data.get("cause"):
        said += (
            f" Cause: {data['cause'].removeprefix('change:')}"
            + (f"; the eval case that now covers it: {data['eval_case']}" if data.get("eval_case") else "")
            + "."
        )
    return f"{head}{said}\n{NEWS_FOOTER}"


NOTIFY_MEANS = {
    "all": "who works it, where it moves, when it waits on you and how it ends",
    "important": "only when it waits on you and how it ends",
    "none": "nothing (its thread and `mine` still show it)",
}


def notify_text(level: str, default: bool, *, changed: bool) -> str:
    """The answer to `/ai-request notify [level]`."""
    head = "From now on you are told" if changed else "You are told"
    tail = " (the organisation's default)" if default else ""
    return (
        f"{head} {NOTIFY_MEANS[level]} of the requests you filed, by direct message{tail}. "
        "`/ai-request notify all|important|none` changes it."
    )
