"""Restarting on the same database keeps every request, event and card."""

from storage.migrations import migrations
from tests.harness import start_harness


def test_restart_with_the_same_database_keeps_everything(tmp_path, fake_slack) -> None:
    first = start_harness(tmp_path, fake_slack)
    first.command("regression: refund intent answers with the wrong window")
    first.settle()
    first.click("request.claim", "AIR-1", user="U0ENG1")
    first.settle()
    card_ts = first.bot.queries.get(1).card_ts
    first.stop()

    second = start_harness(tmp_path, fake_slack)
    try:
        request = second.bot.queries.get(1)
        assert request.status == "claimed" and request.card_ts == card_ts
        assert [e.type for e in second.bot.queries.status("AIR-1", "U0ENG1")[1]] == ["created", "claimed"]
        second.click("request.resolve", "AIR-1", user="U0ENG1")
        second.command("question: another one")
        second.settle()
        assert second.bot.queries.get(1).status == "resolved"
        assert second.bot.queries.get(2).key == "AIR-2"
        assert fake_slack.calls_to("chat.update")[-1]["ts"] == card_ts
        assert second.bot.db.schema_version() == len(migrations._migrations)
    finally:
        second.stop()
