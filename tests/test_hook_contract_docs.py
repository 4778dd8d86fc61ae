"""The README shows the hooks' contract with the same curl recipe as docs/changes.md (whose recipe
tests/test_hook_docs.py runs), and names the hooks' endpoints and answers."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def test_the_readme_curl_recipe_is_the_docs_one() -> None:
    readme = (ROOT / "README.md").read_text()
    docs = (ROOT / "docs" / "changes.md").read_text()
    assert sh_blocks(readme) == sh_blocks(docs) and len(sh_blocks(docs)) == 1
    section = readme.split("## The change log and the hooks", 1)[1].split("\n## ", 1)[0]
    for said in ("POST /hooks/regressions", "POST /hooks/changes", "201", "200", "401", "400", "413", "404", "?format="):
        assert said in section, said
