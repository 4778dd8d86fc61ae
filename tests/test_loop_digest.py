"""The change log's part of the weekly digest: the changes nobody answered past the nag's N business days under
"needs a decision", with their answers as buttons (answering from the digest answers the question), and closing the
loop after the figures — regressions closed and how many without an eval case, changes logged and never
acknowledged (this week's, and all still open) — for each domain's digest and the organisation's. Confidential
regressions are counted, never named, where the channel may not see them.

Through the real app, on the harness's week (Monday 23 Nov 2026, 10:00 in Berlin, N = 2 business days); and the
rendering alone for a long list inside Block Kit's limits.
"""

import json
from datetime import datetime, timedelta, timezone

from bot.blocks import ids
from bot.blocks.digest import render_digest
from bot.blocks.modal import request_modal
from bot.domain.changes import ChangeRecord, ShippedChange
from bot.domain.changes_loop import LoopFigures
from bot.domain.digest import DigestFigures
from tests.harness import Harness
from tests.stories import buttons, channel_posts, confidential_regression, last_view, resolve, shown, weekly_digest

NOW = datetime(2026, 11, 27, 15, tzinfo=timezone.utc)  # Friday 16:00 in Berlin


def a_week(h: Harness) -> None:
    """Monday: product ships in support (nobody answers); search's platform ships and is answered; a regression
    and a confidential one are filed in support; both are resolved, one without an eval case."""
    assert h.command("shipped intent: express-refund intent", user="U0PPM", channel="C0SUPPORT").status == 200  # CHG-1
    h.command("shipped prompt: ranking prompt v3", user="U0MLPM2", channel="C0SEARCH")  # CHG-2
    h.settle()
    h.click(ids.CHANGE_NOT_RELEVANT, "CHG-2", user="U0PPM2", channel="C0SEARCH")
    h.settle()
    h.submit(
        last_view(h), {ids.REASON: {"type": "plain_text_input", "value": "the surface is unchanged"}}, user="U0PPM2"
    )
    h.command("regression: refund bot quotes 14 days", user="U0REQ")  # AIR-1
    secret = confidential_regression("SECRET refund amounts leak to other customers", "support")
    h.submit(request_modal(h.bot.config, channel="C0SUPPORT").to_dict(), secret, user="U0REQ")  # AIR-2
    h.settle()
    h.clock.advance(days=1)
    resolve(
        h, "AIR-1", "U0MLPM", cause="platform", eval_case="https://evals.example.com/cases/express-refund"
    )  # CHG-1 stays unanswered
    resolve(h, "AIR-2", "U0ENG1", cause="outside", no_eval_reason="the provider changed its tokenizer")


def test_the_digest_asks_for_the_unanswered_change_and_closes_the_loop(harness: Harness) -> None:
    h = harness
    a_week(h)
    h.clock.now = NOW - timedelta(hours=1)
    h.click(ids.CHANGE_SNOOZE, "CHG-1", user="U0MLPM", channel="U0MLPM")  # Friday 15:00: a day more
    h.settle()  # the snooze runs after the click's ack: done before the clock moves and the digest is read
    h.clock.now = NOW
    h.bot.jobs.send_digest(now=NOW)
    h.settle()

    support = weekly_digest(h, "C0SUPPORT")
    seen = shown(support)
    assert "*Needs a decision*: 1 change unanswered for 2 business days or more" in seen
    assert "Nothing: no unowned regression" not in seen
    assert (
        ":hourglass: *CHG-1* · product shipped *express-refund intent* (intent) in support · asked <@U0MLPM> · "
        "unanswered for 4.8 business days · snoozed until Sat 28 Nov (<@U0MLPM>)"
    ) in seen
    assert buttons(support) == ["Covered CHG-1", "Needs work CHG-1", "Not relevant CHG-1"]
    assert "*Closing the loop*" in seen and "*Regressions closed*\\n2" in seen and "*Without an eval case*\\n1" in seen
    assert "*Changes logged*\\n1" in seen and "*Never acknowledged*\\n1 logged this week, 1 still open" in seen
    assert "Closed without an eval case: 1 confidential regression" in seen
    assert "AIR-2" not in seen and "SECRET" not in seen

    org = shown(weekly_digest(h, "C0DIGEST"))
    assert "*CHG-1*" in org and "*Regressions closed*\\n2" in org and "*Changes logged*\\n2" in org
    assert "*Never acknowledged*\\n1 logged this week, 1 still open" in org and "AIR-2" not in org

    search = weekly_digest(h, "C0SEARCH")
    assert "Nothing: no unowned regression, no stalled review." in shown(search) and buttons(search) == []
    assert "*Changes logged*\\n1" in shown(
        search
    ) and "*Never acknowledged*\\n0 logged this week, 0 still open" in shown(search)

    # the digest's buttons answer the question
    h.click(ids.CHANGE_COVERED, "CHG-1", user="U0MLPM", channel="C0SUPPORT")
    h.settle()
    h.submit(
        last_view(h),
        {ids.EVAL_LINK: {"type": "url_text_input", "value": "https://evals.example.com/cases/express-refund"}},
        user="U0MLPM",
    )
    h.settle()
    assert h.bot.changelog.get("CHG-1").answer.answer == "covered"
    assert channel_posts(h, "C0SUPPORT", containing="<@U0MLPM> answered: covered")

    # a week later: nothing to decide, nothing to say
    h.clock.now = NOW + timedelta(days=7)
    h.bot.jobs.send_digest(now=h.clock.now)
    h.settle()
    later = shown(weekly_digest(h, "C0SUPPORT"))
    assert "Nothing: no unowned regression, no stalled review." in later and "Closing the loop" not in later


def test_the_private_review_channel_digest_is_left_as_it_was(harness: Harness) -> None:
    h = harness
    a_week(h)
    h.bot.jobs.send_digest(now=NOW)
    h.settle()
    assert [
        c
        for c in h.fake.calls_to("chat.postMessage")
        if c["channel"] == "G0SUPSEC" and "Closing the loop" in json.dumps(c)
    ] == []


def test_a_long_list_of_unanswered_changes_is_counted_and_fits() -> None:
    at = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
    waiting = [
        (
            ChangeRecord(
                ShippedChange(
                    id=f"CHG-{n}",
                    domain="support",
                    side="product",
                    what=f"intent {n} " + "x" * 280,
                    shipped_by="U0PPM",
                    at=at,
                    asked="U0MLPM",
                )
            ),
            20.0 - n,
        )
        for n in range(1, 13)
    ]
    loop = LoopFigures(
        regressions_closed=0,
        closed_without_eval_case=0,
        closed_without_eval_case_listed=[],
        changes_logged=0,
        unacknowledged_this_week=[],
        unacknowledged_open=[(r.change.id, d) for r, d in waiting],
        needs_answer=waiting,
        decide_after=2,
        end=at + timedelta(days=20),
    )
    figures = DigestFigures(
        scope="support",
        week_start=at,
        week_end=at + timedelta(days=7),
        opened=0,
        resolved=0,
        open_by_kind={},
        median_first_response_seconds=None,
        median_resolution_seconds=None,
        sla_attainment=None,
        breaches=0,
        stale_reviews=[],
        unowned_regressions=[],
        oldest_open=[],
        snoozed=[],
        confidential_open=0,
        previous=None,
    )
    messages = render_digest(
        figures,
        title="Weekly digest: support",
        queue="/ai-request queue support",
        stale_days=7,
        loop=loop,
        changes="/ai-request changes support",
    )
    blocks = [b.to_dict() for _, part in messages for b in part]  # to_dict() enforces Block Kit's limits
    assert all(len(part) <= 50 for _, part in messages)
    text = json.dumps(blocks)
    assert "*Needs a decision*: 12 changes unanswered for 2 business days or more" in text
    assert text.count('"action_id": "change.covered"') == 8
    assert "+4 more unanswered changes: `/ai-request changes support` lists the latest changes." in text
    assert "*Never acknowledged*\\n0 logged this week, 12 still open" in text
