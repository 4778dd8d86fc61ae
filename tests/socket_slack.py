"""Slack's side of Socket Mode for tests: a local WebSocket server on 127.0.0.1 that says hello, sends one
slash-command envelope to the bot's SocketModeHandler and returns the bot's acknowledgement."""

from __future__ import annotations

import json
import queue
import threading
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from websockets.sync.server import ServerConnection, serve

from tests.fake_slack import FakeSlack


def command_over_socket(
    fake_slack: FakeSlack, app: App, text: str, *, team: str = "T0TEAM", channel: str = "C0SUPPORT", user: str = "U0REQ"
) -> dict[str, Any]:
    """`/ai-request <text>` sent over Socket Mode; the envelope's ack as the bot sent it (within 10 s)."""
    acks: queue.Queue = queue.Queue()
    envelope = {
        "envelope_id": "env-1",
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": {
            "team_id": team,
            "channel_id": channel,
            "user_id": user,
            "command": "/ai-request",
            "text": text,
            "response_url": fake_slack.response_url(),
            "trigger_id": fake_slack.new_trigger_id(),
        },
    }

    def slack_side(ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        ws.send(json.dumps(envelope))
        for message in ws:
            acks.put(json.loads(message))
            break

    with serve(slack_side, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        fake_slack.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        handler = SocketModeHandler(app, fake_slack.app_token)
        handler.connect()
        try:
            return acks.get(timeout=10)
        finally:
            handler.close()
            server.shutdown()
