"""Layers: the domain imports nothing but the standard library, pydantic and itself, does no I/O and never
reads the clock; no SQL text above storage/; every module says in its first line what it is for."""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "bot" / "domain"
IO_MODULES = {"os", "sys", "io", "socket", "sqlite3", "subprocess", "threading", "logging", "pathlib", "shutil", "tempfile",
              "time", "random", "urllib", "http", "asyncio", "signal", "select", "selectors", "multiprocessing"}


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
    for path in DOMAIN.rglob("*.py"):
        assert imported_roots(path) <= allowed, (path.name, imported_roots(path) - allowed)


def test_domain_does_no_io() -> None:
    """No files, sockets, processes, threads, logs or randomness: the domain computes from what it is given."""
    for path in DOMAIN.rglob("*.py"):
        assert not imported_roots(path) & IO_MODULES, (path.name, imported_roots(path) & IO_MODULES)
        calls = {node.func.id for node in ast.walk(ast.parse(path.read_text()))
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        assert not calls & {"open", "print", "input", "exec", "eval", "__import__"}, (path.name, calls)


def test_domain_never_reads_the_clock() -> None:
    for path in DOMAIN.rglob("*.py"):
        text = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            assert call not in text, (path.name, call)


BOT = ROOT / "bot"
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


def test_every_module_says_what_it_is_for() -> None:
    """Its docstring's first line: a newcomer reads that before the code."""
    for path in sorted([*BOT.rglob("*.py"), *(ROOT / "storage").rglob("*.py")]):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring and docstring.splitlines()[0].strip(), path.relative_to(ROOT).as_posix()
