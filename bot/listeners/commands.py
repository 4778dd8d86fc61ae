"""`/ai-request`: the form, quick-create, help, mine, queue and status — all answered ephemerally."""

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import ids, messages, notices
from bot.blocks.common import to_dicts
from bot.blocks.modal import request_modal
from bot.domain import parsing
from bot.domain.models import Away, Listing
from bot.domain.errors import IntakeError
from bot.listeners.channels import known_private, private_by_name
from bot.listeners import changes, search
from bot.listeners.middleware import catching_errors, config_of, intake_of, now_of, queries_of

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.command(ids.COMMAND)(catching_errors(on_command))


def on_command(ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    config = config_of(context)
    parsed = parsing.parse_command(command.get("text") or "", kinds=config.kind_names)
    if isinstance(parsed, parsing.OpenForm):
        ack()
        view = request_modal(config, channel=command.get("channel_id"), private=filed_in_private(context, command))
        client.views_open(trigger_id=command["trigger_id"], view=view.to_dict())
        return
    if isinstance(parsed, parsing.Shipped) and not parsed.text:
        ack()
        changes.open_form(client, command, context)
        return
    try:
        text, blocks = subcommand_reply(context, parsed, command)
    except IntakeError as exc:
        text, blocks = messages.notice(exc.message)
    ack(text=text, blocks=to_dicts(blocks), response_type="ephemeral")


def away_of(context: BoltContext, *listings: Listing) -> dict[str, Away]:
    """Who of the assignees listed is away today (their lines show 🌴 and the day they are back)."""
    config, now = config_of(context), now_of(context)
    return queries_of(context).away_among(
        (r.assignee for listing in listings for r, _ in listing.items),
        on=now.astimezone(config.calendar(None).tz).date(),
    )


def filed_in_private(context: BoltContext, command: dict[str, Any]) -> bool:
    """Typed in a private conversation: its `channel_name` says so, or the config knows the channel as private."""
    channel = command.get("channel_id")
    return private_by_name(command.get("channel_name")) or bool(
        isinstance(channel, str) and known_private(context, channel)
    )


def subcommand_reply(context: BoltContext, parsed: parsing.Command, command: dict[str, Any]) -> tuple[str, list]:
    """The ephemeral answer to a subcommand (the use cases raise IntakeError with a hint)."""
    user, config, queries = command["user_id"], config_of(context), queries_of(context)
    match parsed:
        case parsing.Help():
            return messages.notice(messages.help_text(config))
        case parsing.Mine(page=page):
            assigned, filed = queries.mine(user, page=page)
            more = f"mine page {page + 1}"
            groups = [
                messages.Group(notices.ASSIGNED_TO_YOU, assigned, more),
                messages.Group(notices.FILED_BY_YOU, filed, more, filed=True),
            ]
            return messages.list_reply(
                notices.MINE_TITLE,
                groups,
                config,
                now=now_of(context),
                viewer=user,
                away=away_of(context, assigned, filed),
            )
        case parsing.Queue(domain=domain, page=page):
            listing = queries.queue(domain, page=page)
            more = " ".join(["queue", *([domain] if domain else []), "page", str(page + 1)])
            return messages.list_reply(
                notices.queue_title(domain),
                [messages.Group(notices.OLDEST_FIRST, listing, more)],
                config,
                now=now_of(context),
                viewer=user,
                away=away_of(context, listing),
            )
        case parsing.Status(key=None):
            return messages.notice(notices.WHICH_REQUEST)
        case parsing.Status(key=key, page=page):
            request, events = queries.status(key, user)
            return messages.status_reply(request, events, config, viewer=user, page=page)
        case parsing.Away(until=until, cover=cover):
            return messages.away_reply(intake_of(context).set_away(user, until=until, cover=cover))
        case parsing.Back():
            return messages.back_reply(intake_of(context).back(user))
        case parsing.Notify(level=level):
            return messages.notice(
                messages.notify_text(*intake_of(context).notify(user, level), changed=level is not None)
            )
        case parsing.Usage(subcommand=word):
            return messages.notice(messages.usage_text(word, config))
        case parsing.Shipped() | parsing.Changes():
            return changes.subcommand_reply(context, parsed, command)
        case parsing.Search():
            return search.subcommand_reply(context, parsed, command)
        case parsing.Duplicate(key=key, of=of):
            closed = intake_of(context).mark_duplicate(key, user, of=of)
            return messages.notice(notices.closed_as_duplicate(closed.key, of))
        case parsing.QuickCreate() if not parsed.title:
            return messages.notice(notices.SAY_WHAT_YOU_NEED)
        case parsing.QuickCreate():
            draft = parsed.draft(
                requester=user,
                source="command",
                channel=command.get("channel_id"),
                private=filed_in_private(context, command),
            )
            filed = intake_of(context).file_request(draft)
            return messages.filed_reply(
                filed.request, config, created=filed.created, user=user, cut=filed.cut
            )  # only they see it
    return messages.notice(messages.help_text(config))
