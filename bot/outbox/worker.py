"""The outbox worker: the loop that sends what the use cases queued, after Slack was acknowledged.

It holds the database's `notifier` lease (one sender per database), reads each due item once, paces
posts per channel, hands the item to the sender of its kind (`senders.SENDERS`) and records the
outcome: sent; retried with backoff after a passing failure (rate limits, server errors, a lost
connection); deferred (a nag outside working hours); or given up, loudly and once, on what can
never work (`channel_not_found`, `not_in_channel` …).
"""

import logging
import threading
from datetime import datetime, timedelta, timezone

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.clock import Clock
from bot.leases import holder_alive, holder_name
from bot.outbox.pacing import Pacer
from bot.outbox.senders import SENDERS, Defer, Delivery, Outgoing, Retry, Sent, Skip
from bot.wakeup import Wakeup
from storage.outbox import Ephemeral, Kind, read_payload
from storage.store import OutboxItem, Store

log = logging.getLogger(__name__)

PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "msg_too_long", "no_text",
    "user_not_found", "invalid_arguments", "restricted_action", "cant_update_message", "missing_scope",
    "not_authed", "invalid_auth", "account_inactive", "too_many_attachments", "msg_blocks_too_long",
    "invalid_blocks_format", "user_not_in_channel", "channel_is_archived",
})
PASSING = frozenset({"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"})
NOT_THERE = {
    "channel_not_found": "the channel does not exist or the bot cannot see it",
    "not_in_channel": "the bot is not in that channel; invite it with `/invite @ai-intake`",
    "is_archived": "the channel is archived",
}
MAX_BACKOFF_SECONDS = 300
LEASE = "notifier"
LEASE_SECONDS = 30.0
BATCH = 20


class OutboxWorker:
    """Sends the outbox through `delivery`, waking on `wakeup` or when the next item falls due (`clock`);
    `pacer` spaces the posts to each channel."""

    def __init__(self, store: Store, delivery: Delivery, *, clock: Clock, wakeup: Wakeup, pacer: Pacer) -> None:
        self.store = store
        self.delivery = delivery
        self.clock = clock
        self.wakeup = wakeup
        self.pacer = pacer
        self.holder = holder_name(id(self))
        self.standing_by = False  # another process's worker holds the lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._send_lock = threading.Lock()

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="ai-intake-outbox", daemon=True)
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
        """Only one worker per database sends: the one holding the `notifier` lease (wall-clock time)."""
        with self.store.transaction() as tx:
            return tx.take_lease(LEASE, holder=self.holder, now=datetime.now(timezone.utc), seconds=LEASE_SECONDS,
                                 unless_held_by=holder_alive)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.wakeup.clear()
            try:
                self.drain(interruptible=True)
            except Exception:
                log.exception("the outbox worker failed; it tries again in a few seconds")
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
                    break  # another process's worker is sending; it will send these too
                self.standing_by = False
                with self.store.reading() as tx:
                    items = tx.due(self.clock(), limit=BATCH)
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
        try:
            out = self._read(item)
        except ValueError as exc:  # stored data that fits no kind: it can never be sent
            self._fail(item, exc, now=now)
            return
        sender = SENDERS[Kind(item.kind)]
        wait = self.pacer.wait(sender.channel(out))
        if wait > 0:  # this channel posted less than the interval ago: the others go first
            with self.store.transaction() as tx:
                tx.mark_retry(item.id, next_at=now + timedelta(seconds=wait), error="paced")
            return
        with self.store.transaction(durable=False) as tx:  # survives a crash of the process; see Db.write
            if not tx.mark_attempt(item.id):
                return  # superseded since it was read (a person's nags folded into a newer message)
        try:
            sent = sender.send(self.delivery, out)
        except Retry as exc:
            self._retry(item, str(exc), now=now)
        except Defer as exc:
            with self.store.transaction() as tx:
                tx.mark_retry(item.id, next_at=exc.until, error=str(exc))
        except Skip as exc:
            with self.store.transaction() as tx:
                tx.mark_failed(item.id, error=str(exc), at=now)
        except SlackApiError as exc:
            self._slack_refused(item, out, exc, now=now)
        except (SlackClientError, OSError) as exc:
            self._retry(item, f"{type(exc).__name__}: {exc}", now=now)
        except Exception as exc:  # a bug or bad data in this one item: give it up, keep the queue moving
            self._fail(item, exc, now=now)
        else:
            self._record(item, out, sent, now=now)

    def _read(self, item: OutboxItem) -> Outgoing:
        """The item with its typed payload and, when it is about a request, the request and its events."""
        payload = read_payload(item.kind, item.payload)
        if not item.request_id:
            return Outgoing(item.id, item.attempts, payload)
        with self.store.reading() as tx:
            found = tx.by_ids_with_events([item.request_id])
            if not found:
                return Outgoing(item.id, item.attempts, payload)
            request, events = found[0]
            pending = request.card_ts is None and tx.has_pending(request.id, kind=Kind.CARD)
        return Outgoing(item.id, item.attempts, payload, request=request, events=events, card_pending=pending)

    def _record(self, item: OutboxItem, out: Outgoing, sent: Sent, *, now: datetime) -> None:
        with self.store.transaction() as tx:
            if sent.card and out.request:
                tx.set_card(out.request.id, channel=sent.card[0], ts=sent.card[1])
            for request_id, permalink in sent.permalinks.items():
                tx.set_card_permalink(request_id, permalink)
            tx.mark_sent(item.id, at=now, ts=sent.ts)
            if item.kind == Kind.CARD and item.request_id:
                tx.mark_superseded(item.request_id, kind=Kind.CARD, up_to=item.id, at=now)

    def _slack_refused(self, item: OutboxItem, out: Outgoing, exc: SlackApiError, *, now: datetime) -> None:
        """Retry what may pass (429, 5xx, Slack's own trouble); give up on everything else."""
        error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
        status = exc.response.status_code if exc.response is not None else 0
        if error not in PERMANENT and (status == 429 or status >= 500 or error in PASSING):
            self._retry(item, error, now=now)
        else:
            self._give_up(item, out, error, now=now)

    def _retry(self, item: OutboxItem, error: str, *, now: datetime) -> None:
        delay = min(2 ** item.attempts, MAX_BACKOFF_SECONDS)
        log.warning("Slack call for outbox item %s (%s) failed with %s; retrying in %ss", item.id, item.kind, error, delay)
        with self.store.transaction() as tx:
            tx.mark_retry(item.id, next_at=now + timedelta(seconds=delay), error=error)

    def _give_up(self, item: OutboxItem, out: Outgoing, error: str, *, now: datetime) -> None:
        """Log it once; a card Slack refused is also told to its requester, by direct message."""
        request = out.request
        channel = getattr(out.payload, "channel", None) or (request.card_channel if request else None)
        log.error("Slack refused outbox item %s (%s) for %s in %s: %s", item.id, item.kind, request.key if request else "-", channel, error)
        with self.store.transaction() as tx:
            tx.mark_failed(item.id, error=error, at=now)
            if request and item.kind == Kind.CARD:
                # A direct message: the channel that refused the card may be where the person filed it.
                text = f"{request.key} is filed, but its card could not be posted in <#{channel}>: {NOT_THERE.get(error, error)}."
                tx.enqueue(Ephemeral(user=request.requester, text=text), at=now)

    def _fail(self, item: OutboxItem, exc: Exception, *, now: datetime) -> None:
        log.error("outbox item %s (%s) cannot be sent; giving it up", item.id, item.kind, exc_info=exc)
        with self.store.transaction() as tx:
            tx.mark_failed(item.id, error=f"{type(exc).__name__}: {exc}"[:500], at=now)
