"""Socket Mode: a local WebSocket server plays Slack's side; the bot files a request and acks the envelope."""

import json
import queue
import threading

from slack_bolt.adapter.socket_mode import SocketModeHandler
from websockets.sync.server import serve

from tests.harness import start_harness


def test_slash_command_over_socket_mode(tmp_path, fake_slack) -> None:
    h = start_harness(tmp_path, fake_slack)
    acks: queue.Queue = queue.Queue()
    envelope = {
        "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
        "payload": {"team_id": "T0TEAM", "channel_id": "C0SUPPORT", "user_id": "U0REQ", "command": "/ai-request",
                    "text": "regression: refund intent answers with the wrong window",
                    "response_url": fake_slack.response_url(), "trigger_id": fake_slack.new_trigger_id()},
    }

    def slack_side(ws) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1}))
        ws.send(json.dumps(envelope))
        for message in ws:
            acks.put(json.loads(message))
            break

    with serve(slack_side, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        fake_slack.socket_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/"
        handler = SocketModeHandler(h.bot.app, fake_slack.app_token)
        handler.connect()
        try:
            ack = acks.get(timeout=10)
        finally:
            handler.close()
            server.shutdown()
    try:
        assert ack["envelope_id"] == "env-1"
        assert "AIR-1" in ack["payload"]["text"]
        h.settle()
        assert h.bot.queries.get(1).source == "command"
        assert len(fake_slack.messages("C0SUPPORT")) == 1
    finally:
        h.stop()
