"""tests/contract/slack.json: canonical, naming its sources, covering what the bot calls, and up to date.

The up-to-date check needs Slack's full descriptions (tests/contract says where it looks); the refresh
script itself is tested on a small folder built here, so it is tested on a bare clone too.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest

from tests.contract import CONTRACT_FILE, ROOT, SPECS, contract, needs_specs
from tests.contract.refresh import BOT_METHODS, LIMIT_ROWS, MANIFEST_SECTIONS, TEST_METHODS, derive, dumps, main

# `client.chat_postMessage(` → chat.postMessage: slack_sdk's method names are Slack's with "_" for ".".
CLIENT_CALL = re.compile(r"client\.((?:[a-z]+_)+[a-zA-Z]+)\(")


def methods_called_in_code() -> dict[str, str]:
    """Every Web API method the bot package calls through a WebClient → the first file calling it."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for name in CLIENT_CALL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name.replace("_", "."), str(path.relative_to(ROOT)))
    return found


def test_the_committed_file_is_in_canonical_form() -> None:
    text = CONTRACT_FILE.read_text(encoding="utf-8")
    assert dumps(json.loads(text)) == text, "re-run python -m tests.contract.refresh DIR instead of editing by hand"


def test_the_file_names_its_upstream_sources_and_commits() -> None:
    sources = contract()["_sources"]
    for key in ("methods", "manifest_schema"):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+ @ [0-9a-f]{7,40}( \(v[\w.]+\))?", sources[key]), sources[key]


def test_every_method_the_bot_calls_is_described() -> None:
    called = methods_called_in_code()
    assert {"chat.postMessage", "chat.update", "views.open", "users.info"} <= set(called), called
    methods = contract()["methods"]
    for method, where in called.items():
        assert method in methods, f"{where} calls {method}: add it to BOT_METHODS in tests/contract/refresh.py"
        assert methods[method]["called_by_bot"], f"{where} calls {method}: move it to BOT_METHODS"
    assert set(methods) == {*BOT_METHODS, *TEST_METHODS}


@needs_specs
def test_the_committed_file_is_up_to_date() -> None:
    assert SPECS is not None
    fresh, committed = dumps(derive(SPECS)), CONTRACT_FILE.read_text(encoding="utf-8")
    diff = list(difflib.unified_diff(committed.splitlines(), fresh.splitlines(), "committed", "derived", lineterm=""))
    assert not diff, (
        f"tests/contract/slack.json is out of date against {SPECS}: run "
        f"python -m tests.contract.refresh {SPECS}\n" + "\n".join(diff[:40])
    )


# ---- the refresh script on a small folder of descriptions --------------------------------------------
def write_json(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")


def small_specs(root: Path) -> Path:
    """A folder shaped like Slack's descriptions, with every method the contract needs."""
    (root / "README.md").write_text(
        "| folder | what | upstream |\n| --- | --- | --- |\n"
        "| `methods/` | methods | example/method-ref @ abc1234 (scraped) |\n"
        "| `manifest-schema/` | schema | example/manifest-schema @ def5678 (v1.2.3) |\n",
        encoding="utf-8",
    )
    limits = {
        "blocks per message": "50",
        "section `fields`": "at most 10, each at most 2,000 characters",
        "message `text`": "cut at 40,000 characters",
        "all block text of one message": "about 13,000 characters",
        "a view": "at most 250 kB",
        "`response_url`": "up to 5 uses within 30 minutes",
    }
    assert set(limits) == {item for _, item, _ in LIMIT_ROWS}
    (root / "LIMITS.md").write_text(
        "| item | limit |\n| --- | --- |\n" + "".join(f"| {item} | {limit} |\n" for item, limit in limits.items()),
        encoding="utf-8",
    )
    for method in {*BOT_METHODS, *TEST_METHODS}:
        write_json(
            root / "methods" / f"{method}.json",
            {
                "desc": "Prose that must not be kept.",
                "json_input_supported": method != "users.info",
                "scope": {"user": ["x:read"]}
                if method == "reactions.add"
                else {"bot": ["b:write"], "user": ["u:write"]},
                "args": {
                    "required": ["token", "channel"],
                    "properties": {"token": {"desc": "t"}, "text": {"desc": "t"}},
                },
                "errors": {"zeta_error": "prose", "alpha_error": "prose"},
            },
        )
    write_json(root / "methods" / "_errors_common.json", {"errors": {"not_authed": "prose", "fatal_error": "prose"}})
    write_json(
        root / "methods" / "_events.json",
        [
            {"name": "app_mention", "scopes": ["app_mentions.read"], "APIs": ["Events"], "description": "prose"},
            {"name": "hello", "scopes": [], "APIs": ["RTM"], "description": "prose"},
        ],
    )
    sections = {name: {"$ref": f"#/definitions/{name}"} for name in MANIFEST_SECTIONS}
    write_json(
        root / "manifest-schema" / "manifest.schema.1.0.0.json",
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "prose",
            "type": "object",
            "additionalProperties": False,
            "properties": {**sections, "workflows": {"$ref": "#/definitions/unused"}},
            "definitions": {
                **{
                    name: {
                        "type": "object",
                        "description": "prose",
                        "properties": {"description": {"type": "string", "maxLength": 140, "description": "prose"}},
                    }
                    for name in MANIFEST_SECTIONS
                },
                "unused": {"type": "object"},
            },
        },
    )
    return root


def test_refresh_keeps_facts_only_and_gives_the_same_bytes_twice(tmp_path: Path) -> None:
    specs = small_specs(tmp_path)
    derived = derive(specs)
    assert dumps(derived) == dumps(derive(specs)) and "prose" not in dumps(derived).lower()
    assert derived["_sources"]["methods"] == "example/method-ref @ abc1234"
    assert derived["_sources"]["manifest_schema"] == "example/manifest-schema @ def5678 (v1.2.3)"
    post = derived["methods"]["chat.postMessage"]
    assert post == {
        "args": ["channel", "text", "token"],
        "required": ["channel", "token"],
        "json_body": True,
        "bot_scopes": ["b:write"],
        "errors": ["alpha_error", "zeta_error"],
        "called_by_bot": True,
    }
    assert derived["methods"]["reactions.add"]["bot_scopes"] is None  # user tokens only
    assert derived["methods"]["users.info"]["json_body"] is False
    assert derived["events"] == {"app_mention": ["app_mentions:read"]}  # RTM-only events left out
    assert derived["common_errors"] == ["fatal_error", "not_authed"]
    assert derived["limits"]["view_kilobytes"] == 250 and derived["limits"]["section_field_chars"] == 2000
    schema = derived["manifest"]["schema"]
    assert schema["properties"]["workflows"] == {} and "unused" not in schema["definitions"]
    # the keyword "description" goes, a property named "description" stays, with its constraints
    assert schema["definitions"]["features"] == {
        "type": "object",
        "properties": {"description": {"type": "string", "maxLength": 140}},
    }


def test_refresh_names_what_it_could_not_read(tmp_path: Path) -> None:
    said: list[str] = []
    assert main([str(tmp_path)], out=said.append) == 1
    assert said == [f"refresh: cannot read {tmp_path / 'README.md'}: No such file or directory"]
    specs = small_specs(tmp_path)
    (specs / "LIMITS.md").write_text("| item | limit |\n| --- | --- |\n| blocks per message | fifty |\n")
    said.clear()
    assert main([str(specs)], out=said.append) == 1
    assert said[0].startswith(f"refresh: {specs / 'LIMITS.md'}: row 'blocks per message' reads 'fifty'")


@pytest.mark.parametrize("argv", [[], ["a", "b"], ["--help"]])
def test_refresh_without_one_folder_prints_its_usage(argv: list[str]) -> None:
    said: list[str] = []
    assert main(argv, out=said.append) == 2
    assert "python -m tests.contract.refresh DIR" in said[0]
