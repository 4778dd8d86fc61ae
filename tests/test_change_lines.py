"""The lines of a change question's thread are queued as facts (an answer, the first snooze, a regression naming
the change as its cause) and worded when the outbox sends them; an item queued as text by an earlier version
still sends its text."""

import json
from datetime import datetime, timezone
from typing import Any

from bot.blocks import ids
from bot.blocks.change_text import thread_line
from bot.domain.changes import Acknowledgement
from bot.domain.changes_thread import Answered, NamedCause, Snoozed, line_from_json, line_json
from bot.domain.nag_facts import UnownedFacts, facts_json
from storage.outbox import ChangeLine
from tests.harness import Harness

AT = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)
COVERED = Acknowledgement(
    change_id="CHG-7", answer="covered", by="U0MLPM", at=AT, eval_link="https://evals.example.com/41"
)
BY_CAUSE = Acknowledgement(
    change_id="CHG-7", answer="needs_work", by="U0MLPM", at=AT, reason="AIR-3 was caused by it", eval_request=None
)


def change_lines(h: Harness) -> list[dict[str, Any]]:
    with h.bot.store.reading() as tx:
        return [json.loads(r["payload"]) for r in tx.outbox.rows() if r["kind"] == "change_line"]


def thread_of_question(h: Harness) -> list[str]:
    [question] = [
        m
        for m in h.fake.messages("C0SUPPORT")
        if any(b.get("block_id") == "change.question" for b in m.get("blocks", []))
    ]
    return [m["text"] for m in h.fake.thread("C0SUPPORT", question["ts"]) if m["ts"] != question["ts"]]


def test_each_line_is_worded_from_its_facts() -> None:
    assert thread_line(Answered("U0MLPM", COVERED)) == (
        "<@U0MLPM> answered: covered; the eval case: <https://evals.example.com/41|https://evals.example.com/41>"
    )
    snoozed = Snoozed("U0MLPM", "CHG-7", until=AT, tz="Europe/Berlin")
    assert thread_line(snoozed) == "<@U0MLPM> snoozed reminders about CHG-7 until Tue 24 Nov 10:00."
    named = NamedCause("U0MLPM", "CHG-7", "AIR-3", shown=True, answer=BY_CAUSE)
    assert thread_line(named) == (
        "<@U0MLPM> resolved AIR-3 naming CHG-7 as its cause: needs work (AIR-3 was caused by it)"
    )
    hidden = NamedCause("U0ENG3", "CHG-7", "AIR-3", shown=False, had_answer="not_relevant")
    assert thread_line(hidden) == (
        "<@U0ENG3> resolved a confidential regression naming CHG-7 as its cause. It had been answered “not relevant”."
    )


def test_the_facts_read_back_as_queued_and_a_nags_are_told_apart() -> None:
    for line in (
        Answered("U0MLPM", COVERED),
        Snoozed("U0MLPM", "CHG-7", until=AT, tz="Europe/Berlin"),
        NamedCause("U0MLPM", "CHG-7", "AIR-3", shown=False, answer=BY_CAUSE, had_answer=None),
    ):
        kept = json.loads(json.dumps(line_json(line)))
        assert line_from_json(kept) == line
    nag = UnownedFacts(
        key="AIR-3", elapsed=3600, filed=AT, tz="Europe/Berlin", step="owners", owners=("U0PPM",), lead=()
    )
    assert line_from_json(facts_json(nag)) is None


def test_an_answer_is_queued_as_facts_and_worded_when_sent(harness: Harness) -> None:
    h = harness
    h.command("shipped intent: express-refund intent", user="U0PPM", channel="C0SUPPORT")
    h.settle()
    h.bot.changelog.answer("CHG-1", "U0MLPM", answer="not_relevant", reason="the prompt never sees <refunds>")
    [queued] = change_lines(h)
    assert queued["facts"]["what"] == "answered" and not queued["text"]
    assert queued["facts"]["answer"]["reason"] == "the prompt never sees <refunds>"  # user text, escaped when worded
    h.settle()
    assert thread_of_question(h) == ["<@U0MLPM> answered: not relevant: the prompt never sees &lt;refunds&gt;"]


def test_a_line_queued_as_text_by_an_earlier_version_still_sends(harness: Harness) -> None:
    h = harness
    h.command("shipped intent: express-refund intent", user="U0PPM", channel="C0SUPPORT")
    h.settle()
    with h.bot.store.transaction() as tx:
        tx.outbox.enqueue(
            ChangeLine(change_id="CHG-1", channel="C0SUPPORT", text="<@U0MLPM> answered: covered."), at=h.clock()
        )
    h.settle()
    assert thread_of_question(h) == ["<@U0MLPM> answered: covered."]


def test_the_first_snooze_is_queued_as_facts(harness: Harness) -> None:
    h = harness
    h.command("shipped intent: express-refund intent", user="U0PPM", channel="C0SUPPORT")
    h.settle()
    h.click(ids.CHANGE_SNOOZE, "CHG-1", user="U0MLPM")
    h.settle()  # the click is handled by a listener of the pool
    [queued] = change_lines(h)
    assert queued["facts"]["what"] == "snoozed" and queued["facts"]["tz"] == "Europe/Berlin" and not queued["text"]
    [line] = thread_of_question(h)
    assert line.startswith("<@U0MLPM> snoozed reminders about CHG-1 until ")
