"""The message shortcut "Create AI request": turns any message into a request."""

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.blocks import ids
from bot.listeners.events import field, file_message, ts_field
from bot.blocks.messages import filed_reply
from bot.listeners.middleware import catching_errors, config_of, intake_of


def register(app: App) -> None:
    app.shortcut(ids.FROM_MESSAGE)(catching_errors(on_from_message))


def on_from_message(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    ack()
    message = shortcut.get("message")
    channel, user = field(shortcut.get("channel"), "id"), field(shortcut.get("user"), "id")
    ts = ts_field(shortcut, "message_ts") or ts_field(message, "ts")
    if not (channel and user and ts and isinstance(message, dict)):
        return
    filed = file_message(context, client, message, channel=channel, ts=ts, by=user, source="shortcut")
    if filed is not None and not filed.created:  # the message is a request already: say which, file nothing new
        text, _ = filed_reply(filed.request, config_of(context), created=False, user=user)
        intake_of(context).tell(
            user=user, channel=channel, text=f"{text}. `/ai-request status {filed.request.key}` shows where it is."
        )
