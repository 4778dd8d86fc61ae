"""The console's `/hook [source] <path> <json or @file>`: a body POSTed to the bot's hooks, signed as the source
would sign it, and the line that says what the bot answered."""

import json
from datetime import datetime
from pathlib import Path

from bot.entry.webhooks import HookEndpoints
from bot.console.screen import UsageError
from bot.hooks import signed_headers


def post_hook(hooks: HookEndpoints, rest: str, *, secrets: dict[str, str], now: datetime) -> str:
    """POST what `rest` says to `hooks` as its source (the first word when it names one, else the first source
    configured), signed with that source's secret at `now`; the line to print: "↪ POST … as …: 201 {…}"."""
    words = rest.split(maxsplit=1)
    source = words[0] if words and words[0] in secrets else next(iter(secrets), None)
    if source is None:
        raise UsageError("the config names no hook sources (`hooks:`), so the bot has no hooks to post to")
    if words and words[0] == source and source in secrets:
        rest = words[1] if len(words) > 1 else ""
    target, _, body = rest.strip().partition(" ")
    path, _, query = target.partition("?")
    path = path if path.startswith("/hooks/") else f"/hooks/{path}"
    raw = _hook_body(body.strip())
    headers = signed_headers(raw, source=source, secret=secrets[source], timestamp=int(now.timestamp()))
    status, reply = hooks.handle_request(
        method="POST", path=path, query=query, headers=headers, content_length=len(raw), read=lambda n: raw[:n]
    )
    return (
        f"  ↪ POST {target if target.startswith('/') else path + ('?' + query if query else '')} as {source}: "
        f"{status} {json.dumps(reply, ensure_ascii=False)}"
    )


def _hook_body(text: str) -> bytes:
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {text[1:]}: {exc.strerror}") from None
    if not text:
        raise UsageError('what to post? /hook regressions {"id": "…", "title": "…"}, or @file.json')
    return text.encode()
