"""Layers: the domain imports nothing but the standard library, pydantic and itself, and never reads the
clock; no SQL text above storage/."""

import ast
import re
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


BOT = DOMAIN.parent
SQL = re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|JOIN|ORDER BY|GROUP BY|LIMIT|ASC|DESC|IS (?:NOT )?NULL|PRAGMA)\b|\bIN \(|[=<>]\s*\?")


def string_constants(path: Path) -> list[str]:
    """Every string literal in the module, f-string pieces included."""
    return [node.value for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_no_sql_text_above_storage() -> None:
    """Queries are store methods named for what they find; nothing in bot/ writes SQL."""
    found = [(path.relative_to(BOT).as_posix(), text[:80]) for path in sorted(BOT.rglob("*.py"))
             for text in string_constants(path) if SQL.search(text)]
    assert found == []
