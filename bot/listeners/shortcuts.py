"""The message shortcut "Create AI request": turns any message into a request."""

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.blocks import ids
from bot.domain import parsing
from bot.listeners.events import field, file_and_reply, message_text, ts_field
from bot.listeners.middleware import answered, config_of


def register(app: App) -> None:
    app.shortcut(ids.FROM_MESSAGE)(answered(on_from_message))


def on_from_message(ack: Ack, shortcut: dict[str, Any], context: BoltContext) -> None:
    ack()
    message = shortcut.get("message")
    channel, user = field(shortcut.get("channel"), "id"), field(shortcut.get("user"), "id")
    ts = ts_field(shortcut, "message_ts") or ts_field(message, "ts")
    if not (channel and user and ts):
        return
    parsed = parsing.draft_text(message_text(message), config_of(context).kind_names)
    draft = parsed.draft(requester=user, source="shortcut", channel=channel, origin_ts=ts)
    file_and_reply(context, draft, channel=channel, ts=ts, thread_ts=ts_field(message, "thread_ts") or ts)
