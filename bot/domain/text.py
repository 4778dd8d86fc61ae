"""Text helpers for user text: mrkdwn escaping, visible truncation, and text that can always be stored."""

import re
from typing import Any

ELLIPSIS = "…"
REPLACEMENT = "\ufffd"

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
"""The bidirectional controls (ALM, LRM, RLM, the embeddings, overrides and isolates): shown text never holds one."""

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{control: "" for control in BIDI_CONTROLS}}
_ESCAPE_RE = re.compile(f"[&<>{BIDI_CONTROLS}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(text: str) -> str:
    """Escape `&`, `<` and `>` so Slack's mrkdwn parser sees no mention, link or special command; drop bidi controls.

    Slack turns `<!channel>`, `<@U123>`, `<!subteam^S1>` and `<http://x|y>` into pings and links;
    with these three characters escaped none of them can be formed. `@channel` typed as plain
    text does not ping because the bot never sets `link_names`. A bidirectional control (U+202E
    RIGHT-TO-LEFT OVERRIDE …) would make a title or a list line read otherwise than it holds, or
    spill into the text after it, so every one of `BIDI_CONTROLS` is dropped.
    """
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


def storable(text: str) -> str:
    """`text` with every lone surrogate (U+D800-U+DFFF, which UTF-8 cannot encode) replaced by U+FFFD.

    JSON can carry "\\ud800" and Python keeps it in a str; a database column refuses it, the event
    log keeps it JSON-escaped, and writing it out as UTF-8 later fails. Returns `text` itself when
    there is nothing to replace.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _SURROGATE.sub(REPLACEMENT, text)


def storable_strings(value: Any) -> Any:
    """`value` (parsed JSON) with `storable` applied to every string in it, keys included.

    Dicts and lists are changed in place (and returned); a bare string comes back cleaned. Walks
    without recursion, so any nesting depth is fine.
    """
    if isinstance(value, str):
        return storable(value)
    pending = [value]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            _clean_keys(node)
            entries = list(node.items())
        elif isinstance(node, list):
            entries = list(enumerate(node))
        else:
            continue
        for slot, item in entries:
            if isinstance(item, str):
                cleaned = storable(item)
                if cleaned is not item:
                    node[slot] = cleaned
            elif isinstance(item, (dict, list)):
                pending.append(item)
    return value


def _clean_keys(node: dict[Any, Any]) -> None:
    if all(not isinstance(k, str) or storable(k) is k for k in node):
        return
    entries = list(node.items())
    node.clear()
    node.update((storable(k) if isinstance(k, str) else k, v) for k, v in entries)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, ending with "…" when anything was cut (limit ≥ 1)."""
    if len(text) <= limit:
        return text
    if limit < 1:
        return ""
    return text[: limit - 1] + ELLIPSIS


def escape_within(text: str, limit: int) -> str:
    """Escape `text` for mrkdwn and keep the escaped result within `limit` characters.

    When it has to cut, it keeps the longest prefix whose escaped form plus "…" fits; it never
    splits an entity like `&amp;`. A limit below 1 gives "".
    """
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    if limit < 1:
        return ""
    budget, used, kept = limit - len(ELLIPSIS), 0, 0
    for char in text:
        size = len(_ESCAPES.get(char, char))
        if used + size > budget:
            break
        used += size
        kept += 1
    return escape(text[:kept]) + ELLIPSIS


def first_line(text: str, limit: int) -> str:
    """The first non-empty line of `text`, stripped and cut to `limit` characters."""
    for line in text.splitlines():
        if line.strip():
            return truncate(line.strip(), limit)
    return ""


_SLACK_MARKUP = re.compile(r"<([^<>]*)>")
_UNESCAPES = {"&lt;": "<", "&gt;": ">", "&amp;": "&"}


def _plain_markup(match: "re.Match[str]") -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"@{label}" if label else target
    if target.startswith("#"):
        return f"#{label}" if label else target
    if target.startswith("!"):
        name = target[1:].split("^")[0]
        return label or f"@{name}"
    return f"{label} ({target})" if label else target


def slack_to_plain(text: str) -> str:
    """The text of a Slack message as its author typed it: markup made readable, entities undone.

    Slack sends `<@U123>`, `<#C123|support>`, `<!here>`, `<https://x|label>` and escapes `&`, `<`,
    `>`; stored requests hold plain text (shown escaped again), so nothing typed in a message can
    become a live mention or link when the bot shows it back.
    """
    plain = _SLACK_MARKUP.sub(_plain_markup, text)
    return re.sub("&(lt|gt|amp);", lambda m: _UNESCAPES[m.group(0)], plain)
