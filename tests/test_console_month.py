"""A month of a team, in the console: tests/console_month.txt, whose transcript docs/a-month.md shows and this
test keeps so (`python -m tests.test_console_month` rewrites it after a deliberate change of wording).

It walks issue 8's month through the real app: an unowned regression put to both owners in one thread message
and handed by the lead to one of them, who holds the ball; a question that closes as no answer and is reopened
with one click; a confidential review left to stall while its requester keeps asking, snoozed twice; and the
weekly digests, public and private, telling the truth about it.
"""

import contextlib
import io
import os
import re
from pathlib import Path

from bot.entry.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "console_month.txt"
PAGE = ROOT / "docs" / "a-month.md"
BLOCK = re.compile(r"(```text\n)(.*?)(```)", re.DOTALL)


def transcript() -> str:
    for name in ("AI_INTAKE_DB", "AI_INTAKE_CONFIG"):
        os.environ.pop(name, None)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["console", "--script", str(SCRIPT)]) == 0
    return out.getvalue()


def test_the_page_shows_what_the_month_script_prints(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    printed = transcript()
    assert printed == BLOCK.search(PAGE.read_text()).group(2), (
        "the bot says something else now: `python -m tests.test_console_month` rewrites docs/a-month.md"
    )
    boxes = printed.split("┌ ")
    asked = [b for b in boxes if b.startswith("#support › thread of AIR-1") and "@eli or @fay, take ownership" in b]
    assert len(asked) == 1, "one message in the card's thread puts it to both owners"
    assert "│ @hal handed this to @eli, who owns it now." in printed
    assert "Assignee: @eli · Domain: support · Ball in court: the assignee" in printed
    assert "Status: 💤 Closed: no answer" in printed and "│ @ana reopened this." in printed
    assert "ball with @dana, silent for 7 days; @ana asked for an update 3 days ago" in printed
    assert (
        printed.count("│ @dana snoozed reminders until") == 1 and "AIR-2 is snoozed until Sat 5 Dec 10:00." in printed
    )
    public = [b for b in boxes if b.startswith(("#support ·", "#ai-digest ·")) and "Weekly digest" in b]
    assert public and all("vendor LLM" not in b for b in public)
    assert any("1 confidential security review stalled over 7 days, oldest 25 days" in b for b in public)
    private = [b for b in boxes if b.startswith(("#support-review ·", "#ai-leads ·")) and "Private digest" in b]
    assert any(
        "AIR-2 · vendor LLM reads refund emails · Security review · 25 days open · ball with security (@dana)" in b
        for b in private
    )


def test_the_readme_links_the_month() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/a-month.md)" in readme and "tests/console_month.txt" in readme


def rewrite_page() -> None:
    """Put the script's transcript into docs/a-month.md, after a change to what the bot says."""
    page = PAGE.read_text()
    PAGE.write_text(BLOCK.sub(lambda m: m.group(1) + transcript() + m.group(3), page, count=1))


if __name__ == "__main__":
    rewrite_page()
