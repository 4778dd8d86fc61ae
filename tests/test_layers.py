"""The domain imports nothing but the standard library, pydantic and itself, and never reads the clock."""

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[1] / "bot" / "domain"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] if not a.name.startswith("bot.domain") else "bot.domain" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add("bot.domain" if node.module.startswith("bot.domain") else node.module.split(".")[0])
    return names


def test_domain_imports_only_stdlib_pydantic_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"pydantic", "bot.domain", "__future__"}
    for path in DOMAIN.glob("*.py"):
        assert imported_roots(path) <= allowed, (path.name, imported_roots(path) - allowed)


def test_domain_never_reads_the_clock() -> None:
    for path in DOMAIN.glob("*.py"):
        text = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            assert call not in text, (path.name, call)
