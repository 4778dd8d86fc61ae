"""What Slack sends an app, as Slack sends it: slash commands, event envelopes, interactions, signatures.

Pure: each function builds one request body from what the person did. Slack's documented shapes
(https://api.slack.com/interactivity/slash-commands, /apis/events-api, /reference/interaction-payloads).
"""

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

from bot.blocks import ids

TEAM_ID = "T0CONSOLE"
TEAM_DOMAIN = "ai-intake-console"
APP_ID = "A0AIINTAKE"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def signed_headers(body: str, *, secret: str, timestamp: int, content_type: str) -> dict[str, str]:
    """Slack's request signature: `v0=` + hex HMAC-SHA256 of "v0:{timestamp}:{body}" under the signing secret."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "content-type": content_type,
        "x-slack-request-timestamp": str(timestamp),
        "x-slack-signature": f"v0={digest}",
    }


def user_ref(user: str, name: str) -> dict[str, str]:
    return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}


def slash_command(
    *, user: str, name: str, channel: str, channel_name: str, text: str, response_url: str, trigger_id: str
) -> str:
    """The form body of `/ai-request <text>`."""
    return urlencode(
        {
            "token": "console",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": name,
            "command": ids.COMMAND,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def event_callback(event: dict[str, Any], *, event_id: str, event_time: int, bot_user_id: str) -> str:
    """The JSON body of one Events API delivery."""
    return json.dumps(
        {
            "token": "console",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": event_time,
            "event": event,
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": bot_user_id, "is_bot": True, "is_enterprise_install": False}
            ],
        }
    )


def interaction(payload: dict[str, Any], *, user: str, name: str, trigger_id: str) -> str:
    """The form body of an interaction (`payload=<json>`): block_actions, view_submission, message_action."""
    base = {
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "api_app_id": APP_ID,
        "token": "console",
        "is_enterprise_install": False,
        "trigger_id": trigger_id,
        "user": user_ref(user, name),
    }
    return urlencode({"payload": json.dumps({**base, **payload})})


def message_event(*, kind: str, user: str, channel: str, text: str, ts: str, thread_ts: str | None) -> dict[str, Any]:
    """An `app_mention` or `message` event for a message a person wrote."""
    event: dict[str, Any] = {"type": kind, "user": user, "text": text, "ts": ts, "channel": channel, "event_ts": ts}
    if kind == "message":
        event["channel_type"] = {"G": "group", "D": "im"}.get(channel[:1], "channel")
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def button_press(
    action: dict[str, Any],
    *,
    channel: str | None,
    channel_name: str,
    ts: str | None,
    ephemeral: bool,
    message: dict[str, Any] | None,
    response_url: str,
) -> dict[str, Any]:
    """A block_actions payload for an element in a message (an ephemeral one carries no `message`)."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "actions": [action],
        "channel": {"id": channel, "name": channel_name},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": ephemeral},
        "response_url": response_url,
    }
    if message is not None and not ephemeral:
        payload["message"] = message
    return payload


def home_press(action: dict[str, Any], *, view: dict[str, Any] | None) -> dict[str, Any]:
    """A block_actions payload for an element on the App Home tab."""
    return {
        "type": "block_actions",
        "actions": [action],
        "container": {"type": "view", "view_id": (view or {}).get("id")},
        "view": view,
    }


def view_submission(view: dict[str, Any]) -> dict[str, Any]:
    return {"type": "view_submission", "view": view, "response_urls": []}


def message_shortcut(message: dict[str, Any], *, channel: str, channel_name: str, response_url: str) -> dict[str, Any]:
    """The "Create AI request" message shortcut used on `message`."""
    return {
        "type": "message_action",
        "callback_id": ids.FROM_MESSAGE,
        "message_ts": message["ts"],
        "message": message,
        "channel": {"id": channel, "name": channel_name},
        "response_url": response_url,
    }
