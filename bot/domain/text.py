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
    """Cut `text` to at most `limit` characters, ending with "…" when anything was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def escape_within(text: str, limit: int) -> str:
    """Escape `text` for mrkdwn and keep the escaped result within `limit` characters.

    Truncation happens before escaping and never splits an entity like `&amp;`.
    """
    cut = text
    while len(escape(cut)) > limit:
        overshoot = len(escape(cut)) - limit
        cut = truncate(cut, max(len(cut) - max(overshoot, 1), 1)) if len(cut) > 1 else ""
    return escape(cut)


def first_line(text: str, limit: int) -> str:
    """The first non-empty line of `text`, stripped and cut to `limit` characters."""
    for line in text.splitlines():
        if line.strip():
            return truncate(line.strip(), limit)
    return ""
