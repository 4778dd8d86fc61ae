"""Reading what people received, for the story tests: direct messages, thread posts and channel posts as the
fake Slack holds them, and the buttons each carries. Pure reading; the stories drive the real app."""

import json
import re
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from bot.blocks import ids
from tests.harness import TEAM, Harness


NEWS_MARK = "`/ai-request notify important`"
"""Ends every direct message that tells a requester what became of her request (not a nag)."""


def is_news(message: dict[str, Any]) -> bool:
    return NEWS_MARK in str(message.get("text"))


def dms(h: Harness, user: str, *, news: bool = False) -> list[dict[str, Any]]:
    """The direct messages the bot sent `user`, oldest first; the requester's news of her request only when `news`."""
    return [c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == user and (news or not is_news(c))]


def news_to(h: Harness, user: str) -> list[str]:
    """The texts of the news `user` was told of the requests she filed, oldest first."""
    return [c["text"] for c in h.fake.calls_to("chat.postMessage") if c["channel"] == user and is_news(c)]


def dm_recipients(h: Harness, *, news: bool = False) -> set[str]:
    """Who was sent a direct message (nags, notices); requesters told of their requests only when `news`."""
    return {
        c["channel"]
        for c in h.fake.calls_to("chat.postMessage")
        if c["channel"].startswith(("U", "W")) and (news or not is_news(c))
    }


def shown(message: dict[str, Any]) -> str:
    """Everything a reader sees of a message: its blocks (texts, buttons' labels) or its text."""
    return json.dumps(message.get("blocks") or message["text"], ensure_ascii=False)


def buttons(message: dict[str, Any]) -> list[str]:
    """The labels of a message's buttons and the placeholders of its selects, in order."""
    return [
        e.get("text", {}).get("text") or e.get("placeholder", {}).get("text")
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def thread_posts(h: Harness, key: str) -> list[dict[str, Any]]:
    """What the bot posted in the thread under a request's card (its card left out), oldest first."""
    request = h.bot.queries.get(int(key.split("-")[1]))
    return [
        m
        for m in h.fake.thread(request.card_channel, request.card_ts)
        if m["ts"] != request.card_ts and m.get("bot_id")
    ]


def channel_posts(h: Harness, channel: str, *, containing: str = "") -> list[dict[str, Any]]:
    """chat.postMessage calls to `channel` (top level and threads) whose text contains `containing`."""
    return [c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == channel and containing in c["text"]]


def last_view(h: Harness) -> dict[str, Any]:
    """The form the bot opened last, as Slack hands it back on submission."""
    view = h.fake.calls_to("views.open")[-1]["view"]
    return json.loads(view) if isinstance(view, str) else view


def weekly_digest(h: Harness, channel: str) -> dict[str, Any]:
    """The last weekly digest posted to `channel`."""
    return [c for c in h.fake.calls_to("chat.postMessage") if c["channel"] == channel and "Weekly digest" in c["text"]][
        -1
    ]


def confidential_regression(title: str, domain: str) -> dict[str, Any]:
    """The request form's values for a confidential regression in `domain`."""
    return {
        ids.TITLE: {"type": "plain_text_input", "value": title},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "regression"}},
        ids.DOMAIN: {"type": "static_select", "selected_option": {"value": domain}},
        ids.CONFIDENTIAL: {"type": "checkboxes", "selected_options": [{"value": "yes"}]},
    }


def resolve(h: Harness, key: str, user: str, cause: str, *, eval_case: str = "", no_eval_reason: str = "") -> None:
    """`user` presses "Resolve" on the regression's card and fills in its closure: the cause, and the eval case
    that now covers it or why there is none."""
    h.click(ids.RESOLVE_REGRESSION, key, user=user)
    h.settle()
    values = {ids.CAUSE: {"type": "static_select", "selected_option": {"value": cause}}}
    if eval_case:
        values[ids.EVAL_CASE] = {"type": "url_text_input", "value": eval_case}
    if no_eval_reason:
        values[ids.NO_EVAL_REASON] = {"type": "plain_text_input", "value": no_eval_reason}
    assert h.submit(last_view(h), values, user=user).body == ""
    h.settle()


def leaks(h: Harness, secret: re.Pattern[str], *, people: Collection[str], channels: Collection[str] = ()) -> list[str]:
    """Every Web API call that showed a word matching `secret` to someone who may not see it: posts and updates
    outside `channels` and the direct messages of `people`, ephemerals and App Homes of anyone else."""
    found = []
    for call in h.fake.calls:
        text = json.dumps(call.args, ensure_ascii=False)
        if not secret.search(text):
            continue
        if call.method in ("chat.postMessage", "chat.update"):
            channel = str(call.args.get("channel"))
            if channel not in channels and not (channel.startswith(("U", "W")) and channel in people):
                found.append(f"{call.method} in {channel}: {text[:200]}")
        elif call.method == "chat.postEphemeral" and call.args.get("user") not in people:
            found.append(f"ephemeral to {call.args.get('user')}: {text[:200]}")
        elif call.method == "views.publish" and call.args.get("user_id") not in people:
            found.append(f"App Home of {call.args.get('user_id')}")
    return found


def message_shortcut(
    h: Harness, callback_id: str, *, user: str, channel: str, text: str, author: str = "", channel_name: str = "x"
) -> None:
    """`user` runs the message shortcut `callback_id` on a new message of `author` (`user` unless named) in
    `channel`, as Slack sends it; settled (the bot asks Slack about the channel after the ack)."""
    author = author or user
    ts = h.fake.add_message(channel, text, user=author)
    h.interact(
        {
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "user": {"id": user, "name": user.lower(), "team_id": TEAM},
            "channel": {"id": channel, "name": channel_name},
            "message_ts": ts,
            "message": {"type": "message", "user": author, "text": text, "ts": ts},
        }
    )
    h.settle()


def select(h: Harness, action_id: str, *, user: str, message: dict[str, Any], channel: str, pick: str) -> None:
    """Pick `pick` in the user select `action_id` of `message` (in `channel`), as `user` would in Slack."""
    block = next(
        b
        for b in message["blocks"]
        if b["type"] == "actions" and any(e["action_id"] == action_id for e in b["elements"])
    )
    h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": channel, "name": "x"},
            "container": {"type": "message", "message_ts": message.get("ts", "1.1"), "channel_id": channel},
            "message": message,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": block.get("block_id", "b"),
                    "type": "users_select",
                    "selected_user": pick,
                    "action_ts": "1.1",
                }
            ],
        }
    )


@contextmanager
def writer_held(h: Harness) -> Iterator[None]:
    """A unit of work that does not end while the block runs: the writer is held (a long job, or wedged)."""
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with h.bot.db.write():
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        yield
    finally:
        leave.set()
        thread.join(timeout=10)
