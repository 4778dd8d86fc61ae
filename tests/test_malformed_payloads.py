"""Signed but malformed Slack payloads: 400 naming the field (a quiet 200 for an event), never a 500, never a
traceback in the log, nothing changed.

Signed with the app's secret, as Slack signs, through the real server: the cases found by hand (`actions`
not a list, `event` a list, a command without `user_id` …), then hypothesis replacing any field of real
payloads (a command, a click, a select, a form, a shortcut, a mention, a :ticket:) with a value of another
JSON type, or dropping it.
"""

import copy
import json
import logging
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.blocks import ids
from tests.harness import TEAM, Harness, Reply
from tests.test_fuzz import MISSING, junk, put

USER = {"id": "U0ENG1", "name": "u0eng1", "team_id": TEAM}
BASE = {
    "team": {"id": TEAM, "domain": "acme"},
    "api_app_id": "A0APP",
    "token": "legacy",
    "is_enterprise_install": False,
}


def interact(h: Harness, payload: Any) -> Reply:
    return h.post(
        urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    )


def envelope(event: Any, **extra: Any) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": "Ev0MALFORMED",
        "event_time": 1700000000,
        "event": event,
        "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}],
        **extra,
    }


def command_form(h: Harness, **fields: str | None) -> bytes:
    form = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "acme",
        "channel_id": "C0SUPPORT",
        "channel_name": "support",
        "user_id": "U0REQ",
        "user_name": "u0req",
        "command": "/ai-request",
        "text": "question: refund window?",
        "api_app_id": "A0APP",
        "response_url": h.fake.response_url(),
        "trigger_id": h.fake.new_trigger_id(),
    }
    form.update({k: v for k, v in fields.items() if v is not None})
    for name in [k for k, v in fields.items() if v is None]:
        form.pop(name)
    return urllib.parse.urlencode(form).encode()


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()]
    assert bad == [], [f"{r.name}: {r.getMessage()}" for r in bad]


def test_the_malformed_payloads_found_are_refused_by_name(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    h = harness
    h.command("question: which eval covers refunds?")
    h.settle()
    caplog.set_level(logging.DEBUG)
    click = {**BASE, "type": "block_actions", "user": USER, "trigger_id": "1.2", "response_url": h.fake.response_url()}
    cases = [
        (interact(h, {**click, "actions": "request.claim"}), 400, "`actions` is not a list"),
        (
            interact(h, {**click, "actions": {"action_id": ids.CLAIM, "value": "AIR-1"}}),
            400,
            "bad request",
        ),  # Bolt cannot read it
        (interact(h, {**click, "actions": [ids.CLAIM]}), 400, "an action without an `action_id`"),
        (interact(h, {**click, "actions": [{"value": "AIR-1"}]}), 400, "an action without an `action_id`"),
        (
            interact(h, {**click, "user": "U0ENG1", "actions": [{"action_id": ids.CLAIM, "value": "AIR-1"}]}),
            400,
            "`user` is not an object",
        ),
        (interact(h, {**BASE, "type": "view_submission", "user": USER, "view": []}), 400, "`view` is not an object"),
        (
            interact(
                h, {**BASE, "type": "message_action", "callback_id": ids.FROM_MESSAGE, "user": USER, "message": "hi"}
            ),
            400,
            "`message` is not an object",
        ),
        (
            h.post(command_form(h, user_id=None), "application/x-www-form-urlencoded"),
            400,
            "a command without `user_id`",
        ),
        (
            h.post(command_form(h, team_id=None), "application/x-www-form-urlencoded"),
            400,
            "a command without `team_id`",
        ),
        (h.post(json.dumps(envelope([])).encode(), "application/json"), 200, ""),
        (h.post(json.dumps(envelope("app_mention")).encode(), "application/json"), 200, ""),
        (
            h.post(json.dumps(envelope({"type": ["app_mention"], "user": "U0REQ"})).encode(), "application/json"),
            200,
            "",
        ),
        (
            h.post(json.dumps(envelope({"type": "app_mention"}, authorizations="U0BOT")).encode(), "application/json"),
            400,
            "bad request",
        ),  # Bolt cannot read it: refused before it is known to be an event
    ]
    for reply, status, said in cases:
        assert reply.status == status, (reply, said)
        assert (said in reply.body) if said else reply.body == ""
    assert h.bot.pool.wait_idle(timeout=10)
    h.settle()
    assert h.bot.queries.get(1).status == "open" and h.bot.queries.get(2) is None, "nothing changed"
    no_traceback(caplog)
    refused = [r.getMessage() for r in caplog.records if r.name in ("bot.listeners.trust", "bot.entry.server")]
    assert len(refused) == len(cases) and all(
        m == "refused a request whose body Bolt could not read" or m.startswith("refused a malformed payload: ")
        for m in refused
    )
    assert all("AIR-1" not in m and "U0ENG1" not in m for m in refused), "no body in the log"


def real_payloads(h: Harness) -> list[tuple[str, dict[str, Any]]]:
    """("interactive" | "event", payload) as Slack sends them, for every surface but the command."""
    request = h.bot.queries.get(1)
    at = {
        "channel": {"id": request.card_channel, "name": "support"},
        "container": {"type": "message", "message_ts": request.card_ts, "channel_id": request.card_channel},
        "message": {"ts": request.card_ts, "type": "message", "text": "", "blocks": []},
    }
    click = {
        **BASE,
        **at,
        "type": "block_actions",
        "user": dict(USER),
        "trigger_id": "1.2",
        "response_url": h.fake.response_url(),
    }
    return [
        (
            "interactive",
            {
                **click,
                "actions": [
                    {
                        "action_id": ids.CLAIM,
                        "block_id": "card.actions",
                        "type": "button",
                        "value": "AIR-1",
                        "action_ts": "1.1",
                    }
                ],
            },
        ),
        (
            "interactive",
            {
                **click,
                "actions": [
                    {
                        "action_id": ids.REASSIGN,
                        "block_id": "card.actions",
                        "type": "users_select",
                        "selected_user": "U0ENG2",
                        "action_ts": "1.1",
                    }
                ],
            },
        ),
        (
            "interactive",
            {
                **BASE,
                "type": "view_submission",
                "user": dict(USER),
                "trigger_id": "1.2",
                "view": {
                    "id": "V0",
                    "callback_id": ids.REQUEST_MODAL,
                    "private_metadata": "{}",
                    "state": {
                        "values": {
                            ids.TITLE: {ids.INPUT: {"type": "plain_text_input", "value": "refund window"}},
                            ids.KIND: {ids.INPUT: {"type": "static_select", "selected_option": {"value": "question"}}},
                        }
                    },
                },
            },
        ),
        (
            "interactive",
            {
                **BASE,
                **at,
                "type": "message_action",
                "callback_id": ids.FROM_MESSAGE,
                "user": dict(USER),
                "trigger_id": "1.2",
                "response_url": h.fake.response_url(),
                "message": {"type": "message", "user": "U0REQ", "ts": "1700000001.000100", "text": "refund bot loops"},
            },
        ),
        (
            "event",
            envelope(
                {
                    "type": "app_mention",
                    "user": "U0REQ",
                    "text": "<@U0BOT> question: refunds?",
                    "ts": "1700000002.000100",
                    "channel": "C0SUPPORT",
                    "event_ts": "1700000002.000100",
                }
            ),
        ),
        (
            "event",
            envelope(
                {
                    "type": "reaction_added",
                    "user": "U0REQ",
                    "reaction": "ticket",
                    "event_ts": "1700000003.000100",
                    "item": {"type": "message", "channel": "C0SUPPORT", "ts": "1700000001.000100"},
                }
            ),
        ),
    ]


def paths_of(data: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every path to a value inside `data` (objects and lists), to depth 4."""
    out: list[tuple[str, ...]] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        path = (*prefix, str(key))
        out.append(path)
        if len(path) < 4:
            out += paths_of(value, path)
    return out


SHAPES = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SHAPES
@given(data=st.data())
def test_any_field_of_another_type_is_never_a_500_nor_a_traceback(
    harness: Harness, caplog: pytest.LogCaptureFixture, data: st.DataObject
) -> None:
    h = harness
    if h.bot.queries.get(1) is None:
        h.command("question: which eval covers refunds?")
        h.settle()
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    if data.draw(st.booleans(), label="a command"):
        names = [
            "token",
            "team_id",
            "channel_id",
            "user_id",
            "command",
            "text",
            "api_app_id",
            "response_url",
            "trigger_id",
        ]
        broken = data.draw(
            st.dictionaries(st.sampled_from(names), st.one_of(st.none(), st.text(max_size=8)), max_size=3)
        )
        reply = h.post(command_form(h, **broken), "application/x-www-form-urlencoded")
    else:
        surface, payload = copy.deepcopy(data.draw(st.sampled_from(real_payloads(h)), label="payload"))
        for path in data.draw(
            st.lists(st.sampled_from(paths_of(payload)), min_size=1, max_size=2, unique=True), label="paths"
        ):
            put(payload, list(path), data.draw(st.one_of(st.just(MISSING), junk), label="/".join(path)))
        if surface == "event":
            reply = h.post(json.dumps(payload).encode(), "application/json")
        else:
            reply = interact(h, payload)
    assert reply.status < 500, reply
    assert "Traceback" not in reply.body
    assert h.bot.pool.wait_idle(timeout=10)
    h.settle()
    no_traceback(caplog)
