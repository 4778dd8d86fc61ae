"""The Slack side of the service: drains the outbox, renders with `blocks/`, calls the Web API.

The service queues every message in the same transaction as the change that causes it; this
worker sends them after the listeners have acknowledged Slack, retries what failed for a passing
reason (rate limits, server errors, a lost connection) with backoff, and gives up, loudly and
once, on what can never work (`channel_not_found`, `not_in_channel` …).
"""

import logging
import os
import socket
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.blocks.card import render_card
from bot.blocks.common import to_dicts
from bot.blocks.home import home_view
from bot.blocks.nags import nag_message
from bot.blocks.messages import filed_reply
from bot.domain.business_hours import BusinessCalendar
from bot.domain.history import request_sla
from bot.domain.models import Request
from bot.domain.sla import explain
from bot.clock import Clock
from bot.domain.policy import Config
from bot.outbox.kinds import Ephemeral, Kind
from bot.queries import Queries
from bot.wakeup import Wakeup
from storage.store import OutboxItem, Store

log = logging.getLogger(__name__)

PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long", "no_text",
    "user_not_found", "invalid_arguments", "restricted_action", "cant_update_message", "missing_scope",
    "not_authed", "invalid_auth", "account_inactive", "too_many_attachments", "msg_blocks_too_long",
    "invalid_blocks_format", "user_not_in_channel", "channel_is_archived",
})
NOT_THERE = {
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "not_in_channel": "the bot is not in that channel; invite it with `/invite @ai-intake`",
    "is_archived": "the channel is archived",
}
MAX_BACKOFF_SECONDS = 300


class Retry(Exception):
    """Send this item again later (the card it threads under is not posted yet, or a passing failure)."""


class Defer(Exception):
    """Send this item at `until` (a nag waiting for its recipient's working hours)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"outside the recipient's working hours until {until.isoformat()}")
        self.until = until


class Skip(Exception):
    """This item can never be sent (its card could not be posted); drop it quietly."""


OUTBOX_EVENT = "ai_intake_outbox"
LEASE = "notifier"
LEASE_SECONDS = 30.0


def holder_alive(holder: str) -> bool:
    """Whether the process named in a lease holder ("host:pid:…") may still be running.

    Only a process on this host can be checked; any other holder counts as alive until its lease runs out.
    """
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Notifier:
    """`post_interval`: the least wall-clock seconds between two posts to one channel (Slack allows
    about one message per second per channel)."""

    def __init__(self, store: Store, queries: Queries, config: Config, client: WebClient, *, clock: Clock, wakeup: Wakeup,
                 post_interval: float = 1.0) -> None:
        self.store = store
        self.queries = queries
        self.config = config
        self.clock = clock
        self.wakeup = wakeup
        self.client = client
        self.post_interval = post_interval
        self._last_post: dict[str, datetime] = {}
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self.standing_by = False  # another process's notifier holds the lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._send_lock = threading.Lock()

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ai-intake-notifier", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wakeup.set()
        if self._thread:
            self._thread.join(timeout=10)
            self._thread = None
        with self.store.transaction() as tx:
            tx.release_lease(LEASE, holder=self.holder)

    def _hold_lease(self) -> bool:
        """Only one notifier per database sends: the one holding the `notifier` lease (wall-clock time)."""
        with self.store.transaction() as tx:
            return tx.take_lease(LEASE, holder=self.holder, now=datetime.now(timezone.utc), seconds=LEASE_SECONDS,
                                 unless_held_by=holder_alive)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.wakeup.clear()
            try:
                self.drain(interruptible=True)
            except Exception:
                log.exception("the notifier failed; it tries again in a few seconds")
            self.wakeup.wait(self._idle_seconds())

    def _idle_seconds(self) -> float:
        if self.standing_by:
            return LEASE_SECONDS / 3
        with self.store.reading() as tx:
            due = tx.next_due()
        if due is None:
            return 30.0
        return min(max((due - self.clock()).total_seconds(), 0.05), 30.0)

    def drain(self, *, limit: int = 1000, interruptible: bool = False) -> int:
        """Send everything due now; returns how many items were handled.

        `interruptible` (the worker thread): stop between items once `stop()` was called.
        """
        handled = 0
        with self._send_lock:
            while handled < limit and not (interruptible and self._stop.is_set()):
                if not self._hold_lease():
                    self.standing_by = True
                    break  # another process's notifier is sending; it will send these too
                self.standing_by = False
                with self.store.reading() as tx:
                    items = tx.due(self.clock(), limit=20)
                if not items:
                    break
                for item in items:
                    if interruptible and self._stop.is_set():
                        break
                    self._handle(item)
                    handled += 1
        return handled

    # -- one item ------------------------------------------------------------------------------
    def _handle(self, item: OutboxItem) -> None:
        now = self.clock()
        wait = self._pace_wait(self._channel_of(item))
        if wait > 0:  # this channel posted less than post_interval ago: the others go first
            with self.store.transaction() as tx:
                tx.mark_retry(item.id, next_at=now + timedelta(seconds=wait), error="paced")
            return
        with self.store.transaction(durable=False) as tx:  # survives a crash of the process; see Db.write
            tx.mark_attempt(item.id)
        try:
            ts = getattr(self, f"_send_{item.kind}")(item)
        except Retry as exc:
            self._retry(item, str(exc), now=now)
        except Defer as exc:
            with self.store.transaction() as tx:
                tx.mark_retry(item.id, next_at=exc.until, error=str(exc))
        except Skip as exc:
            with self.store.transaction() as tx:
                tx.mark_failed(item.id, error=str(exc), at=now)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            status = exc.response.status_code if exc.response is not None else 0
            if error in PERMANENT:
                self._give_up(item, error, now=now)
            elif status == 429 or status >= 500 or error in ("ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"):
                self._retry(item, error, now=now)
            else:
                self._give_up(item, error, now=now)
        except (SlackClientError, OSError) as exc:
            self._retry(item, f"{type(exc).__name__}: {exc}", now=now)
        except Exception as exc:  # a bug or bad data in this one item: give it up, keep the queue moving
            log.exception("outbox item %s (%s) cannot be sent; giving it up", item.id, item.kind)
            with self.store.transaction() as tx:
                tx.mark_failed(item.id, error=f"{type(exc).__name__}: {exc}"[:500], at=now)
        else:
            with self.store.transaction() as tx:
                tx.mark_sent(item.id, at=now, ts=ts)
                if item.kind == Kind.CARD and item.request_id:
                    tx.mark_superseded(item.request_id, kind=Kind.CARD, up_to=item.id, at=now)

    def _retry(self, item: OutboxItem, error: str, *, now: datetime) -> None:
        delay = min(2 ** item.attempts, MAX_BACKOFF_SECONDS)
        log.warning("Slack call for outbox item %s (%s) failed with %s; retrying in %ss", item.id, item.kind, error, delay)
        with self.store.transaction() as tx:
            tx.mark_retry(item.id, next_at=now + timedelta(seconds=delay), error=error)

    def _give_up(self, item: OutboxItem, error: str, *, now: datetime) -> None:
        request = self._request(item.request_id) if item.request_id else None
        channel = item.payload.get("channel") or (request.card_channel if request else None)
        why = NOT_THERE.get(error, error)
        log.error("Slack refused outbox item %s (%s) for %s in %s: %s", item.id, item.kind, request.key if request else "-", channel, error)
        with self.store.transaction() as tx:
            tx.mark_failed(item.id, error=error, at=now)
            if request and item.kind == Kind.CARD:
                # A direct message: the channel that refused the card may be where the person filed it.
                text = f"{request.key} is filed, but its card could not be posted in <#{channel}>: {why}."
                tx.enqueue(Ephemeral(user=request.requester, text=text), at=now)

    # -- senders: each returns the ts of what it posted, if any --------------------------------
    def _send_card(self, item: OutboxItem) -> str | None:
        request = self._request(item.request_id or 0)
        if request is None or not request.card_channel:
            return None
        text, blocks = self.render(request)
        if request.card_ts:
            try:
                self.client.chat_update(channel=request.card_channel, ts=request.card_ts, text=text, blocks=blocks)
                ts = request.card_ts
            except SlackApiError as exc:
                if exc.response.get("error") != "message_not_found":
                    raise
                ts = self._post_card(item, request, text, blocks)
        else:
            ts = self._post_card(item, request, text, blocks)
        return ts

    def _post_card(self, item: OutboxItem, request: Request, text: str, blocks: list[dict[str, Any]]) -> str:
        channel, ts = self._post(item, channel=request.card_channel or "", text=text, blocks=blocks, unfurl_links=False)
        with self.store.transaction() as tx:
            tx.set_card(request.id, channel=channel, ts=ts)
        return ts

    def _post(self, item: OutboxItem, *, channel: str, **message: Any) -> tuple[str, str]:
        """chat.postMessage, paced per channel and tagged with the outbox id, so that an item whose earlier
        attempt may have reached Slack (a crash, a lost answer) is found in the channel, not posted twice."""
        if item.attempts > 0 and (found := self._already_posted(item, channel=channel, thread_ts=message.get("thread_ts"))):
            return channel, found
        self._last_post[channel] = self.clock()
        metadata = {"event_type": OUTBOX_EVENT, "event_payload": {"outbox_id": item.id}}
        response = self.client.chat_postMessage(channel=channel, metadata=metadata, **message)
        return response["channel"], response["ts"]

    def _already_posted(self, item: OutboxItem, *, channel: str, thread_ts: str | None) -> str | None:
        """The ts of the message an earlier attempt of `item` posted, if the channel shows one.

        Direct messages cannot be searched (that would need im:history): they are sent again.
        """
        if not channel.startswith(("C", "G")):
            return None
        try:
            if thread_ts:
                found = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=200, include_all_metadata=True)
            else:
                found = self.client.conversations_history(channel=channel, limit=200, include_all_metadata=True)
        except SlackApiError:
            return None
        for message in found.get("messages", []):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("outbox_id") == item.id:
                return message["ts"]
        return None

    def _pace_wait(self, channel: str | None) -> float:
        """Seconds until `channel` may be posted to again (0 when it may now)."""
        if not channel or self.post_interval <= 0:
            return 0.0
        last = self._last_post.get(channel)
        if last is None:
            return 0.0
        return max(self.post_interval - (self.clock() - last).total_seconds(), 0.0)

    def _channel_of(self, item: OutboxItem) -> str | None:
        """Where `item` will post: its payload's channel or person, or its request's card channel."""
        if item.kind in (Kind.CARD, Kind.THREAD):
            request = self._request(item.request_id or 0)
            return request.card_channel if request else None
        if item.kind in (Kind.HOME, Kind.EPHEMERAL):
            return None  # views.publish and ephemerals are not channel posts
        return item.payload.get("channel") or item.payload.get("user")

    def _send_thread(self, item: OutboxItem) -> str | None:
        request = self._request(item.request_id or 0)
        if request is None:
            return None
        if not request.card_ts:
            with self.store.reading() as tx:
                waiting = tx.has_pending(request.id, kind=Kind.CARD)
            if not waiting:
                raise Skip("card_not_posted")
            raise Retry("the card is not posted yet")
        return self._post(item, channel=request.card_channel or "", thread_ts=request.card_ts, text=item.payload["text"])[1]

    def _send_message(self, item: OutboxItem) -> str | None:
        payload = {k: v for k, v in item.payload.items() if k in ("channel", "text", "blocks", "thread_ts") and v is not None}
        return self._post(item, **payload, unfurl_links=False)[1]

    def _send_reply(self, item: OutboxItem) -> str | None:
        request = self._request(item.request_id or 0)
        if request is None:
            return None
        text, blocks = filed_reply(request, created=True)
        p = item.payload
        if p.get("user"):
            return self._ephemeral(user=p["user"], channel=p.get("channel"), text=text, blocks=to_dicts(blocks))
        return self._post(item, channel=p["channel"], thread_ts=p.get("thread_ts"), text=text, blocks=to_dicts(blocks),
                          unfurl_links=False)[1]

    def _send_ephemeral(self, item: OutboxItem) -> str | None:
        p = item.payload
        if p.get("response_url"):
            result = WebhookClient(p["response_url"]).send(text=p["text"], blocks=p.get("blocks"), response_type="ephemeral", replace_original=False)
            if result.status_code >= 500:
                raise Retry(f"response_url answered {result.status_code}")
            return None
        return self._ephemeral(user=p["user"], channel=p.get("channel"), text=p["text"], blocks=p.get("blocks"))

    def _ephemeral(self, *, user: str, channel: str | None, text: str, blocks: list[dict[str, Any]] | None) -> str | None:
        """Only `user` sees it: ephemeral in `channel`, else a direct message."""
        if channel:
            response = self.client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
            return response.get("message_ts")
        response = self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
        return response["ts"]

    def _send_nag(self, item: OutboxItem) -> str | None:
        """One person's batched nags, as a direct message with each nag's buttons, in their working hours
        (the org's business hours in the person's own time zone) unless one of them is urgent."""
        p = item.payload
        if not p.get("urgent"):
            hours = self.working_hours(p["user"])
            now = self.clock()
            if not hours.is_open(now):
                raise Defer(hours.next_opening(now))
        blocks = nag_message(p["text"], [(key, buttons) for key, buttons in p.get("buttons", [])])
        return self._post(item, channel=p["user"], text=p["text"][:3000], blocks=to_dicts(blocks))[1]

    def _send_home(self, item: OutboxItem) -> str | None:
        user = item.payload["user"]
        assigned, filed = self.queries.mine(user)
        queues = [(d.name, *self.queries.queue(d.name)) for d in self.config.member_domains(user)]
        everything = assigned + filed + [r for _, items, _ in queues for r in items]
        view = home_view(assigned=assigned, filed=filed, queues=queues, listed=self.queries.listed(everything, viewer=user))
        self.client.views_publish(user_id=user, view=view.to_dict())
        return None

    def working_hours(self, user: str) -> BusinessCalendar:
        """The org's business days and hours in `user`'s time zone (from users.info, remembered)."""
        config = self.config
        with self.store.reading() as tx:
            tz = tx.person_tz(user)
        if tz is None:
            tz = self._lookup_tz(user) or config.timezone
            with self.store.transaction() as tx:
                tx.set_person_tz(user, tz)
        hours = config.business_hours
        try:
            return BusinessCalendar.parse(tz=tz, days=hours.days, start=hours.start, end=hours.end,
                                          holidays=[d.isoformat() for d in config.holidays])
        except ValueError:
            return config.calendar(None)

    def _lookup_tz(self, user: str) -> str | None:
        try:
            return (self.client.users_info(user=user).get("user") or {}).get("tz")
        except SlackApiError as exc:
            log.warning("users.info for %s failed (%s); using the org's time zone", user, exc.response.get("error"))
            return None

    def _request(self, request_id: int) -> Request | None:
        with self.store.reading() as tx:
            return tx.get(request_id)

    # -- rendering -----------------------------------------------------------------------------
    def render(self, request: Request) -> tuple[str, list[dict[str, Any]]]:
        """The card as it should look now."""
        config = self.config
        with self.store.reading() as tx:
            events = tx.events(request.id)
        sla = request_sla(request, events, config, now=self.clock())
        tz = config.calendar(request.domain).tz
        lines = [f"First response: {explain(sla.first_response, tz=tz)}", f"Resolution: {explain(sla.resolution, tz=tz)}"]
        domain = config.domain(request.domain)
        redact = request.confidential and not (domain and domain.review_channel and request.card_channel == domain.review_channel)
        text, blocks = render_card(request, sla_lines=lines, redact=redact)
        return text, to_dicts(blocks)
