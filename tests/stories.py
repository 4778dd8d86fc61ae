"""Reading what people received, for the story tests: direct messages, thread posts and channel posts as the
fake Slack holds them, and the buttons each carries. Pure reading; the stories drive the real app."""

import json
from typing import Any

from tests.harness import Harness


def dms(h: Harness, user: str) -> list[dict[str, Any]]:
    """The direct messages the bot sent `user`, oldest first."""
    return [c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == user]


def dm_recipients(h: Harness) -> set[str]:
    return {c["channel"] for c in h.fake.calls_to("chat.postMessage") if c["channel"].startswith(("U", "W"))}


def shown(message: dict[str, Any]) -> str:
    """Everything a reader sees of a message: its blocks (texts, buttons' labels) or its text."""
    return json.dumps(message.get("blocks") or message["text"], ensure_ascii=False)


def buttons(message: dict[str, Any]) -> list[str]:
    """The labels of a message's buttons and the placeholders of its selects, in order."""
    return [e.get("text", {}).get("text") or e.get("placeholder", {}).get("text")
            for b in message.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def thread_posts(h: Harness, key: str) -> list[dict[str, Any]]:
    """What the bot posted in the thread under a request's card (its card left out), oldest first."""
    request = h.bot.queries.get(int(key.split("-")[1]))
    return [m for m in h.fake.thread(request.card_channel, request.card_ts) if m["ts"] != request.card_ts and m.get("bot_id")]


def channel_posts(h: Harness, channel: str, *, containing: str = "") -> list[dict[str, Any]]:
    """chat.postMessage calls to `channel` (top level and threads) whose text contains `containing`."""
    return [c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == channel and containing in c["text"]]


def select(h: Harness, action_id: str, *, user: str, message: dict[str, Any], channel: str, pick: str) -> None:
    """Pick `pick` in the user select `action_id` of `message` (in `channel`), as `user` would in Slack."""
    block = next(b for b in message["blocks"] if b["type"] == "actions" and any(e["action_id"] == action_id for e in b["elements"]))
    h.interact({
        "type": "block_actions", "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
        "trigger_id": h.fake.new_trigger_id(), "response_url": h.fake.response_url(),
        "channel": {"id": channel, "name": "x"},
        "container": {"type": "message", "message_ts": message.get("ts", "1.1"), "channel_id": channel},
        "message": message,
        "actions": [{"action_id": action_id, "block_id": block.get("block_id", "b"), "type": "users_select",
                     "selected_user": pick, "action_ts": "1.1"}],
    })
