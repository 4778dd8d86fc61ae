"""An alert's life is one request's life, played through the real app over signed HTTP on simulated time: a
refire soon after the close reopens the regression, a refire long after files a new one linked to the old,
a flapping alert is told in the thread a few times and then counted, and a warning becoming critical raises
the priority (and the SLA with it)."""

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from datetime import datetime
from typing import Any

import pytest

from bot.domain.changes_loop import FLAP_LINES
from bot.domain.history import request_sla
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, start_harness
from tests.stories import dm_recipients, resolve, thread_posts
from tests.test_hook_endpoints import HOOKS, SAMPLES, SECRETS, cards, post

ALERTMANAGER = "/hooks/regressions?format=alertmanager&domain=search"
ACCURACY = "RefundAnswerAccuracyDrop@4fee82d29bae"  # the alert's name and its group's key, hashed


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **HOOKS}, hook_secrets=SECRETS)
    yield harness
    harness.stop()


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def one_alert(status: str, *, since: datetime, until: datetime | None = None) -> dict[str, Any]:
    """The group of the RefundAnswerAccuracyDrop alert alone, firing since `since` or resolved at `until`, as
    Alertmanager sends it: each firing has its own startsAt, so a notification after a change is a new body."""
    body = sample("alertmanager-resolved" if status == "resolved" else "alertmanager-firing")
    body["alerts"] = body["alerts"][:1]
    body["truncatedAlerts"] = 0
    body["alerts"][0]["startsAt"] = since.isoformat()
    if until is not None:
        body["alerts"][0]["endsAt"] = until.isoformat()
    return body


def lines(h: Harness, key: str) -> list[str]:
    return [m["text"] for m in thread_posts(h, key)]


def test_a_refire_within_a_week_of_the_close_reopens_the_same_regression(h: Harness) -> None:
    fired = h.clock()
    assert post(h, ALERTMANAGER, one_alert("firing", since=fired)).status == 201
    resolve(h, "AIR-1", "U0ENG1", "outside", no_eval_reason="the provider rolled the model back")
    assert h.bot.queries.get(1).status == "resolved"
    over = h.clock.advance(hours=1)
    assert (
        post(h, ALERTMANAGER, one_alert("resolved", since=fired, until=over)).json()["results"][0]["outcome"]
        == "repeat"
    )
    again_at = h.clock.advance(days=3)
    reply = post(h, ALERTMANAGER, one_alert("firing", since=again_at))
    assert (reply.status, reply.json()["results"]) == (200, [{"id": ACCURACY, "key": "AIR-1", "outcome": "reopened"}])
    request = h.bot.queries.get(1)
    assert request.is_open and h.bot.queries.get(2) is None and len(cards(h)) == 1
    assert (
        "The `monitoring` hook reports it firing again, 3 days after it closed: reopened (an alert firing within 7 "
        "days of its close reopens it)."
    ) in lines(h, "AIR-1")
    again = post(h, ALERTMANAGER, one_alert("firing", since=again_at))  # Alertmanager repeating it: the same bytes
    assert (again.status, again.json()["results"], again.json()["replay"]) == (
        200,
        [],
        "this exact body was handled before; nothing changed",
    )
    resolved = post(h, ALERTMANAGER, one_alert("resolved", since=again_at, until=h.clock.advance(hours=2)))
    assert resolved.json()["results"][0]["outcome"] == "recovered"
    assert lines(h, "AIR-1")[-1] == "The `monitoring` hook reports this recovered."


def test_a_refire_long_after_the_close_files_a_new_regression_naming_the_last_one(h: Harness) -> None:
    fired = h.clock()
    post(h, ALERTMANAGER, one_alert("firing", since=fired))
    resolve(h, "AIR-1", "U0ENG1", "outside", no_eval_reason="the provider rolled the model back")
    again_at = h.clock.advance(days=12)
    reply = post(h, ALERTMANAGER, one_alert("firing", since=again_at))
    assert (reply.status, reply.json()["key"], reply.json()["results"][0]["outcome"]) == (201, "AIR-2", "filed_again")
    old, new = h.bot.queries.get(1), h.bot.queries.get(2)
    assert old.status == "resolved" and new.is_open and (new.domain, new.asset) == ("support", "refund-intent")
    assert new.description.startswith(
        "Fired again; last time AIR-1, closed as resolved on 2026-11-23, cause outside; "
        "no eval case: the provider rolled the model back."
    )
    assert "The `monitoring` hook reports it firing again, 12 days after it closed: filed as AIR-2." in lines(
        h, "AIR-1"
    )
    assert "AIR-1" in h.card_text("AIR-2")  # its possible duplicate: the last time
    later = post(
        h, ALERTMANAGER, one_alert("resolved", since=again_at, until=h.clock.advance(hours=1))
    )  # the new life is the one the alert speaks of now
    assert (later.json()["key"], later.json()["results"][0]["outcome"]) == ("AIR-2", "recovered")
    assert "recovered" not in " ".join(lines(h, "AIR-1")[-1:])


def test_a_flapping_alert_is_told_a_few_times_then_counted_on_the_card(h: Harness) -> None:
    since = h.clock()
    post(h, ALERTMANAGER, one_alert("firing", since=since))
    for n in range(8):  # resolved, firing, resolved … every ten minutes
        at = h.clock.advance(minutes=10)
        if n % 2 == 0:
            post(h, ALERTMANAGER, one_alert("resolved", since=since, until=at))
        else:
            since = at
            post(h, ALERTMANAGER, one_alert("firing", since=since))
    told = [t for t in lines(h, "AIR-1") if t.startswith("The `monitoring` hook reports")]
    assert len(told) == FLAP_LINES + 1
    assert told[-1] == (
        "The `monitoring` hook reports it firing again. That is 4 changes of state in 24 hours: the next "
        "ones are counted on the card, not told here."
    )
    assert "(8 changes of state in 24 hours)" in h.card_text("AIR-1")
    assert "reported it firing again" in h.card_text("AIR-1")
    # a day later the flapping is over: the next change is told again
    post(h, ALERTMANAGER, one_alert("resolved", since=since, until=h.clock.advance(days=2)))
    assert lines(h, "AIR-1")[-1] == "The `monitoring` hook reports this recovered."


def test_a_sentry_warning_turning_critical_raises_the_priority_and_the_sla_follows(h: Harness) -> None:
    warning = sample("sentry-metric-alert-critical")
    warning["action"] = "warning"
    warning["data"]["description_title"] = "Warning: Refund answer errors"
    path = "/hooks/regressions?format=sentry&domain=support"
    assert post(h, path, warning).status == 201
    request = h.bot.queries.get(1)
    config = h.bot.config
    before = request_sla(request, h.bot.queries.status("AIR-1", "U0ADMIN")[1], config, now=h.clock()).first_response
    assert request.priority == "P3"
    h.clock.advance(minutes=20)
    reply = post(h, path, sample("sentry-metric-alert-critical"))
    assert reply.json()["results"] == [{"id": "metric-alert-508", "key": "AIR-1", "outcome": "raised"}]
    request, events = h.bot.queries.status("AIR-1", "U0ADMIN")
    assert request.priority == "P1" and h.bot.queries.get(2) is None
    after = request_sla(request, events, config, now=h.clock()).first_response
    assert after.due_at is not None and before.due_at is not None and after.due_at < before.due_at
    assert "The `monitoring` hook raised its priority from P3 to P1: the SLA follows it." in lines(h, "AIR-1")
    assert "Regression \\u00b7 *P1*" in h.card_text("AIR-1")
    again = post(h, path, sample("sentry-metric-alert-critical"))  # the same body again, freshly signed: nothing new
    assert (again.status, again.json()["results"]) == (200, [])
    resolved = sample("sentry-metric-alert-resolved")
    assert post(h, path, resolved).json()["results"][0]["outcome"] == "recovered"
    assert lines(h, "AIR-1")[-1] == "The `monitoring` hook reports this recovered."
    assert dm_recipients(h) <= {"U0ENG1", "U0ENG2", "U0LEAD", "U0ADMIN"}
