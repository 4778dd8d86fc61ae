"""The change log follows the prompt tools, through the real app: a label (Langfuse's production) or tag
(LangSmith's) moving forward is a change, moving back is a rollback shown as one, and an edit that leaves it
where it was logs nothing; the other side is asked about each change once."""

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, start_harness
from tests.test_hook_endpoints import HOOKS, SAMPLES, SECRETS, post


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **HOOKS}, hook_secrets=SECRETS)
    yield harness
    harness.stop()


def send(h: Harness, format: str, name: str, domain: str) -> Any:
    reply = post(
        h, f"/hooks/changes?format={format}&domain={domain}", (SAMPLES / f"{name}.json").read_bytes(), source="prompts"
    )
    return reply.status, [(r["change"], r["outcome"]) for r in reply.json()["results"]]


def questions(h: Harness) -> list[str]:
    return [
        json.dumps(c["blocks"])
        for c in h.fake.calls_to("chat.postMessage")
        if "change.question" in json.dumps(c.get("blocks"))
    ]


def test_langfuse_production_moving_back_is_a_rollback_and_a_tag_edit_is_nothing(h: Harness) -> None:
    assert send(h, "langfuse", "langfuse-prompt-promoted", "support") == (201, [("CHG-1", "logged")])
    assert send(h, "langfuse", "langfuse-prompt-tags-edited", "support") == (200, [(None, "unchanged")])
    assert h.bot.changelog.latest(None, limit=5)[0].change.id == "CHG-1" and len(questions(h)) == 1
    h.clock.advance(days=1)
    assert send(h, "langfuse", "langfuse-prompt-rolled-back", "support") == (201, [("CHG-2", "rollback")])
    rollback = h.bot.changelog.get("CHG-2").change
    assert rollback.what.startswith("prompt refund-answer rolled back to v13 in production (from v14)")
    assert (rollback.asset, rollback.asked, rollback.side) == ("refund-answer", "U0PPMX", "platform")
    assert len(questions(h)) == 2 and "rolled back to v13" in questions(h)[-1]
    h.clock.advance(days=1)
    promoted_again = json.loads((SAMPLES / "langfuse-prompt-promoted.json").read_text())
    promoted_again["id"], promoted_again["timestamp"] = "0c6e2a84-9f1b-4d73-b5e8-3a7d1c9f0b62", "2026-11-26T09:00:00Z"
    reply = post(h, "/hooks/changes?format=langfuse&domain=support", promoted_again, source="prompts")
    assert [(r["change"], r["outcome"]) for r in reply.json()["results"]] == [("CHG-3", "logged")]  # forward again


def test_langsmith_production_tag_moved_and_moved_back(h: Harness) -> None:
    assert send(h, "langsmith", "langsmith-prompt-tagged", "search") == (201, [("CHG-1", "logged")])
    assert send(h, "langsmith", "langsmith-prompt-tag-moved", "search") == (201, [("CHG-2", "logged")])
    assert send(h, "langsmith", "langsmith-prompt-tag-rolled-back", "search") == (201, [("CHG-3", "rollback")])
    assert h.bot.changelog.get("CHG-3").change.what == (
        "prompt search-answer rolled back to e41b7c09 in production (from 9a0c4e71)"
    )
    assert len(questions(h)) == 3


def test_the_payloads_person_is_credited_when_the_config_knows_them(tmp_path: Path, fake_slack: FakeSlack) -> None:
    hooks = copy.deepcopy(HOOKS)
    hooks["hooks"]["prompts"]["people"] = {"mlpm@example.com": "U0MLPM"}
    known = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **hooks}, hook_secrets=SECRETS)
    try:
        assert send(known, "langsmith", "langsmith-prompt-commit", "search")[0] == 201
        change = known.bot.changelog.get("CHG-1").change
        assert (change.shipped_by, change.origin.person) == ("prompts", "U0MLPM")
        assert "<@U0MLPM> (through the `prompts` hook)" in questions(known)[0]
        stranger = json.loads((SAMPLES / "langsmith-prompt-tagged.json").read_text())
        stranger["created_by"] = "someone@elsewhere.example"
        post(known, "/hooks/changes?format=langsmith&domain=search", stranger, source="prompts")
        assert known.bot.changelog.get("CHG-2").change.origin.person is None  # not a known user: the hook is credited
        assert "the `prompts` hook" in questions(known)[1]
    finally:
        known.stop()
