"""Text helpers for showing user text back in Slack: mrkdwn escaping and visible truncation."""

import re

ELLIPSIS = "…"

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_RE = re.compile("[&<>]")


def escape(text: str) -> str:
    """Escape `&`, `<` and `>` so Slack's mrkdwn parser sees no mention, link or special command.

    Slack turns `<!channel>`, `<@U123>`, `<!subteam^S1>` and `<http://x|y>` into pings and links;
    with these three characters escaped none of them can be formed. `@channel` typed as plain
    text does not ping because the bot never sets `link_names`.
    """
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


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
