#!/usr/bin/env bash
# Regenerates the lock files from pyproject.toml: requirements/run.txt (what the bot runs on) and
# requirements/test.txt (that and the `test` extra), each package pinned with its hashes.
# Needs pip-tools in the Python that runs it (`python -m pip install pip-tools`); it is no dependency of the bot.
# Run it after changing a dependency in pyproject.toml, and commit the two files it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
compile() {
    python -m piptools compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
        --no-emit-find-links --resolver=backtracking --newline=lf "$@" pyproject.toml
}
compile --output-file requirements/run.txt
compile --extra test --output-file requirements/test.txt
