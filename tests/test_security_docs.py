"""docs/security.md covers confidentiality, logging, whom the bot listens to, the limits and the proxy."""

from bot.logs import WITHHELD
from bot.server import CONNECTION_LIMIT, IDLE_TIMEOUT_SECONDS
from tests.test_docs import DOCS


def security_section() -> str:
    return (DOCS / "security.md").read_text()


def test_the_security_page_has_every_part() -> None:
    section = security_section()
    for heading in ("## What is confidential, and where it shows", "## What is logged", "## Whom the bot listens to",
                    "## Limits in HTTP mode", "## Run it behind a reverse proxy"):
        assert heading in section, heading
    assert f"`{WITHHELD}`" in section and "`[redacted]`" in section
    assert f"| open connections | {CONNECTION_LIMIT} " in section and f"after {IDLE_TIMEOUT_SECONDS} s" in section
    assert "shares messages, not authority" in section
