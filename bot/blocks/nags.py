"""Nags as people read them: one person's batched direct message, and a nag posted in a card's thread.

Every nag says what its request is — key, title (where its audience may see it), requester, age and,
in a direct message, a link to the card — then why it nags, then its buttons, each naming its request
("Snooze AIR-3"). A nag about a change of the change log says what shipped, who shipped it, when and where it
was asked, with the answers as buttons ("Covered CHG-7"). Pure: given the requests and changes, who reads and when.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, PlainTextObject, UserSelectElement

from bot.blocks import ids
from bot.blocks.card import requester_label, shown_title
from bot.blocks.common import button, context, link, section
from bot.blocks.change_text import describe, shipper
from bot.blocks.nag_rules import told
from bot.blocks.nag_rules.words import age
from bot.domain.changes import ChangeRecord
from bot.domain.changes_filing import question_channel
from bot.domain.authz import can
from bot.domain.history import seconds_between
from bot.domain.models import Request
from bot.domain.nag_facts import facts_from_json
from bot.domain.policy import Config
from bot.domain.visibility import visible_to
from storage.outbox import ChangeNagItem, NagItem

LABELS = {
    ids.OWN: "Take ownership",
    ids.DISCLAIM: "Not mine",
    ids.SNOOZE: "Snooze",
    ids.REOPEN: "Reopen",
    ids.REVIEW_START: "Start review",
    ids.CHANGE_COVERED: "Covered",
    ids.CHANGE_NEEDS_WORK: "Needs work",
    ids.CHANGE_NOT_RELEVANT: "Not relevant",
    ids.CHANGE_SNOOZE: "Snooze",
}
CONFIRM = {ids.CHANGE_NEEDS_WORK: "File an eval request for the platform side about {key}?"}
MAX_ITEMS = 15
"""Nags shown in one message (three blocks each, inside Slack's 50); the rest are counted."""
BLOCK_PREFIX = "nag."
"""The actions block of a nag is `nag.AIR-3`: a select in it (which carries no value) names its request so."""


def card_link(request: Request) -> str:
    """A link to the card: its permalink, else its channel and ts; "" while it is not posted."""
    if request.card_permalink:
        return link(request.card_permalink, "open the card")
    if request.card_channel and request.card_ts:
        return f"card in <#{request.card_channel}> (ts {request.card_ts})"
    return ""


def identity(
    request: Request,
    config: Config,
    *,
    now: datetime,
    user: str | None = None,
    channel: str | None = None,
    with_link: bool = False,
) -> str:
    """What the request is, for `user` (a direct message) or `channel` (a thread): "*AIR-3* · title · filed by
    <@U0ANA> 2 days ago", and the card's link when asked for. The title only where `visible_to` allows it."""
    title = shown_title(request, redact=not visible_to(config, request, user=user, channel=channel))
    parts = [
        f"*{request.key}*",
        title,
        f"filed by {requester_label(request)} {age(seconds_between(request.created_at, now))} ago",
    ]
    if with_link and user is not None and not opens_card(config, request, user):
        parts.append(
            f"`/ai-request status {request.key}` shows where it stands"
        )  # its card is in a channel they are not in
    elif with_link and (where := card_link(request)):
        parts.append(where)
    return " · ".join(parts)


def opens_card(config: Config, request: Request, user: str) -> bool:
    """Whether `user` can open the channel of the request's card: a domain's private review channel is its members'
    (and the admins'); a requester who is not one of them gets no link to it."""
    reviewed_in = {d.review_channel: d for d in config.domains if d.review_channel}
    domain = reviewed_in.get(request.card_channel or "")
    return domain is None or user in domain.members or config.is_admin(user)


ACTION_NAME = {
    ids.OWN: "own",
    ids.DISCLAIM: "disclaim",
    ids.SNOOZE: "snooze",
    ids.REOPEN: "reopen",
    ids.HAND: "hand",
    ids.REVIEW_START: "review",
}
"""The authorization name of each button a nag about a request offers: nobody is shown one that would refuse them."""


def key_of_block(block_id: str | None) -> str | None:
    """The request key a nag's actions block names (`nag.AIR-3` or `nag.AIR-3.2`), else None."""
    if not block_id or not block_id.startswith(BLOCK_PREFIX):
        return None
    return block_id[len(BLOCK_PREFIX) :].split(".")[0] or None


def actions(key: str, action_ids: Sequence[str], *, block_id: str | None = None) -> ActionsBlock | None:
    """A nag's (or a digest decision's) buttons, each naming the request; the lead's `HAND` is a user select."""
    elements: list = []
    for action in action_ids:
        if action == ids.HAND:
            elements.append(UserSelectElement(placeholder=PlainTextObject(text=f"Hand {key} to…"), action_id=ids.HAND))
        elif action in LABELS:
            style = "primary" if action in (ids.OWN, ids.CHANGE_COVERED) else None
            confirm = CONFIRM[action].format(key=key) if action in CONFIRM else None
            elements.append(button(f"{LABELS[action]} {key}", action, key, style=style, confirm=confirm))
    return ActionsBlock(block_id=block_id, elements=elements[:5]) if elements else None


def change_identity(record: ChangeRecord, config: Config, *, now: datetime) -> str:
    """What a change is: "*CHG-7* · product shipped *express-refund intent* (intent) · by <@U0PPM> 2 days ago ·
    asked in <#C0SUPPORT>"."""
    change = record.change
    where = question_channel(config, change.domain)
    return " · ".join(
        [
            f"*{change.id}*",
            f"{change.side} shipped {describe(change)}",
            f"by {shipper(change)} {age(seconds_between(change.at, now))} ago",
            f"asked in <#{where}>",
        ]
    )


def nag_dm(
    user: str,
    items: Sequence[NagItem | ChangeNagItem],
    requests: Mapping[int, Request],
    config: Config,
    *,
    now: datetime,
    changes: Mapping[str, ChangeRecord] | None = None,
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of `user`'s batched nags (about requests, and about `changes`), most urgent first as
    given. A request or change that is gone is named by its key only."""
    shown = list(items[:MAX_ITEMS])
    head = f"{len(items)} reminders, most urgent first:" if len(items) > 1 else ""
    blocks: list[Block] = [section(head)] if head else []
    used: set[str] = set()
    offered: set[tuple[str, str]] = set()
    texts = [item_text(item) for item in items]
    for item, text in zip(shown, texts):
        blocks.append(section(("URGENT " if item.urgent else "") + text))
        if isinstance(item, ChangeNagItem):
            if (record := (changes or {}).get(item.change_id)) is not None:
                blocks.append(context(change_identity(record, config, now=now)))
        elif (request := requests.get(item.request_id)) is not None:
            # its age as of when the nag was found due (a message held for working hours says one age)
            blocks.append(context(identity(request, config, now=item.written_at or now, user=user, with_link=True)))
        about = None if isinstance(item, ChangeNagItem) else requests.get(item.request_id)
        fresh = [
            b
            for b in item.buttons
            if (item.key, b) not in offered  # one button of a kind per request,
            and (about is None or b not in ACTION_NAME or can(config, about, user, ACTION_NAME[b]))
        ]  # none refusing them
        offered.update((item.key, b) for b in fresh)
        block_id = _unique(f"{BLOCK_PREFIX}{item.key}", used)
        if (row := actions(item.key, fresh, block_id=block_id)) is not None:
            blocks.append(row)
    if len(items) > len(shown):
        blocks.append(context(f"+{len(items) - len(shown)} more reminders: `/ai-request mine` lists your requests."))
    lines = [head] if head else []
    lines += [f"{'• ' if head else ''}{'URGENT ' if i.urgent else ''}{text}" for i, text in zip(items, texts)]
    return "\n".join(lines)[:3000], blocks


def item_text(item: NagItem | ChangeNagItem) -> str:
    """What a nag in a person's message says: worded from its facts (an item queued before them kept its text)."""
    return told(facts_from_json(item.facts)) if item.facts is not None else item.text


def legacy_nag_dm(text: str, buttons: list[tuple[str, list[str]]]) -> list[Block]:
    """A nag message queued in the older shape (its text, then per request key its buttons)."""
    blocks: list[Block] = [section(text)]
    for key, action_ids in buttons[:20]:
        if (row := actions(key, action_ids)) is not None:
            blocks.append(row)
    return blocks


def thread_nag(
    text: str, request: Request, config: Config, *, now: datetime, buttons: Sequence[str] = ()
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of a nag in the card's thread: why it nags (naming whom it asks), what the
    request is as the card's channel may see it, and the thread's buttons."""
    blocks: list[Block] = [section(text), context(identity(request, config, now=now, channel=request.card_channel))]
    if (row := actions(request.key, buttons, block_id=f"{BLOCK_PREFIX}{request.key}")) is not None:
        blocks.append(row)
    return text, blocks


def _unique(block_id: str, used: set[str]) -> str:
    """`block_id`, or `block_id.2`, `.3` … when a message already has it (block ids are unique per message)."""
    found, n = block_id, 1
    while found in used:
        n += 1
        found = f"{block_id}.{n}"
    used.add(found)
    return found
