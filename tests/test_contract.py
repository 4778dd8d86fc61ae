"""Every id the manifest and the cards name has a listener: an unhandled one would get Bolt's 404."""

import json
from pathlib import Path

import yaml

from bot.blocks import ids
from bot.blocks.card import render_card
from bot.domain.models import Request
from tests.harness import START, Harness

ROOT = Path(__file__).resolve().parents[1]
EVENT_TYPES = {"message.channels": "message", "message.groups": "message", "message.im": "message"}


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def card_action_ids() -> set[str]:
    """Every action id any card can show, over every kind × status × stage × owner."""
    found: set[str] = set()
    for kind in ("feature", "regression", "security_review", "eval", "question"):
        for status in ("open", "claimed", "waiting", "resolved", "declined"):
            for stage in (None, "requested", "in_review", "approved", "changes_requested"):
                for owner in (None, "U0ENG1"):
                    request = Request(
                        id=1,
                        kind=kind,
                        domain="support",
                        title="t",
                        description="d",
                        priority="P3",
                        status=status,
                        stage=stage,
                        requester="U0REQ",
                        owner=owner,
                        source="command",
                        created_at=START,
                        updated_at=START,
                    )
                    _, blocks = render_card(request, sla_lines=[], redact=False)
                    for block in (b.to_dict() for b in blocks):
                        found.update(e["action_id"] for e in block.get("elements", []) if "action_id" in e)
    return found


def test_every_manifest_command_shortcut_and_event_has_a_listener(harness: Harness) -> None:
    m = manifest()
    for command in m["features"]["slash_commands"]:
        assert harness.command("help").status == 200
        assert command["command"] == ids.COMMAND
    for shortcut in m["features"]["shortcuts"]:
        reply = harness.interact(
            {
                "type": "message_action",
                "callback_id": shortcut["callback_id"],
                "trigger_id": harness.fake.new_trigger_id(),
                "user": {"id": "U0REQ"},
                "channel": {"id": "C0RANDOM"},
                "message_ts": "1.1",
                "message": {"type": "message", "ts": "1.1", "text": "hello", "user": "U0X"},
            }
        )
        assert reply.status == 200, shortcut
    for event in m["settings"]["event_subscriptions"]["bot_events"]:
        reply = harness.event(
            {
                "type": EVENT_TYPES.get(event, event),
                "user": "U0X",
                "channel": "C0RANDOM",
                "ts": "1.2",
                "text": "<@U0BOT> help",
                "event_ts": "1.2",
                "tab": "home",
                "reaction": "eyes",
                "item": {"type": "message", "channel": "C0RANDOM", "ts": "1.2"},
            }
        )
        assert reply.status == 200, event


def test_every_action_a_card_shows_has_a_listener(harness: Harness) -> None:
    shown = card_action_ids() | {ids.EDIT, ids.WITHDRAW}
    assert shown >= {
        ids.CLAIM,
        ids.REASSIGN,
        ids.RESOLVE,
        ids.WAIT,
        ids.REOPEN,
        ids.OWN,
        ids.DISCLAIM,
        ids.REVIEW_START,
        ids.REVIEW_APPROVE,
        ids.REVIEW_CHANGES,
    }
    for action_id in sorted(shown):
        assert harness.click(action_id, "AIR-404", user="U0ENG1", channel="C0SUPPORT", ts="1.3").status == 200, (
            action_id
        )
    for callback_id in (ids.REQUEST_MODAL, ids.DISCLAIM_MODAL):
        view = {
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": json.dumps({"key": "AIR-404"}),
            "blocks": [],
        }
        assert harness.submit(view, {}, user="U0ENG1").status == 200, callback_id
    harness.settle()


def test_an_unknown_action_gets_bolts_404(harness: Harness) -> None:
    assert harness.click("request.nothing", "AIR-1", user="U0ENG1", channel="C0SUPPORT", ts="1.4").status == 404
