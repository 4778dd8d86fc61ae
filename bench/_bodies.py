"""Slack's requests as the benchmarks send them (not a benchmark itself): a quick-create command, a click on a card,
an Events API `app_mention` and the "Create AI request" message shortcut, each as Slack sends it, in the channel
and by the people of the config the server runs with."""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass

TEAM = "T0TEAM"
BOT_USER = "U0BOT"  # who the fake Slack says the bot is (auth.test)


@dataclass(frozen=True)
class People:
    """Where commands are typed and who clicks, for the config the server runs with."""

    channel: str = "C0SUPPORT"
    members: tuple[str, str] = ("U0ENG1", "U0ENG2")


FRESH = People()
LARGE = People(channel="C0SUP", members=("U0SUPENG1", "U0SUPENG2"))  # bench/_dataset.py's config


def command_body(n: int, response_url: str, people: People = FRESH) -> tuple[bytes, str]:
    form = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": people.channel,
        "channel_name": "support",
        "user_id": f"U0REQ{n % 40}",
        "user_name": f"req{n % 40}",
        "command": "/ai-request",
        "text": f"regression: refund intent answers with the wrong window (case {n})",
        "api_app_id": "A0APP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{n}.1700000000.{n:032x}",
    }
    return urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"


def click_body(n: int, request_id: int, response_url: str, people: People = FRESH) -> tuple[bytes, str]:
    clicks = (
        ("request.claim", people.members[0]),
        ("request.resolve", people.members[1]),
        ("request.claim", "U0OUTSIDER"),
    )
    action_id, user = clicks[n % len(clicks)]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "api_app_id": "A0APP",
        "token": "legacy",
        "is_enterprise_install": False,
        "user": {"id": user, "name": user.lower(), "team_id": TEAM},
        "trigger_id": f"{n}.1700000001.{n:032x}",
        "response_url": response_url,
        "channel": {"id": people.channel, "name": "support"},
        "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": people.channel},
        "message": {"ts": "1700000000.000001", "type": "message", "text": "", "blocks": []},
        "actions": [
            {
                "action_id": action_id,
                "block_id": "card.actions",
                "type": "button",
                "value": f"AIR-{request_id}",
                "action_ts": "1700000000.1",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def mention_body(n: int, ts: str, *, user: str, people: People = FRESH) -> tuple[bytes, str]:
    """An Events API `app_mention` envelope as Slack sends it: the text with the bot's mention, its rich-text
    blocks, the event's context and the app's authorization."""
    words = f"the refund bot quotes the wrong window to customers in Germany ({n})"
    event = {
        "client_msg_id": f"5f1d1c2e-0000-4000-8000-{n:012d}",
        "type": "app_mention",
        "text": f"<@{BOT_USER}> {words}",
        "user": user,
        "ts": ts,
        "team": TEAM,
        "channel": people.channel,
        "event_ts": ts,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": f"b{n:05d}",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [{"type": "user", "user_id": BOT_USER}, {"type": "text", "text": f" {words}"}],
                    }
                ],
            }
        ],
    }
    envelope = {
        "token": "legacy",
        "team_id": TEAM,
        "context_team_id": TEAM,
        "context_enterprise_id": None,
        "api_app_id": "A0APP",
        "event": event,
        "type": "event_callback",
        "event_id": f"Ev0PROFILE{n:08d}",
        "event_time": int(float(ts)),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM,
                "user_id": BOT_USER,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6ImFwcF9tZW50aW9uIn0{n:08d}",
    }
    return json.dumps(envelope).encode(), "application/json"


def shortcut_body(n: int, ts: str, response_url: str, *, author: str, people: People = FRESH) -> tuple[bytes, str]:
    """The message shortcut "Create AI request" on someone's message, as Slack sends it."""
    text = f"the refund bot quotes the wrong window to customers in Germany ({n})"
    payload = {
        "type": "message_action",
        "token": "legacy",
        "action_ts": f"1700000100.{n:06d}",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "U0ENG1", "username": "eng1", "team_id": TEAM, "name": "eng1"},
        "channel": {"id": people.channel, "name": "support"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": "ai_request.from_message",
        "trigger_id": f"{n}.1700000100.{n:032x}",
        "response_url": response_url,
        "message_ts": ts,
        "message": {
            "client_msg_id": f"7a2e0000-0000-4000-8000-{n:012d}",
            "type": "message",
            "text": text,
            "user": author,
            "ts": ts,
            "team": TEAM,
            "blocks": [
                {
                    "type": "rich_text",
                    "block_id": f"s{n:05d}",
                    "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
                }
            ],
        },
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
