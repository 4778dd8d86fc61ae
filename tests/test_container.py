"""The container files, checked without a container engine: the Dockerfile runs the package's console
script as a non-root user with the database on a volume, its health check probes the real /healthz,
and compose.yaml sets every variable the settings read."""

import ast
import fnmatch
import json
import socket
import subprocess
import sys
import threading
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from bot.entry.cli import build_parser
from bot.entry.server import HEALTH_PATH, make_server
from bot.runtime.settings import load_settings
from tests.harness import Harness, close_server, serve_until_closed
from tests.stories import writer_held

ROOT = Path(__file__).resolve().parents[1]


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, args = pending.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def instruction(keyword: str) -> str:
    """The arguments of the last `keyword` instruction (the one in force)."""
    found = [args for kw, args in dockerfile() if kw == keyword]
    assert found, f"the Dockerfile has no {keyword}"
    return found[-1]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in dockerfile():
        if keyword == "ENV":
            for pair in args.split():
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def compose_services() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]


def compose_service() -> dict[str, Any]:
    """The bot's service: one process does everything (the only other service is the optional replica)."""
    services = compose_services()
    assert set(services) == {"ai-intake", "litestream"}, set(services)
    return services["ai-intake"]


def variables_the_settings_read() -> set[str]:
    """Every name `load_settings` looks up in its environment, read from its source (not a copy of the list)."""
    tree = ast.parse(Path(sys.modules[load_settings.__module__].__file__).read_text())
    function = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "load_settings")
    names = set()
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            key = node.args[0]
        elif isinstance(node, ast.Subscript):
            key = node.slice
        else:
            continue
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_the_settings_reading_is_found() -> None:
    assert {"SLACK_BOT_TOKEN", "AI_INTAKE_DB", "AI_INTAKE_CONFIG", "PORT"} <= variables_the_settings_read()


def test_the_entry_point_is_the_console_script_running_the_bot() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(instruction("ENTRYPOINT")) == [next(iter(scripts))] == ["ai-intake"]
    assert json.loads(instruction("CMD")) == ["run"]
    assert build_parser().parse_args(["run"]).handler.__name__ == "cmd_run"


def base_image() -> str:
    """The image the Dockerfile builds on: its FROM, with a build argument's default put in."""
    base = instruction("FROM")
    for keyword, args in dockerfile():
        if keyword == "ARG" and "=" in args:
            name, _, default = args.partition("=")
            base = base.replace("${%s}" % name, default)
    return base


def test_the_image_installs_the_locked_packages_under_a_python_it_supports() -> None:
    base = base_image()
    tag, _, digest = base.partition("@")
    assert tag.startswith("python:") and tag.endswith("-slim"), base
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64, (
        base
    )  # pinned by digest, not a moving tag
    version = tuple(int(p) for p in tag.removeprefix("python:").removesuffix("-slim").split("."))
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required.startswith(">=") and version >= tuple(int(p) for p in required[2:].split("."))
    runs = [args for kw, args in dockerfile() if kw == "RUN"]
    assert any("pip install --require-hashes -r requirements/run.txt" in args for args in runs)
    assert any("pip install --no-deps ." in args for args in runs)  # the package adds nothing unlocked
    assert not any("pip install ." in args or "-e ." in args for args in runs)


def test_it_runs_as_a_user_that_is_not_root() -> None:
    user = instruction("USER")
    assert user not in ("root", "0") and not user.startswith("0:")
    assert any(kw == "RUN" and "useradd" in args and user in args for kw, args in dockerfile())


def test_the_database_is_on_the_volume_and_the_paths_match_the_settings() -> None:
    env = image_env()
    settings = load_settings(env)
    volumes = json.loads(instruction("VOLUME"))
    assert any(PurePosixPath(settings.db_path).is_relative_to(v) for v in volumes), (settings.db_path, volumes)
    assert not any(
        PurePosixPath(settings.config_path).is_relative_to(v) for v in volumes
    )  # the config is mounted, not kept
    assert str(settings.port) in instruction("EXPOSE").split()
    assert settings.host == "0.0.0.0"  # reachable from outside the container
    assert any(
        kw == "RUN" and f"chown {instruction('USER')}" in args and volumes[0] in args for kw, args in dockerfile()
    )


def test_the_build_context_holds_what_the_image_copies_and_no_database() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        verdict = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            pattern = pattern.removeprefix("!").removeprefix("**/")
            if (
                fnmatch.fnmatch(path, pattern)
                or fnmatch.fnmatch(PurePosixPath(path).name, pattern)
                or path.startswith(pattern + "/")
            ):
                verdict = not negate
        return verdict

    copied = [src for kw, args in dockerfile() if kw == "COPY" for src in args.split()[:-1]]
    assert copied and not any(ignored(src) for src in copied), copied
    assert {"bot", "storage", "pyproject.toml"} <= set(copied)
    assert ignored("ai-intake.db") and ignored("bot/x.db-wal") and ignored(".env") and ignored("tests")


def test_compose_sets_every_variable_the_settings_read() -> None:
    environment = compose_service()["environment"]
    assert set(environment) >= variables_the_settings_read(), variables_the_settings_read() - set(environment)


def test_compose_mounts_the_volume_and_the_config_where_the_settings_point() -> None:
    service = compose_service()
    environment = {k: str(v) for k, v in service["environment"].items() if "${" not in str(v)}
    settings = load_settings(environment)
    mounts = {m.split(":")[1]: m.split(":")[0] for m in service["volumes"]}
    data = PurePosixPath(settings.db_path).parent
    assert str(data) in mounts and mounts[str(data)] in yaml.safe_load((ROOT / "compose.yaml").read_text())["volumes"]
    assert str(settings.config_path) in mounts
    assert (
        settings.db_path == load_settings(image_env()).db_path
        and settings.config_path == load_settings(image_env()).config_path
    )
    assert f"127.0.0.1:{settings.port}:{settings.port}" in service["ports"]  # this host only, by default
    assert service["build"] == "." and (ROOT / "Dockerfile").is_file()


def test_compose_takes_the_secrets_from_the_environment_or_files() -> None:
    environment = compose_service()["environment"]
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        for variable in (name, f"{name}_FILE"):
            assert str(environment[variable]) == "${%s:-}" % variable, variable  # never a value written in the file


def test_compose_stops_the_bot_within_its_grace() -> None:
    from bot.entry.run import SHUTDOWN_SECONDS

    grace = compose_service()["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > SHUTDOWN_SECONDS


# -- the health check, run as the container would run it -------------------------------------------
def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    args = instruction("HEALTHCHECK")
    command = json.loads(args[args.index("CMD") + len("CMD") :].strip())
    assert command[:2] == ["python", "-c"] and HEALTH_PATH in command[2]
    return subprocess.run(
        [sys.executable, *command[1:]], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=30
    )


def test_the_health_check_passes_on_a_healthy_bot(harness: Harness) -> None:
    port = harness.url.rsplit(":", 1)[1]
    assert healthcheck({"PORT": port}).returncode == 0


def test_the_health_check_fails_when_healthz_says_503(harness: Harness) -> None:
    with writer_held(harness):  # a unit of work that never ends: the writer is wedged, and only a restart helps
        done = healthcheck({"PORT": harness.url.rsplit(":", 1)[1]})
    assert done.returncode != 0 and "503" in done.stderr


def test_the_health_check_passes_while_the_bot_is_alive_but_not_ready(harness: Harness) -> None:
    server = make_server(harness.bot, host="127.0.0.1", port=0, scheduler_running=lambda: False)
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    try:
        done = healthcheck({"PORT": str(server.effective_port)})
    finally:
        close_server(server, thread)
    assert done.returncode == 0  # a stopped scheduler makes /readyz 503, not /healthz: no restart loop


def test_the_health_check_fails_when_nothing_listens() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert healthcheck({"PORT": str(port)}).returncode != 0


# -- the documentation -------------------------------------------------------------------------------
def test_the_readme_shows_docker_compose_up_as_the_third_way_in() -> None:
    from tests.test_docs import CONSOLE_COMMAND, TEST_COMMAND

    readme = (ROOT / "README.md").read_text()
    console = readme.index(f"    {CONSOLE_COMMAND}\n")
    tests = readme.index(f"    {TEST_COMMAND}\n")
    assert console < tests < readme.index("    docker compose up")
    assert "(docs/deploying.md)" in readme


def test_the_deployment_guide_names_the_service_and_paths_of_the_files() -> None:
    guide = (ROOT / "docs" / "deploying.md").read_text()
    name = "ai-intake"
    for command in ("run --rm", "stop", "start", "exec -T"):
        assert f"docker compose {command} {name}" in guide, command
    env = image_env()
    assert env["AI_INTAKE_DB"] in guide and env["AI_INTAKE_CONFIG"] in guide
    for command in ("backup", "restore", "config check", "run"):
        assert f"ai-intake {command}" in guide, command


def test_the_replica_service_follows_the_bots_database_when_asked() -> None:
    replica, bot = compose_services()["litestream"], compose_service()
    assert replica["profiles"] == ["replica"]  # off unless `--profile replica`
    assert replica["image"].startswith("litestream/litestream:0.5")
    uid = next(args for kw, args in dockerfile() if kw == "RUN" and "useradd" in args).split("--uid ")[1].split()[0]
    assert replica["user"] == f"{uid}:{uid}"  # writes the -wal and -shm files as the bot's user
    assert replica["environment"]["AI_INTAKE_DB"] == bot["environment"]["AI_INTAKE_DB"]
    data = next(m for m in bot["volumes"] if m.endswith(":/data"))
    assert data in replica["volumes"] and "./litestream.yml:/etc/litestream.yml:ro" in replica["volumes"]
    config = yaml.safe_load((ROOT / "litestream.yml").read_text())
    assert (
        config["dbs"][0]["path"] == "${AI_INTAKE_DB}"
        and config["dbs"][0]["replica"]["url"] == "${LITESTREAM_REPLICA_URL}"
    )
