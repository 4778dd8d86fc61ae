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


def test_a_stopped_scheduler_gives_its_lease_back(tmp_path, fake_slack) -> None:
    """A bot restarted in a new container cannot tell that the old one is gone (another host name): the old one gives
    the scheduler lease back when it stops, so the new one runs its jobs at once rather than 20 minutes later."""
    from bot.entry.scheduler import Scheduler

    first = start_harness(tmp_path, fake_slack)
    try:
        old = Scheduler(
            first.bot.jobs, first.bot.store, first.bot.config, clock=first.bot.clock, holder="old-container:1"
        )
        new = Scheduler(
            first.bot.jobs, first.bot.store, first.bot.config, clock=first.bot.clock, holder="new-container:1"
        )
        first.command("eval: outage of the refund agent for customers")
        first.command("regression: refund intent answers with the wrong window")
        first.settle()
        first.clock.advance(hours=5)  # a breached first response (sla) and an unowned regression (nags) are due
        assert old.run("sla") != []  # it holds the lease now …
        assert new.run("nags") == []  # … so the other stands by, though its nags are due
        old.stop()
        assert new.run("nags") != []  # the lease came back with the stop
    finally:
        first.stop()
