"""Socket Mode: a local WebSocket server plays Slack's side; the bot files a request and acks the envelope."""

from tests.harness import start_harness
from tests.socket_slack import command_over_socket


def test_slash_command_over_socket_mode(tmp_path, fake_slack) -> None:
    h = start_harness(tmp_path, fake_slack)
    try:
        ack = command_over_socket(fake_slack, h.bot.app, "regression: refund intent answers with the wrong window")
        assert ack["envelope_id"] == "env-1"
        assert "AIR-1" in ack["payload"]["text"]
        h.settle()
        assert h.bot.queries.get(1).source == "command"
        assert len(fake_slack.messages("C0SUPPORT")) == 1
    finally:
        h.stop()
