"""The message shortcut "Create AI request": turns any message into a request."""

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.blocks import ids
from bot.domain import parsing
from bot.domain.models import Draft
from bot.listeners.events import file_and_reply


def register(app: App) -> None:
    app.shortcut(ids.FROM_MESSAGE)(on_from_message)


def on_from_message(ack: Ack, shortcut: dict[str, Any], context: BoltContext) -> None:
    ack()
    intake = context["intake"]
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id")
    ts = shortcut.get("message_ts") or message.get("ts")
    text = message.get("text") or "(no text)"
    parsed = parsing.draft_text(text, intake.config.kind_names)
    draft = Draft(title=parsed.title or "(no text)", description=parsed.description, kind=parsed.kind or "question",
                  kind_given=parsed.kind is not None, requester=shortcut["user"]["id"], source="shortcut", channel=channel, origin_ts=ts)
    file_and_reply(context, draft, channel=channel, ts=ts, thread_ts=message.get("thread_ts") or ts)
