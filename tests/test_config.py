"""The YAML config: the sample loads, and every mistake is one sentence naming its field."""

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.runtime.config import ConfigError, load_config, parse_config
from tests.harness import CONFIG

ROOT = Path(__file__).resolve().parent.parent


def problems_of(change: Callable[[dict[str, Any]], object]) -> list[str]:
    """The problems parse_config reports for the sample config after `change` edits a copy of it."""
    data = copy.deepcopy(CONFIG)
    change(data)
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    return raised.value.problems


def write(tmp_path: Path, text: str | bytes, name: str = "ai-intake.yml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- the sample --------------------------------------------------------------------------------


def test_the_sample_config_loads() -> None:
    config = parse_config(CONFIG)
    assert [d.name for d in config.domains] == ["support", "search"]
    assert config.domain_of_channel("C0SUPPORT").name == "support"  # type: ignore[union-attr]
    assert config.domain_of_channel("G0SUPSEC").name == "support"  # type: ignore[union-attr]
    assert config.domain_of_channel("C0RANDOM") is None
    assert config.domains[0].members == {"U0ENG1", "U0ENG2", "U0SEC1", "U0PPM", "U0MLPM", "U0LEAD"}
    assert config.is_admin("U0ADMIN") and not config.is_admin("U0ENG1")
    assert config.default_priority("regression") == "P2"


def test_the_sample_config_loads_from_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(CONFIG))
    assert load_config(path) == parse_config(CONFIG)


# --- one sentence per bad field ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: c.update(timezon="Europe/Berlin"), "timezon: unknown key (check its spelling and indentation)"),
        (
            lambda c: c["domains"][1].update(engineer=["U0ENG3"]),
            "domains[1].engineer: unknown key (check its spelling and indentation)",
        ),
        (
            lambda c: c["business_hours"].update(stop="17:00"),
            "business_hours.stop: unknown key (check its spelling and indentation)",
        ),
        (
            lambda c: c["domains"][0].update(engineers="nobody"),
            "domains[0].engineers: expected a list of Slack user ids, got 'nobody'",
        ),
        (
            lambda c: c["domains"][1].update(engineers=["U0ENG3", "bob"]),
            "domains[1].engineers: expected a list of Slack user ids, got ['U0ENG3', 'bob']",
        ),
        (lambda c: c["domains"][0].update(engineers=[]), "domains[0].engineers: a domain needs at least one engineer"),
        (lambda c: c["domains"][0].update(lead="nobody"), "domains[0].lead: expected a Slack user id, got 'nobody'"),
        (lambda c: c.update(admins="U0ADMIN"), "admins: expected a list of Slack user ids, got 'U0ADMIN'"),
        (
            lambda c: c["domains"][0].update(channels=["#support"]),
            "domains[0].channels: expected a list of Slack channel ids, got ['#support']",
        ),
        (
            lambda c: c["domains"][0].update(review_channel="secret"),
            "domains[0].review_channel: expected a Slack channel id, got 'secret'",
        ),
        (lambda c: c.update(triage_channel="#triage"), "triage_channel: expected a Slack channel id, got '#triage'"),
        (lambda c: c.pop("triage_channel"), "triage_channel: required but missing"),
        (
            lambda c: c.update(timezone="Mars/Olympus"),
            "timezone: unknown time zone 'Mars/Olympus' (use an IANA name like Europe/Berlin)",
        ),
        (
            lambda c: c["domains"][0].update(timezone="Berlin"),
            "domains[0].timezone: unknown time zone 'Berlin' (use an IANA name like Europe/Berlin)",
        ),
        (
            lambda c: c["business_hours"].update(start="9:00"),
            "business_hours.start: expected a time as \"HH:MM\", got '9:00'",
        ),
        (
            lambda c: c["business_hours"].update(end="24:00"),
            "business_hours.end: expected a time as \"HH:MM\", got '24:00'",
        ),
        (
            lambda c: c["business_hours"].update(start="17:00", end="09:00"),
            "business_hours: end 09:00 must be after start 17:00",
        ),
        (
            lambda c: c["domains"][0].update(business_hours={"start": "10:00", "end": "10:00"}),
            "domains[0].business_hours: end 10:00 must be after start 10:00",
        ),
        (
            lambda c: c["digest"].update(cron="every monday"),
            "digest.cron: expected a cron expression of 5 fields like \"0 9 * * mon\", got 'every monday'",
        ),
        (lambda c: c["domains"][1].update(name="support"), "config: domain 'support' is defined twice"),
        (
            lambda c: c["domains"][1].update(channels=["C0SEARCH", "C0SUPPORT"]),
            "config: channel C0SUPPORT belongs to both support and search",
        ),
    ],
    ids=[
        "unknown-top",
        "unknown-domain",
        "unknown-nested",
        "user-ids",
        "user-ids-one-bad",
        "no-engineers",
        "lead",
        "admins",
        "channel-ids",
        "review-channel",
        "triage-channel",
        "missing",
        "timezone",
        "domain-timezone",
        "hhmm",
        "hhmm-24",
        "end-before-start",
        "domain-end-equals-start",
        "cron-fields",
        "duplicate-domain",
        "channel-twice",
    ],
)
def test_a_bad_field_is_one_sentence_naming_it(change: Callable[[dict[str, Any]], object], problem: str) -> None:
    assert problems_of(change) == [problem]


def test_every_bad_field_is_reported_at_once() -> None:
    def two_mistakes(c: dict[str, Any]) -> None:
        c["domains"][0]["engineers"] = "nobody"
        c["triage_channel"] = "#triage"

    assert sorted(problems_of(two_mistakes)) == [
        "domains[0].engineers: expected a list of Slack user ids, got 'nobody'",
        "triage_channel: expected a Slack channel id, got '#triage'",
    ]


@pytest.mark.parametrize("cron", ["0 25 * * mon", "61 9 * * mon", "0 9 * * funday"])
def test_a_cron_expression_apscheduler_rejects_names_digest_cron(cron: str) -> None:
    [problem] = problems_of(lambda c: c["digest"].update(cron=cron))
    assert problem.startswith("digest.cron: ")


def test_unknown_business_days_name_the_field() -> None:
    [problem] = problems_of(lambda c: c["business_hours"].update(days="funday"))
    assert problem.startswith("business_hours: unknown weekday 'funday'")


@pytest.mark.parametrize(("data", "kind"), [([], "list"), ("timezone: UTC", "str"), (3, "int"), (None, "NoneType")])
def test_yaml_that_is_not_a_mapping_is_refused(data: object, kind: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    assert raised.value.problems == [f"config: expected a mapping of settings, got {kind}"]


@pytest.mark.parametrize(
    "change",
    [lambda c: c.update(timezone=None), lambda c: c.update(timezone=5), lambda c: c["domains"][0].update(timezone=2)],
    ids=["empty", "number", "domain-number"],
)
def test_a_time_zone_that_is_not_text_is_a_config_error(change: Callable[[dict[str, Any]], object]) -> None:
    [problem] = problems_of(change)
    assert "timezone: " in problem


# --- files -------------------------------------------------------------------------------------


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "nope.yml")
    assert raised.value.problems == [
        f"{tmp_path / 'nope.yml'}: no such config file (set AI_INTAKE_CONFIG or pass a path)"
    ]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "timezone: UTC\ndomains: [\n  - name: support\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    [problem] = raised.value.problems
    assert problem.startswith(f"{path}: not valid YAML at line ")


def test_a_yaml_list_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "- support\n- search\n"))
    assert raised.value.problems == ["config: expected a mapping of settings, got list"]


def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    [problem] = raised.value.problems
    assert problem.startswith(f"{tmp_path}: cannot be read")


def test_a_bad_field_in_a_file_is_named(tmp_path: Path) -> None:
    data = copy.deepcopy(CONFIG)
    data["domains"][0]["engineers"] = "nobody"
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, yaml.safe_dump(data)))
    assert raised.value.problems == ["domains[0].engineers: expected a list of Slack user ids, got 'nobody'"]


def test_a_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"timezone: Europe/Berlin\ntriage_channel: C0TRIAGE\n# caf\xe9\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(path) in raised.value.problems[0]


# --- `ai-intake config check` ------------------------------------------------------------------


def config_check(path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", str(path), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_config_check_prints_the_routing_table(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(CONFIG))
    done = config_check(path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"{path}: ok"
    assert lines[1].split()[:3] == ["domain", "channels", "engineers"]
    assert any(line.split()[:4] == ["support", "C0SUPPORT", "U0ENG1", "U0ENG2"] for line in lines)
    assert any(line.split()[:3] == ["search", "C0SEARCH", "U0ENG3"] for line in lines)
    assert "unrouted requests go to C0TRIAGE" in done.stdout


def test_config_check_exits_1_naming_the_bad_field(tmp_path: Path) -> None:
    data = copy.deepcopy(CONFIG)
    data["domains"][0]["engineers"] = "nobody"
    done = config_check(write(tmp_path, yaml.safe_dump(data)))
    assert done.returncode == 1
    assert "domains[0].engineers: expected a list of Slack user ids, got 'nobody'" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_config_check_prints_the_next_holidays_each_clock_skips(tmp_path: Path) -> None:
    data = copy.deepcopy(CONFIG)
    data["holidays"] = {"country": "DE", "subdivision": "BE", "days_off": ["2026-12-24"]}
    data["domains"][1]["holidays"] = {"country": "US", "subdivision": "CA"}
    done = config_check(write(tmp_path, yaml.safe_dump(data)), "--from", "2026-11-23")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    start = lines.index("holidays the SLA clock skips next (business days from 2026-11-23 on):")
    org, search = lines[start + 1 :]
    assert org.startswith("  org (DE-BE + 1 day off): 2026-12-24 (Thu) company day off; 2026-12-25 (Fri) ")
    assert "2026-12-26" not in org  # a Saturday: the clock is closed anyway
    assert search.startswith("  search (US-CA): 2026-11-26 (Thu) ")  # support has the org's: not repeated
    assert org.count(";") == search.count(";") == 4  # the next five each


def test_config_check_with_dates_listed_by_hand(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(CONFIG))
    assert (
        config_check(path, "--from", "2026-11-23").stdout.splitlines()[-1]
        == "  org (1 listed): 2026-12-25 (Fri) holiday"
    )
    assert config_check(path, "--from", "2026-12-26").stdout.splitlines()[-1] == "  org (1 listed): none"
    refused = config_check(path, "--from", "26.12.2026")
    assert refused.returncode == 2 and "--from: expected a date like 2026-12-01, got '26.12.2026'" in refused.stderr
