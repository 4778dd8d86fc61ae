"""The change log in the console: `/shipped`, `/hook` (a body signed like a real sender's), answering a change,
resolving a regression with its closure, and docs/changes.md's express-refund story, which is the transcript of
tests/console_changes.txt (checked here line for line; `python -m tests.test_console_changes` rewrites it)."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.entry.cli import main
from tests.test_console import Typist, open_typist, rewrite_block

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "console_changes.txt"
PAGE = ROOT / "docs" / "changes.md"
STORY_BLOCK = re.compile(r"(## The express-refund story, in the console\n.*?```text\n)(.*?)(```)", re.DOTALL)
SAMPLES = ROOT / "tests" / "samples" / "hooks"


def page_story() -> str:
    return STORY_BLOCK.search(PAGE.read_text()).group(2)


def test_the_pages_story_is_what_the_script_prints(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.delenv("AI_INTAKE_DB", raising=False)
    monkeypatch.delenv("AI_INTAKE_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["console", "--script", str(SCRIPT)]) == 0
    printed = capsys.readouterr().out
    assert printed == page_story(), (
        "the bot says something else now: `python -m tests.test_console_changes` rewrites the story"
    )
    assert "ai-intake console --script tests/console_changes.txt" in PAGE.read_text()


def test_the_story_closes_the_loop(tmp_path) -> None:
    t = open_typist(tmp_path)
    try:
        for line in SCRIPT.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                t.type(line)
        bot = t.session.bot
        record = bot.changelog.get("CHG-1")
        assert (record.change.shipped_by, record.change.asked, record.answer.answer) == ("U0ELI", "U0FAY", "needs_work")
        assert record.answer.eval_link == "https://evals.example.com/cases/express-refund-window"
        request, events = bot.queries.status("AIR-1", "U0GUS")
        assert (request.source, request.requester, request.owner, request.status) == (
            "hook",
            "monitoring",
            "U0FAY",
            "resolved",
        )
        resolution = next(e for e in events if e.data.get("status") == "resolved")
        assert resolution.data["cause"] == "change:CHG-1"
        assert resolution.data["eval_case"] == "https://evals.example.com/cases/express-refund-window"
    finally:
        t.session.close()


@pytest.fixture
def typist(tmp_path: Path) -> Iterator[Typist]:
    t = open_typist(tmp_path)
    yield t
    t.session.close()


def test_hook_reads_a_body_from_a_file_and_names_the_source(typist: Typist) -> None:
    shown = typist.type(
        f"/hook deploys regressions?format=alertmanager&domain=search @{SAMPLES / 'alertmanager-firing.json'}"
    )
    assert "↪ POST /hooks/regressions?format=alertmanager&domain=search as deploys: 201" in shown
    assert typist.request("AIR-2").requester == "deploys"
    assert "⚠️" in typist.type("/hook regressions @/no/such/file.json")
    refused = typist.type('/hook regressions {"id": "x"}')
    assert ": 400 " in refused and '"field": "title"' in refused


def test_shipped_and_a_change_question_answered_from_the_console(typist: Typist) -> None:
    typist.type("/as fay")
    shown = typist.type("/shipped platform: prompt: refund answer v8")
    assert "Logged CHG-1" in shown and "@eli Platform shipped refund answer v8 (prompt)" in shown
    typist.type("/as eli")
    shown = typist.type("/click change.not_relevant CHG-1")
    assert "form “Not relevant: CHG-1” opens for @eli" in shown
    shown = typist.type('/submit reason="the intents are unchanged"')
    assert "answered: not relevant: the intents are unchanged" in shown and "thread of CHG-1" in shown


def test_duplicate_of_is_picked_from_the_console(typist: Typist) -> None:
    typist.type("/ai-request regression: refund bot quotes the wrong refund window")
    shown = typist.type("/ai-request regression: the refund window the bot quotes is wrong")
    assert "Possibly the same as" in shown and "Duplicate of… ▾]" in shown
    typist.type("/click request.duplicate AIR-2 AIR-1")
    assert typist.request("AIR-2").status == "declined"


if __name__ == "__main__":
    rewrite_block(PAGE, STORY_BLOCK, SCRIPT)
