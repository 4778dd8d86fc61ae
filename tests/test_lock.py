"""The lock files: every package the bot and the tests install is pinned with its hashes, the pins satisfy
pyproject.toml, and the image, CI and the documented install lines all install from them."""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
TESTS_LINE = (
    "python -m pip install --require-hashes -r requirements/test.txt && python -m pip install --no-deps -e . "
    "&& python -m pytest -n 3 --dist worksteal"
)
BOT_LINE = (
    "python -m pip install --require-hashes -r requirements/run.txt && python -m pip install --no-deps . "
    "&& ai-intake console"
)


def locked(name: str) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, hashes)} of requirements/`name`."""
    text = (ROOT / "requirements" / name).read_text().replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, *options = line.split()
        package, _, version = requirement.partition("==")
        assert version, f"{name}: {requirement} is not pinned to one version"
        pins[canonicalize_name(package)] = (
            version,
            [o.removeprefix("--hash=") for o in options if o.startswith("--hash=")],
        )
    return pins


def declared(*, extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in (project["optional-dependencies"][extra] if extra else project["dependencies"])]


def test_every_pin_carries_hashes() -> None:
    for name in ("run.txt", "test.txt"):
        pins = locked(name)
        assert pins, name
        for package, (_, hashes) in pins.items():
            assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), (name, package)


def test_the_locks_pin_what_pyproject_asks_for() -> None:
    run, test = locked("run.txt"), locked("test.txt")
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in run and requirement.specifier.contains(run[name][0]), (str(requirement), run.get(name))
        assert test.get(name) == run[name], name  # the tests run on the very versions the bot runs on
    for requirement in declared(extra="test"):
        name = canonicalize_name(requirement.name)
        assert name in test and requirement.specifier.contains(test[name][0]), (str(requirement), test.get(name))
    assert set(run) <= set(test)


def test_the_locks_are_made_by_the_script_beside_them() -> None:
    script = (ROOT / "requirements" / "lock.sh").read_text()
    assert "--generate-hashes" in script and "requirements/run.txt" in script and "requirements/test.txt" in script
    for name in ("run.txt", "test.txt"):
        assert "pip-compile" in (ROOT / "requirements" / name).read_text().split("\n\n", 1)[0]


def test_ci_and_the_docs_install_from_the_locks() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.splitlines()[1].startswith("# CI: ") and TESTS_LINE in ci
    guide = (ROOT / "docs" / "deploying.md").read_text()
    assert TESTS_LINE in guide and BOT_LINE in guide
