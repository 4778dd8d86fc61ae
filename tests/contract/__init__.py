"""The Slack contract the tests hold the bot to: `slack.json` here, and where Slack's full descriptions are.

`slack.json` is our own compact file of facts (methods with their arguments and error codes, event
names and scopes, the app manifest's schema for the sections we use, the Block Kit limits), derived by
`python -m tests.contract.refresh DIR` from Slack's published descriptions. Every test reads it, so a
clone of the repository needs nothing beside it.

Where the full descriptions are present, tests also check against them, and one test fails when
`slack.json` is out of date. They are looked for in `SLACK_API_SPECS` (a path; a relative one is taken
from the repository root), by default `../shared/slack-api-specs`. See docs/testing.md.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_FILE = Path(__file__).with_name("slack.json")
SPECS_VARIABLE = "SLACK_API_SPECS"
DEFAULT_SPECS = "../shared/slack-api-specs"


@functools.cache
def contract() -> dict[str, Any]:
    """The parsed `slack.json` (cached: treat it as read-only)."""
    return json.loads(CONTRACT_FILE.read_text(encoding="utf-8"))


def specs_dir() -> Path | None:
    """The folder of Slack's full API descriptions, or None when it is not there.

    Raises NotADirectoryError when `SLACK_API_SPECS` is set but names no folder: a check that was asked
    for must not be skipped quietly.
    """
    configured = os.environ.get(SPECS_VARIABLE, "").strip()
    path = (ROOT / (configured or DEFAULT_SPECS)).resolve()
    if path.is_dir():
        return path
    if configured:
        raise NotADirectoryError(f"{SPECS_VARIABLE}={configured!r}: {path} is not a folder")
    return None


SPECS = specs_dir()
NO_SPECS = (
    f"Slack's full API descriptions are not at {DEFAULT_SPECS} (set {SPECS_VARIABLE} to their folder): "
    "checked against tests/contract/slack.json only"
)
needs_specs = pytest.mark.skipif(SPECS is None, reason=NO_SPECS)
