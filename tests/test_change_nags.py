"""The `change.unacknowledged` nag in the nag engine, through the real app: an unanswered change nags the person
asked after N business days and the lead too after 2N, once per change and step, in the question's thread and by
direct message, batched with the same run's request nags; the direct message's buttons answer it or snooze it; a
held message about a change answered meanwhile is not sent; the job reads only the changes whose next check came.

The harness starts on Monday 23 Nov 2026, 10:00 in Berlin (business hours 09:00-17:00, N = 2 business days).
"""

import json
from datetime import datetime, timedelta, timezone

from bot.blocks import ids
from bot.domain.changes import RULE_UNACKNOWLEDGED
from tests.harness import Harness
from tests.stories import buttons, dm_recipients, dms, last_view, shown

BERLIN_OFFSET = timedelta(hours=1)
ANSWERS = ["Covered CHG-1", "Needs work CHG-1", "Not relevant CHG-1", "Snooze CHG-1"]


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time in Nov/Dec 2026, as the aware UTC instant the harness's clock holds."""
    month, day = (11, day) if day >= 20 else (12, day)
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc) - BERLIN_OFFSET


def run_nags(h: Harness, when: datetime) -> list[str]:
    h.clock.now = when
    lines = h.bot.jobs.run_nags(job="nags", now=when)
    h.settle()
    return lines


def ship(h: Harness, text: str = "intent: express-refund intent", *, user: str = "U0PPM") -> None:
    assert h.command(f"shipped {text}", user=user, channel="C0SUPPORT").status == 200
    h.settle()


def question_thread(h: Harness, change_id: str = "CHG-1") -> list[dict]:
    view = h.bot.changelog.view(change_id)
    assert view is not None and view.ts is not None
    return [m for m in h.fake.thread(view.channel, view.ts) if m["ts"] != view.ts]


def change_events(h: Harness, change_id: str = "CHG-1") -> list[tuple[str, dict]]:
    with h.bot.store.reading() as tx:
        return [(e.type, e.data) for e in tx.changes.events(change_id)]


def test_an_unanswered_change_nags_the_person_asked_after_n_business_days_then_the_lead_once_each(
    harness: Harness,
) -> None:
    h = harness
    ship(h)  # Monday 10:00: product ships; support's platform owner is asked
    assert h.bot.changelog.get("CHG-1").change.asked == "U0MLPM"
    assert run_nags(h, at(25, 9, 59)) == [] and dm_recipients(h) == set() and question_thread(h) == []

    lines = run_nags(h, at(25, 10))  # Wednesday 10:00: two business days
    assert lines and lines[0].startswith("U0MLPM: CHG-1 has waited 2 business days for an answer from <@U0MLPM>")
    [dm] = dms(h, "U0MLPM")
    assert dm["text"] == (
        "CHG-1 has waited 2 business days for an answer from <@U0MLPM>: Product shipped *express-refund "
        "intent* (intent) in support (<@U0PPM>, Mon 23 Nov 10:00). Does the prompt/eval suite cover it?"
    )
    assert buttons(dm) == ANSWERS
    assert (
        "*CHG-1* · product shipped *express-refund intent* (intent) · by <@U0PPM> 2 days ago · asked in <#C0SUPPORT>"
        in shown(dm)
    )
    [line] = question_thread(h)
    assert line["text"] == dm["text"]
    assert run_nags(h, at(25, 10, 15)) == [] and len(dms(h, "U0MLPM")) == 1  # once per step

    run_nags(h, at(27, 9, 59))
    assert dm_recipients(h) == {"U0MLPM"}
    run_nags(h, at(27, 10))  # Friday 10:00: four business days, the lead too
    assert dm_recipients(h) == {"U0MLPM", "U0LEAD"}
    [lead] = dms(h, "U0LEAD")
    assert lead["text"].startswith("CHG-1 has waited 4 business days") and lead["text"].endswith(
        "Escalated to <@U0LEAD>."
    )
    assert buttons(lead) == ANSWERS and dms(h, "U0MLPM")[-1]["text"] == lead["text"]
    assert len(question_thread(h)) == 2
    for day in (30, 1, 2):
        run_nags(h, at(day, 10))
    assert len(dms(h, "U0MLPM")) == 2 and len(dms(h, "U0LEAD")) == 1  # every step sent: nothing more, ever

    nags = [data for kind, data in change_events(h) if kind == "change.nag"]
    assert nags == [
        {"rule": RULE_UNACKNOWLEDGED, "step": "asked", "recipients": ["U0MLPM"]},
        {"rule": RULE_UNACKNOWLEDGED, "step": "lead", "recipients": ["U0MLPM", "U0LEAD"]},
    ]


def test_a_change_nag_comes_in_the_same_message_as_the_runs_request_nags_after_them(harness: Harness) -> None:
    h = harness
    ship(h)  # Monday 10:00
    h.clock.now = at(24, 14)
    h.command(
        "regression: refund bot quotes the wrong window", user="U0REQ"
    )  # Tuesday 14:00: unowned at Wednesday 10:00
    h.settle()
    run_nags(h, at(25, 10))
    [dm] = dms(h, "U0MLPM")
    assert dm["text"].startswith("2 reminders, most urgent first:\n• AIR-1 regression has had no owner")
    assert "\n• CHG-1 has waited 2 business days" in dm["text"]
    assert buttons(dm) == ["Take ownership AIR-1", "Not mine AIR-1", "Snooze AIR-1", *ANSWERS]
    assert (
        dm_recipients(h) == {"U0PPM", "U0MLPM"} and len(dms(h, "U0PPM")) == 1
    )  # the product owner: the regression only


def test_the_direct_messages_buttons_answer_the_change(harness: Harness) -> None:
    h = harness
    ship(h)
    run_nags(h, at(25, 10))
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0MLPM", channel="U0MLPM")  # from the DM
    h.settle()
    record = h.bot.changelog.get("CHG-1")
    assert (record.answer.answer, record.answer.by, record.answer.eval_request) == ("needs_work", "U0MLPM", "AIR-1")
    eval_request = h.bot.queries.get(1)
    assert (eval_request.kind, eval_request.assignee) == ("eval", "U0MLPM")
    view = h.bot.changelog.view("CHG-1")
    question = next(m for m in h.fake.messages("C0SUPPORT") if m["ts"] == view.ts)
    assert "change.actions" not in json.dumps(question["blocks"]) and "needs work; AIR-1 asks for it" in json.dumps(
        question["blocks"]
    )
    assert question_thread(h)[-1]["text"] == "<@U0MLPM> answered: needs work; AIR-1 asks for it"
    run_nags(h, at(30, 10))  # answered: no lead step
    assert "U0LEAD" not in dm_recipients(h)
    with h.bot.store.reading() as tx:
        assert tx.changes.due_for_nags(at(1, 10)) == ([], set())

    h.click(ids.CHANGE_COVERED, "CHG-1", user="U0MLPM", channel="U0MLPM")  # a second answer is refused
    h.settle()
    assert h.fake.responses[-1]["body"]["text"] == "CHG-1 was already answered by <@U0MLPM>: needs work."


def test_covered_from_the_dm_asks_for_the_eval_case(harness: Harness) -> None:
    h = harness
    ship(h)
    run_nags(h, at(25, 10))
    h.click(ids.CHANGE_COVERED, "CHG-1", user="U0MLPM", channel="U0MLPM")
    h.settle()
    form = last_view(h)
    assert form["callback_id"] == ids.COVERED_MODAL
    h.submit(
        form,
        {ids.EVAL_LINK: {"type": "url_text_input", "value": "https://evals.example.com/cases/express"}},
        user="U0MLPM",
    )
    h.settle()
    assert h.bot.changelog.get("CHG-1").answer.eval_link == "https://evals.example.com/cases/express"


def test_snoozing_a_changes_nags_from_the_dm_is_bounded_and_said_once_in_the_thread(harness: Harness) -> None:
    h = harness
    ship(h)
    run_nags(h, at(25, 10))
    h.click(ids.CHANGE_SNOOZE, "CHG-1", user="U0ENG1", channel="U0ENG1")  # not theirs to snooze
    h.settle()
    assert h.fake.responses[-1]["body"]["text"] == "Only <@U0MLPM>, the support lead or an admin can snooze CHG-1."
    for expected in ("Thu 26 Nov 10:00", "Fri 27 Nov 10:00", "Sat 28 Nov 10:00"):
        h.click(ids.CHANGE_SNOOZE, "CHG-1", user="U0MLPM", channel="U0MLPM")
        h.settle()
        assert h.fake.responses[-1]["body"]["text"] == f"Reminders about CHG-1 are snoozed until {expected}."
    h.click(ids.CHANGE_SNOOZE, "CHG-1", user="U0MLPM", channel="U0MLPM")
    h.settle()
    assert h.fake.responses[-1]["body"]["text"].startswith(
        "CHG-1 cannot be snoozed any longer: a snooze lasts at most 3 days"
    )
    snoozes = [m["text"] for m in question_thread(h) if "snoozed" in m["text"]]
    assert snoozes == ["<@U0MLPM> snoozed reminders about CHG-1 until Thu 26 Nov 10:00."]

    run_nags(h, at(27, 10))  # the lead's step is due, but snoozed
    assert "U0LEAD" not in dm_recipients(h)
    with h.bot.store.reading() as tx:
        assert tx.changes.due_for_nags(at(28, 9, 59))[0] == []  # the next check waits for the snooze's end
    run_nags(h, at(28, 10))  # Saturday: recorded now, the direct messages wait for working hours
    assert "U0LEAD" not in dm_recipients(h)
    h.clock.now = at(30, 9)
    h.settle()
    assert dms(h, "U0LEAD")[0]["text"].startswith("CHG-1 has waited 4 business days")


def test_a_held_message_about_a_change_answered_meanwhile_is_not_sent(harness: Harness) -> None:
    h = harness
    ship(h)
    run_nags(h, at(25, 20))  # Wednesday 20:00: the nag is recorded; the DM waits for Thursday 09:00
    assert dm_recipients(h) == set() and len(question_thread(h)) == 1
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0MLPM", channel="C0SUPPORT")
    h.settle()
    h.clock.now = at(26, 9)
    h.settle()
    assert dm_recipients(h) == set()


def test_the_job_reads_only_the_changes_whose_next_check_has_come(harness: Harness) -> None:
    h = harness
    ship(h)
    with h.bot.store.reading() as tx:
        assert [r.change.id for r in tx.changes.due_for_nags(at(23, 10, 5))[0]] == ["CHG-1"]  # new: looked at next run
    assert h.bot.jobs.run_nags(job="nags", now=at(23, 10, 15), dry_run=True) == []
    run_nags(h, at(23, 10, 15))
    with h.bot.store.reading() as tx:
        assert tx.changes.due_for_nags(at(25, 9, 59)) == ([], set())
        assert [r.change.id for r in tx.changes.due_for_nags(at(25, 10))[0]] == ["CHG-1"]
    dry = h.bot.jobs.run_nags(job="nags", now=at(25, 10), dry_run=True)
    assert dry[0].startswith("U0MLPM: CHG-1 has waited 2 business days") and dm_recipients(h) == set()
    assert [kind for kind, _ in change_events(h)] == ["change.logged"]  # a dry run records nothing
    assert h.bot.jobs.run_nags(job="sla", now=at(25, 10)) == []  # the sla job leaves changes alone


def test_jobs_run_nags_by_hand_says_where_a_changes_nag_went(harness: Harness, tmp_path) -> None:
    from tests.test_jobs_cli import release_the_outbox, run

    h = harness
    ship(h)
    release_the_outbox(h)
    done = run(h, tmp_path, "nags", "--at", at(25, 10).isoformat())
    assert done.returncode == 0, done.stderr
    lines = [line.strip() for line in done.stdout.splitlines()]
    assert "sent      thread of CHG-1 in C0SUPPORT" in lines
    [dm] = [line for line in lines if "direct message to U0MLPM" in line]  # now, or in U0MLPM's working hours
    assert dm.startswith(("sent", "queued"))
    assert [data["step"] for kind, data in change_events(h) if kind == "change.nag"] == ["asked"]
