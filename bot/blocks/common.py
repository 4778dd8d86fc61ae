"""Small Block Kit builders shared by every renderer. Pure: no I/O."""

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.domain.text import escape, escape_within, truncate

SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")


def section(text: str | None, *, block_id: str | None = None, fields: list[str] | None = None) -> SectionBlock:
    """A mrkdwn section; `text` must already be escaped where it holds user text."""
    return SectionBlock(
        text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)) if text else None,
        block_id=block_id,
        fields=[MarkdownTextObject(text=truncate(f, 2000)) for f in fields] if fields else None,
    )


def context(*parts: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(p, 3000)) for p in parts[:10] if p])


def button(text: str, action_id: str, value: str, *, style: str | None = None, confirm: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=truncate(text, BUTTON_TEXT_LIMIT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
        confirm=ConfirmObject(title="Are you sure?", text=confirm, confirm="Yes", deny="Cancel") if confirm else None,
    )


def user(user_id: str | None, *, none: str = "nobody") -> str:
    """A user mention (ids come from Slack or the config, never from free text)."""
    return f"<@{user_id}>" if user_id else f"_{none}_"


def link(url: str, label: str) -> str:
    """A mrkdwn link when `url` is a plain http(s) URL; otherwise the escaped text of it."""
    if _SAFE_URL.match(url):
        return f"<{url.replace('&', '&amp;')}|{escape(label)}>"
    return escape(url)


def quote(text: str, limit: int) -> str:
    """User text as an escaped block quote, cut visibly to fit `limit`."""
    body = escape_within(text, limit - 2 * max(text.count("\n"), 1) - 2)
    return "\n".join(f">{line}" for line in body.splitlines()) if body else ""


def local(at: datetime, tz: ZoneInfo) -> str:
    """A short local time for people: "Tue 26 Nov 14:00"."""
    return at.astimezone(tz).strftime("%a %d %b %H:%M")


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]
