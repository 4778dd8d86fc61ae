"""The change log's sections hang on the config: `hooks`, `assets` and `change_log` load with it, a bad
field is one sentence naming it, and `config check` prints the hook sources (warning about a secret not
set, without failing), the change-log settings and the catalog."""

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.entry.cli import change_log_lines
from bot.runtime.config import ConfigError, parse_config
from bot.runtime.settings import hook_secrets
from tests.harness import CONFIG

ROOT = Path(__file__).resolve().parents[1]
CHANGE_LOG: dict[str, Any] = {
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
    ],
    "change_log": {"suspect_days": 21, "unacknowledged_business_days": 3},
}


def with_change_log(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CONFIG), **copy.deepcopy(CHANGE_LOG), **changes}


def refusal(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.problems


def test_the_sections_load_with_the_config() -> None:
    config = parse_config(with_change_log())
    assert set(config.hooks) == {"monitoring", "deploys"}
    assert [a.name for a in config.catalog.assets] == ["refund-intent", "refund-answer"]
    assert config.change_log.suspect_days == 21
    plain = parse_config(copy.deepcopy(CONFIG))
    assert (plain.hooks, plain.assets, plain.change_log.suspect_days) == ({}, [], 14)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"assets": [{"name": "x", "kind": "intent", "domain": "billing"}]},
            "assets[0].domain: unknown domain 'billing' (the domains are search, support)",
        ),
        ({"assets": [{"name": "x", "kind": "vibes", "domain": "support"}]}, "assets[0].kind: expected one of intent"),
        (
            {"assets": [{"name": "x", "kind": "intent", "domain": "support", "product_owner": "eli"}]},
            "assets[0].product_owner: expected a Slack user id, got 'eli'",
        ),
        ({"hooks": {"Monitoring!": {"secret_env": "X"}}}, "hooks: hook source 'Monitoring!' must be lower-case"),
        (
            {"hooks": {"monitoring": {"secret_env": "lower"}}},
            "hooks.monitoring.secret_env: expected the name of an environment variable",
        ),
        ({"hooks": {"monitoring": {"secret": "s3cret"}}}, "hooks.monitoring.secret: unknown key"),
        ({"change_log": {"suspect_days": 0}}, "change_log.suspect_days: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], problem: str) -> None:
    assert any(p.startswith(problem) for p in refusal(with_change_log(**change))), refusal(with_change_log(**change))


def test_a_secret_not_set_is_a_warning_not_a_failure() -> None:
    config = parse_config(with_change_log())
    lines = change_log_lines(config, environ={"MONITORING_HOOK_SECRET": "s3cret", "DEPLOY_HOOK_SECRET": "  "})
    assert lines[:3] == [
        "hooks: POST /hooks/regressions and /hooks/changes accept these sources:",
        "  deploys: secret from $DEPLOY_HOOK_SECRET - NOT SET, so this source is refused (401)",
        "  monitoring: secret from $MONITORING_HOOK_SECRET",
    ]
    assert hook_secrets(
        {"monitoring": "MONITORING_HOOK_SECRET", "deploys": "DEPLOY_HOOK_SECRET"},
        {"MONITORING_HOOK_SECRET": "s3cret", "DEPLOY_HOOK_SECRET": "  "},
    ) == {"monitoring": "s3cret"}


def test_config_check_prints_the_change_log(tmp_path: Path) -> None:
    path = tmp_path / "ai-intake.yml"
    path.write_text(yaml.safe_dump(with_change_log()))
    env = {"PATH": "/usr/bin:/bin", "MONITORING_HOOK_SECRET": "s3cret"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", str(path), "--from", "2026-11-23"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "  deploys: secret from $DEPLOY_HOOK_SECRET - NOT SET, so this source is refused (401)" in out
    assert "  monitoring: secret from $MONITORING_HOOK_SECRET\n" in out
    assert (
        "change log: a regression's suspects are its domain's changes of the 21 days before it; "
        "an unanswered change is nagged after 3 business days, with the lead after 6" in out
    )
    assert "assets (2):" in out
    assert any(
        line.split() == ["refund-answer", "prompt", "platform", "support", "U0PPM", "(domain's)", "U0PROMPT"]
        for line in out.splitlines()
    )
    assert "s3cret" not in out


def test_config_check_without_a_change_log_says_so(tmp_path: Path) -> None:
    lines = change_log_lines(parse_config(copy.deepcopy(CONFIG)), environ={})
    assert lines[0] == "hooks: none (POST /hooks/regressions and /hooks/changes answer 404)"
    assert lines[-1] == "assets: none (changes and regressions ask their domain's owners)"
