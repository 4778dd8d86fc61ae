"""Events: mentions file or comment, thread replies comment, :ticket: files, App Home opens publish."""

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks import ids, notices
from bot.blocks.messages import help_text
from bot.domain import parsing
from bot.domain.models import Draft, Source
from bot.domain.text import slack_to_plain
from bot.listeners.channels import is_private
from bot.listeners.middleware import config_of, intake_of, queries_of
from bot.usecases.service import Filed
from storage.outbox import FiledReply

log = logging.getLogger(__name__)
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_TS = re.compile(r"[0-9]{1,12}\.[0-9]{1,9}")
REPLY_SUBTYPES = frozenset({"thread_broadcast", "file_share"})
"""Message subtypes that are still a person's reply: "also send to channel", and a reply with a file (a screenshot)."""
RATE_LIMITED = "app_rate_limited"


def register(app: App) -> None:
    app.use(answer_rate_limited)
    app.use(read_ticketed_message)
    app.event("app_mention")(on_mention)
    app.event("message")(on_message)
    app.event("reaction_added")(on_reaction)
    app.event("app_home_opened")(on_home_opened)


def origin_key(channel: str, ts: str) -> str:
    """The key of a Slack message: filing or commenting from it twice does nothing twice."""
    return f"msg:{channel}:{ts}"


def field(data: Any, name: str) -> str | None:
    """`data[name]` when it is a non-empty string, else None: a malformed payload is ignored, not half-used."""
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else None


def ts_field(data: Any, name: str) -> str | None:
    """`data[name]` when it is a Slack timestamp ("1700000000.000100"), else None."""
    value = field(data, name)
    return value if value and _TS.fullmatch(value) else None


def message_text(message: Any) -> str:
    """A Slack message's words as its author wrote them (markup made readable, entities undone), then the words
    of its attachments and the names of its files: an alert that is all attachment, or a screenshot, keeps them."""
    parts = [field(message, "text") or ""]
    parts += [attachment_text(a) for a in _dicts(message, "attachments")]
    parts += [f"File: {name}" for f in _dicts(message, "files") if (name := field(f, "title") or field(f, "name"))]
    return "\n".join(slack_to_plain(p).strip() for p in parts if p and p.strip())


def attachment_text(attachment: dict[str, Any]) -> str:
    """The words of a (legacy) attachment: pretext, title, text and fields, else its fallback."""
    words = [field(attachment, name) for name in ("pretext", "title", "text")]
    words += [f"{field(f, 'title') or ''}: {field(f, 'value') or ''}".strip(": ") for f in _dicts(attachment, "fields")]
    shown = [w for w in words if w]
    return "\n".join(shown) if shown else field(attachment, "fallback") or ""


def _dicts(data: Any, name: str) -> list[dict[str, Any]]:
    """The objects in the list `data[name]` (a malformed payload gives none)."""
    value = data.get(name) if isinstance(data, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def strip_mentions(text: str, bot_user_id: str | None) -> str:
    """The text of a mention without the leading `<@bot>`."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", "", text)
    return text.strip()


def answer_rate_limited(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
    """Slack says it dropped events for a minute (`app_rate_limited`, sent outside an event envelope, which no
    event listener matches): 200, and a log line. The same notice inside an envelope is answered alike."""
    event = body.get("event")
    notice = body if body.get("type") == RATE_LIMITED else event if field(event, "type") == RATE_LIMITED else None
    if notice is None:
        return next()
    log.warning(
        "Slack rate-limited this app's events (minute %s): some events of that minute were not delivered",
        notice.get("minute_rate_limited"),
    )
    return BoltResponse(status=200, body="")


def from_a_bot(event: dict[str, Any]) -> str | None:
    """The bot id of an app that wrote this message ("B…", or "unknown"), or None when a person did."""
    profile = event.get("bot_profile")
    bot = field(event, "bot_id") or field(profile, "id")
    if bot or event.get("subtype") == "bot_message":
        return bot or "unknown"
    return None


def on_mention(event: dict[str, Any], context: BoltContext) -> None:
    intake, config = intake_of(context), config_of(context)
    channel, ts, user = field(event, "channel"), ts_field(event, "ts"), field(event, "user")
    bot = from_a_bot(event)
    if bot is not None and bot not in config.allowed_bots:
        log.info("ignored a mention by another app (%s): only `allowed_bots` may file requests", bot)
        return
    if not (channel and ts and user):
        return
    thread_ts = ts_field(event, "thread_ts")
    if thread_ts and thread_ts != ts and queries_of(context).find_by_thread(channel, thread_ts):
        intake.comment(channel=channel, thread_ts=thread_ts, ts=ts, user=user, text=message_text(event))
        return
    text = slack_to_plain(strip_mentions(field(event, "text") or "", context.bot_user_id))
    reply_ts = thread_ts or ts
    if text.lower() in ("", "help", "?"):
        intake.post_once(key=origin_key(channel, ts), channel=channel, thread_ts=reply_ts, text=help_text(config))
        return
    if intake.requester_says(user=user, text=text, channel=channel, ts=ts, reply_ts=reply_ts, direct=False) is not None:
        return  # about a request she filed ("any update on AIR-5?"): recorded there, nothing new is filed
    client = context.client
    draft = parsing.draft_text(text, config.kind_names).draft(
        requester=user,
        source="mention",
        channel=channel,
        origin_ts=ts,
        permalink=permalink_of(client, channel, ts),
        private=client is not None and is_private(context, client, channel),
    )
    file_and_reply(context, draft, channel=channel, ts=ts, thread_ts=reply_ts)


def file_and_reply(context: BoltContext, draft: Draft, *, channel: str, ts: str, thread_ts: str) -> Filed:
    """File a request from the message (channel, ts) and answer in its thread, once."""
    return intake_of(context).file_request(
        draft, origin_key=origin_key(channel, ts), reply_in=FiledReply(channel=channel, thread_ts=thread_ts)
    )


def file_message(
    context: BoltContext, client: WebClient, message: dict[str, Any], *, channel: str, ts: str, by: str, source: Source
) -> Filed | None:
    """File someone's message (the shortcut, a :ticket:) and answer in its thread, once.

    Its author is the requester and `by`, who pressed, the reporter; when an app wrote it (an alert)
    or a person of another workspace did, `by` is the requester. Its kind comes from its words, like
    a quick-create's; its attachments and files are kept; the card links back to it.
    """
    if is_ours(message, context):
        intake_of(context).tell(user=by, channel=channel, text=notices.OUR_OWN_MESSAGE)
        return None
    author = field(message, "user")
    if from_a_bot(message) or (field(message, "team") not in (None, context.team_id)):
        author = None
    parsed = parsing.draft_text(message_text(message), config_of(context).kind_names)
    draft = parsed.draft(
        requester=author or by,
        reporter=by if author and author != by else None,
        source=source,
        channel=channel,
        origin_ts=ts,
        permalink=permalink_of(client, channel, ts),
        private=is_private(context, client, channel),
    )
    return file_and_reply(context, draft, channel=channel, ts=ts, thread_ts=ts_field(message, "thread_ts") or ts)


def is_ours(message: dict[str, Any], context: BoltContext) -> bool:
    """Whether ai-intake itself wrote the message (a card, a reply, a nag)."""
    bot, user = field(message, "bot_id"), field(message, "user")
    return bool((bot and bot == context.bot_id) or (user and user == context.bot_user_id))


def permalink_of(client: WebClient | None, channel: str, ts: str) -> str | None:
    """The link to the message (chat.getPermalink); None when Slack cannot give one, or cannot be reached (an
    outage: the request is filed all the same, and its card, sent once Slack is back, has no link)."""
    if client is None:
        return None
    try:
        link = client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.warning("no permalink for a message in %s: %s", channel, exc.response.get("error"))
        return None
    except Exception as exc:  # noqa: BLE001 - Slack unreachable (URLError, a reset, a timeout): file without the link
        log.warning("no permalink for a message in %s: Slack could not be reached (%s)", channel, type(exc).__name__)
        return None
    return link if isinstance(link, str) and link.startswith("https://") else None


def on_message(event: dict[str, Any], context: BoltContext) -> None:
    """Thread replies under a request's card or origin message are comments (a broadcast reply and a reply with
    a file too); a direct message to the bot is its author's word about her requests; everything else, and
    anything an app wrote, is ignored."""
    if (event.get("subtype") and event.get("subtype") not in REPLY_SUBTYPES) or from_a_bot(event):
        return
    channel, thread_ts, ts, user = (
        field(event, "channel"),
        ts_field(event, "thread_ts"),
        ts_field(event, "ts"),
        field(event, "user"),
    )
    if channel and ts and user and event.get("channel_type") == "im" and (not thread_ts or thread_ts == ts):
        on_direct_message(context, user=user, channel=channel, ts=ts, text=message_text(event))
        return
    if not (channel and thread_ts and ts and user) or thread_ts == ts:
        return
    intake_of(context).comment(channel=channel, thread_ts=thread_ts, ts=ts, user=user, text=message_text(event))


def on_direct_message(context: BoltContext, *, user: str, channel: str, ts: str, text: str) -> None:
    """A direct message to the bot: about a request its author filed, it is recorded there and answered; else she
    is told how to file one (a direct message files nothing: it has no place for a card)."""
    intake = intake_of(context)
    if intake.requester_says(user=user, text=text, channel=channel, ts=ts, reply_ts=None, direct=True) is None:
        intake.post_once(key=origin_key(channel, ts), channel=user, thread_ts=None, text=notices.DM_HINT)


TICKETED = "ticketed_message"
"""The context key under which `read_ticketed_message` hands `on_reaction` what it read: the message, or an
`Unreadable` saying why there is none."""


def ticket_target(event: Any, context: BoltContext) -> tuple[str, str, str] | None:
    """(channel, ts, who reacted) when the event is a :ticket: on a message in a domain channel, else None."""
    item, user = _get(event, "item"), field(event, "user")
    if field(event, "reaction") != ids.TICKET_REACTION or field(item, "type") != "message" or not user:
        return None
    channel, ts = field(item, "channel"), ts_field(item, "ts")
    if not channel or not ts or "config" not in context or config_of(context).domain_of_channel(channel) is None:
        return None
    return channel, ts, user


def _get(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


def read_ticketed_message(body: dict[str, Any], context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """Read the message a :ticket: points at before the event is acknowledged: its words are not in the event.

    When Slack's Web API cannot be reached (or fails, past the client's retries), the event is answered 503:
    Slack delivers it again (after about a minute, then five), and the :ticket: is filed once Slack is back —
    nothing is stored meanwhile, so there is nothing to lose. A message that is gone or a channel the bot cannot
    read is no outage: `on_reaction` tells the person.
    """
    target = ticket_target(body.get("event"), context) if body.get("type") == "event_callback" else None
    if target is None or context.client is None:
        return next()
    channel, ts, _ = target
    try:
        found: dict[str, Any] | Unreadable | None = fetch_message(context.client, channel, ts)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in UNREADABLE:
            found = UNREADABLE[error]
        elif exc.response.status_code >= 500 or error == "ratelimited":
            return unreachable(channel, f"Slack answered {error or exc.response.status_code}")
        else:
            raise
    except Exception as exc:  # noqa: BLE001 - no answer at all (URLError, a reset, a timeout)
        return unreachable(channel, type(exc).__name__)
    context[TICKETED] = found if found is not None else UNREADABLE["message_not_found"]
    return next()


def unreachable(channel: str, why: str) -> BoltResponse:
    log.warning(
        "could not read the message marked with :ticket: in %s (%s): answered 503 so Slack delivers it again",
        channel,
        why,
    )
    return BoltResponse(status=503, body="")


def on_reaction(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A :ticket: on a message in a domain channel turns that message into a request (`read_ticketed_message` read
    it before the ack)."""
    target = ticket_target(event, context)
    found = context.get(TICKETED)
    if target is None or found is None:
        return
    channel, ts, user = target
    if isinstance(found, Unreadable):
        intake_of(context).tell(user=user, channel=channel if found.in_channel else None, text=found.text)
        return
    file_message(context, client, found, channel=channel, ts=ts, by=user, source="reaction")


@dataclass(frozen=True)
class Unreadable:
    """Why the message a :ticket: points at cannot be read, told to whoever reacted (in the channel, or by DM)."""

    text: str
    in_channel: bool = True


_GONE = Unreadable(notices.TICKET_GONE)
_NOT_IN = Unreadable(notices.TICKET_NOT_IN, in_channel=False)
UNREADABLE: dict[Any, Unreadable] = {
    "message_not_found": _GONE,
    "thread_not_found": _GONE,
    "channel_not_found": _NOT_IN,
    "not_in_channel": _NOT_IN,
    "missing_scope": _NOT_IN,
}
"""Slack's errors when reading a message, by what they mean to the person who reacted."""


def fetch_message(client: WebClient, channel: str, ts: str) -> dict[str, Any] | None:
    """The message at (channel, ts), or None when the channel shows none there; SlackApiError when Slack refuses.

    A top-level message is the newest of the history up to `ts`. A reply is not in the history: asked
    with a reply's ts, conversations.replies answers with its thread, the parent first and then the
    replies in the range asked, so the range is the reply's own instant.
    """
    history = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    found = [m for m in history.get("messages", []) if m.get("ts") == ts]
    if found:
        return found[0]
    replies = client.conversations_replies(channel=channel, ts=ts, oldest=ts, latest=ts, inclusive=True, limit=2)
    found = [m for m in replies.get("messages", []) if m.get("ts") == ts]
    return found[0] if found else None


def on_home_opened(event: dict[str, Any], context: BoltContext) -> None:
    user = field(event, "user")
    if event.get("tab", "home") == "home" and user:
        intake_of(context).refresh_home(user)
