"""Block Kit as plain dicts, checked against Slack's limits as slack_sdk's models check them. Pure: no I/O.

For the few blocks of an answer on the path to the ack (the command's "Filed AIR-12 → #support"),
where building and validating slack_sdk's models costs more than the rest of the rendering. Each
builder gives exactly the dict the model of the same name in `bot.blocks.common` gives (`to_dict()`),
text cut the same way, and raises `SlackObjectFormationError`, as `to_dict()` does, for what Slack
would refuse: a test compares the two over any text.
"""

from typing import Any

from slack_sdk.errors import SlackObjectFormationError

from bot.domain.text import truncate

SECTION_LIMIT = 3000
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT_LIMIT = 3000
ACTIONS_ELEMENTS = 25
BLOCK_ID_LIMIT = 255
BUTTON_TEXT_LIMIT = 75
ACTION_ID_LIMIT = 255
VALUE_LIMIT = 2000
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
CONFIRM_BUTTON_LIMIT = 30
STYLES = ("primary", "danger")
"""Slack's limits, as slack_sdk's models (`SectionBlock`, `ButtonElement`, `ConfirmObject` …) validate them."""

Dict = dict[str, Any]


def within(value: str, limit: int, what: str) -> str:
    """`value` when it is at most `limit` characters, else `SlackObjectFormationError` naming `what`."""
    if len(value) > limit:
        raise SlackObjectFormationError(f"{what} cannot exceed {limit} characters")
    return value


def mrkdwn(text: str) -> Dict:
    return {"type": "mrkdwn", "text": text}


def plain(text: str) -> Dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, *, block_id: str | None = None) -> Dict:
    """A mrkdwn section (cut at `SECTION_LIMIT`); `text` must already be escaped where it holds user text."""
    if not text:
        raise SlackObjectFormationError("a section needs text")
    block: Dict = {"type": "section", "text": mrkdwn(truncate(text, SECTION_LIMIT))}
    if block_id is not None:
        block["block_id"] = within(block_id, BLOCK_ID_LIMIT, "block_id")
    return block


def context(*parts: str) -> Dict:
    """A context block of mrkdwn parts (empty ones left out; at most `CONTEXT_ELEMENTS`, each cut at 3,000)."""
    return {
        "type": "context",
        "elements": [mrkdwn(truncate(p, CONTEXT_TEXT_LIMIT)) for p in parts[:CONTEXT_ELEMENTS] if p],
    }


def button(text: str, action_id: str, value: str, *, style: str | None = None, confirm: str | None = None) -> Dict:
    """A button (its text cut at `BUTTON_TEXT_LIMIT`), with an "Are you sure?" dialog when `confirm` says what for."""
    element: Dict = {
        "type": "button",
        "text": plain(truncate(text, BUTTON_TEXT_LIMIT)),
        "action_id": within(action_id, ACTION_ID_LIMIT, "action_id"),
        "value": within(value, VALUE_LIMIT, "value"),
    }
    if style is not None:
        if style not in STYLES:
            raise SlackObjectFormationError(f"style must be one of {STYLES}")
        element["style"] = style
    if confirm is not None:
        element["confirm"] = {
            "title": plain(within("Are you sure?", CONFIRM_TITLE_LIMIT, "confirm title")),
            "text": mrkdwn(within(confirm, CONFIRM_TEXT_LIMIT, "confirm text")),
            "confirm": plain(within("Yes", CONFIRM_BUTTON_LIMIT, "confirm")),
            "deny": plain(within("Cancel", CONFIRM_BUTTON_LIMIT, "deny")),
        }
    return element


def actions(*elements: Dict) -> Dict:
    """An actions block of at most `ACTIONS_ELEMENTS` elements."""
    if not elements or len(elements) > ACTIONS_ELEMENTS:
        raise SlackObjectFormationError(f"an actions block holds 1 to {ACTIONS_ELEMENTS} elements")
    return {"type": "actions", "elements": list(elements)}


__all__ = ["section", "context", "button", "actions", "within", "mrkdwn", "plain"]
