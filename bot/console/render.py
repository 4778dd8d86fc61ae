"""Slack's mrkdwn and Block Kit as terminal text: what a person would read in Slack, without the colours.

`<@U0BEN>` reads `@ben`, `<#C0SUPPORT>` `#support`, `&lt;` `<`; `*bold*` and `_italics_` lose their
markers; buttons read `[3 Claim]`, numbered by the caller so that `3` (or `/click 3`) presses it.
"""

import re
from collections.abc import Callable
from typing import Any

from bot.console.directory import Directory

Number = Callable[[dict[str, Any], dict[str, Any]], int]
"""Gives an interactive element (in its block) the number a person types to press it."""

FIELDS_WIDTH = 100
_ENTITY = re.compile(r"<([^<>]*)>")
_HOLE = "\x00{}\x00"
_HOLES = re.compile("\x00(\\d+)\x00")
_UNESCAPE = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}
_MARKUP = [re.compile(rf"(?<![\w{m}]){re.escape(m)}(?=\S)(.+?)(?<=\S){re.escape(m)}(?![\w{m}])") for m in "*_~"]
EMOJI = {
    "compass": "🧭",
    "warning": "⚠️",
    "large_blue_circle": "🔵",
    "large_green_circle": "🟢",
    "white_check_mark": "✅",
    "no_entry_sign": "🚫",
    "double_vertical_bar": "⏸️",
    "raised_hand": "✋",
    "hourglass": "⌛",
    "tada": "🎉",
    "ticket": "🎫",
    "bell": "🔔",
    "rotating_light": "🚨",
    "alarm_clock": "⏰",
    "eyes": "👀",
    "lock": "🔒",
    "zzz": "💤",
    "scissors": "✂️",
    "palm_tree": "🌴",
    "arrow_right": "➡️",
    "mag": "🔍",
    "hammer_and_wrench": "🛠️",
    "heavy_minus_sign": "➖",
    "dart": "🎯",
    "package": "📦",
}
_EMOJI = re.compile(r":([a-z0-9_+-]+):")


def mrkdwn(text: str, names: Directory) -> str:
    """Slack mrkdwn as the reader sees it: entities named, markup markers dropped, `&lt;` shown as `<`."""
    holes: list[str] = []

    def hole(match: re.Match[str]) -> str:
        holes.append(entity(match.group(1), names))
        return _HOLE.format(len(holes) - 1)

    shown = _ENTITY.sub(hole, text)
    for markup in _MARKUP:
        shown = markup.sub(r"\1", shown)
    shown = _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), shown)
    shown = unescape(shown)
    return _HOLES.sub(lambda m: holes[int(m.group(1))], shown)


def plain(text: str) -> str:
    """A plain_text object: Slack shows it literally (only emoji codes turn into pictures)."""
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def entity(inside: str, names: Directory) -> str:
    """What Slack shows for `<…>`: a mention, a channel, a special mention or a link."""
    target, _, label = inside.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return "@" + names.user_name(target[1:])
    if target.startswith("#"):
        return names.channel_label(target[1:])
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        return label or ("@" + word if word in ("here", "channel", "everyone") else f"<{word}>")
    return f"{label} ({target})" if label and label != target else target


def unescape(text: str) -> str:
    return re.sub("&(lt|gt|amp);", lambda m: _UNESCAPE[m.group(0)], text)


def text_of(obj: dict[str, Any] | None, names: Directory) -> str:
    """A text object (mrkdwn or plain_text) as shown."""
    if not obj:
        return ""
    return mrkdwn(obj.get("text", ""), names) if obj.get("type") == "mrkdwn" else plain(obj.get("text", ""))


def message_lines(text: str, blocks: list[dict[str, Any]] | None, names: Directory, number: Number) -> list[str]:
    """A message as lines: its blocks when it has any, else its text."""
    if not blocks:
        return mrkdwn(text, names).splitlines() or [""]
    lines: list[str] = []
    for block in blocks:
        lines += block_lines(block, names, number)
    return lines


def block_lines(block: dict[str, Any], names: Directory, number: Number) -> list[str]:
    kind = block.get("type")
    if kind == "section":
        lines = text_of(block.get("text"), names).splitlines()
        lines += field_lines([text_of(f, names) for f in block.get("fields") or []])
        if block.get("accessory"):
            lines.append(element_text(block["accessory"], names, number, block=block))
        return lines
    if kind == "context":
        return [
            "  ".join(
                text_of(e, names) if e.get("type") != "image" else f"[{e.get('alt_text', 'image')}]"
                for e in block.get("elements", [])
            )
        ]
    if kind == "actions":
        return [" ".join(element_text(e, names, number, block=block) for e in block.get("elements", []))]
    if kind == "header":
        return [f"━━ {text_of(block.get('text'), names)} ━━"]
    if kind == "divider":
        return ["─" * 40]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return [rich_text(block, names)]
    return [f"[{kind} block]"]


def field_lines(fields: list[str]) -> list[str]:
    """Section fields as "Label: value", short ones side by side like Slack's two columns, long ones alone."""
    lines: list[str] = []
    row = ""
    for field in fields:
        label, _, value = field.partition("\n") if "\n" in field else ("", "", field)
        shown = f"{label}: " if label else ""
        if "\n" in value:
            if row:
                lines.append(row)
                row = ""
            first, *rest = value.splitlines()
            lines.append(shown + first)
            lines += [" " * len(shown) + line for line in rest]
            continue
        cell = shown + value
        if row and len(row) + 3 + len(cell) > FIELDS_WIDTH:
            lines.append(row)
            row = ""
        row = f"{row} · {cell}" if row else cell
    if row:
        lines.append(row)
    return lines


def element_text(element: dict[str, Any], names: Directory, number: Number, *, block: dict[str, Any]) -> str:
    """An interactive element: `[3 Claim]`, `[8 Reassign… ▾ @ben]`."""
    kind = element.get("type")
    if kind == "button":
        return f"[{number(element, block)} {plain(element.get('text', {}).get('text', ''))}]"
    placeholder = plain((element.get("placeholder") or {}).get("text", "choose…"))
    if kind == "users_select":
        chosen = element.get("initial_user")
        return f"[{number(element, block)} {placeholder} ▾{' @' + names.user_name(chosen) if chosen else ''}]"
    if kind in ("static_select", "radio_buttons", "overflow", "checkboxes"):
        return f"[{number(element, block)} {placeholder} ▾]"
    return f"[{kind}]"


def rich_text(block: dict[str, Any], names: Directory) -> str:
    """The words of a rich_text block (what people type arrives this way)."""
    out = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(node.get("text", ""))
            elif node.get("type") == "user":
                out.append("@" + names.user_name(node.get("user_id", "")))
            elif node.get("type") == "channel":
                out.append(names.channel_label(node.get("channel_id", "")))
            elif node.get("type") == "link":
                out.append(node.get("text") or node.get("url", ""))
            for child in node.get("elements", []):
                walk(child)

    walk(block)
    return "".join(out)
