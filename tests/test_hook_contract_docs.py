"""docs/changes.md gives the hooks' contract: one curl recipe (tests/test_hook_docs.py runs it), the endpoints and
every answer; the README points to it."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def test_the_change_log_page_gives_the_hooks_contract() -> None:
    docs = (ROOT / "docs" / "changes.md").read_text()
    assert len(sh_blocks(docs)) == 1
    section = docs.split("## Hooks: machines file regressions and log changes", 1)[1].split("\n## ", 1)[0]
    for said in (
        "POST /hooks/regressions",
        "POST /hooks/changes",
        "201",
        "200",
        "401",
        "400",
        "413",
        "404",
        "?format=",
    ):
        assert said in section, said
    assert "(docs/changes.md" in (ROOT / "README.md").read_text()
