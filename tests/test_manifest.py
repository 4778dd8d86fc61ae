"""The Slack app manifest (manifest.yml) against Slack's manifest JSON Schema and our Slack contract.

Self-contained on purpose: nothing from the bot package is imported. Two schemas, never fetched:
- always, the one in tests/contract/slack.json: Slack's version-1 schema reduced to the sections the
  manifest uses (every constraint of those sections kept, the other top-level keys allowed unchecked);
- where Slack's full descriptions are present (tests/contract says where), also the full published
  schema, its remote `$ref`s served from the local files through a `referencing.Registry` (anything
  else it asks for fails the test instead of going to the network).
The ids, events and scopes are those of docs/slack-contract.md.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT7

from bot.blocks import ids
from tests.contract import SPECS, contract, needs_specs

PROJECT = Path(__file__).resolve().parents[1]
MANIFEST_PATH = PROJECT / "manifest.yml"

# docs/slack-contract.md.
SLASH_COMMAND = "/ai-request"
MESSAGE_SHORTCUT = "ai_request.from_message"
# What the product listens to: mentions, thread replies (public domain channels and private review
# channels), :ticket: reactions, and the App Home.
REQUIRED_EVENTS = {
    "app_mention",
    "message.channels",
    "message.groups",
    "message.im",
    "reaction_added",
    "app_home_opened",
}
# The bot asks for no more than it uses. Adding a scope is a decision: make it together with the code
# that needs it, with a comment in manifest.yml saying why, and here.
EXPECTED_BOT_SCOPES = {
    "commands",
    "chat:write",
    "app_mentions:read",
    "channels:history",
    "groups:history",
    "im:history",
    "channels:read",
    "groups:read",
    "reactions:read",
    "users:read",
}
HTTP_REQUEST_URL = "https://YOUR-HOST/slack/events"


# --- the schemas, offline ---------------------------------------------------------------------------


def _remote_refs(node) -> set[str]:
    """Every absolute http(s) `$ref` in a schema document."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("http://", "https://")):
            found.add(ref)
        for value in node.values():
            found |= _remote_refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _remote_refs(value)
    return found


def _refuse_retrieval(uri: str):
    raise NoSuchResource(ref=uri)  # never the network: an unregistered URL is a test failure


def _contract_schema() -> Draft7Validator:
    schema = contract()["manifest"]["schema"]
    return Draft7Validator(schema, registry=Registry(retrieve=_refuse_retrieval))


def _full_schema(schema_dir: Path):
    top = json.loads((schema_dir / "manifest.schema.json").read_text(encoding="utf-8"))
    resources = []
    for url in sorted(_remote_refs(top)):
        # https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.1.0.0.json
        local = schema_dir / url.rsplit("/", 1)[-1]
        contents = json.loads(local.read_text(encoding="utf-8"))
        resources.append((url, Resource.from_contents(contents, default_specification=DRAFT7)))
    registry = Registry(retrieve=_refuse_retrieval).with_resources(resources)
    return top, dict(resources), Draft7Validator(top, registry=registry)


CONTRACT_VALIDATOR = _contract_schema()
if SPECS is not None:
    TOP_SCHEMA, VERSION_SCHEMAS, FULL_VALIDATOR = _full_schema(SPECS / "manifest-schema")


@pytest.fixture(params=["contract", pytest.param("upstream", marks=needs_specs)])
def validator(request) -> Draft7Validator:
    """The contract file's reduced schema, and (where present) Slack's full published one."""
    return CONTRACT_VALIDATOR if request.param == "contract" else FULL_VALIDATOR


def _leaves(error):
    if not error.context:
        yield error
    for sub in error.context:
        yield from _leaves(sub)


def schema_errors(validator: Draft7Validator, instance) -> list[tuple[tuple, str, str]]:
    """(instance path, failing keyword, message) of every error, read through the version switch.

    The full manifest.schema.json is a `oneOf` of four branches, each `allOf: [guard on _metadata, $ref
    to a version's schema]`. A bare "is not valid under any of the given schemas" says nothing, so the
    errors are taken from inside the branches whose guard holds (the version the manifest asks for);
    the other branches only report that their guard does not match. The reduced schema has no switch.
    """
    found = []
    for error in validator.iter_errors(instance):
        if list(error.absolute_schema_path) != ["oneOf"] or not error.context:
            found.append((tuple(error.absolute_path), error.validator, error.message))
            continue
        by_branch = defaultdict(list)
        for leaf in _leaves(error):
            schema_path = list(leaf.absolute_schema_path)  # ["oneOf", branch, "allOf", part, ...]
            by_branch[schema_path[1]].append((schema_path[3], leaf))
        applicable = [b for b, leaves in by_branch.items() if all(part != 0 for part, _ in leaves)]
        if not applicable:
            found.append(((), "oneOf", "_metadata matches no schema version: " + error.message))
        for branch in applicable:
            for _, leaf in by_branch[branch]:
                found.append((tuple(leaf.absolute_path), leaf.validator, leaf.message))
    return found


def _describe(errors) -> str:
    return "\n".join(
        f"  {'/'.join(map(str, path)) or '(root)'}: {message} [{keyword}]" for path, keyword, message in errors
    )


# --- the manifest -------------------------------------------------------------------------------------


def _raw() -> str:
    return MANIFEST_PATH.read_text(encoding="utf-8")


def _manifest() -> dict:
    return yaml.safe_load(_raw())


def test_the_contracts_schema_is_valid_draft7_and_checks_every_section_the_manifest_uses():
    reduced = contract()["manifest"]
    Draft7Validator.check_schema(reduced["schema"])
    assert _manifest()["_metadata"]["major_version"] == reduced["major_version"]
    assert set(_manifest()) <= set(reduced["checked_sections"]), "a section the contract's schema waves through"
    for section in reduced["checked_sections"]:
        assert reduced["schema"]["properties"][section], section


@needs_specs
def test_schema_files_are_valid_draft7_and_reached_offline():
    Draft7Validator.check_schema(TOP_SCHEMA)
    for schema in VERSION_SCHEMAS.values():
        Draft7Validator.check_schema(schema.contents)
    assert {url.rsplit("/", 1)[-1] for url in VERSION_SCHEMAS} == {
        "manifest.schema.1.0.0.json",
        "manifest.schema.2.0.0.json",
    }


def test_manifest_validates_against_slacks_schema(validator):
    manifest = _manifest()
    errors = schema_errors(validator, manifest)
    assert not errors, "manifest.yml does not validate:\n" + _describe(errors)
    assert validator.is_valid(manifest)
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}


def _set(path, value):
    def mutate(manifest):
        *parents, last = path
        node = manifest
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _delete(path):
    def mutate(manifest):
        *parents, last = path
        node = manifest
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


def _append_scope(manifest):
    manifest["oauth_config"]["scopes"]["bot"].append(42)


CMD = ("features", "slash_commands", 0)
SHORTCUT = ("features", "shortcuts", 0)
BROKEN = {
    # name: (how to break a copy, instance path of the expected error, the keyword that catches it)
    "scope that is not a string": (_append_scope, ("oauth_config", "scopes", "bot", len(EXPECTED_BOT_SCOPES)), "type"),
    "unknown top-level key": (_set(("commands",), [SLASH_COMMAND]), (), "additionalProperties"),
    "misspelt settings key": (_set(("settings", "socket_mode"), True), ("settings",), "additionalProperties"),
    "command without description": (_delete((*CMD, "description")), CMD, "required"),
    "command without the leading slash": (_set((*CMD, "command"), "ai-request"), (*CMD, "command"), "pattern"),
    "shortcut of unknown type": (_set((*SHORTCUT, "type"), "channel"), (*SHORTCUT, "type"), "enum"),
    "shortcut name over 24 characters": (
        _set((*SHORTCUT, "name"), "Create an AI request from this"),
        (*SHORTCUT, "name"),
        "maxLength",
    ),
    "interactivity without is_enabled": (
        _delete(("settings", "interactivity", "is_enabled")),
        ("settings", "interactivity"),
        "required",
    ),
    "boolean written as a string": (
        _set(("settings", "socket_mode_enabled"), "true"),
        ("settings", "socket_mode_enabled"),
        "type",
    ),
    "no display_information": (_delete(("display_information",)), (), "required"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_copy_is_rejected_for_the_right_reason(validator, case):
    mutate, path, keyword = BROKEN[case]
    broken = copy.deepcopy(_manifest())
    mutate(broken)
    assert not validator.is_valid(broken), f"the schema accepted a manifest with a {case}"
    errors = schema_errors(validator, broken)
    assert (path, keyword) in {(p, k) for p, k, _ in errors}, (
        f"expected a {keyword!r} error at {'/'.join(map(str, path)) or '(root)'}; got:\n" + _describe(errors)
    )


@needs_specs
@pytest.mark.parametrize("major_version", [1, 2])
def test_both_schema_versions_resolve(major_version):
    # Picks the other branch of the oneOf: proves both remote $refs are served from local files.
    manifest = copy.deepcopy(_manifest())
    manifest["_metadata"]["major_version"] = major_version
    errors = schema_errors(FULL_VALIDATOR, manifest)
    assert not errors, _describe(errors)
    manifest["features"]["slash_commands"][0].pop("description")
    found = schema_errors(FULL_VALIDATOR, manifest)
    assert (("features", "slash_commands", 0), "required") in {(p, k) for p, k, _ in found}


def test_ids_are_exactly_designs():
    features = _manifest()["features"]
    assert [c["command"] for c in features["slash_commands"]] == [SLASH_COMMAND]
    assert [(s["type"], s["callback_id"]) for s in features["shortcuts"]] == [
        ("message", MESSAGE_SHORTCUT),
        ("message", ids.CHANGE_FROM_MESSAGE),
    ]
    command = features["slash_commands"][0]
    assert command["should_escape"] is False
    assert (
        command["usage_hint"]
        == "[help | mine | queue [domain] | status AIR-12 | shipped <what> | changes [domain] | away [until DATE] | back | kind: text]"
    )
    assert features["app_home"]["home_tab_enabled"] is True
    assert features["bot_user"]["display_name"] == "ai-intake"


def test_events_cover_the_product():
    events = _manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert REQUIRED_EVENTS <= set(events), f"missing events: {sorted(REQUIRED_EVENTS - set(events))}"
    assert len(events) == len(set(events))


def _scope_name(scope: str) -> str:
    # the scraped event list writes one scope with a dot ("app_mentions.read")
    return scope if ":" in scope else re.sub(r"\.(?=[a-z]+$)", ":", scope)


def _event_scopes(source: str) -> dict[str, list[str]]:
    """Slack's events → the scopes that allow subscribing to each, from the contract or the full event list."""
    if source == "contract":
        return contract()["events"]
    slack_events = json.loads((SPECS / "methods" / "_events.json").read_text(encoding="utf-8"))
    return {e["name"]: [_scope_name(s) for s in e.get("scopes", [])] for e in slack_events}


@pytest.mark.parametrize("source", ["contract", pytest.param("upstream", marks=needs_specs)])
def test_scopes_are_the_minimum_and_cover_every_surface(source):
    manifest = _manifest()
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    assert len(scopes) == len(set(scopes)), "a scope is listed twice"
    assert set(scopes) == EXPECTED_BOT_SCOPES
    assert set(manifest["oauth_config"]["scopes"]) == {"bot"}, "the bot needs no user scopes"

    # Slack's own event list names the scope each event subscription needs.
    needs = _event_scopes(source)
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert event in needs, f"{event} is not a Slack event"
        assert not needs[event] or set(needs[event]) & set(scopes), f"{event} needs one of {needs[event]}"
    # Slash commands and shortcuts need `commands`; buttons, modals and shortcuts need interactivity.
    assert "commands" in scopes
    assert manifest["settings"]["interactivity"]["is_enabled"] is True


def _child(node: yaml.MappingNode, key: str):
    for key_node, value_node in node.value:
        if key_node.value == key:
            return value_node
    raise KeyError(key)


def test_every_scope_has_a_comment_saying_why():
    raw = _raw()
    lines = raw.splitlines()
    root = yaml.compose(raw)
    bot = _child(_child(_child(root, "oauth_config"), "scopes"), "bot")
    assert isinstance(bot, yaml.SequenceNode)
    seen_lines = set()
    for item in bot.value:
        scope, line = item.value, item.start_mark.line
        assert line not in seen_lines, f"{scope} shares a line with another scope: one scope, one reason"
        seen_lines.add(line)
        inline = re.match(r"\s+#\s*(.*)", lines[line][item.end_mark.column :])
        above = re.match(r"\s*#\s*(.*)", lines[line - 1]) if line > 0 else None
        reason = (inline or above).group(1).strip() if (inline or above) else ""
        assert len(reason.split()) >= 3, f"scope {scope} needs a comment saying why the bot needs it: {lines[line]!r}"


def test_socket_mode_now_and_http_mode_documented():
    manifest = _manifest()
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False
    raw = _raw()
    assert "socket_mode_enabled: false" in raw and HTTP_REQUEST_URL in raw, "explain how to switch to HTTP mode"


def test_every_method_the_bot_calls_is_allowed_by_its_scopes():
    scopes = set(_manifest()["oauth_config"]["scopes"]["bot"])
    for method, facts in contract()["methods"].items():
        if facts["called_by_bot"]:
            assert facts["bot_scopes"] is not None, f"{method} cannot be called with a bot token"
            assert not facts["bot_scopes"] or set(facts["bot_scopes"]) & scopes, (
                f"{method} needs one of {facts['bot_scopes']}"
            )


def test_http_mode_variant_validates(validator):
    # What the comment in manifest.yml tells an operator to do; Bolt serves everything on /slack/events.
    manifest = copy.deepcopy(_manifest())
    settings = manifest["settings"]
    settings["socket_mode_enabled"] = False
    settings["event_subscriptions"]["request_url"] = HTTP_REQUEST_URL
    settings["interactivity"]["request_url"] = HTTP_REQUEST_URL
    for command in manifest["features"]["slash_commands"]:
        command["url"] = HTTP_REQUEST_URL
    errors = schema_errors(validator, manifest)
    assert not errors, _describe(errors)


def test_request_urls_present_unless_socket_mode():
    # The schema allows leaving every request URL out; Slack can only deliver without one over a socket.
    manifest = _manifest()
    settings = manifest["settings"]
    if settings.get("socket_mode_enabled"):
        return
    assert settings["event_subscriptions"].get("request_url")
    assert settings["interactivity"].get("request_url")
    assert all(c.get("url") for c in manifest["features"]["slash_commands"])


def test_display_information():
    info = _manifest()["display_information"]
    assert info["name"] == "ai-intake"
    assert info["description"].strip()
    # The schema spells this check "regex", which is not a JSON Schema keyword, so it checks nothing.
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])
