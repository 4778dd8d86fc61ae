"""Card buttons: ack at once, call one use case; the card updates through the outbox."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.blocks import ids, notices
from bot.blocks.common import to_dicts
from bot.blocks.messages import notice
from bot.blocks.modal import disclaim_modal, request_modal
from bot.blocks.nags import key_of_block
from bot.domain import parsing
from bot.domain.errors import IntakeError, InvalidInput
from bot.listeners.commands import subcommand_reply
from bot.domain.slack_ids import USER_ID
from bot.listeners.middleware import catching_errors, config_of, intake_of, queries_of, tell
from bot.usecases.service import Intake

Act = Callable[[Intake, str, str, dict[str, Any]], object]

SIMPLE: dict[str, Act] = {
    ids.CLAIM: lambda s, key, user, a: s.claim(key, user),
    ids.RESOLVE: lambda s, key, user, a: s.resolve(key, user),
    ids.WAIT: lambda s, key, user, a: s.wait(key, user),
    ids.REOPEN: lambda s, key, user, a: s.reopen(key, user),
    ids.WITHDRAW: lambda s, key, user, a: s.withdraw(key, user),
    ids.OWN: lambda s, key, user, a: s.own(key, user),
    ids.REASSIGN: lambda s, key, user, a: s.reassign(key, user, to=selected_user(a)),
    ids.MOVE: lambda s, key, user, a: s.move(key, user, to=selected_domain(a)),
    ids.REVIEW_START: lambda s, key, user, a: s.review(key, user, step="start"),
    ids.REVIEW_APPROVE: lambda s, key, user, a: s.review(key, user, step="approve"),
    ids.REVIEW_CHANGES: lambda s, key, user, a: s.review(key, user, step="changes"),
}


def selected_user(action: dict[str, Any]) -> str:
    """The person picked in the "Reassign…" select; InvalidInput when the payload names none."""
    user = action.get("selected_user")
    if not isinstance(user, str) or not USER_ID.match(user):
        raise InvalidInput("Pick the person to reassign it to.")
    return user


def selected_domain(action: dict[str, Any]) -> str:
    """The domain picked in the "Move to…" select; InvalidInput when the payload names none."""
    option = action.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    if not isinstance(value, str) or not value:
        raise InvalidInput("Pick the domain to move it to.")
    return value


def register(app: App) -> None:
    for action_id in SIMPLE:
        app.action(action_id)(catching_errors(on_card_action))
    app.action(ids.DISCLAIM)(catching_errors(on_disclaim))
    app.action(ids.HAND)(catching_errors(on_hand))
    app.action(ids.SNOOZE)(catching_errors(on_snooze))
    app.action(ids.EDIT)(catching_errors(on_edit))
    app.action(ids.LIST_PAGE)(catching_errors(on_list_page))
    for action_id in (ids.SET_KIND, ids.SET_PRIORITY, ids.TRIAGE_KEEP, ids.TRIAGE_PICK):
        app.action(action_id)(catching_errors(on_correction))
    app.action(ids.HOME_PAGE)(catching_errors(on_home_page))


def request_key_of(action: dict[str, Any], body: dict[str, Any]) -> str:
    """The request key an action is about: the button's value, or (for the user select) the card's."""
    if action.get("value"):
        return str(action["value"])
    message = body.get("message")
    for block in _list(message.get("blocks") if isinstance(message, dict) else None):
        for element in _list(block.get("elements") if isinstance(block, dict) else None):
            if isinstance(element, dict) and element.get("value"):
                return str(element["value"])
    return ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def on_card_action(ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """A refusal or conflict (IntakeError) reaches the person through `catching_errors`, like any error."""
    ack()
    SIMPLE[action["action_id"]](intake_of(context), request_key_of(action, body), context.user_id or "", action)


def keyed_choice(action: dict[str, Any]) -> tuple[str, str]:
    """("AIR-12", "regression") of a correction's value "AIR-12>regression" (a button's value, or the option picked
    in a select); InvalidInput when the payload carries none."""
    option = action.get("selected_option")
    value = str((option.get("value") if isinstance(option, dict) else None) or action.get("value") or "")
    key, _, choice = value.partition(">")
    if not key or not choice:
        raise InvalidInput("Pick what it should be.")
    return key, choice


def on_correction(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    """Kind…, Priority… and the answers to triage's doubt: each a correction in the history, that triage learns from."""
    ack()
    key, choice = keyed_choice(action)
    intake, user, action_id = intake_of(context), context.user_id or "", action["action_id"]
    if action_id == ids.SET_KIND:
        intake.set_kind(key, user, kind=choice)
    elif action_id == ids.SET_PRIORITY:
        intake.set_priority(key, user, priority=choice)
    else:
        what, _, value = choice.partition(":")
        if what not in ("kind", "domain") or not value:
            raise InvalidInput("That button is broken; use Kind… or Move to… on the card.")
        if action_id == ids.TRIAGE_KEEP:
            intake.confirm_triage(key, user, what=what, value=value)
        elif what == "kind":
            intake.set_kind(key, user, kind=value)
        else:
            intake.move(key, user, to=value)


def on_snooze(ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """Snooze a day more; the presser is told until when (the thread only hears of a silence's first press)."""
    ack()
    key = request_key_of(action, body)
    until = intake_of(context).snooze(key, context.user_id or "", days=1)
    tz = config_of(context).calendar(None).tz
    tell(context, body, notices.snoozed(key, until, tz=tz))


def on_hand(ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
    """The lead picks who owns a regression: in a nag (whose block names the request) or on the card."""
    ack()
    key = key_of_block(action.get("block_id")) or request_key_of(action, body)
    to = action.get("selected_user")
    if not isinstance(to, str) or not USER_ID.match(to):
        raise InvalidInput(f"Pick the person to hand {key} to.")
    intake_of(context).hand(key, context.user_id or "", to=to)


def on_disclaim(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """ "Not mine" asks for a reason first (in a modal); the submission does the change."""
    ack()
    key = request_key_of(action, body)
    queries_of(context).authorized_request(key, context.user_id or "", "disclaim")
    client.views_open(trigger_id=body["trigger_id"], view=disclaim_modal(key).to_dict())


def on_edit(ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    request = queries_of(context).authorized_request(request_key_of(action, body), context.user_id or "", "edit")
    client.views_open(trigger_id=body["trigger_id"], view=request_modal(config_of(context), request=request).to_dict())


def on_list_page(
    ack: Ack, action: dict[str, Any], body: dict[str, Any], context: BoltContext, respond: Respond
) -> None:
    """ "Next page" under a list or a history: the same answer as typing its words, in place of the old page."""
    ack()
    parsed = parsing.parse_command(str(action.get("value") or ""), kinds=config_of(context).kind_names)
    if not isinstance(parsed, (parsing.Mine, parsing.Queue, parsing.Status)):
        return  # a button only ever carries a list's words; anything else is not ours to act on
    command = {"user_id": context.user_id or "", "channel_id": context.channel_id}
    try:
        text, blocks = subcommand_reply(context, parsed, command)
    except IntakeError as exc:
        text, blocks = notice(exc.message)
    respond(text=text, blocks=to_dicts(blocks), response_type="ephemeral", replace_original=True)


def on_home_page(ack: Ack, action: dict[str, Any], context: BoltContext) -> None:
    """ "Next page" on the App Home: publish it again with that list at that page ("assigned 2", "support 3")."""
    ack()
    section, _, page = str(action.get("value") or "").rpartition(" ")
    if section and page.isdigit() and 1 <= int(page) <= parsing.PAGE_MAX:
        intake_of(context).refresh_home(context.user_id or "", section=section, page=int(page))
