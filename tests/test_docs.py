"""Docs that cannot drift: every CLI command, slash subcommand and config field is in the README, each list
derived from the code (the CLI's parser, the slash command's parser, the config's models)."""

import argparse
import re
from pathlib import Path

from bot.blocks import messages
from bot.cli import build_parser
from bot.config import load_config
from bot.domain.parsing import SUBCOMMANDS
from bot.domain.policy import Config, Domain

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def cli_commands(parser: argparse.ArgumentParser, prefix: str = "ai-intake") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix} {name}")
                found += cli_commands(sub, f"{prefix} {name}")
    return found


def test_every_cli_command_is_in_the_readme() -> None:
    commands = cli_commands(build_parser())
    assert "ai-intake run" in commands and "ai-intake config check" in commands
    for command in commands:
        assert f"`{command}" in README, command


def test_every_slash_subcommand_is_in_the_readme_and_the_help() -> None:
    """The subcommands are the parser's own table, so a new one cannot be left out of the docs."""
    usages = [sub.usage for sub in SUBCOMMANDS.values()]
    assert "queue [domain]" in usages and "status AIR-12" in usages
    help_text = messages.help_text(load_config(ROOT / "ai-intake.example.yml"))
    for usage in usages:
        assert f"`/ai-request {usage}`" in README, usage
        assert f"`/ai-request {usage}`" in help_text, usage


def test_every_config_field_is_in_the_readme() -> None:
    for field in [*Config.model_fields, *Domain.model_fields]:
        assert f"`{field}`" in README, field


def test_the_example_config_is_valid() -> None:
    config = load_config(ROOT / "ai-intake.example.yml")
    assert [d.name for d in config.domains] == ["support", "search"]


def test_the_readme_has_exactly_two_one_line_set_up_commands() -> None:
    assert "    pip install . && ai-intake console\n" in README
    assert "    pip install -e \".[test]\" && python -m pytest\n" in README
    assert 'pip install -q -e ".[test]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()


def test_the_readme_shows_the_example_config_as_it_is() -> None:
    example = (ROOT / "ai-intake.example.yml").read_text().rstrip("\n")
    assert f"```yaml\n{example}\n```" in README


def where_things_live() -> str:
    return README.split("## Where things live", 1)[1].split("\n## ", 1)[0]


def test_where_things_live_names_every_module_and_folder() -> None:
    """The README's map of the code names every module of bot/ and storage/ (by file name at the top,
    by name inside a package), and every file it names exists."""
    section = where_things_live()
    named = set(re.findall(r"[\w/.-]+", section))
    for path in sorted((ROOT / "bot").glob("*.py")) + sorted((ROOT / "storage").glob("*.py")):
        if path.name != "__init__.py":
            assert path.name in named, path.name
    for folder in sorted(p for p in (ROOT / "bot").iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert any(word.startswith(f"{folder.name}/") for word in named), folder.name
    for package in ("domain", "outbox", "blocks", "listeners"):
        for path in sorted((ROOT / "bot" / package).glob("*.py")):
            if path.name != "__init__.py":
                assert path.stem in named or path.name in named, f"bot/{package}/{path.name}"
    for name in re.findall(r"[\w-]+\.(?:py|yml)\b", section):
        assert list(ROOT.rglob(name)), f"the README names {name}, which is not there"
