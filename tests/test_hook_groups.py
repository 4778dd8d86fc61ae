"""Alert groups as a real Alertmanager 0.25 sent them (tests/samples/hooks/README.md says how they were recorded),
played through the real app: one card per alert name of a group, following its alerts as they resolve; a
severity raised on the same alert raises the priority; one bad alert never loses the good ones."""

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, start_harness
from tests.stories import thread_posts
from tests.test_hook_endpoints import HOOKS, SAMPLES, SECRETS, cards, post

GROUP = "/hooks/regressions?format=alertmanager&domain=support"


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **HOOKS}, hook_secrets=SECRETS)
    yield harness
    harness.stop()


def recorded(name: str) -> bytes:
    return (SAMPLES / f"{name}.json").read_bytes()


def outcomes(reply: Any) -> list[tuple[str, str]]:
    return [(r["key"], r["outcome"]) for r in reply.json()["results"]]


def alerts_part(h: Harness, key: str) -> str:
    [block] = [b for b in h.card(key)["blocks"] if b.get("block_id") == "card.alerts"]
    return str(block["text"]["text"])


def test_a_group_of_22_pods_is_one_card_that_follows_them(h: Harness) -> None:
    reply = post(h, GROUP, recorded("alertmanager-group-firing"))
    assert reply.status == 201 and outcomes(reply) == [("AIR-1", "filed"), ("AIR-2", "filed")]
    assert len(cards(h)) == 2  # not 23
    listed = alerts_part(h, "AIR-1")
    assert listed.startswith("*Alerts* — 22 firing, 0 resolved:") and "`pod=support-bot-api-00`" in listed
    assert "… and 12 more" in listed
    assert "card.alerts" not in json.dumps(h.card("AIR-2")["blocks"])  # one alert: nothing to list
    partly = post(h, GROUP, recorded("alertmanager-group-partly-resolved"))
    assert partly.status == 200 and outcomes(partly) == [("AIR-1", "updated"), ("AIR-2", "repeat")]
    assert alerts_part(h, "AIR-1").startswith("*Alerts* — 20 firing, 2 resolved:")
    assert thread_posts(h, "AIR-1") == []  # the card follows; the thread is not flooded
    again = post(h, GROUP, recorded("alertmanager-group-partly-resolved"))  # the same notification repeated
    assert (again.status, outcomes(again)) == (200, [])
    resolved = post(h, GROUP, recorded("alertmanager-group-resolved"))
    assert outcomes(resolved) == [("AIR-1", "recovered"), ("AIR-2", "recovered")]
    assert alerts_part(h, "AIR-1").startswith("*Alerts* — 0 firing, 22 resolved:")
    assert [m["text"] for m in thread_posts(h, "AIR-1")] == ["The `monitoring` hook reports this recovered."]
    refired = post(h, GROUP, recorded("alertmanager-group-refired"))
    assert outcomes(refired) == [("AIR-2", "refired")]


def test_a_warning_escalated_to_critical_in_the_group_raises_the_priority(h: Harness) -> None:
    post(h, GROUP, recorded("alertmanager-group-firing"))
    assert h.bot.queries.get(2).priority == "P3"
    escalated = post(h, GROUP, recorded("alertmanager-group-escalated"))
    assert ("AIR-2", "raised") in outcomes(escalated)
    assert h.bot.queries.get(2).priority == "P1"
    assert "The `monitoring` hook raised its priority from P3 to P1: the SLA follows it." in [
        m["text"] for m in thread_posts(h, "AIR-2")
    ]


def test_one_bad_alert_is_named_and_the_good_ones_filed(h: Harness) -> None:
    body = json.loads(recorded("alertmanager-group-firing"))
    del body["alerts"][22]["fingerprint"]  # the accuracy alert, mangled on the way
    reply = post(h, GROUP, body)
    assert reply.status == 201 and outcomes(reply) == [("AIR-1", "filed")]
    assert reply.json()["skipped"] == ["alerts[22].fingerprint was left out: alerts[22].fingerprint is required"]
    assert h.bot.queries.get(2) is None
    for alert in body["alerts"]:
        alert.pop("fingerprint", None)
    refused = post(h, GROUP, body)  # nothing in it can be filed: the sender hears why, and may fix and resend
    assert refused.status == 400 and refused.json()["field"] == "alerts[0].fingerprint"


def test_a_truncated_group_says_how_far_max_alerts_may_go(h: Harness) -> None:
    reply = post(h, GROUP, recorded("alertmanager-group-truncated"))
    assert reply.status == 201 and outcomes(reply) == [("AIR-1", "filed")]
    assert reply.json()["skipped"] == [
        "18 alert(s) of the group were left out by the sender (truncatedAlerts); raise "
        "max_alerts to 23 to file them all"
    ]


def test_what_grafana_said_is_on_the_card_with_its_links_named(h: Harness) -> None:
    reply = post(h, "/hooks/regressions?format=grafana", recorded("grafana-firing"))
    assert reply.status == 201
    card = h.card_text("AIR-1")
    for label in ("alert rule", "dashboard", "panel", "silence"):
        assert f"|{label}>" in card
    assert "link 1" not in card and "Value: A=0.74, B=1" in card
    assert "Groundedness of search answers fell from 0.91 to 0.74 after 14:00." in card


def test_possible_duplicates_on_hook_cards_follow_what_the_alert_says_not_the_bots_words(h: Harness) -> None:
    post(h, GROUP, recorded("alertmanager-group-firing"))  # AIR-1 KubePodNotReady, AIR-2 RefundAnswerAccuracyDrop
    # Both names carry the same job and severity labels and the same "Filed by the monitoring hook" line, and say
    # nothing alike: no match for that.
    assert "card.similar" not in json.dumps(h.card("AIR-2")["blocks"])
    other_group = json.loads(recorded("alertmanager-firing"))
    other_group["groupKey"] = '{}:{job="support-bot-canary"}'
    other_group["alerts"] = other_group["alerts"][:1]
    other_group["alerts"][0]["fingerprint"] = "1d2e3f4a5b6c7d8e"
    other_group["alerts"][0]["labels"]["job"] = "support-bot-canary"
    other_group["alerts"][0]["annotations"] = {"summary": "Canary refund answers off"}
    reply = post(h, GROUP, other_group)
    assert reply.json()["key"] == "AIR-3"
    similar = [b for b in h.card("AIR-3")["blocks"] if b.get("block_id") == "card.similar"]
    assert similar and "AIR-2" in similar[0]["text"]["text"]  # RefundAnswerAccuracyDrop in another group
    assert "AIR-1" not in similar[0]["text"]["text"]
