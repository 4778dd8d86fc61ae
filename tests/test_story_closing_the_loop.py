"""Closing the loop, over two simulated weeks through the real app: product logs a new intent in support and its
platform owner is asked; she does not answer, is nagged after N business days and answers from the direct message's
buttons (needs work: an eval request is filed for her); monitoring files a regression over the hook with the change
as its suspect; she takes it and resolves it with the change as the cause and the eval case that now covers it; and
the next digest counts it, as the export says. Beside it: search's platform ships a prompt that nobody on the product
side answers for two weeks (nagged, then the lead too, then counted in the digests as never acknowledged and listed as
needing a decision, until answered from the digest), and a confidential regression in support closed without an eval
case (counted, never named outside its audience).

Then every Web API call the fake Slack recorded is read with its audience: who received what, in which channel, and
that no confidential word reached anyone who may not see it.

The harness starts on Monday 23 Nov 2026, 10:00 in Berlin (business hours 09:00-17:00 on weekdays; N = 2).
"""

import copy
import json
import re
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.modal import request_modal
from bot.usecases.export import change_rows, export_rows
from bot.hooks import signed_headers
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, Reply, start_harness
from tests.stories import (
    buttons,
    confidential_regression,
    dm_recipients,
    dms,
    last_view,
    leaks,
    resolve,
    shown,
    weekly_digest,
)
from tests.test_hook_endpoints import answer_of

SECRETS = {"monitoring": "s3cret-monitoring"}
STORY_CONFIG: dict[str, Any] = {
    **copy.deepcopy(CONFIG),
    "hooks": {"monitoring": {"secret_env": "MONITORING_HOOK_SECRET"}},
}
SECRET = re.compile(r"SECRET-[A-Z]+")
SUPPORT_PEOPLE = {
    "U0ENG1",
    "U0ENG2",
    "U0SEC1",
    "U0LEAD",
    "U0PPM",
    "U0MLPM",
    "U0ADMIN",
    "U0REQ",
}  # may see SECRET-REFUND
EVAL_CASE = "https://evals.example.com/cases/express-refund-window"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time in Nov/Dec 2026 (UTC+1), as the aware UTC instant the harness's clock holds."""
    month, day = (11, day) if day >= 20 else (12, day)
    return datetime(2026, month, day, hour, minute, tzinfo=timezone.utc) - timedelta(hours=1)


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config=STORY_CONFIG, hook_secrets=SECRETS)
    yield harness
    harness.stop()


def hook(h: Harness, path: str, body: dict[str, Any], *, source: str) -> Reply:
    raw = json.dumps(body).encode()
    headers = signed_headers(raw, source=source, secret=SECRETS[source], timestamp=int(h.clock().timestamp()))
    return answer_of(h, urllib.request.Request(h.url + path, data=raw, headers=headers))


def jobs(h: Harness, when: datetime) -> None:
    """The scheduler's nag jobs at `when` (the SLA alerts, then the nags)."""
    h.clock.now = when
    h.bot.jobs.run_nags(job="sla", now=when)
    h.bot.jobs.run_nags(job="nags", now=when)
    h.settle()


def about(messages: list[dict[str, Any]], what: str) -> list[dict[str, Any]]:
    return [m for m in messages if what in m["text"]]


def change_dms(h: Harness) -> dict[str, list[str]]:
    """Person -> the direct messages about a change they received, oldest first."""
    found: dict[str, list[str]] = {}
    for person in sorted(dm_recipients(h)):
        for message in about(dms(h, person), "CHG-"):
            found.setdefault(person, []).append(message["text"])
    return found


def export_says(h: Harness, *, start: datetime, end: datetime) -> tuple[int, int, int, int]:
    """From the export alone, for the week (start, end]: regressions closed, of them without an eval case, changes
    logged, of them unanswered at its end."""

    def within(text: str | None) -> bool:
        return text is not None and start < datetime.fromisoformat(text) <= end

    closed = [
        row
        for row in export_rows(h.bot.store, h.bot.config, now=end)
        if row["kind"] == "regression" and within(row["resolved_at"])
    ]
    without = [
        row
        for row in closed
        if not [e for e in row["events"] if e["data"].get("status") == "resolved"][-1]["data"].get("eval_case")
    ]
    logged = [row for row in change_rows(h.bot.store) if within(row["logged_at"])]
    unanswered = [
        row for row in logged if row["answer"] is None or not datetime.fromisoformat(row["answer"]["at"]) <= end
    ]
    return len(closed), len(without), len(logged), len(unanswered)


def test_two_weeks_from_a_new_intent_to_the_loop_closed(h: Harness) -> None:
    # -- Monday 23 Nov: product ships the express-refund intent; search's platform ships a prompt -----------------
    assert h.command("shipped intent: express-refund intent", user="U0PPM", channel="C0SUPPORT").status == 200  # CHG-1
    h.clock.now = at(23, 10, 5)
    assert h.command("shipped prompt: ranking prompt v3", user="U0MLPM2", channel="C0SEARCH").status == 200  # CHG-2
    h.settle()
    assert (h.bot.changelog.get("CHG-1").change.asked, h.bot.changelog.get("CHG-2").change.asked) == (
        "U0MLPM",
        "U0PPM2",
    )
    # a confidential regression in support, taken and closed the next day without an eval case
    h.clock.now = at(23, 11)
    secret = confidential_regression("SECRET-REFUND amounts shown to other customers", "support")
    h.submit(request_modal(h.bot.config, channel="C0SUPPORT").to_dict(), secret, user="U0REQ")  # AIR-1
    h.settle()
    h.click(ids.CLAIM, "AIR-1", user="U0ENG1")
    h.click(ids.OWN, "AIR-1", user="U0ENG1")
    h.settle()

    jobs(h, at(24, 10, 15))  # Tuesday: one business day; nobody is nagged about a change yet
    assert change_dms(h) == {}
    h.clock.now = at(24, 11)
    resolve(h, "AIR-1", "U0ENG1", "outside", no_eval_reason="the SECRET-REFUND provider changed its tokenizer")

    # -- Wednesday: two business days unanswered: the person asked is nagged, in the thread and by DM --------------
    jobs(h, at(25, 10, 15))
    [nag] = about(dms(h, "U0MLPM"), "CHG-1")
    assert nag["text"].startswith("CHG-1 has waited 2 business days for an answer from <@U0MLPM>: Product shipped")
    assert buttons(nag) == ["Covered CHG-1", "Needs work CHG-1", "Not relevant CHG-1", "Snooze CHG-1"]
    [search_nag] = about(dms(h, "U0PPM2"), "CHG-2")
    assert search_nag["text"].startswith(
        "CHG-2 has waited 2 business days for an answer from <@U0PPM2>: Platform shipped"
    )
    assert set(change_dms(h)) == {"U0MLPM", "U0PPM2"}

    # she answers from the direct message: needs work, which files an eval request for her
    h.clock.now = at(25, 10, 30)
    h.click(ids.CHANGE_NEEDS_WORK, "CHG-1", user="U0MLPM", channel="U0MLPM")
    h.settle()
    record = h.bot.changelog.get("CHG-1")
    assert (record.answer.answer, record.answer.by, record.answer.eval_request) == ("needs_work", "U0MLPM", "AIR-2")
    assert (h.bot.queries.get(2).kind, h.bot.queries.get(2).assignee) == ("eval", "U0MLPM")

    # -- Thursday: monitoring files a regression; its card names the change as a suspect -------------------------
    jobs(h, at(26, 10, 15))
    regression = {
        "id": "refund-accuracy-1",
        "title": "Express refunds are told to wait 14 days",
        "domain": "support",
        "description": "The judge flags 9% of refund answers since Tuesday.",
    }
    reply = hook(h, "/hooks/regressions", regression, source="monitoring")
    assert reply.status == 201 and reply.json()["key"] == "AIR-3"
    card = shown(h.card("AIR-3"))
    assert "Filed by the monitoring hook" in card
    assert "CHG-1" in card and "acknowledged by <@U0MLPM>: needs work" in card

    # the platform owner takes it and resolves it with the change as the cause and the eval case now covering it
    h.clock.now = at(26, 10, 20)
    h.click(ids.OWN, "AIR-3", user="U0MLPM")
    h.settle()
    resolve(h, "AIR-3", "U0MLPM", "change:CHG-1", eval_case=EVAL_CASE)
    _, events = h.bot.queries.status("AIR-3", "U0MLPM")
    resolution = next(e for e in events if e.data.get("status") == "resolved")
    assert (resolution.data["cause"], resolution.data["eval_case"]) == ("change:CHG-1", EVAL_CASE)

    # -- Friday: four business days: search's lead is nagged too; the weekend; Monday's digest ---------------------
    for day in (27, 28, 29):
        jobs(h, at(day, 10, 15))
    assert [m["text"][:45] for m in dms(h, "U0LEAD2")] == ["CHG-2 has waited 4 business days for an answe"]
    h.clock.now = at(30, 9)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()

    support = shown(weekly_digest(h, "C0SUPPORT"))  # the loop closed: both regressions counted, the change acknowledged
    assert (
        "Nothing: no unowned regression, no stalled review." in support and buttons(weekly_digest(h, "C0SUPPORT")) == []
    )
    assert "*Regressions closed*\\n2" in support and "*Without an eval case*\\n1" in support
    assert "*Changes logged*\\n1" in support and "*Never acknowledged*\\n0 logged this week, 0 still open" in support
    assert "Closed without an eval case: 1 confidential regression" in support and "AIR-1" not in support
    search = shown(weekly_digest(h, "C0SEARCH"))  # the prompt nobody answered: a decision, with its answers
    assert "*Needs a decision*: 1 change unanswered for 2 business days or more" in search
    assert ":hourglass: *CHG-2* · platform shipped *ranking prompt v3* (prompt) in search · asked <@U0PPM2>" in search
    assert buttons(weekly_digest(h, "C0SEARCH")) == ["Covered CHG-2", "Needs work CHG-2", "Not relevant CHG-2"]
    assert "*Changes logged*\\n1" in search and "*Never acknowledged*\\n1 logged this week, 1 still open" in search
    org = shown(weekly_digest(h, "C0DIGEST"))
    assert "*CHG-2*" in org and "*Regressions closed*\\n2" in org and "*Without an eval case*\\n1" in org
    assert "*Changes logged*\\n2" in org and "*Never acknowledged*\\n1 logged this week, 1 still open" in org
    assert "AIR-1" not in org
    assert export_says(h, start=at(23, 9), end=at(30, 9)) == (2, 1, 2, 1)  # the org digest's figures, from the export

    # -- the second week: nothing more is sent about the changes; the next digest still counts the open one -------
    for day in (30, 1, 2, 3, 4):
        jobs(h, at(day, 10, 15))
    h.clock.now = at(7, 9)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()
    assert "Closing the loop" not in shown(weekly_digest(h, "C0SUPPORT"))  # nothing to say
    search = shown(weekly_digest(h, "C0SEARCH"))
    assert "*CHG-2*" in search and "*Never acknowledged*\\n0 logged this week, 1 still open" in search
    # search's product owner answers from the digest
    h.clock.now = at(7, 10)
    h.click(ids.CHANGE_NOT_RELEVANT, "CHG-2", user="U0PPM2", channel="C0SEARCH")
    h.settle()
    h.submit(
        last_view(h),
        {ids.REASON: {"type": "plain_text_input", "value": "the results page reads no prompt"}},
        user="U0PPM2",
    )
    h.settle()
    assert (h.bot.changelog.get("CHG-2").answer.answer, h.bot.changelog.get("CHG-2").answer.by) == (
        "not_relevant",
        "U0PPM2",
    )

    # -- who received what, where ------------------------------------------------------------------------------------
    sent = h.fake.calls_to("chat.postMessage")
    assert {person: [text[:37] for text in texts] for person, texts in change_dms(h).items()} == {
        "U0MLPM": ["CHG-1 has waited 2 business days for "],
        "U0PPM2": ["CHG-2 has waited 2 business days for ", "CHG-2 has waited 4 business days for "],
        "U0LEAD2": ["CHG-2 has waited 4 business days for "],
    }  # support's lead: nothing, it was answered before 2N
    assert dms(h, "U0LEAD2")[0]["text"].endswith("Escalated to <@U0LEAD2>.")
    for change, channel in (("CHG-1", "C0SUPPORT"), ("CHG-2", "C0SEARCH")):
        question = h.bot.changelog.view(change)
        assert question.channel == channel
        thread = [c for c in sent if c.get("thread_ts") == question.ts]
        assert thread and all(c["channel"] == channel for c in thread)  # nags and the answer in the question's thread
        assert any(c["text"].startswith(f"{change} has waited 2 business days") for c in thread)
        assert any(" answered: " in c["text"] for c in thread)
    where = {
        change: {
            c["channel"] for c in sent + h.fake.calls_to("chat.update") if change in json.dumps(c, ensure_ascii=False)
        }
        for change in ("CHG-1", "CHG-2")
    }
    # CHG-1 also as a suspect on the confidential regression's card, in support's private review channel
    assert where == {
        "CHG-1": {"C0SUPPORT", "U0MLPM", "G0SUPSEC"},
        "CHG-2": {"C0SEARCH", "U0PPM2", "U0LEAD2", "C0DIGEST"},
    }
    regression = h.bot.queries.get(3)
    assert (regression.card_channel, regression.source, regression.requester, regression.owner, regression.status) == (
        "C0SUPPORT",
        "hook",
        "monitoring",
        "U0MLPM",
        "resolved",
    )

    # nobody saw the confidential regression's words where they may not
    assert leaks(h, SECRET, people=SUPPORT_PEOPLE, channels={"G0SUPSEC"}) == []
