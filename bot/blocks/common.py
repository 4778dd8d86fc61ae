"""Small Block Kit builders shared by every renderer. Pure: no I/O."""

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.blocks import ids
from bot.domain.text import ELLIPSIS, escape, escape_within, truncate

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


def button(
    text: str, action_id: str, value: str, *, style: str | None = None, confirm: str | None = None
) -> ButtonElement:
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
    if _SAFE_URL.fullmatch(url):
        return f"<{url.replace('&', '&amp;')}|{escape(label)}>"
    return escape(url)


def quote(text: str, limit: int) -> str:
    """User text as an escaped block quote (">" lines), cut visibly with "…" to fit `limit` characters.

    Blank lines are dropped and every kind of line break counts as one; nothing to show gives "".
    """
    lines = [line for line in text.splitlines() if line.strip()]
    budget = limit - 3  # room kept for a closing ">…" line
    out: list[str] = []
    for line in lines:
        room = budget - sum(len(o) + 1 for o in out) - 1
        if room < 2:
            break
        piece = escape_within(line, room)
        out.append(">" + piece)
        if piece != escape(line):
            return "\n".join(out)
    if len(out) < len(lines):
        out.append(">" + ELLIPSIS)
    return "\n".join(out)


def local(at: datetime, tz: ZoneInfo) -> str:
    """A short local time for people: "Tue 26 Nov 14:00"."""
    return at.astimezone(tz).strftime("%a %d %b %H:%M")


def option(value: str, text: str) -> Option:
    """A select's option, its text cut to Slack's 75 characters."""
    return Option(value=value, text=PlainTextObject(text=truncate(text, 75)))


def static_select(options: list[Option], *, placeholder: str, initial: str | None = None) -> StaticSelectElement:
    """A form's select (at most Slack's 100 options), starting at the option whose value is `initial`."""
    shown = options[:100]
    chosen = next((o for o in shown if o.value == initial), None)
    return StaticSelectElement(action_id=ids.INPUT, placeholder=placeholder, options=shown, initial_option=chosen)


def input_block(
    block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    """A form's input block; its one element's action_id is `ids.INPUT`."""
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional, hint=hint)


def to_dicts(blocks: Sequence[Block | dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks as Slack takes them: models through `to_dict()` (which checks their limits), checked dicts
    (`bot.blocks.checked`) as they are."""
    return [b if isinstance(b, dict) else b.to_dict() for b in blocks]
