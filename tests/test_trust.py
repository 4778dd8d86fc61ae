"""Only this installation's payloads count, and in a Slack Connect channel only this workspace's people act.

The installation is what `auth.test` answers at startup (the fake Slack says team T0TEAM, app A0APP,
and an Enterprise Grid org when the test sets one). Payloads go through the real app over HTTP,
signed with the right secret: the same app installed in another workspace signs with it too.
"""

import json
import time
from pathlib import Path
from typing import Any

import pytest

from bot.listeners.trust import Installation, foreign_actor_team
from tests.fake_slack import FakeSlack
from tests.harness import TEAM, Harness, Reply, start_harness

PARTNER = "T0PARTNER"  # a workspace of another organisation, connected through Slack Connect


def filed(h: Harness, text: str = "regression: refund window wrong") -> str:
    assert h.command(text).status == 200
    h.settle()
    request = h.bot.queries.get(1)
    assert request is not None and request.card_ts
    return request.key


def quiet(h: Harness) -> tuple[int, int]:
    """(requests, Web API calls so far besides the startup auth.test) after everything settled."""
    h.settle()
    with h.bot.store.reading() as tx:
        count = len(tx.page_after(0, limit=1000))
    return count, len([c for c in h.fake.calls if c.method != "auth.test"])


def envelope(event: dict[str, Any], *, team: str = TEAM, shared: bool = False, **extra: Any) -> bytes:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": event,
            "is_ext_shared_channel": shared,
            "authorizations": [{"team_id": team, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}],
            **extra,
        }
    ).encode()


def press(h: Harness, key: str, action: str, *, user: str, user_team: str, **payload: Any) -> Reply:
    request = h.bot.queries.get(int(key.split("-")[1]))
    return h.interact(
        {
            "type": "block_actions",
            "user": {"id": user, "name": user.lower(), "team_id": user_team},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": request.card_channel, "name": "x"},
            "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
            "message": {"ts": request.card_ts, "type": "message", "text": "", "blocks": []},
            "actions": [
                {
                    "action_id": action,
                    "block_id": "card.actions",
                    "type": "button",
                    "value": key,
                    "action_ts": "1700000000.1",
                }
            ],
            **payload,
        }
    )


# -- another installation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "field, value", [("team_id", "T0OTHER"), ("api_app_id", "A0OTHER"), ("enterprise_id", "E0OTHER")]
)
def test_a_command_for_another_installation_is_refused(harness: Harness, field: str, value: str) -> None:
    reply = harness.command("regression: refund window wrong", **{field: value})
    assert reply.status == 401 and "AIR" not in reply.body
    assert quiet(harness) == (0, 0)  # nothing filed, nothing sent


def test_an_event_for_another_installation_is_acknowledged_and_dropped(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SUPPORT", "<@U0BOT> refund bot quotes 14 days", user="U0REQ")
    mention = {
        "type": "app_mention",
        "user": "U0REQ",
        "text": "<@U0BOT> refund bot quotes 14 days",
        "ts": ts,
        "channel": "C0SUPPORT",
        "event_ts": ts,
    }
    reply = harness.post(envelope(mention, team="T0OTHER"), "application/json")
    assert (reply.status, reply.body) == (200, "")  # so Slack does not send it again
    reply = harness.post(envelope(mention, api_app_id="A0OTHER"), "application/json")
    assert (reply.status, reply.body) == (200, "")
    assert quiet(harness) == (0, 0)


def test_a_click_from_another_installation_changes_nothing(harness: Harness) -> None:
    key = filed(harness)
    before = quiet(harness)
    reply = press(
        harness, key, "request.claim", user="U0ENG1", user_team="T0OTHER", team={"id": "T0OTHER", "domain": "other"}
    )
    assert reply.status == 401
    assert quiet(harness) == before and harness.bot.queries.get(1).status == "open"


# -- Slack Connect: people of another workspace in a shared channel ----------------------------------
def test_a_partner_press_on_a_card_changes_nothing_and_tells_nobody(harness: Harness) -> None:
    key = filed(harness)
    before = quiet(harness)
    reply = press(harness, key, "request.claim", user="U0ENG2", user_team=PARTNER)  # the id of a member, from elsewhere
    assert (reply.status, reply.body) == (200, "")
    assert quiet(harness) == before
    assert harness.bot.queries.get(1).status == "open" and harness.bot.queries.get(1).assignee != "U0ENG2"
    assert (
        press(harness, key, "request.claim", user="U0ENG2", user_team=TEAM).status == 200
    )  # the same press from here counts
    harness.settle()
    assert harness.bot.queries.get(1).status == "claimed"


def test_a_partner_reply_in_a_card_thread_is_not_recorded(harness: Harness) -> None:
    key = filed(harness)
    request = harness.bot.queries.get(1)
    ts = harness.fake.add_message(
        request.card_channel, "our side says 30 days", user="U0REQ", thread_ts=request.card_ts
    )
    reply = harness.post(
        envelope(
            {
                "type": "message",
                "channel": request.card_channel,
                "user": "U0REQ",
                "user_team": PARTNER,
                "team": PARTNER,
                "text": "our side says 30 days",
                "ts": ts,
                "thread_ts": request.card_ts,
                "event_ts": ts,
                "channel_type": "channel",
            },
            shared=True,
        ),
        "application/json",
    )
    assert (reply.status, reply.body) == (200, "")
    harness.settle()
    with harness.bot.store.reading() as tx:
        assert [e.type for e in tx.events(request.id)] == ["created"]
    assert key == "AIR-1"


def test_a_partner_mention_or_a_reaction_nobody_can_place_files_nothing(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SUPPORT", "<@U0BOT> refund bot quotes 14 days", user="U0PARTNER")
    mention = {
        "type": "app_mention",
        "user": "U0PARTNER",
        "user_team": PARTNER,
        "text": "<@U0BOT> refund bot quotes 14 days",
        "ts": ts,
        "channel": "C0SUPPORT",
        "event_ts": ts,
    }
    assert harness.post(envelope(mention, shared=True), "application/json").status == 200
    reaction = {
        "type": "reaction_added",
        "user": "U0REQ",
        "reaction": "ticket",
        "item_user": "U0PARTNER",
        "item": {"type": "message", "channel": "C0SUPPORT", "ts": ts},
        "event_ts": ts,
    }
    assert harness.post(envelope(reaction, shared=True), "application/json").status == 200  # who reacted cannot be told
    assert quiet(harness) == (0, 0)


def test_our_own_people_in_a_shared_channel_still_file(harness: Harness) -> None:
    ts = harness.fake.add_message("C0SUPPORT", "<@U0BOT> refund bot quotes 14 days", user="U0REQ")
    mention = {
        "type": "app_mention",
        "user": "U0REQ",
        "user_team": TEAM,
        "text": "<@U0BOT> refund bot quotes 14 days",
        "ts": ts,
        "channel": "C0SUPPORT",
        "event_ts": ts,
    }
    assert harness.post(envelope(mention, shared=True), "application/json").status == 200
    harness.settle()
    assert harness.bot.queries.get(1) is not None


# -- an Enterprise Grid workspace --------------------------------------------------------------------
def test_in_an_enterprise_grid_org_the_org_is_checked_too(tmp_path: Path, fake_slack: FakeSlack) -> None:
    fake_slack.enterprise_id = "E0ORG"
    h = start_harness(tmp_path, fake_slack)
    try:
        assert h.command("regression: refund window wrong", enterprise_id="E0OTHER").status == 401
        assert h.command("regression: refund window wrong", enterprise_id="E0ORG").status == 200
        h.settle()
        assert h.bot.queries.get(1) is not None and h.bot.queries.get(2) is None
    finally:
        h.stop()


def test_the_actor_s_workspace_is_read_from_the_user_or_the_event() -> None:
    ours = Installation(team_id=TEAM)
    assert foreign_actor_team({"type": "block_actions", "user": {"id": "U1", "team_id": TEAM}}, ours) is None
    assert foreign_actor_team({"type": "block_actions", "user": {"id": "U1", "team_id": PARTNER}}, ours) == PARTNER
    org = Installation(team_id=TEAM, enterprise_id="E0ORG")
    assert (
        foreign_actor_team({"type": "event_callback", "event": {"type": "app_mention", "user_team": "E0ORG"}}, org)
        is None
    )
