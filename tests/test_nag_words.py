"""Every sentence of the nags and the digests is `bot/blocks/`'s: the domain names what a nag offers as intents,
never as action ids; and a digest is worded when the outbox sends it, from the facts kept when it was queued, so a
digest queued before a restart says the same after it."""

import ast
import json
from datetime import datetime, timezone
from pathlib import Path

from bot.blocks import ids
from bot.domain.nag_facts import Offer
from bot.runtime.config import parse_config
from bot.usecases.facts import facts_of
from bot.usecases.jobs import Jobs
from storage.db import Db
from storage.store import Store
from tests.harness import CONFIG, Clock, start_harness
from tests.stories import dms

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2026, 11, 30, 8, tzinfo=timezone.utc)  # the Monday after the harness's start


def strings(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_no_domain_module_spells_an_action_id() -> None:
    found = {
        (path.relative_to(ROOT).as_posix(), text)
        for path in sorted((ROOT / "bot" / "domain").rglob("*.py"))
        for text in strings(path) & ids.ACTIONS
    }
    assert found == set()


def test_every_action_id_is_in_the_list_and_every_offer_is_a_button() -> None:
    constants = {
        value
        for name, value in vars(ids).items()
        if name.isupper() and isinstance(value, str) and "." in value and not value.startswith("/")
    }
    callbacks = {
        ids.REQUEST_MODAL,
        ids.FROM_MESSAGE,
        ids.DISCLAIM_MODAL,
        ids.DUPLICATE_MODAL,
        ids.CHANGE_MODAL,
        ids.CHANGE_FROM_MESSAGE,
        ids.COVERED_MODAL,
        ids.NOT_RELEVANT_MODAL,
        ids.CLOSURE_MODAL,
    }
    assert constants - callbacks == ids.ACTIONS
    assert set(ids.REQUEST_OFFERS) | set(ids.CHANGE_OFFERS) == set(Offer)
    assert set(ids.REQUEST_OFFERS.values()) | set(ids.CHANGE_OFFERS.values()) <= ids.ACTIONS


def test_a_digest_queued_before_a_restart_is_worded_when_sent_and_says_the_same(tmp_path, fake_slack) -> None:
    h = start_harness(tmp_path, fake_slack)
    h.command("regression: refund intent answers with the wrong window")
    h.command("question: search ranking eval?", channel="C0SEARCH")
    h.settle()
    db_path = h.bot.db.path
    h.stop()

    config = parse_config(CONFIG)
    db = Db(db_path)
    store = Store(db, facts_of=facts_of(config))
    lines = Jobs(store, config).send_digest(now=AT)  # queued while no bot runs
    with store.reading() as tx:
        queued = [json.loads(r["payload"]) for r in tx.outbox.rows() if r["kind"] == "digest"]
    db.close()
    assert len(queued) == len(lines) >= 3
    assert all("blocks" not in p and "text" not in p and p["facts"] for p in queued)  # facts, not words

    again = start_harness(
        tmp_path, fake_slack, clock=Clock(AT)
    )  # the bot starts again on the same database, and sends them
    try:
        again.settle()
        channels = sorted({line.split(":")[0] for line in lines})
        posted = [
            f"{c}: {m['text']}" for c in channels for m in fake_slack.messages(c) if "digest" in m.get("text", "")
        ]
        assert sorted(posted) == sorted(lines)
        assert any(m.get("blocks") for m in fake_slack.messages("C0SUPPORT") if "digest" in m.get("text", ""))
    finally:
        again.stop()


def test_a_nag_is_queued_as_facts_and_worded_when_sent(harness) -> None:
    h = harness
    h.command("regression: refund bot answers with the wrong window", user="U0REQ")
    h.settle()
    h.clock.advance(hours=5)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    with h.bot.store.reading() as tx:
        queued = [(r["kind"], json.loads(r["payload"])) for r in tx.outbox.rows() if r["kind"] in ("nag", "thread")]
    assert {kind for kind, _ in queued} == {"nag", "thread"}
    for kind, payload in queued:
        said = payload["items"] if kind == "nag" else [payload]
        assert all(p["facts"]["facts"]["what"] == "unowned" and not p.get("text") for p in said)
        assert "blocks" not in payload or payload["blocks"] is None
    h.settle()
    [dm] = dms(h, "U0PPM")
    assert dm["text"].startswith("AIR-1 regression has had no owner for 5 business hours")
