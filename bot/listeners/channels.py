"""Whether a conversation is private: what is filed in one is confidential by default and keeps its card there.

Slack says it in different ways per surface: a slash command's `channel_name` ("privategroup",
"directmessage", "mpdm-…"), a message event's `channel_type` ("group", "mpim", "im"). A mention, a
reaction or a shortcut says nothing, so the bot asks `conversations.info` (once a day per channel,
remembered in the database). Before asking, the config and the id answer what they can: a domain's
review channel is private, and so are D… (direct messages) and G… (legacy private) ids.
"""

import logging
from datetime import timedelta

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners.middleware import config_of, intake_of, now_of, queries_of

log = logging.getLogger(__name__)

PRIVATE_COMMAND_CHANNELS = ("privategroup", "directmessage")
REMEMBERED_FOR = timedelta(days=1)


def private_by_name(channel_name: str | None) -> bool:
    """A slash command's `channel_name` names a private conversation ("privategroup", "directmessage", "mpdm-…")."""
    return bool(channel_name) and (channel_name in PRIVATE_COMMAND_CHANNELS or channel_name.startswith("mpdm-"))


def known_private(context: BoltContext, channel: str) -> bool:
    """What the config and the id alone say: a domain's review channel, a direct message, a legacy private id."""
    config = config_of(context)
    return channel.startswith(("D", "G")) or any(channel == d.review_channel for d in config.domains)


def is_private(context: BoltContext, client: WebClient, channel: str) -> bool:
    """Whether `channel` is a private conversation: from the config and the id, else as Slack said (asked with
    conversations.info, remembered a day). When Slack cannot say, a domain's own channel counts as public
    and any other channel as private: what is filed there stays out of public channels."""
    if known_private(context, channel):
        return True
    remembered = queries_of(context).channel_private(channel, checked_since=now_of(context) - REMEMBERED_FOR)
    if remembered is not None:
        return remembered
    try:
        info = client.conversations_info(channel=channel).get("channel") or {}
    except Exception as exc:  # noqa: BLE001 - refused (SlackApiError) or unreachable (an outage): decided without Slack
        domain_channel = any(channel in d.channels for d in config_of(context).domains)
        why = exc.response.get("error") if isinstance(exc, SlackApiError) else f"unreachable: {type(exc).__name__}"
        log.warning(
            "conversations.info failed for %s (%s): taken as %s",
            channel,
            why,
            "public (a domain's channel)" if domain_channel else "private",
        )
        return not domain_channel
    private = any(info.get(flag) for flag in ("is_private", "is_group", "is_im", "is_mpim"))
    intake_of(context).remember_channel(channel, private=private)
    return private
