"""Every sentence in bot/blocks/: a transition says which thread line tells it and the facts that line names, the
use cases queue those facts (`storage.outbox.Told`), and bot/blocks/lines.py words them when the message is sent,
in the words the thread always had. Filing is one use case for a person and a machine; the use cases' modules
stay small."""

import ast
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.blocks.lines import LINES, MESSAGES, thread_line, told_text
from bot.domain import workflow
from bot.domain.models import Draft, Request
from bot.runtime.config import parse_config
from bot.usecases.facts import facts_of
from bot.usecases.service import Intake
from storage.db import Db
from storage.outbox import ChannelMessage, Ephemeral, Kind, ThreadLine, Told, read_payload
from storage.store import Store
from tests.harness import CONFIG, START

CFG = parse_config(CONFIG)
ROOT = Path(__file__).resolve().parents[1]


def a_request(**fields: object) -> Request:
    base: dict[str, object] = dict(
        id=5,
        kind="question",
        domain="support",
        title="refund window",
        description="",
        priority="P3",
        status="open",
        requester="U0REQ",
        source="command",
        court="lead",
        created_at=START,
        updated_at=START,
    )
    return Request(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("what", "facts", "words"),
    [
        ("claimed", {"owns": True}, "<@U0ENG1> claimed this and owns it."),
        ("claimed", {"owns": False}, "<@U0ENG1> claimed this."),
        ("reassigned", {"to": "U0ENG2"}, "<@U0ENG1> reassigned this to <@U0ENG2>."),
        ("waiting", {"requester": "U0REQ"}, "<@U0ENG1> is waiting on <@U0REQ>; the SLA clock is paused."),
        ("resolved", {}, "<@U0ENG1> resolved this."),
        (
            "resolved",
            {"closure": {"cause": "change:CHG-7", "eval_case": "https://evals.example.com/41"}},
            "<@U0ENG1> resolved this. Closed with cause CHG-7; eval case <https://evals.example.com/41|",
        ),
        ("review_changes_requested", {}, "<@U0ENG1> requested changes."),
        ("answered_reopened", {}, "<@U0ENG1> answered; reopened and back with the team."),
        (
            "moved",
            {"from": None, "told": ["U0ENG1", "U0ENG2"], "assignee": None},
            "<@U0ENG1> moved this here from triage. <@U0ENG1> <@U0ENG2>: it is yours now (nobody is assigned: "
            "everyone is away, so it waits for the lead).",
        ),
        (
            "kind_changed",
            {"from": "question", "to": "security_review"},
            "<@U0ENG1> changed the kind from question to security review.",
        ),
        (
            "triage_confirmed",
            {"what": "kind", "value": "feature_request"},
            "<@U0ENG1> confirmed triage's kind: feature request.",
        ),
        ("edited", {"fields": []}, "<@U0ENG1> edited nothing."),
        ("duplicate", {"of": "AIR-2"}, "<@U0ENG1> closed this as a duplicate of AIR-2."),
        (
            "alert_raised",
            {"before": "P3", "after": "P1"},
            "The `prometheus` hook raised its priority from P3 to P1: the SLA follows it.",
        ),
    ],
)
def test_a_thread_line_is_worded_from_its_facts(what: str, facts: dict, words: str) -> None:
    by = "prometheus" if what.startswith("alert_") else "U0ENG1"
    said = thread_line(what, by, facts)
    assert said == words or (said.startswith(words) and not words.endswith(".")), said


def test_a_snooze_is_told_in_the_time_zone_it_was_pressed_in() -> None:
    until = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)
    said = thread_line("snoozed", "U0ENG1", {"until": until.isoformat(), "tz": "Europe/Berlin"})
    assert said == "<@U0ENG1> snoozed reminders until Tue 24 Nov 17:00."


def test_every_transition_names_a_line_blocks_can_word() -> None:
    request = a_request(assignee="U0ENG1", status="claimed", court="assignee")
    transitions = [
        workflow.claim(a_request(), "U0ENG1"),
        workflow.reassign(request, "U0LEAD", "U0ENG2"),
        workflow.wait(request, "U0ENG1"),
        workflow.resolve(request, "U0ENG1", START),
        workflow.withdraw(request, "U0REQ", START),
        workflow.own(request, "U0ENG2"),
        workflow.disclaim(request, "U0ENG1", "not mine", START),
        workflow.comment(request.model_copy(update={"status": "waiting"}), "U0REQ", member=False),
        workflow.move(request, "U0LEAD", to="search", assignee=None, channel="C0SEARCH", reasons=[], told=["U0ENG3"]),
        workflow.set_kind(request, "U0ENG1", "feature"),
        workflow.set_priority(request, "U0ENG1", "P1"),
        workflow.reopen(request.model_copy(update={"status": "resolved"}), "U0REQ"),
    ]
    for t in transitions:
        assert t.line in LINES, t
        assert "<@" in thread_line(t.line, "U0ENG1", t.said)
    silent = workflow.comment(request, "U0ENG2", member=True)
    assert silent.line is None and silent.event == "commented"


def test_no_transition_carries_a_sentence() -> None:
    """Every `Transition(...)` the domain and the use cases build holds facts: names and values, never words
    (Slack's mrkdwn is written in bot/blocks/; an error's hint stays beside the rule that raises it)."""
    files = ["bot/domain/workflow.py", "bot/domain/duplicates.py", "bot/usecases/working.py"]
    built = 0
    for name in files:
        for node in ast.walk(ast.parse((ROOT / name).read_text())):
            func = getattr(node, "func", None)
            if not isinstance(node, ast.Call) or getattr(func, "id", getattr(func, "attr", None)) != "Transition":
                continue
            built += 1
            for part in ast.walk(node):
                assert not isinstance(part, ast.JoinedStr), (name, node.lineno)
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    assert " " not in part.value, (name, node.lineno, part.value)
    assert built >= 20


@pytest.mark.parametrize(
    "payload",
    [
        ThreadLine(told=Told(what="claimed", by="U0ENG1", facts={"owns": False})),
        ChannelMessage(channel="U0REQ", told=Told(what="news", by="U0ENG1", facts={"event": "claimed", "data": {}})),
        Ephemeral(user="U0LEAD", told=Told(what="everyone_away", facts={"domain": "support", "who": "engineer"})),
        ChannelMessage(channel="U0ENG2", told=Told(what="cover", facts={"user": "U0ENG1"}, requests=[3, 1, 2])),
    ],
    ids=lambda p: f"{type(p).__name__}:{p.told.what}",
)
def test_what_is_told_is_stored_as_facts_and_reads_back(payload) -> None:
    stored = json.loads(json.dumps(payload.row()))
    assert stored["text"] == "" and stored["told"]["what"] == payload.told.what
    assert read_payload(str(payload.kind), stored) == payload


def test_a_message_with_neither_text_nor_facts_is_refused() -> None:
    for kind, data in ((Kind.THREAD, {}), (Kind.MESSAGE, {"channel": "C1"}), (Kind.EPHEMERAL, {"user": "U1"})):
        with pytest.raises(ValueError):
            read_payload(str(kind), data)


def test_the_requests_a_message_names_are_read_when_it_is_worded_in_the_order_queued() -> None:
    first, second = a_request(id=2, title="first one"), a_request(id=9, title="second one")
    asked: list[list[int]] = []

    def others(ids: list[int]) -> dict[int, Request]:
        asked.append(ids)
        return {r.id: r for r in (first, second) if r.id in ids}

    told = Told(what="which", by="U0REQ", facts={"channel": None}, requests=[9, 2])
    said = told_text(told, request=None, config=CFG, others=others)
    assert asked == [[9, 2]] and said.index("AIR-9") < said.index("AIR-2")
    assert said.startswith("You have 2 open requests; name the one you mean (`any update on AIR-9?`)")
    assert set(MESSAGES) >= {"news", "noted", "which", "asked", "cover", "everyone_away", "card_not_posted"}


def world(tmp_path: Path) -> tuple[Store, Intake]:
    store = Store(Db(tmp_path / "ai-intake.db"), facts_of=facts_of(CFG))
    return store, Intake(store, CFG, clock=lambda: START)


def test_a_claim_queues_its_thread_line_as_facts(tmp_path: Path) -> None:
    store, intake = world(tmp_path)
    filed = intake.file_request(
        Draft(title="refund answers are wrong", kind="question", requester="U0REQ", source="command")
    )
    intake.claim(filed.request.key, "U0ENG1")
    with store.reading() as rx:
        lines = [i.payload for i in rx.outbox.due(START + timedelta(days=1), limit=50) if i.kind == Kind.THREAD]
    assert lines == [
        {
            "text": "",
            "told": {"what": "claimed", "by": "U0ENG1", "facts": {"owns": False}, "requests": []},
            "blocks": None,
            "facts": None,  # a nag's, worded when sent: none here
            "buttons": [],
            "written_at": None,
        }
    ]


def test_a_machine_files_inside_the_unit_of_work_it_runs_in(tmp_path: Path) -> None:
    """`file_request(within=tx)`: the same steps as a person's filing, committed (or not) with the caller's unit."""
    store, intake = world(tmp_path)
    draft = Draft(title="refund intent regressed", kind="regression", domain="support", requester="prom", source="hook")
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            intake.file_request(draft, within=tx, origin_key="hook:prom:1")
            raise RuntimeError("the caller's unit fails after filing")
    with store.reading() as rx:
        assert rx.get_by_origin("hook:prom:1") is None
    with store.transaction() as tx:
        filed = intake.file_request(draft.model_copy(update={"title": "x" * 400}), within=tx, origin_key="hook:prom:1")
    assert filed.created and filed.cut == ("title",) and len(filed.request.title) == 150  # within the stored limits
    with store.reading() as rx:
        found = rx.get_by_origin("hook:prom:1")
        assert found is not None and found.id == filed.request.id
        assert [e.type for e in rx.events(found.id)] == ["created"]


def test_the_use_cases_modules_stay_small() -> None:
    """`Intake` is made of rooms; none of them, nor the outbox worker, grows past 500 lines."""
    for name in ("service", "base", "filing", "working", "people", "machine_intake", "queries"):
        path = ROOT / "bot" / "usecases" / f"{name}.py"
        assert len(path.read_text().splitlines()) <= 500, path.name
    assert len((ROOT / "bot" / "outbox" / "worker.py").read_text().splitlines()) <= 500
