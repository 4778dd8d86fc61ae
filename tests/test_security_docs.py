"""docs/security.md covers what it must: confidentiality, logging, the door, failures, keys, limits, the proxy."""

from bot.runtime.logs import WITHHELD
from bot.entry.server import CONNECTION_LIMIT, IDLE_TIMEOUT_SECONDS, REQUEST_DEADLINE_SECONDS
from storage.health import MIN_FREE_BYTES
from tests.test_docs import ROOT

SECURITY = (ROOT / "docs" / "security.md").read_text()


def test_the_security_page_has_every_part() -> None:
    for heading in (
        "## What is confidential, and where it shows",
        "## What is logged",
        "## Whom the bot listens to",
        "## When nothing can be saved",
        "## When Slack cannot be reached",
        "## No key is ever given twice",
        "## Limits in HTTP mode",
        "## Run it behind a reverse proxy",
    ):
        assert heading in SECURITY, heading
    assert f"`{WITHHELD}`" in SECURITY and "`[redacted]`" in SECURITY
    assert f"| open connections | {CONNECTION_LIMIT} " in SECURITY and f"after {IDLE_TIMEOUT_SECONDS} s" in SECURITY
    assert f"{REQUEST_DEADLINE_SECONDS} s after its first byte" in SECURITY
    assert f"less than {MIN_FREE_BYTES // 2**20} MiB of room" in SECURITY
    assert "shares messages, not authority" in SECURITY


def test_each_point_names_the_test_that_holds_it() -> None:
    for test in (
        "test_confidentiality.py",
        "test_confidential_moves.py",
        "test_malformed_payloads.py",
        "test_save_failures.py",
        "test_slack_outage.py",
        "test_keys_never_reused.py",
        "test_connections.py",
    ):
        assert f"tests/{test}" in SECURITY, test
        assert (ROOT / "tests" / test).exists(), test
