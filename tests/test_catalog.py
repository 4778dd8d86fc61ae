"""The change log's config: hook sources, the asset catalog with its owners, the settings, what
`config check` prints about them, and one sentence per bad field."""

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from bot.runtime.config import _sentence, parse_config
from bot.domain.catalog import (
    Asset,
    Catalog,
    ChangeLogSettings,
    HookSource,
    catalog_lines,
    catalog_problems,
)
from bot.domain.changes import Pair
from bot.domain.errors import InvalidInput
from bot.domain.thresholds import RULE_UNACKNOWLEDGED, ladder
from tests.harness import CONFIG

GOOD: dict[str, Any] = {
    "hooks": {"monitoring": {"secret_env": "MONITORING_HOOK_SECRET"}, "deploys": {"secret_env": "DEPLOY_HOOK_SECRET"}},
    "assets": [
        {
            "name": "refund-intent",
            "kind": "intent",
            "domain": "support",
            "product_owner": "U0PPM",
            "platform_owner": "U0MLPM",
        },
        {"name": "refund-answer", "kind": "prompt", "domain": "support", "platform_owner": "U0PROMPT"},
        {"name": "search-evals", "kind": "eval_suite", "domain": "search"},
    ],
    "change_log": {"suspect_days": 21, "unacknowledged_business_days": 3},
}
SUPPORT = Pair(product="U0PPM", platform="U0MLPM")


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Catalog.model_validate(data)
    return [_sentence(e) for e in caught.value.errors()]


def test_a_full_catalog_reads() -> None:
    catalog = Catalog.model_validate(GOOD)
    assert catalog.hooks["monitoring"] == HookSource(secret_env="MONITORING_HOOK_SECRET")
    assert [a.side for a in catalog.assets] == ["product", "platform", "platform"]
    assert catalog.change_log == ChangeLogSettings(suspect_days=21, unacknowledged_business_days=3)


def test_everything_is_optional() -> None:
    for data in ({}, {"hooks": None, "assets": None}, {"hooks": {}, "assets": []}):
        catalog = Catalog.model_validate(data)
        assert catalog.hooks == {} and catalog.assets == []
        assert catalog.change_log == ChangeLogSettings(suspect_days=14, unacknowledged_business_days=2)


def test_an_asset_names_its_pair_and_falls_back_to_the_domains() -> None:
    catalog = Catalog.model_validate(GOOD)
    assert catalog.pair(SUPPORT, asset="refund-intent") == SUPPORT
    assert catalog.pair(SUPPORT, asset="refund-answer") == Pair(product="U0PPM", platform="U0PROMPT")
    assert catalog.pair(SUPPORT, asset="not-listed") == SUPPORT
    assert catalog.pair(SUPPORT, asset=None) == SUPPORT
    assert catalog.asset("search-evals") == Asset(name="search-evals", kind="eval_suite", domain="search")


@pytest.mark.parametrize(
    "data, sentence",
    [
        (
            {"hooks": {"Monitoring Tool": {"secret_env": "X"}}},
            "hooks: hook source 'Monitoring Tool' must be lower-case letters",
        ),
        (
            {"hooks": {"monitoring": {"secret_env": "monitoring-secret"}}},
            "hooks.monitoring.secret_env: expected the name of an environment variable like MONITORING_HOOK_SECRET, got 'monitoring-secret'",
        ),
        ({"hooks": {"monitoring": {}}}, "hooks.monitoring.secret_env: required but missing"),
        (
            {"assets": [{"name": "refund-intent", "kind": "vibe", "domain": "support"}]},
            "assets[0].kind: expected one of intent, surface, flow, success_metric, prompt, model, eval_suite, cost_ceiling, retrieval, got 'vibe'",
        ),
        (
            {"assets": [{"name": "Refund Intent", "kind": "intent", "domain": "support"}]},
            "assets[0].name: expected an asset name",
        ),
        (
            {"assets": [{"name": "a", "kind": "intent", "domain": "Support"}]},
            "assets[0].domain: expected a domain name like support, got 'Support'",
        ),
        (
            {"assets": [{"name": "a", "kind": "intent", "domain": "support", "product_owner": "ana"}]},
            "assets[0].product_owner: expected a Slack user id, got 'ana'",
        ),
        (
            {
                "assets": [
                    {"name": "a", "kind": "intent", "domain": "support"},
                    {"name": "a", "kind": "prompt", "domain": "support"},
                ]
            },
            "assets: asset 'a' is listed twice",
        ),
        ({"change_log": {"suspect_days": 0}}, "change_log.suspect_days: Input should be greater than or equal to 1"),
        (
            {"change_log": {"unacknowledged_business_days": 31}},
            "change_log.unacknowledged_business_days: Input should be less than or equal to 30",
        ),
        ({"change_log": {"suspect_day": 3}}, "change_log.suspect_day: unknown key"),
    ],
)
def test_one_sentence_per_bad_field(data: dict[str, Any], sentence: str) -> None:
    found = problems(data)
    assert len(found) == 1 and found[0].startswith(sentence), found


def test_a_misspelt_key_is_named_with_the_one_it_leaves_missing() -> None:
    assert problems({"hooks": {"monitoring": {"secret": "hunter2"}}}) == [
        "hooks.monitoring.secret_env: required but missing",
        "hooks.monitoring.secret: unknown key (check its spelling and indentation)",
    ]


def test_several_bad_fields_give_several_sentences() -> None:
    found = problems(
        {
            "hooks": {"monitoring": {"secret_env": "bad name"}},
            "assets": [{"name": "x", "kind": "nope", "domain": "support"}],
            "change_log": {"suspect_days": -1},
        }
    )
    assert [s.split(":")[0] for s in found] == [
        "hooks.monitoring.secret_env",
        "assets[0].kind",
        "change_log.suspect_days",
    ]


def test_assets_of_unknown_domains_are_named() -> None:
    catalog = Catalog.model_validate(GOOD)
    assert catalog_problems(catalog, domains={"support", "search"}) == []
    assert catalog_problems(catalog, domains={"support"}) == [
        "assets[2].domain: unknown domain 'search' (the domains are support)"
    ]


def test_config_check_prints_the_sources_settings_and_catalog() -> None:
    catalog = Catalog.model_validate(GOOD)
    lines = catalog_lines(
        catalog,
        secrets_set={"MONITORING_HOOK_SECRET"},
        domain_pairs={"support": SUPPORT, "search": Pair(product="U0SPM", platform=None)},
    )
    assert lines == [
        "hooks: POST /hooks/regressions and /hooks/changes accept these sources:",
        "  deploys: secret from $DEPLOY_HOOK_SECRET - NOT SET, so this source is refused (401)",
        "  monitoring: secret from $MONITORING_HOOK_SECRET",
        "change log: a regression's suspects are its domain's changes of the 21 days before it; "
        "an unanswered change is nagged after 3 business days, with the lead after 6",
        "assets (3):",
        "  asset          kind        side      domain   product owner     platform owner",
        "  search-evals   eval suite  platform  search   U0SPM (domain's)  -",
        "  refund-answer  prompt      platform  support  U0PPM (domain's)  U0PROMPT",
        "  refund-intent  intent      product   support  U0PPM             U0MLPM",
    ]


def test_config_check_without_hooks_or_assets() -> None:
    lines = catalog_lines(Catalog(), secrets_set=None)
    assert lines[0] == "hooks: none (POST /hooks/regressions and /hooks/changes answer 404)"
    assert lines[-1] == "assets: none (changes and regressions ask their domain's owners)"
    assert "nagged after 2 business days, with the lead after 4" in lines[1]


def test_the_setting_gives_the_nag_rules_thresholds() -> None:
    config = parse_config({**copy.deepcopy(CONFIG), "change_log": {"unacknowledged_business_days": 3}})
    assert [(s.name, s.at) for s in ladder(config, "support", RULE_UNACKNOWLEDGED).steps] == [("asked", 3), ("lead", 6)]


DOMAINS = {"support", "search"}


def place(catalog: Catalog, domain: str | None, **kw: Any) -> tuple[str | None, str | None]:
    return catalog.place(domain, domains=DOMAINS, **{"asset": None, "domain_required": True, **kw})


def test_a_change_is_placed_by_its_domain_or_its_asset() -> None:
    catalog = Catalog.model_validate(GOOD)
    assert place(catalog, "support") == ("support", None)
    assert place(catalog, None, asset="refund-intent") == ("support", "refund-intent")
    assert place(catalog, "support", asset="refund-intent") == ("support", "refund-intent")
    assert place(catalog, None, asset_if_listed="refund-answer") == ("support", "refund-answer")
    assert place(catalog, "search", asset_if_listed="not-listed") == ("search", None)
    assert place(catalog, "search", asset_if_listed="refund-answer") == ("search", None)  # another domain's: not it
    assert place(catalog, None, domain_required=False) == (None, None)


@pytest.mark.parametrize(
    "domain, kw, field, message",
    [
        (
            None,
            {},
            "domain",
            "say which domain this belongs to: a domain, an asset from the catalog, or ?domain= on the hook's URL",
        ),
        (None, {"asset_if_listed": "not-listed"}, "domain", "say which domain"),
        ("billing", {}, "domain", "unknown domain 'billing' (the domains are search, support)"),
        (
            "support",
            {"asset": "refund-intnet"},
            "asset",
            "unknown asset 'refund-intnet' (the catalog lists refund-intent, refund-answer, search-evals)",
        ),
        ("search", {"asset": "refund-intent"}, "asset", "asset 'refund-intent' belongs to support, not search"),
    ],
)
def test_a_change_that_cannot_be_placed_names_the_field(
    domain: str | None, kw: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        place(Catalog.model_validate(GOOD), domain, **kw)
    assert caught.value.field == field and caught.value.message.startswith(message)
