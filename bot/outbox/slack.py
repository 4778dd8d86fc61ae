"""The Web API calls the outbox makes, with the outbox's guard against posting twice.

Every chat.postMessage carries metadata naming its outbox item; an item whose earlier attempt may
have reached Slack (a crash, a lost answer) is first looked for in the channel, and not posted again
when it is found there.
"""

import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient


OUTBOX_EVENT = "ai_intake_outbox"


class Poster:
    """`client` calls the Web API (the worker paces each channel before it hands an item to a sender)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._permalinks: dict[tuple[str, str], str] = {}
        self._permalinks_lock = threading.Lock()

    def post(self, item_id: int, *, attempts: int, channel: str, **message: Any) -> tuple[str, str]:
        """chat.postMessage tagged with the outbox item; (channel, ts) of the message, found or posted."""
        if attempts > 0 and (
            found := self.already_posted(item_id, channel=channel, thread_ts=message.get("thread_ts"))
        ):
            return channel, found
        metadata = {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": item_id}}
        response = self.client.chat_postMessage(channel=channel, metadata=metadata, **message)
        return response["channel"], response["ts"]

    def already_posted(self, item_id: int, *, channel: str, thread_ts: str | None) -> str | None:
        """The ts of the message an earlier attempt of the item posted, if the channel shows one.

        Direct messages cannot be searched (that would need im:history): they are sent again.
        """
        if not channel.startswith(("C", "G")):
            return None
        try:
            if thread_ts:
                found = self.client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=200, include_all_metadata=True
                )
            else:
                found = self.client.conversations_history(channel=channel, limit=200, include_all_metadata=True)
        except SlackApiError:
            return None
        for message in found.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == item_id:
                return message["ts"]
        return None

    def permalink(self, *, channel: str, ts: str) -> str | None:
        """chat.getPermalink of a message; None when Slack will not give one (the caller says where it is instead).

        Remembered once Slack gave it, and asked once even when two lanes want it at the same moment (two owners' DMs about one card)."""
        with self._permalinks_lock:
            if (channel, ts) not in self._permalinks:
                link = self._fetch_permalink(channel=channel, ts=ts)
                if link is None:
                    return None  # asked again next time
                self._permalinks[(channel, ts)] = link
            return self._permalinks[(channel, ts)]

    def _fetch_permalink(self, *, channel: str, ts: str) -> str | None:
        try:
            link = self.client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
        except SlackApiError:
            return None
        return link if isinstance(link, str) and link.startswith("https://") else None

    def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)

    def ephemeral(
        self, *, user: str, channel: str | None, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> str | None:
        """Only `user` sees it: ephemeral in `channel`, else a direct message."""
        if channel:
            response = self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return response.get("message_ts")
        response = self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
        return response["ts"]

    def respond(self, response_url: str, *, text: str) -> int:
        """An ephemeral answer through a command's or a click's response_url; the HTTP status it got."""
        return (
            WebhookClient(response_url).send(text=text, response_type="ephemeral", replace_original=False).status_code
        )

    def publish_home(self, *, user: str, view: dict[str, Any]) -> None:
        self.client.views_publish(user_id=user, view=view)
