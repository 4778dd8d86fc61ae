"""Docs that cannot drift: docs/ (and the README, a first page) name exactly what the code has.

Every list here is derived from the code (the CLI parser, the listeners the bot registers, the ids
module, the command parser, the config models, the export, the manifest and the contract file),
never written out a second time.
"""

import argparse
import re
import typing
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import listeners
from bot.blocks import ids
from bot.blocks import messages
from bot.entry.cli import build_parser
from bot.runtime.config import load_config
from bot.domain import parsing
from bot.domain.models import Request
from bot.domain.parsing import SUBCOMMANDS
from bot.domain.policy import Config, Domain
from bot.usecases.export import CSV_COLUMNS, export_row
from tests.contract import contract

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
OPERATIONS = (DOCS / "operations.md").read_text()
README_LINES = 250
CONSOLE_COMMAND = (
    "python -m pip install --require-hashes -r requirements/run.txt && python -m pip install --no-deps . "
    "&& ai-intake console"
)
TEST_COMMAND = (
    "python -m pip install --require-hashes -r requirements/test.txt && python -m pip install --no-deps -e . "
    "&& python -m pytest -n 3 --dist worksteal"
)


def cli_commands(parser: argparse.ArgumentParser, prefix: str = "ai-intake") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found += cli_commands(sub, f"{prefix} {name}")
    return found


def test_every_cli_command_is_in_the_operations_page() -> None:
    commands = cli_commands(build_parser())
    assert "ai-intake run" in commands and "ai-intake config check" in commands
    for command in commands:
        assert f"`{command}" in OPERATIONS, command


def test_every_slash_subcommand_is_in_the_operations_page_and_the_help() -> None:
    """The subcommands are the parser's own table, so a new one cannot be left out of the docs."""
    usages = [sub.usage for sub in SUBCOMMANDS.values()]
    assert "queue [domain]" in usages and "status AIR-12" in usages
    help_text = messages.help_text(load_config(ROOT / "ai-intake.example.yml"))
    contract = (DOCS / "slack-contract.md").read_text()
    for usage in usages:
        assert f"`/ai-request {usage}`" in OPERATIONS + contract, usage  # the operations page, or the contract's table
        assert f"`/ai-request {usage}`" in help_text, usage


def test_every_config_field_is_in_the_operations_page() -> None:
    for field in [*Config.model_fields, *Domain.model_fields]:
        assert f"`{field}`" in OPERATIONS, field


def test_the_example_config_is_valid() -> None:
    config = load_config(ROOT / "ai-intake.example.yml")
    assert [d.name for d in config.domains] == ["support", "search"]


def test_the_readme_is_a_first_page_with_exactly_two_one_line_commands() -> None:
    assert len(README.splitlines()) <= README_LINES
    commands = [line[4:] for line in README.splitlines() if line.startswith("    python -m pip install")]
    assert commands == [CONSOLE_COMMAND, TEST_COMMAND]
    ci = (ROOT / ".ci" / "run").read_text()
    assert TEST_COMMAND in ci.splitlines() and "python -m ruff check ." in ci  # the README's suite, then the linter


def test_the_operations_page_shows_the_example_config_as_it_is() -> None:
    example = (ROOT / "ai-intake.example.yml").read_text().rstrip("\n")
    assert f"```yaml\n{example}\n```" in OPERATIONS


def test_the_readme_lists_every_docs_page() -> None:
    for page in sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md"):
        assert f"](docs/{page})" in README, page


def test_the_readmes_folders_are_there() -> None:
    section = README.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    folders = re.findall(r"^ *([\w-]+)/ ", section, re.MULTILINE)
    assert {"bot", "domain", "listeners", "blocks", "outbox", "storage", "tests", "docs"} <= set(folders)
    for folder in folders:
        assert (ROOT / folder).is_dir() or (ROOT / "bot" / folder).is_dir(), folder


# ---- docs/ -----------------------------------------------------------------------------------------
def table(page: str, heading: str) -> list[list[str]]:
    """The cells of the body rows of the first table under `heading` (any level) in docs/`page`."""
    lines = (DOCS / page).read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(heading)}", line)), None)
    assert start is not None, f"docs/{page} has no heading {heading!r}"
    rows, seen_table = [], False
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if not line.startswith("|"):
            if seen_table:
                break
            continue
        seen_table = True
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        if not all(re.fullmatch(r":?-+:?", cell) for cell in cells):
            rows.append(cells)
    assert len(rows) > 1, f"docs/{page}, {heading!r}: no table"
    return rows[1:]  # the header row left out


def first_column(page: str, heading: str, *, column: int = 0) -> list[str]:
    """The `code` names in one column of a docs table."""
    return [name for cells in table(page, heading) for name in re.findall(r"`([^`]+)`", cells[column])]


class Registrations:
    """Stands in for Bolt's App to read what the bot's listeners register: kind ("action", "view", …) → ids."""

    def __init__(self) -> None:
        self.ids: dict[str, set[str]] = defaultdict(set)

    def __getattr__(self, kind: str) -> Any:
        def register(target: Any = None, *args: Any, **kwargs: Any) -> Any:
            if isinstance(target, str):
                self.ids[kind].add(target)
            return lambda listener: listener

        return register


def registered() -> dict[str, set[str]]:
    app = Registrations()
    listeners.register(app)  # type: ignore[arg-type]
    return app.ids


def documented_subcommands() -> list[tuple[str, type]]:
    """(the text after the command, what the parser makes of it) for each row of the subcommand table."""
    found = []
    for typed in first_column("slack-contract.md", "Subcommands"):
        assert typed == ids.COMMAND or typed.startswith(ids.COMMAND + " "), typed
        text = typed.removeprefix(ids.COMMAND).strip()
        found.append((text, type(parsing.parse_command(text, kinds=Config(triage_channel="C0TRIAGE").kind_names))))
    return found


def test_the_docs_subcommands_are_what_the_parser_knows() -> None:
    kinds = [kind for _, kind in documented_subcommands()]
    assert len(kinds) == len(set(kinds)), f"two rows parse alike (a misspelt subcommand is a new request): {kinds}"
    assert set(kinds) == set(typing.get_args(parsing.Command))


def test_the_docs_command_callback_and_action_ids_are_the_registered_ones() -> None:
    bolt = registered()
    assert first_column("slack-contract.md", "The slash command") == [ids.COMMAND]
    assert bolt["command"] == {ids.COMMAND}
    callbacks = first_column("slack-contract.md", "Callback ids: modals and the message shortcut")
    assert sorted(callbacks) == sorted(bolt["view"] | bolt["shortcut"])
    actions = first_column("slack-contract.md", "Action ids: buttons and the select")
    assert sorted(actions) == sorted(bolt["action"])
    spelled = {value for name, value in vars(ids).items() if name.isupper() and isinstance(value, str) and "." in value}
    assert spelled == {*callbacks, *actions}, "every dotted id in bot/blocks/ids.py is documented"
    assert first_column("slack-contract.md", "Reaction") == [ids.TICKET_REACTION]


def test_the_docs_events_scopes_and_methods_are_the_manifests_and_the_contracts() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert first_column("slack-contract.md", "Events") == manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(first_column("slack-contract.md", "Events", column=1)) == registered()["event"]
    assert sorted(first_column("slack-contract.md", "Scopes")) == sorted(manifest["oauth_config"]["scopes"]["bot"])
    called = {name for name, facts in contract()["methods"].items() if facts["called_by_bot"]}
    assert sorted(first_column("slack-contract.md", "Web API methods the bot calls")) == sorted(called)


def test_the_docs_cli_environment_and_config_are_the_codes() -> None:
    every = cli_commands(build_parser())
    leaves = {c for c in every if not any(other.startswith(c + " ") for other in every)}

    def command_of(row: str) -> str | None:  # "ai-intake jobs run sla|nags|digest [--at …]" → "ai-intake jobs run"
        return max((leaf for leaf in leaves if f"{row} ".startswith(f"{leaf} ")), key=len, default=None)

    assert sorted(str(command_of(row)) for row in first_column("operations.md", "The CLI")) == sorted(leaves)
    read = set(re.findall(r"env\.get\(\"([A-Z_]+)\"", (ROOT / "bot" / "runtime" / "settings.py").read_text()))
    assert set(first_column("operations.md", "The environment")) == read
    assert first_column("operations.md", "The config") == list(Config.model_fields)
    assert [n for cells in table("operations.md", "Domains") for n in re.findall(r"`([^`]+)`", cells[0])] == list(
        Domain.model_fields
    )


def export_fields() -> list[str]:
    """The export's JSON fields, in order, read off an exported request."""
    at = datetime(2026, 11, 23, 9, tzinfo=timezone.utc)
    request = Request(
        id=1,
        kind="question",
        domain=None,
        title="t",
        description="",
        priority="P4",
        status="open",
        requester="U0REQ",
        source="command",
        created_at=at,
        updated_at=at,
    )
    return list(export_row(request, [], Config(triage_channel="C0TRIAGE"), now=at))


def test_the_docs_export_format_is_the_exports() -> None:
    assert first_column("export.md", "JSON") == export_fields()
    text = (DOCS / "export.md").read_text()
    header = re.search(r"## CSV\n.*?```\n(.*?)```", text, re.DOTALL)
    assert header, "docs/export.md shows the CSV header in a code block"
    assert [c.strip() for c in header.group(1).replace("\n", " ").split(",")] == CSV_COLUMNS


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_docs_link_resolves(page: str) -> None:
    text = (DOCS / page).read_text()
    for target in re.findall(r"\]\(([^)]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        resolved = (DOCS / page).parent / path if path else DOCS / page
        assert resolved.exists(), f"docs/{page}: {target}"
        if anchor and resolved.suffix == ".md":
            anchors = {slug(line.lstrip("#")) for line in resolved.read_text().splitlines() if line.startswith("#")}
            assert anchor in anchors, f"docs/{page}: {target}"


def test_the_docs_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text()
    for page in sorted(p.name for p in DOCS.glob("*.md") if p.name != "README.md"):
        assert f"]({page})" in index, page


def where_things_live() -> str:
    """The architecture page's map of the code, and the map of triage's part in docs/triage.md."""
    triage = (DOCS / "triage.md").read_text().split("## Where it lives", 1)[1].split("\n## ", 1)[0]
    return (DOCS / "architecture.md").read_text().split("## The map", 1)[1].split("\n## ", 1)[0] + triage


def test_where_things_live_names_every_module_and_folder() -> None:
    """The architecture page's map of the code names every module of bot/ and storage/ (by file name at the top,
    by name inside a package), and every file it names exists."""
    section = where_things_live()
    named = set(re.findall(r"[\w/.-]+", section))
    for path in sorted((ROOT / "bot").glob("*.py")) + sorted((ROOT / "storage").glob("*.py")):
        if path.name != "__init__.py":
            assert path.name in named, path.name
    for folder in sorted(p for p in (ROOT / "bot").iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert any(word.startswith(f"{folder.name}/") for word in named), folder.name
    for package in ("domain", "outbox", "blocks", "listeners", "entry", "usecases", "runtime"):
        for path in sorted((ROOT / "bot" / package).glob("*.py")):
            if path.name != "__init__.py":
                assert path.stem in named or path.name in named, f"bot/{package}/{path.name}"
    for name in re.findall(r"[\w-]+\.(?:py|yml)\b", section):
        assert list(ROOT.rglob(name)), f"docs/architecture.md names {name}, which is not there"


def test_the_concepts_who_may_do_what_is_the_codes() -> None:
    """Each row of docs/concepts.md's table lists exactly the actions bot/domain/authz.py gives that group."""
    from bot.domain import authz

    said = {  # how docs/concepts.md words each action of authz.py
        "claim": "claim",
        "reassign": "reassign",
        "wait": "wait",
        "resolve": "resolve",
        "reopen": "reopen",
        "own": "take ownership",
        "disclaim": 'answer "Not mine"',
        "review": "review",
        "edit": "edit",
        "snooze": "snooze",
        "comment": "comment",
        "view": "see",
        "withdraw": "withdraw",
        "duplicate": "close as a duplicate",
        "set_kind": "change the kind",
        "set_priority": "change the priority",
    }
    assert set(said) == authz.MEMBER_ACTIONS | authz.REQUESTER_ACTIONS
    section = (DOCS / "concepts.md").read_text().split("## Authorization", 1)[1].split("\n## ", 1)[0]
    rows = {
        who.strip(): may.strip()
        for who, may in (
            line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ") and "---" not in line
        )
    }
    members = next(may for who, may in rows.items() if who.startswith("members of the request's domain"))
    corrections = next(cells[1] for cells in table("triage.md", "Correcting it") if cells[0].startswith("members"))
    members = f"{members}, {corrections}"  # the corrections of triage are told in docs/triage.md
    requester = next(may for who, may in rows.items() if who.startswith("the requester"))
    lead = next(may for who, may in rows.items() if who.startswith("the domain's lead"))

    def listed(cell: str) -> set[str]:
        return {action for action, words in said.items() if re.search(rf"(^|, ){re.escape(words)}(,|;|$)", cell)}

    assert listed(members) == authz.MEMBER_ACTIONS
    assert listed(requester) == authz.REQUESTER_ACTIONS
    assert authz.LEAD_ACTIONS == {"hand"} and lead.startswith("hand a regression")
    asset_owners = next(may for who, may in rows.items() if who.startswith("the owners of the catalog asset"))
    assert listed(asset_owners.split(":")[0]) == authz.ASSET_OWNER_ACTIONS
