"""Layers: the domain imports nothing but the standard library, pydantic and itself, does no I/O and never
reads the clock; no SQL text above storage/; every module says in its first line what it is for."""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "bot" / "domain"
IO_MODULES = {
    "os",
    "sys",
    "io",
    "socket",
    "sqlite3",
    "subprocess",
    "threading",
    "logging",
    "pathlib",
    "shutil",
    "tempfile",
    "time",
    "random",
    "urllib",
    "http",
    "asyncio",
    "signal",
    "select",
    "selectors",
    "multiprocessing",
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(
                a.name.split(".")[0] if not a.name.startswith("bot.domain") else "bot.domain" for a in node.names
            )
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
        calls = {
            node.func.id
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"open", "print", "input", "exec", "eval", "__import__"}, (path.name, calls)


def test_domain_never_reads_the_clock() -> None:
    for path in DOMAIN.rglob("*.py"):
        text = path.read_text()
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            assert call not in text, (path.name, call)


BOT = ROOT / "bot"
SQL = re.compile(
    r"\b(?:SELECT|INSERT|UPDATE|DELETE|FROM|WHERE|JOIN|ORDER BY|GROUP BY|LIMIT|ASC|DESC|IS (?:NOT )?NULL|PRAGMA)\b|\bIN \(|[=<>]\s*\?"
)


def string_constants(path: Path) -> list[str]:
    """Every string literal in the module, f-string pieces included."""
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_sql_text_above_storage() -> None:
    """Queries are store methods named for what they find; nothing in bot/ writes SQL."""
    found = [
        (path.relative_to(BOT).as_posix(), text[:80])
        for path in sorted(BOT.rglob("*.py"))
        for text in string_constants(path)
        if SQL.search(text)
    ]
    assert found == []


def test_every_module_says_what_it_is_for() -> None:
    """Its docstring's first line: a newcomer reads that before the code."""
    for path in sorted([*BOT.rglob("*.py"), *(ROOT / "storage").rglob("*.py")]):
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert docstring and docstring.splitlines()[0].strip(), path.relative_to(ROOT).as_posix()


STORAGE = ROOT / "storage"


def storage_imports(path: Path) -> tuple[set[str], set[str]]:
    """The storage modules `path` imports at its top, and those it imports inside a function or a method."""
    tree = ast.parse(path.read_text())
    top: set[str] = set()
    inner: set[str] = set()
    nested = {
        id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("storage."):
            (inner if id(node) in nested else top).add(node.module.removeprefix("storage."))
    return top, inner


def test_storage_has_no_import_cycle_and_no_lazy_import() -> None:
    """Each storage module imports the ones it builds on at its top, and none of them imports it back: the rows'
    helpers live in storage/rows.py, not in store.py."""
    graph = {}
    for path in sorted(STORAGE.glob("*.py")):
        top, inner = storage_imports(path)
        assert inner == set(), (path.name, inner)
        graph[path.stem] = top
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join([*trail, module])
        if module not in done:
            for other in graph.get(module, ()):
                visit(other, (*trail, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def project_imports(path: Path) -> set[str]:
    """The modules of bot/ and storage/ that `path` imports, at its top or inside a function (`from bot.x import y`
    counts `bot.x.y` when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("bot", "storage"):
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] in ("bot", "storage")]
        found.update(n for n in names if (ROOT / (n.replace(".", "/") + ".py")).exists())
    return found


def test_the_project_has_no_import_cycle() -> None:
    """No module of bot/ or storage/ imports, at any depth, one that imports it back (a lazy import counts too)."""
    graph = {
        path.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."): project_imports(path)
        for path in sorted([*BOT.rglob("*.py"), *STORAGE.glob("*.py")])
        if path.name != "__init__.py"
    }
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, " -> ".join([*trail, module])
        if module not in done:
            for other in sorted(graph.get(module, ())):
                visit(other, (*trail, module))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_storage_modules_and_rooms_stay_small() -> None:
    """No storage module over 500 lines and no storage class with more than 40 public methods: `Tx` hands the
    outbox, people, nags, the change log … to rooms of their own (`tx.outbox`, `tx.people` …)."""
    import importlib
    import inspect

    for path in sorted(STORAGE.glob("*.py")):
        assert len(path.read_text().splitlines()) <= 500, path.name
        module = importlib.import_module(f"storage.{path.stem}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                public = [
                    n
                    for n, v in vars(cls).items()  # what the class itself defines, not what it inherits
                    if not n.startswith("_") and (inspect.isfunction(v) or isinstance(v, property))
                ]
                assert len(public) <= 40, (path.name, name, len(public))


SLACK_MARKUP = re.compile(r"<[@#]|(?<!\(\?)<!|:[a-z][a-z0-9_+-]*:")
"""A mention (`<@U1>`), a channel link (`<#C1>`), a special mention (`<!here>`) or an emoji (`:scissors:`); the
negative lookbehind of a regular expression, `(?<!…)`, is none of them."""


def refusal_names() -> set[str]:
    """The errors of bot/domain/errors.py: each carries the sentence shown to whoever caused it (its refusal)."""
    import inspect

    from bot.domain import errors

    return {name for name, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, Exception)}


def slack_text_built(path: Path, refusals: set[str]) -> list[tuple[int, str]]:
    """The string literals (f-string parts included) of the module holding Slack markup, but for docstrings, the
    arguments of a refusal (`raise Conflict(f"… <@{by}> …")`), regular expressions (which read Slack text) and log
    lines (read by operators, not sent to Slack)."""
    tree = ast.parse(path.read_text())
    left_out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            left_out.add(id(node.value))  # a docstring
        elif isinstance(node, ast.Call):
            func = node.func
            refusal = isinstance(func, ast.Name) and func.id in refusals
            regex = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "re"
            logged = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "log"
            if refusal or regex or logged:
                left_out.update(id(n) for n in ast.walk(node))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in left_out
        and SLACK_MARKUP.search(node.value)
    ]


def test_the_domain_builds_no_slack_text() -> None:
    """Every sentence people read is bot/blocks/'s: the domain returns facts and intents. A refusal carries its
    sentence (bot/domain/errors.py), and may name people as mentions."""
    refusals = refusal_names()
    found = {
        path.relative_to(DOMAIN).as_posix(): built
        for path in sorted(DOMAIN.rglob("*.py"))
        if (built := slack_text_built(path, refusals))
    }
    assert found == {}


def test_the_listeners_use_cases_outbox_and_entry_points_build_no_slack_text() -> None:
    """Outside the domain too, a message's sentence is bot/blocks/'s (the listeners' notices are in
    blocks/notices.py): only a refusal carries its own."""
    refusals = refusal_names()
    found = {
        path.relative_to(BOT).as_posix(): built
        for layer in ("listeners", "usecases", "outbox", "entry")
        for path in sorted((BOT / layer).glob("*.py"))
        if (built := slack_text_built(path, refusals))
    }
    assert found == {}


def test_the_slack_markup_check_sees_what_it_looks_for(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text(
        '"""A docstring may say <@U1>."""\n'
        "import re\n"
        "from bot.domain.errors import Conflict\n"
        'MENTION = re.compile(r"^<@(U[A-Z0-9]+)>$|(?<![a-z])")\n'
        "def line(user, channel):\n"
        '    if not user:\n        raise Conflict(f"<@{user}> acted first.")\n'
        '    return f"<@{user}> filed it in <#{channel}> :ticket:", "<!here>", "(?<!x)"\n'
    )
    assert sorted(text for _, text in slack_text_built(module, refusal_names())) == [
        "<!here>",
        "<@",
        "> :ticket:",
        "> filed it in <#",
    ]
