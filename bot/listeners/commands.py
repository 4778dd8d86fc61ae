"""`/ai-request`: the form, quick-create, help, mine, queue and status — all answered ephemerally."""

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import ids, messages
from bot.blocks.common import to_dicts
from bot.blocks.modal import request_modal
from bot.domain import parsing
from bot.domain.errors import IntakeError
from bot.listeners import changes, search
from bot.listeners.middleware import answered, config_of, intake_of, now_of, queries_of

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.command(ids.COMMAND)(answered(on_command))


def on_command(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    config = config_of(context)
    parsed = parsing.parse_command(command.get("text") or "", kinds=config.kind_names)
    if isinstance(parsed, parsing.OpenForm):
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=request_modal(config, channel=command.get("channel_id")).to_dict())
        return
    if isinstance(parsed, parsing.Shipped) and not parsed.text:
        ack()
        changes.open_form(client, command, context)
        return
    try:
        text, blocks = answer(context, parsed, command)
    except IntakeError as exc:
        text, blocks = messages.notice(exc.message)
    ack(text=text, blocks=to_dicts(blocks), response_type="ephemeral")


def answer(context: BoltContext, parsed: parsing.Command, command: dict[str, Any]) -> tuple[str, list]:
    """The ephemeral answer to a subcommand (the use cases raise IntakeError with a hint)."""
    user, config, queries = command["user_id"], config_of(context), queries_of(context)
    match parsed:
        case parsing.Help():
            return messages.notice(messages.help_text(config))
        case parsing.Mine():
            assigned, filed = queries.mine(user)
            return messages.list_reply("Your requests", [("Assigned to you", assigned), ("Filed by you", filed)], config,
                                       now=now_of(context), viewer=user)
        case parsing.Queue(domain=domain):
            requests, total = queries.queue(domain)
            title = f"Open in {domain}" if domain else "Open requests"
            return messages.list_reply(title, [(f"{total} open", requests)], config, now=now_of(context), viewer=user,
                                       total=total)
        case parsing.Status(key=None):
            return messages.notice("Which request? Try `/ai-request status AIR-12`.")
        case parsing.Status(key=key):
            request, events = queries.status(key, user)
            return messages.status_reply(request, events, config, viewer=user)
        case parsing.Shipped() | parsing.Changes():
            return changes.answer(context, parsed, command)
        case parsing.Search():
            return search.answer(context, parsed, command)
        case parsing.QuickCreate() if not parsed.title:
            return messages.notice("Say what you need after the kind, e.g. `/ai-request regression: refund bot quotes the wrong window`.")
        case parsing.QuickCreate():
            filed = intake_of(context).file_request(parsed.draft(requester=user, source="command", channel=command.get("channel_id")))
            return messages.filed_reply(filed.request, config, created=filed.created, user=user)  # only they see the answer
    return messages.notice(messages.help_text(config))
