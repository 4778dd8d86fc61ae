"""docs/changes.md cannot drift from the code: its format table, its example bodies and its curl recipe."""

import os
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.domain.changes import KINDS, SIDE_KINDS
from bot.hooks import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    SOURCE_HEADER,
    TIMESTAMP_HEADER,
    HookVerifier,
    format_names,
    format_table,
    parse_changes,
    parse_regressions,
)

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "changes.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOCS, re.DOTALL)


def test_the_format_table_is_the_codes() -> None:
    assert format_table() in DOCS
    for name in format_names():
        assert name == "native" or f"`{name}`" in DOCS


def test_the_example_bodies_are_accepted() -> None:
    regression, change = (b.encode() for b in blocks("json"))
    [filed] = parse_regressions(regression, source="monitoring").items
    [logged] = parse_changes(change, source="deploys").items
    assert (filed.id, filed.domain, filed.asset) == ("refund-accuracy-2026-11-25", "support", "refund-intent")
    assert (logged.side, logged.kind, logged.asset) == ("product", "intent", "refund-intent")


def test_the_docs_name_every_kind_and_the_size_limit() -> None:
    for side, kinds in SIDE_KINDS.items():
        assert f"| {side} | " + ", ".join(f"`{k}`" for k in kinds) + " |" in DOCS
    assert len(KINDS) == 9 and f"{MAX_BODY_BYTES:,} bytes" in DOCS


@pytest.mark.skipif(not (shutil.which("bash") and shutil.which("openssl")), reason="needs bash and openssl")
def test_the_curl_recipe_signs_as_the_hooks_verify() -> None:
    [recipe] = blocks("sh")
    for header in (SOURCE_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER):
        assert f'-H "{header}: ' in recipe
    setup = recipe.split("curl ")[0]  # everything before the request itself: nothing is sent
    script = setup + 'printf "%s\\n%s\\n%s" "$TS" "$SIG" "$BODY"'
    env = {"PATH": os.environ["PATH"], "MONITORING_HOOK_SECRET": "s3cret-monitoring"}
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True, timeout=30).stdout
    timestamp, signature, body = out.split("\n", 2)
    at = datetime.fromtimestamp(int(timestamp), timezone.utc)
    verifier = HookVerifier({"monitoring": "s3cret-monitoring"}, clock=lambda: at)
    headers = {SOURCE_HEADER: "monitoring", TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
    assert verifier.verify(headers, body.encode()) == "monitoring"
    assert (
        parse_regressions(body.encode(), source="monitoring").items[0].title == "Refund answers quote a 30-day window"
    )
