"""Owners per AI asset: the pair a change, a regression or a webhook names (the asset's, each owner it leaves
out taken from its domain; else the domain's), `owners_of(request, config)` for the nag rules, and a request
filed naming an asset through the real app (the form's asset field, the card's owners)."""

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import ids
from bot.blocks.modal import request_modal
from bot.runtime.config import parse_config
from bot.domain import authz
from bot.domain.changes import Pair
from bot.domain.courts import owners
from bot.domain.errors import InvalidInput
from bot.domain.models import Event, Request
from bot.blocks.nag_rules import said
from bot.domain.nags import RULE_UNOWNED, nags_due
from bot.domain.owners import domain_pair, owners_of, pair_for, place_asset
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, Harness, start_harness
from tests.stories import buttons, dm_recipients, dms, thread_posts

CATALOG: dict[str, Any] = {
    "assets": [
        {"name": "refund-answer", "kind": "prompt", "domain": "support", "platform_owner": "U0PROMPT"},
        {
            "name": "refund-intent",
            "kind": "intent",
            "domain": "support",
            "product_owner": "U0PPMX",
            "platform_owner": "U0MLX",
        },
        {"name": "ranking-model", "kind": "model", "domain": "search"},
    ]
}
CONF = parse_config({**copy.deepcopy(CONFIG), **CATALOG})
AT = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


def request(**fields: Any) -> Request:
    base = dict(
        id=1,
        kind="regression",
        domain="support",
        title="t",
        description="",
        priority="P2",
        status="open",
        requester="U0REQ",
        source="command",
        created_at=AT,
        updated_at=AT,
    )
    return Request(**{**base, **fields})


def test_an_assets_pair_falls_back_to_its_domains_owners() -> None:
    assert domain_pair(CONF, "support") == Pair(product="U0PPM", platform="U0MLPM")
    assert pair_for(CONF, "support", asset="refund-answer") == Pair(product="U0PPM", platform="U0PROMPT")
    assert pair_for(CONF, None, asset="refund-intent") == Pair(product="U0PPMX", platform="U0MLX")
    assert pair_for(CONF, "search", asset="ranking-model") == Pair(product="U0PPM2", platform="U0MLPM2")
    assert pair_for(CONF, "search", asset="refund-answer") == Pair(
        product="U0PPM2", platform="U0MLPM2"
    )  # not search's asset
    assert domain_pair(CONF, None) == Pair(None, None)


def test_owners_of_a_request_read_its_asset() -> None:
    assert owners_of(request(asset="refund-intent"), CONF) == Pair(product="U0PPMX", platform="U0MLX")
    assert owners_of(request(), CONF) == Pair(product="U0PPM", platform="U0MLPM")
    assert owners_of(request(asset="gone-from-the-catalog"), CONF) == Pair(product="U0PPM", platform="U0MLPM")
    assert owners_of(request(domain=None), CONF) == Pair(None, None)


def test_an_asset_places_a_request() -> None:
    assert place_asset(None, "ranking-model", CONF) == "search"
    assert place_asset("support", None, CONF) == "support"
    with pytest.raises(InvalidInput) as caught:
        place_asset("search", "refund-answer", CONF)
    assert caught.value.field == "asset"


@pytest.fixture
def h(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:
    harness = start_harness(tmp_path, fake_slack, config={**copy.deepcopy(CONFIG), **CATALOG})
    yield harness
    harness.stop()


def form(h: Harness, **chosen: str | None) -> dict[str, Any]:
    values = {
        ids.TITLE: {"type": "plain_text_input", "value": "refund answers quote 14 days"},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "regression"}},
    }
    for block, value in chosen.items():
        values[block] = {"type": "static_select", "selected_option": {"value": value} if value else None}
    return h.submit(request_modal(h.bot.config, channel="C0SEARCH").to_dict(), values, user="U0REQ").json() or {}


def test_a_request_filed_naming_an_asset_goes_to_its_domain_and_shows_its_owners(h: Harness) -> None:
    view = request_modal(h.bot.config, channel="C0SEARCH").to_dict()
    assert [o["value"] for b in view["blocks"] if b["block_id"] == ids.ASSET for o in b["element"]["options"]] == [
        "refund-answer",
        "refund-intent",
        "ranking-model",
    ]
    assert form(h, asset="refund-intent") == {}
    h.settle()
    filed = h.bot.queries.get(1)
    assert (filed.domain, filed.asset, filed.card_channel) == ("support", "refund-intent", "C0SUPPORT")
    shown = json.dumps("Asset `refund-intent` · product owner <@U0PPMX> · platform owner <@U0MLX>")[1:-1]
    assert shown in h.card_text("AIR-1")
    refused = form(h, asset="refund-intent", domain="search")
    assert refused["errors"] == {ids.ASSET: "asset 'refund-intent' belongs to support, not search"}
    assert h.bot.queries.get(2) is None


def test_the_form_has_no_asset_field_without_a_catalog() -> None:
    view = request_modal(parse_config(copy.deepcopy(CONFIG))).to_dict()
    assert ids.ASSET not in [b["block_id"] for b in view["blocks"]]
    assert json.dumps(view).count("asset") == 0


# --- the unowned-regression nag asks the asset's pair ----------------------------------------------------


def test_the_unowned_nag_goes_to_the_assets_pair_then_the_lead() -> None:
    filed = request(asset="refund-intent")
    events = [Event(request_id=1, at=AT, actor="U0REQ", type="created", data={"status": "open", "court": "assignee"})]
    assert owners(filed, CONF) == ("U0PPMX", "U0MLX") and owners(request(), CONF) == ("U0PPM", "U0MLPM")
    [asked] = nags_due([(filed, events)], CONF, now=AT + timedelta(hours=4), sent=set(), rules={RULE_UNOWNED})
    assert (asked.step, asked.recipients) == ("owners", ("U0PPMX", "U0MLX"))
    assert "<@U0PPMX> or <@U0MLX>, take ownership" in said(asked) and "U0PPM>" not in said(asked)
    [lead] = nags_due(
        [(filed, events)], CONF, now=AT + timedelta(days=1, hours=1), sent={asked.sent_key}, rules={RULE_UNOWNED}
    )
    assert (lead.step, lead.recipients) == ("lead", ("U0PPMX", "U0MLX", "U0LEAD"))
    half = request(asset="refund-answer")  # names only its platform owner: the product side is the domain's
    assert owners(half, CONF) == ("U0PPM", "U0PROMPT")


def test_an_assets_owners_may_take_what_they_are_nagged_about() -> None:
    filed = request(asset="refund-intent")
    for action in ("own", "disclaim", "snooze", "comment", "view"):
        assert authz.can(CONF, filed, "U0MLX", action), action
    for action in ("claim", "resolve", "reassign", "hand"):
        assert not authz.can(CONF, filed, "U0MLX", action), action
    assert not authz.can(CONF, request(), "U0MLX", "own")  # not theirs without the asset
    assert not authz.can(CONF, request(asset="refund-intent", domain="search"), "U0PROMPT", "own")


def test_a_regression_naming_an_asset_is_put_to_its_owners_in_the_thread_and_by_dm(h: Harness) -> None:
    assert form(h, asset="refund-intent") == {}  # a regression, filed Monday 10:00 in Berlin
    h.settle()
    h.clock.advance(hours=4)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    [asked] = thread_posts(h, "AIR-1")
    assert "<@U0PPMX> or <@U0MLX>, take ownership, or say why it is not yours" in asked["text"]
    assert buttons(asked) == ["Take ownership AIR-1", "Not mine AIR-1"]
    assert dm_recipients(h) == {"U0PPMX", "U0MLX"}
    assert all("<@U0PPMX> or <@U0MLX>" in dms(h, who)[0]["text"] for who in ("U0PPMX", "U0MLX"))
    h.click(ids.OWN, "AIR-1", user="U0MLX")  # in no domain, but the asset's platform owner
    h.settle()
    owned = h.bot.queries.get(1)
    assert owned.owner == "U0MLX"
    assert "<@U0MLX> took ownership." in thread_posts(h, "AIR-1")[-1]["text"]
