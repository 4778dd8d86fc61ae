"""What `/ai-request shipped …` means and where a change belongs, with explicit config: its side, kind,
domain and asset, who is asked, and one sentence naming the field for each mistake. Property: reading
the words never raises."""

import copy
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.runtime.config import parse_config
from bot.domain.changes import HookOrigin
from bot.domain.changes_filing import ChangeDraft, ShippedText, kind_named, parse_shipped, plan_change
from bot.domain.errors import InvalidInput
from tests.harness import CONFIG

CONF = parse_config(
    {
        **copy.deepcopy(CONFIG),
        "assets": [{"name": "refund-answer", "kind": "prompt", "domain": "support", "platform_owner": "U0PROMPT"}],
    }
)
AT = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("intent: express refund", ShippedText(what="express refund", kind="intent")),
        ("product express refund", ShippedText(what="express refund", side="product")),
        ("platform: eval suite: refund cases", ShippedText(what="refund cases", side="platform", kind="eval_suite")),
        ("Success-Metric: CSAT", ShippedText(what="CSAT", kind="success_metric")),
        ("note: this is what shipped", ShippedText(what="note: this is what shipped")),
        ("", ShippedText(what="")),
    ],
)
def test_reading_the_words(typed: str, read: ShippedText) -> None:
    assert parse_shipped(typed) == read


@given(st.text())
@settings(max_examples=200, deadline=None, derandomize=True)
def test_reading_never_raises(text: str) -> None:
    read = parse_shipped(text)
    assert read.side in (None, "product", "platform") and (read.kind is None or kind_named(read.kind) == read.kind)


def plan(**fields) -> object:
    return plan_change(ChangeDraft(**{"what": "express refund", "shipped_by": "U0PPM", **fields}), CONF, at=AT)


def refusal(**fields) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        plan(**fields)
    return caught.value


def test_where_a_change_belongs_and_who_is_asked() -> None:
    by_channel = plan(channel="C0SUPPORT")
    assert (by_channel.domain, by_channel.side, by_channel.asked) == (
        "support",
        "product",
        "U0MLPM",
    )  # the typer is support's PO
    assert plan(shipped_by="U0MLPM", channel="C0SUPPORT").side == "platform"
    assert plan(kind="prompt", shipped_by="U0ENG1", channel="C0SUPPORT").asked == "U0PPM"
    asset = plan(asset="refund-answer", shipped_by="U0ENG1")
    assert (asset.domain, asset.side, asset.asked) == ("support", "platform", "U0PPM")  # an asset's side and domain
    assert plan(side="product", asset="refund-answer", shipped_by="U0ENG1").asked == "U0PROMPT"  # the asset's owner
    assert plan(channel=None, shipped_by="U0PPM2").domain == "search"  # the only domain the typer belongs to


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"what": " "}, "what"),
        ({"what": "x" * 301, "channel": "C0SUPPORT"}, "what"),
        ({"channel": "C0SUPPORT", "shipped_by": "U0ENG1"}, "side"),
        ({"channel": "C0SUPPORT", "side": "middle"}, "side"),
        ({"channel": "C0SUPPORT", "kind": "vibes"}, "kind"),
        ({"channel": "C0SUPPORT", "side": "product", "kind": "prompt"}, "kind"),
        ({"shipped_by": "U0ADMIN"}, "domain"),
        ({"domain": "billing"}, "domain"),
        ({"asset": "nope"}, "asset"),
        ({"domain": "search", "asset": "refund-answer"}, "asset"),
        ({"channel": "C0SUPPORT", "version": "v" * 101}, "version"),
        ({"channel": "C0SUPPORT", "version": "1\n2"}, "version"),
        ({"channel": "C0SUPPORT", "links": ("ftp://x",)}, "links"),
    ],
)
def test_each_mistake_names_its_field(fields: dict, field: str) -> None:
    assert refusal(**fields).field == field


def test_a_machine_is_told_about_the_url_domain() -> None:
    told = refusal(shipped_by="deploys", origin=HookOrigin(source="deploys", id="1"), side="product")
    assert told.field == "domain" and "?domain=" in told.message
    logged = plan(shipped_by="x", origin=HookOrigin(source="deploys", id="1"), side="product", domain="support")
    assert logged.shipped_by == "deploys" and logged.origin.id == "1"
