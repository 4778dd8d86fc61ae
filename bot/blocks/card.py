"""The request card: posted once in the domain's channel and updated in place on every change.

Pure: `card_message` renders what the request, its events, the config and the time say, for the
channel the card lives in.
"""

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ConfirmObject,
    PlainTextObject,
    StaticSelectElement,
    UserSelectElement,
)

from bot.blocks import ids
from bot.blocks.changes import (
    alerts_block,
    closure_block,
    hook_report_block,
    link_labels,
    owners_block,
    suspects_block,
)
from bot.blocks.common import button, context, link, option, quote, section, user
from bot.blocks.reasons import routing_line
from bot.domain.changes_loop import Suspect, closure_of
from bot.blocks.words import COURT_LABEL, sla_line
from bot.domain.history import request_sla
from bot.domain.models import NO_ANSWER, PRIORITIES, Event, Request
from bot.domain.owners import owners_of
from bot.domain.policy import Config
from bot.domain.text import escape_within
from bot.domain.visibility import visible_to

STATUS_LABEL = {
    "open": ":large_blue_circle: Open",
    "claimed": ":large_green_circle: Claimed",
    "waiting": ":double_vertical_bar: Waiting on requester",
    "resolved": ":white_check_mark: Resolved",
    "declined": ":no_entry_sign: Declined",
}
KIND_LABEL = {
    "feature": "Feature",
    "regression": "Regression",
    "security_review": "Security review",
    "eval": "Eval gap",
    "question": "Question",
}
DESCRIPTION_LIMIT = 1200
TITLE_LIMIT = 300


def kind_label(kind: str) -> str:
    return KIND_LABEL.get(kind, kind.replace("_", " ").capitalize())


def shown_title(request: Request, *, redact: bool) -> str:
    """The escaped title, or a neutral label when a confidential request is shown outside its private channel."""
    if redact:
        return f"Confidential {kind_label(request.kind).lower()}"
    return escape_within(request.title, TITLE_LIMIT)


def card_text(request: Request, *, redact: bool) -> str:
    """The plain fallback of the card (notifications and screen readers)."""
    return f"{request.key} [{request.priority} {kind_label(request.kind)}] {shown_title(request, redact=redact)} — {request.status}"


def requester_label(request: Request) -> str:
    """Who filed it, for mrkdwn: a mention, or "the `monitoring` hook" for a regression a machine filed."""
    if request.source == "hook":
        return f"the `{escape_within(request.requester, 40)}` hook"
    return user(request.requester)


def _status(request: Request) -> str:
    text = (
        ":zzz: Closed: no answer"
        if request.closed_as == NO_ANSWER
        else STATUS_LABEL.get(request.status, request.status)
    )
    if request.stage:
        text += f" · review {request.stage.replace('_', ' ')}"
    return text


def _fields(request: Request, sla_lines: list[str], *, assignee_back: str = "") -> list[str]:
    fields = [
        f"*Status*\n{_status(request)}",
        f"*Requester*\n{requester_label(request)}",
        *([f"*Reported by*\n{user(request.reporter)}"] if request.reporter else []),
        f"*Assignee*\n{user(request.assignee, none='unassigned')}{assignee_back}",  # " 🌴 back Mon 07 Dec" while away
        f"*Domain*\n{request.domain or '_unrouted (triage)_'}",
        f"*Ball in court*\n{COURT_LABEL.get(request.court, request.court)}",
    ]
    if request.is_regression or request.owner:
        fields.append(f"*Owner*\n{user(request.owner, none=':warning: unowned' if request.is_open else 'none')}")
    if sla_lines:
        fields.append("*SLA*\n" + "\n".join(sla_lines))
    return fields


def _buttons(
    request: Request,
    *,
    domains: Sequence[str] = (),
    duplicate_of: Sequence[Request] = (),
    kinds: Sequence[str] = tuple(KIND_LABEL),
) -> list:
    key = request.key
    if not request.is_open:
        return [button("Reopen", ids.REOPEN, key)]
    out = []
    if request.status == "open":
        out.append(button("Claim", ids.CLAIM, key, style="primary"))
    if request.is_security_review:
        if request.stage in ("requested", "changes_requested"):
            out.append(button("Start review", ids.REVIEW_START, key))
        if request.stage in ("requested", "in_review"):
            out.append(
                button(
                    "Approve",
                    ids.REVIEW_APPROVE,
                    key,
                    style="primary",
                    confirm=f"Approve the security review of {key}?",
                )
            )
            out.append(button("Request changes", ids.REVIEW_CHANGES, key))
    if request.is_regression and request.owner is None:
        out.append(button("Take ownership", ids.OWN, key, style="primary"))
    if request.is_regression:
        out.append(button("Not mine", ids.DISCLAIM, key))
    if request.status != "waiting":
        out.append(button("Waiting on requester", ids.WAIT, key))
    if request.is_regression:
        out.append(button("Resolve…", ids.RESOLVE_REGRESSION, key))  # asks for the cause and the eval case
    else:
        out.append(button("Resolve", ids.RESOLVE, key, confirm=f"Resolve {key}?"))
    out.append(
        UserSelectElement(
            placeholder=PlainTextObject(text="Reassign…"), action_id=ids.REASSIGN, initial_user=request.assignee
        )
    )
    if request.is_regression and request.owner is None and request.disclaimers:
        out.append(UserSelectElement(placeholder=PlainTextObject(text="Hand to… (lead)"), action_id=ids.HAND))
    out.append(
        StaticSelectElement(
            placeholder=PlainTextObject(text="Kind…"),
            action_id=ids.SET_KIND,
            options=[option(f"{key}>{k}", kind_label(k)) for k in kinds if k != request.kind][:100],
        )
    )
    out.append(
        StaticSelectElement(
            placeholder=PlainTextObject(text="Priority…"),
            action_id=ids.SET_PRIORITY,
            options=[option(f"{key}>{p}", p) for p in PRIORITIES if p != request.priority],
        )
    )
    if request.is_open:  # suggested or not: "Another request…" names any by its key
        out.append(duplicate_select(request, duplicate_of))
    if others := [d for d in domains if d != request.domain][:100]:
        out.append(
            StaticSelectElement(
                placeholder=PlainTextObject(text="Move to…"), action_id=ids.MOVE, options=[option(d, d) for d in others]
            )
        )
    return out


def render_card(
    request: Request,
    *,
    sla_lines: list[str],
    redact: bool,
    more: Sequence[Block] = (),
    duplicate_of: Sequence[Request] = (),
    domains: Sequence[str] = (),
    assignee_back: str = "",
    kinds: Sequence[str] = tuple(KIND_LABEL),
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of the card. `redact` hides the request's own words: title, description,
    links and the routing reasons (they quote its words). `more`: blocks shown above the buttons;
    `duplicate_of`: the requests the "Duplicate of…" select offers; `domains`: those it can be moved to ("Move to…")."""
    title = shown_title(request, redact=redact)
    head = f"*{request.key}* · {kind_label(request.kind)} · *{request.priority}*\n*{title}*"
    blocks: list[Block] = [section(head, block_id="card.head")]
    if request.description and not redact:
        blocks.append(section(quote(request.description, DESCRIPTION_LIMIT), block_id="card.description"))
    blocks.append(
        section(None, block_id="card.fields", fields=_fields(request, sla_lines, assignee_back=assignee_back))
    )
    extras = []
    if request.links and not redact:
        shown = request.links[:5]
        extras.append("Links: " + " · ".join(link(u, label) for u, label in zip(shown, link_labels(shown))))
    if request.permalink and not redact:
        extras.append(link(request.permalink, "original message"))
    if extras:
        blocks.append(context(*extras))
    if request.disclaimers:  # each reason on its own line, apart from the links
        blocks.append(
            context(
                "\n".join(
                    f":raised_hand: Not mine — {user(d.by)}: {escape_within(d.reason, 400)}"
                    for d in request.disclaimers[-3:]
                )
            )
        )
    if not redact:
        blocks.append(context(routing_line(request)))
    blocks.extend(more)
    blocks.append(
        ActionsBlock(
            block_id="card.actions", elements=_buttons(request, domains=domains, duplicate_of=duplicate_of, kinds=kinds)
        )
    )
    return card_text(request, redact=redact), blocks


def card_message(
    request: Request,
    events: Sequence[Event],
    config: Config,
    *,
    now: datetime,
    suspects: Sequence[Suspect] = (),
    similar: Sequence[Request] = (),
    assignee_back: str = "",
) -> tuple[str, list[Block]]:
    """The card as it should look at `now` to the channel it is in: both SLA clocks explained in the domain's
    zone; the request's own words only where `visible_to` allows them. A regression's card lists its
    `suspects` and, once resolved, its closure; a card that hides the request's words shows neither (its
    asset and its cause are its own). The `similar` requests found when it was filed are listed, those
    the channel may see, with "Duplicate of…" while it is open; a card that hides its words lists none."""
    sla = request_sla(request, events, config, now=now)
    tz = config.calendar(request.domain).tz
    lines = [f"First response: {sla_line(sla.first_response, tz=tz)}", f"Resolution: {sla_line(sla.resolution, tz=tz)}"]
    redact = not visible_to(config, request, channel=request.card_channel)
    more: list[Block] = []
    if request.asset and not redact:
        more.append(owners_block(request.asset, owners_of(request, config)))
    if request.is_regression and not redact:
        if suspects and request.domain:
            more.append(suspects_block(suspects, config, domain=request.domain))
        if not request.is_open and (closure := closure_of(events)) is not None:
            more.append(closure_block(closure))
        if (reported := hook_report_block(events, config, domain=request.domain)) is not None:
            more.append(reported)
        if (alerts := alerts_block(events)) is not None:
            more.append(alerts)
    alike = [] if redact else [s for s in similar if visible_to(config, s, channel=request.card_channel)]
    if alike:
        more.insert(0, similar_block(alike))
    if request.is_open:
        more[:0] = unsure_blocks(request, events)
    return render_card(
        request,
        sla_lines=lines,
        redact=redact,
        more=more,
        duplicate_of=alike if request.is_open else (),
        domains=[d.name for d in config.domains],
        assignee_back=assignee_back,
        kinds=list(config.kind_names),
    )


SETTLED = ("kind_changed", "moved", "triage_confirmed")
"""Events after which triage's doubt is settled: the card stops asking."""


def unsure_blocks(request: Request, events: Sequence[Event]) -> list[Block]:
    """When triage hesitated between two kinds or two domains (its `created` event's `unsure`) and nobody has
    settled it yet: the question, and a button for each answer (for the domain's members; others are refused)."""
    created = next((e for e in events if e.type == "created"), None)
    unsure = created.data.get("unsure") if created else None
    if not isinstance(unsure, dict) or any(e.type in SETTLED for e in events):
        return []
    out: list[Block] = []
    for what, label in (("kind", kind_label), ("domain", str)):
        pair = unsure.get(what)
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            continue
        chosen, other = pair
        if chosen != (request.kind if what == "kind" else request.domain):
            continue
        out.append(
            section(
                f":thinking_face: Triage was unsure whether this is {_a(what, label(chosen))} or {_a(what, label(other))}.",
                block_id=f"card.unsure.{what}",
            )
        )
        verb = "Make it" if what == "kind" else "Move to"
        out.append(
            ActionsBlock(
                block_id=f"card.unsure.{what}.actions",
                elements=[
                    button(f"{label(chosen)} is right", ids.TRIAGE_KEEP, f"{request.key}>{what}:{chosen}"),
                    button(f"{verb} {label(other)}", ids.TRIAGE_PICK, f"{request.key}>{what}:{other}"),
                ],
            )
        )
    return out


def _a(what: str, name: str) -> str:
    """ "a regression", "an eval gap", "for support"."""
    if what == "domain":
        return f"for {name}"
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name.lower()


def similar_block(alike: Sequence[Request]) -> Block:
    """The requests that looked like this one when it was filed (each line: key, kind, title, status)."""
    lines = [
        f"• *{s.key}* {kind_label(s.kind)} — {shown_title(s, redact=False)} · {STATUS_LABEL.get(s.status, s.status)}"
        for s in alike
    ]
    return section("*Possibly the same as*\n" + "\n".join(lines), block_id="card.similar")


def duplicate_select(request: Request, alike: Sequence[Request]) -> StaticSelectElement:
    """ "Duplicate of…": closes this request and links it to the one picked, the similar ones or, by its key,
    "Another request…"."""
    options = [option(f"{request.key}>{s.key}", f"{s.key} {s.title}") for s in alike]
    options.append(option(f"{request.key}>{ids.ANOTHER}", "Another request…"))
    return StaticSelectElement(
        placeholder=PlainTextObject(text="Duplicate of…"),
        action_id=ids.DUPLICATE,
        options=options,
        confirm=ConfirmObject(
            title="Close as a duplicate?",
            text=f"{request.key} will be closed, linked to the one you picked.",
            confirm="Close it",
            deny="Cancel",
        ),
    )


def moved_card(key: str, *, domain: str, by: str, channel: str, link_url: str | None) -> tuple[str, list[Block]]:
    """What a card says once its request moved to another domain: where it went (no title: the new channel may be
    private), and no buttons."""
    where = (link(url, "its card") if (url := link_url) else "its card") + f" in <#{channel}>"
    text = f":arrow_right: *{key}* moved to *{domain}* by {user(by)}: {where} is the one to follow now."
    return f"{key} moved to {domain}", [section(text, block_id="card.head")]
