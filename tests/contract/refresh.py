"""Write tests/contract/slack.json from Slack's published API descriptions.

    python -m tests.contract.refresh DIR      DIR: the folder of descriptions (e.g. ../shared/slack-api-specs)

DIR holds `methods/` (one JSON file per Web API method, `_errors_common.json`, `_events.json`),
`manifest-schema/` (the app manifest's JSON Schema), `LIMITS.md` (the Block Kit limits) and a
`README.md` whose table names each folder's upstream repository and commit. Only facts are kept:
names, argument lists, error codes, scope names, numbers and the manifest schema's constraints, never
descriptions or examples. The output is canonical (sorted keys, fixed layout), so the same DIR always
gives the same bytes; a test compares the committed file with what this derives (see docs/testing.md).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.contract import CONTRACT_FILE

# The Web API methods the bot calls, directly or through Bolt (auth.test at start-up,
# apps.connections.open for Socket Mode).
BOT_METHODS = (
    "apps.connections.open",
    "auth.test",
    "chat.getPermalink",
    "chat.postEphemeral",
    "chat.postMessage",
    "chat.update",
    "conversations.history",
    "conversations.info",
    "conversations.replies",
    "users.info",
    "views.open",
    "views.publish",
)
# Methods the fake Slack also serves for the tests, the console and the benchmarks.
TEST_METHODS = ("chat.delete", "conversations.open", "reactions.add", "views.push", "views.update")

# The app manifest sections the bot's manifest.yml uses: checked offline in full. The schema's other
# top-level keys (workflows, datastores, ...) stay allowed but unchecked.
MANIFEST_SECTIONS = ("_metadata", "display_information", "features", "oauth_config", "settings")
# Schema keywords that carry prose or sample values, not constraints.
SCHEMA_PROSE = frozenset({"$comment", "_note", "default", "description", "examples", "markdownDescription", "title"})

# LIMITS.md rows the fake Slack enforces: (key, the row's first cell, how to read its limit cell).
LIMIT_ROWS: tuple[tuple[str, str, str], ...] = (
    ("message_blocks", "blocks per message", r"^(\d[\d,]*)$"),
    ("section_field_chars", "section `fields`", r"each at most (\d[\d,]*) characters"),
    ("message_text_chars", "message `text`", r"cut at (\d[\d,]*) characters"),
    ("message_block_text_chars_seen", "all block text of one message", r"about (\d[\d,]*) characters"),
    ("view_kilobytes", "a view", r"at most (\d[\d,]*) kB"),
    ("response_url_uses", "`response_url`", r"up to (\d+) uses"),
)
SOURCE = re.compile(r"([\w.-]+/[\w.-]+) @ ([0-9a-f]{7,40})(?: \((v[\w.]+)\))?")
LINE_WIDTH = 110


class SpecsError(Exception):
    """DIR does not say what this script reads: the message names the file and what was expected."""


def derive(specs: Path) -> dict[str, Any]:
    """The contract, as data, from the descriptions in `specs`. Raises SpecsError."""
    methods = specs / "methods"
    return {
        "_about": "Facts from Slack's published API descriptions that the tests hold the bot to. "
        "Written by `python -m tests.contract.refresh DIR`: re-run it, do not edit by hand.",
        "_sources": _sources(specs / "README.md"),
        "methods": {
            name: _method(methods, name, called_by_bot=name in BOT_METHODS)
            for name in sorted({*BOT_METHODS, *TEST_METHODS})
        },
        "common_errors": sorted(_json(methods / "_errors_common.json")["errors"]),
        "events": _events(_json(methods / "_events.json")),
        "manifest": _manifest(specs / "manifest-schema"),
        "limits": _limits(specs / "LIMITS.md"),
    }


def dumps(value: Any) -> str:
    """`value` as canonical JSON text: sorted keys, two-space indents, short scalar lists on one line."""
    return _dump(value, 0) + "\n"


# ---- sources ---------------------------------------------------------------------------------------
def _sources(readme: Path) -> dict[str, str]:
    """The upstream of each folder read, from the README's table rows ("owner/name @ commit (tag)")."""
    rows = {cells[0].strip("` "): cells[-1] for cells in _table_rows(_text(readme))}
    found = {}
    for key, folder in (("methods", "methods/"), ("manifest_schema", "manifest-schema/")):
        match = SOURCE.search(rows.get(folder, ""))
        if match is None:
            raise SpecsError(f"{readme}: no table row for `{folder}` naming its upstream as 'owner/name @ commit'")
        name, commit, tag = match.groups()
        found[key] = f"{name} @ {commit}" + (f" ({tag})" if tag else "")
    found["limits"] = "LIMITS.md beside them (Slack's Block Kit and surface limits)"
    return found


# ---- methods and events ----------------------------------------------------------------------------
def _method(folder: Path, name: str, *, called_by_bot: bool) -> dict[str, Any]:
    spec = _json(folder / f"{name}.json")
    args = spec.get("args")
    if not isinstance(args, dict):
        raise SpecsError(f"{folder / name}.json: no `args` object")
    required = sorted(args.get("required", []))
    scope = spec.get("scope") or {}
    return {
        "args": sorted({*args.get("properties", {}), *required}),  # a few files require an undescribed one
        "required": required,
        "json_body": bool(spec.get("json_input_supported")),
        # None: the method grants scopes to some token types, but not to bots. []: no scope needed.
        "bot_scopes": sorted(scope["bot"]) if "bot" in scope else (None if scope else []),
        "errors": sorted(spec.get("errors") or {}),
        "called_by_bot": called_by_bot,
    }


def _events(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Events an app can subscribe to (the Events API, not RTM only) → the scopes that allow it (any one)."""
    return {
        e["name"]: sorted(_scope_name(s) for s in e.get("scopes", []))
        for e in sorted(events, key=lambda e: e["name"])
        if "Events" in e.get("APIs", [])
    }


def _scope_name(scope: str) -> str:
    """The scraped event list writes one scope with a dot ("app_mentions.read"): Slack spells it with a colon."""
    return scope if ":" in scope else re.sub(r"\.(?=[a-z]+$)", ":", scope)


# ---- the manifest schema ---------------------------------------------------------------------------
def _manifest(folder: Path) -> dict[str, Any]:
    """The version-1 schema reduced to MANIFEST_SECTIONS (with the definitions they use), without prose."""
    files = sorted(folder.glob("manifest.schema.1.*.json"))
    if len(files) != 1:
        raise SpecsError(f"{folder}: expected one manifest.schema.1.*.json, found {[f.name for f in files]}")
    full = _json(files[0])
    missing = [s for s in MANIFEST_SECTIONS if s not in full.get("properties", {})]
    if missing:
        raise SpecsError(f"{files[0]}: no top-level properties {missing}")
    properties = {key: (full["properties"][key] if key in MANIFEST_SECTIONS else {}) for key in full["properties"]}
    used = _definitions_used({key: properties[key] for key in MANIFEST_SECTIONS}, full.get("definitions", {}))
    schema = {key: value for key, value in full.items() if key not in ("properties", "definitions", "$schema")}
    schema.update(properties=properties, definitions={name: full["definitions"][name] for name in used})
    return {"major_version": 1, "checked_sections": list(MANIFEST_SECTIONS), "schema": _without_prose(schema)}


def _definitions_used(node: Any, definitions: dict[str, Any]) -> set[str]:
    """Names of the `#/definitions/...` that `node` reaches, directly or through other definitions."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref.removeprefix("#/definitions/")
                if name not in definitions:
                    raise SpecsError(f"manifest schema: $ref to a missing definition {name!r}")
                if name not in found:
                    found.add(name)
                    pending.append(definitions[name])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _without_prose(node: Any, *, under_properties: bool = False) -> Any:
    """`node` without SCHEMA_PROSE keywords (a property that happens to be named like one stays)."""
    if isinstance(node, dict):
        return {
            key: _without_prose(
                value, under_properties=key in ("properties", "patternProperties") and not under_properties
            )
            for key, value in node.items()
            if under_properties or key not in SCHEMA_PROSE
        }
    if isinstance(node, list):
        return [_without_prose(value) for value in node]
    return node


# ---- limits ----------------------------------------------------------------------------------------
def _limits(path: Path) -> dict[str, int]:
    rows = {cells[0]: cells[1] for cells in _table_rows(_text(path)) if len(cells) >= 2}
    limits = {}
    for key, item, pattern in LIMIT_ROWS:
        if item not in rows:
            raise SpecsError(f"{path}: no row {item!r}")
        match = re.search(pattern, rows[item])
        if match is None:
            raise SpecsError(f"{path}: row {item!r} reads {rows[item]!r}, expected /{pattern}/")
        limits[key] = int(match.group(1).replace(",", ""))
    return limits


# ---- reading and writing ---------------------------------------------------------------------------
def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecsError(f"cannot read {path}: {exc.strerror}") from None


def _json(path: Path) -> Any:
    try:
        return json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise SpecsError(f"{path}: not JSON ({exc})") from None


def _table_rows(markdown: str) -> list[list[str]]:
    """The cells of every Markdown table row, header and separator rows left out."""
    rows = []
    for line in markdown.splitlines():
        if line.startswith("|") and not re.fullmatch(r"[|\s:-]+", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _dump(value: Any, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and _flat(value) and len(inner) + len(line := _one_line(value)) <= LINE_WIDTH - 30:
        return line
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(key)}: {_dump(value[key], depth + 1)}" for key in sorted(value)]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return "[\n" + ",\n".join(inner + _dump(item, depth + 1) for item in value) + "\n" + pad + "]"
    if isinstance(value, list):
        return _scalar_list(value, inner, pad)
    return json.dumps(value)


def _flat(value: dict[str, Any]) -> bool:
    """True when no value is an object and every list holds only scalars."""
    return all(
        not isinstance(v, dict) and not (isinstance(v, list) and any(isinstance(i, (dict, list)) for i in v))
        for v in value.values()
    )


def _one_line(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def _scalar_list(values: list[Any], inner: str, pad: str) -> str:
    """One line when it fits, else as many items a line as fit in LINE_WIDTH."""
    cells = [json.dumps(v) for v in values]
    if len(pad) + sum(len(c) + 2 for c in cells) + 10 <= LINE_WIDTH:
        return "[" + ", ".join(cells) + "]"
    lines, line = [], ""
    for cell in cells:
        if line and len(inner) + len(line) + len(cell) + 2 > LINE_WIDTH:
            lines.append(line)
            line = ""
        line += ("" if not line else " ") + cell + ","
    lines.append(line.removesuffix(","))
    return "[\n" + "\n".join(inner + line for line in lines) + "\n" + pad + "]"


def main(argv: list[str] | None = None, *, out: Callable[[str], None] = print) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        out(__doc__.split("\n\n")[1].strip("\n"))
        return 2
    try:
        contract = derive(Path(args[0]))
    except SpecsError as exc:
        out(f"refresh: {exc}")
        return 1
    text = dumps(contract)
    changed = not CONTRACT_FILE.exists() or CONTRACT_FILE.read_text(encoding="utf-8") != text
    CONTRACT_FILE.write_text(text, encoding="utf-8")
    out(
        f"{'wrote' if changed else 'unchanged:'} {CONTRACT_FILE.name}: {len(contract['methods'])} methods, "
        f"{len(contract['events'])} events, from {contract['_sources']['methods']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
