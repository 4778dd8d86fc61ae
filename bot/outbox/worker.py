"""The outbox worker: the loop that sends what the use cases queued, after Slack was acknowledged.

It holds the database's `notifier` lease (one sender per database) and works in batches: it reads up
to `BATCH` due items and their requests at once, keeps one card per request (a newer render covers
the older ones), paces each channel with a token bucket (its tokens taken in queue order, however the
lanes fall), splits the batch into lanes (`bot.outbox.lanes`), counts the attempts in one unit of work, sends
the lanes concurrently on a small pool, and records the outcomes in units as they come: sent; retried with
backoff after a passing failure (rate limits, server errors, a lost connection); deferred (a nag
outside working hours, a channel out of tokens); or given up, loudly and once, on what can never
work (`channel_not_found`, `not_in_channel` …). Batches overlap: while lanes are out, what falls due is read and
sent beside them, so a card clicked waits for no other card's Slack call (`drain`).

Between rounds it sleeps until the next item falls due, the use cases ring `wakeup`, or the
database changed (another process queued something: `Store.change_count`, looked at every
`WATCH_SECONDS`).
"""

import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.outbox.refusals import PASSING, PERMANENT, retry_after
from bot.runtime.clock import Clock
from bot.runtime.metrics import Metrics
from bot.runtime.leases import holder_alive, holder_name
from bot.outbox.lanes import LEASE_SECONDS, Flight, Lane, Outcome, lane_key, split
from bot.outbox.pacing import Pacer
from bot.outbox.senders import ON_CARD_CHANNEL, SENDERS, Defer, Delivery, Outgoing, Retry, Sent, Skip, Waiting
from bot.runtime.wakeup import Wakeup
from storage.backup import SendJournal, Taken
from storage.db import Upgraded
from storage.outbox import CardUpdate, Ephemeral, Kind, Payload, Told, read_payload
from storage.queue import OutboxItem
from storage.store import Store, Tx

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300
LEASE = "notifier"
BATCH = 100
LANES = 8
"""Lanes sent at once (`Lane`: a posted card's messages, or a channel's others, in order): enough for the cards of
a busy channel clicked at the same moment to be updated together (with four, the fifth of five waited for a lane;
docs/benchmarks.md). A lane mostly waits for Slack. How fast a channel is posted to is the `Pacer`'s, whatever the
lanes; Slack limits chat.update per workspace, not per channel."""
WATCH_SECONDS = 0.5
COLLECT_SECONDS = 0.02
"""While lanes are out, how often the worker looks whether something new was queued (a ring), between outcomes."""
"""How often an idle worker asks whether the database changed (another process may have queued messages)."""


class OutboxWorker:
    """Sends the outbox through `delivery`, waking on `wakeup`, when the next item falls due (`clock`), or when
    the database changed; `pacer` spaces the posts to each channel; `lanes` lanes are sent at once (1: one item at
    a time, with a lane per channel, posted cards or not, so the items go as queued channel by channel: what
    `ai-intake jobs run` and the console show)."""

    def __init__(
        self,
        store: Store,
        delivery: Delivery,
        *,
        clock: Clock,
        wakeup: Wakeup,
        pacer: Pacer,
        lanes: int = LANES,
        journal: SendJournal | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.journal = journal
        """Where each message Slack took is written down, and looked up before sending (a restore may have put it
        back in the queue): `storage.backup.SendJournal`."""
        self.delivery = delivery
        self.clock = clock
        self.wakeup = wakeup
        self.pacer = pacer
        self.holder = holder_name(id(self))
        self.standing_by = False  # another process's worker holds the lease
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._send_lock = threading.Lock()
        self.lanes = lanes
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="ai-intake-outbox-lane")

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
        try:
            with self.store.transaction(background=True) as tx:
                tx.jobs.release_lease(LEASE, holder=self.holder)
        except Upgraded:
            pass  # a newer version has the database: it takes the lease over once it runs out

    def _hold_lease(self) -> bool:
        """Only one worker per database sends: the one holding the `notifier` lease (wall-clock time)."""
        with self.store.transaction(background=True) as tx:
            return tx.jobs.take_lease(
                LEASE,
                holder=self.holder,
                now=datetime.now(timezone.utc),
                seconds=LEASE_SECONDS,
                unless_held_by=holder_alive,
            )

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.wakeup.clear()
            try:
                self.drain(interruptible=True)
                self._idle()
            except Upgraded:  # a newer version took the database over (logged once, where it was found): send no more
                self._stop.wait(LEASE_SECONDS)
            except Exception:
                log.exception("the outbox worker failed; it tries again in a few seconds")
                self.wakeup.wait(2.0)

    def _idle(self) -> None:
        """Until something may be due: a ring, the next item's time, or (unless standing by) a change to the database."""
        changes = self.store.change_count()
        left = self._idle_seconds()
        while left > 0 and not self._stop.is_set():
            step = left if self.standing_by else min(left, WATCH_SECONDS)
            if self.wakeup.wait(step):
                return
            left -= step
            if not self.standing_by and self.store.change_count() != changes:
                return  # another process (or a job here) wrote: there may be something to send

    def _idle_seconds(self) -> float:
        if self.standing_by:
            return LEASE_SECONDS / 3
        with self.store.reading() as tx:
            due = tx.outbox.next_due()
        if due is None:
            return 30.0
        return min(max((due - self.clock()).total_seconds(), 0.05), 30.0)

    def drain(self, *, limit: int = 1000, interruptible: bool = False) -> int:
        """Send everything due now; returns how many items were handled.

        Batches overlap: while lanes are out, what fell due meanwhile (a card clicked, a new request's card) is read
        and sent beside them in lanes of its own, up to `lanes` lanes out; an item whose lane is out waits for it
        (`bot.outbox.lanes`). Returns once every lane is back. `interruptible` (the worker thread): read no more
        once `stop()` was called.
        """
        handled = 0
        flight = Flight()
        with self._send_lock:
            try:
                while True:
                    started = 0
                    reading = handled < limit and not (interruptible and self._stop.is_set())
                    if reading and len(flight.lanes) < self.lanes:
                        if flight.leased(self._hold_lease):
                            self.standing_by = False
                            with self.store.reading() as tx:
                                due = tx.outbox.due(self.clock(), limit=min(BATCH, limit - handled) + len(flight.ids))
                            items = [item for item in due if item.id not in flight.ids]
                            started = self._send_batch(items, flight) if items else 0
                            handled += started
                        else:
                            self.standing_by = True  # another process's worker is sending; it will send these too
                    if started:
                        continue
                    if not flight.lanes:
                        break
                    while flight.lanes and not self._collect(flight):
                        pass  # then read again: a lane came back, or something new was queued
            finally:
                while flight.lanes:  # never leave a lane's outcomes unrecorded
                    self._collect(flight)
        return handled

    def _collect(self, flight: Flight) -> bool:
        """Wait a moment for the lanes' outcomes and record them as they come. Whether to read again: a lane came back
        (what waited for it may go), or a ring (something new was queued and may go beside them)."""
        got: list[Outcome] = []
        again = False
        try:
            first = [flight.outcomes.get(timeout=COLLECT_SECONDS)]
        except queue.Empty:
            first = []
        for o in self._rest(flight.outcomes, first):
            if isinstance(o, Lane):
                del flight.lanes[o.key]
                again = True
            else:
                got.append(o)
        self._record(got, now=self.clock())
        flight.ids.difference_update(o.item.id for o in got)
        if self.wakeup.is_set():
            self.wakeup.clear()
            again = True
        return again

    @staticmethod
    def _rest(outcomes: "queue.Queue[Outcome | Lane]", got: list["Outcome | Lane"]) -> list["Outcome | Lane"]:
        while True:
            try:
                got.append(outcomes.get_nowait())
            except queue.Empty:
                return got

    # -- one batch -----------------------------------------------------------------------------
    def _send_batch(self, items: list[OutboxItem], flight: Flight) -> int:
        """Start the lanes of these items (see `drain`); record at once what needs no Slack call. How many were
        handled (those left for a later read not counted)."""
        now = self.clock()
        payloads, done = self._payloads(items)
        kept, held = self._held_back(items, payloads, now=now, busy=set(flight.lanes))
        outs = self._read(kept, payloads, now=now, done=done)
        done += held
        cut = split(
            outs,
            now=now,
            pacer=self.pacer,
            lanes=self.lanes,
            busy=set(flight.lanes),
            room=self.lanes - len(flight.lanes),
        )
        done += [Outcome(item, out, "defer", until=until, error="paced") for item, out, until in cut.paced]
        # A card superseded by one left for a later read stays queued with it (its homes are refreshed then).
        later = {item.request_id for item in cut.later if item.kind == Kind.CARD}
        done = [o for o in done if not (o.what == "superseded" and o.item.request_id in later)]
        lanes = cut.lanes
        to_send = [pair for lane in lanes for pair in lane.items]
        if to_send:
            with self.store.transaction(background=True) as tx:  # on disk before any attempt is made
                pending = {item.id for item, _ in to_send if tx.outbox.mark_attempt(item.id)}
            # An item no longer pending was superseded since it was read (a person's nags folded into a newer message).
            for lane in lanes:
                lane.items = [(item, out) for item, out in lane.items if item.id in pending]
            lanes = [lane for lane in lanes if lane.items]
        for lane in lanes:
            flight.lanes[lane.key] = lane
            flight.ids.update(item.id for item, _ in lane.items)
            self._pool.submit(self._send_lane, lane, flight.outcomes)
        self._record(done, now=now)
        return len(done) + sum(len(lane.items) for lane in lanes)

    @staticmethod
    def _payloads(items: list[OutboxItem]) -> tuple[dict[int, Payload], list[Outcome]]:
        """Each item's typed payload by id; an item whose stored data fits no kind fails (it can never be sent)."""
        payloads: dict[int, Payload] = {}
        failed: list[Outcome] = []
        for item in items:
            try:
                payloads[item.id] = read_payload(item.kind, item.payload)
            except ValueError as exc:
                failed.append(Outcome(item, None, "failed", exc=exc, error=f"{type(exc).__name__}: {exc}"[:500]))
        return payloads, failed

    def _held_back(
        self, items: list[OutboxItem], payloads: dict[int, Payload], *, now: datetime, busy: set[str]
    ) -> tuple[list[OutboxItem], list[Outcome]]:
        """The pacing check before any request is read whole: of each channel's items, in order, as many as the
        channel has tokens for go on (a card's later renders with the first, which supersedes them); the rest wait
        for the next token. An item whose lane is out (`busy`) is left as it is, for a read after that lane is back.
        It reads only the card channels, so a channel's backlog costs a light read a round, not its requests and
        their events."""
        with self.store.reading() as tx:
            places = tx.card_places([i.request_id for i in items if i.request_id and i.kind in ON_CARD_CHANNEL])
        rooms: dict[str, list[float]] = {}  # channel -> [posts it may still take, seconds until the token after]
        carded: dict[int, bool] = {}  # request id -> its first card in this batch went on
        kept: list[OutboxItem] = []
        held: list[Outcome] = []
        for item in items:
            if item.id not in payloads:
                continue
            posted = None
            if item.kind in ON_CARD_CHANNEL:
                channel, is_posted = places.get(item.request_id or 0, (None, False))
                posted = item.request_id if is_posted else None
            else:
                channel = SENDERS[Kind(item.kind)].channel(Outgoing(item.id, item.attempts, payloads[item.id]))
            if busy and lane_key(item, channel, posted=posted, lanes=self.lanes) in busy:
                continue
            room = rooms.setdefault(channel, list(self.pacer.room(channel))) if channel else None
            if item.kind == Kind.CARD and item.request_id in carded:
                goes = carded[item.request_id]  # superseded by, or held with, the first
            else:
                goes = room is None or room[0] >= 1
                if room is not None and goes:
                    room[0] -= 1
                if item.kind == Kind.CARD and item.request_id:
                    carded[item.request_id] = goes
            if goes:
                kept.append(item)
            else:
                assert room is not None
                held.append(Outcome(item, None, "defer", until=now + timedelta(seconds=room[1]), error="paced"))
        return kept, held

    def _read(
        self, items: list[OutboxItem], payloads: dict[int, Payload], *, now: datetime, done: list[Outcome]
    ) -> list[tuple[OutboxItem, Outgoing]]:
        """Each item with its typed payload and, when it is about a request, the request and its events (read once for
        the batch). Of several cards of one request, the first is sent (it renders the request as it is now) and the
        others are superseded by it (their outcomes go to `done`)."""
        ready: list[tuple[OutboxItem, Outgoing]] = []
        ids = {item.request_id for item in items if item.request_id and item.id in payloads}
        with self.store.reading() as tx:
            found = {r.id: (r, events) for r, events in tx.by_ids_with_events(sorted(ids))}
            carded = {item.request_id for item in items if item.kind == Kind.CARD and item.id in payloads}
            pending = {
                rid
                for rid in ids - carded
                if rid in found and found[rid][0].card_ts is None and tx.outbox.has_pending(rid, kind=Kind.CARD)
            }
        first_card: dict[int, Outgoing] = {}
        for item in items:
            if item.id not in payloads:
                continue
            payload = payloads[item.id]
            request, events = found.get(item.request_id or 0, (None, []))
            card_pending = (
                request is not None and request.card_ts is None and (request.id in carded or request.id in pending)
            )
            out = Outgoing(item.id, item.attempts, payload, request=request, events=events, card_pending=card_pending)
            if item.kind == Kind.CARD and request is not None:
                if request.id in first_card:
                    kept = first_card[request.id]
                    homes = sorted({*kept.payload.homes, *payload.homes})
                    first_card[request.id] = replace(kept, payload=CardUpdate(homes=homes))
                    done.append(Outcome(item, out, "superseded"))
                    continue
                first_card[request.id] = out
            ready.append((item, out))
        ready = [
            (item, first_card.get(item.request_id or 0, out) if item.kind == Kind.CARD else out) for item, out in ready
        ]
        return ready

    def _send_lane(self, lane: Lane, outcomes: "queue.Queue[Outcome | Lane]") -> None:
        """Send one lane's items in order; a card posted here is known to the lines after it in its thread."""
        try:
            posted: dict[int, tuple[str, str]] = {}
            for item, out in lane.items:
                if out.request is not None and out.request.id in posted and out.request.card_ts is None:
                    channel, ts = posted[out.request.id]
                    out = replace(out, request=out.request.model_copy(update={"card_channel": channel, "card_ts": ts}))
                outcome = self._send_one(item, out)
                if outcome.sent and outcome.sent.card and out.request is not None:
                    posted[out.request.id] = outcome.sent.card
                outcomes.put(outcome)
        except Exception as exc:  # never leave the batch waiting for a lane
            log.exception("an outbox lane failed")
            for item, out in lane.items:
                outcomes.put(Outcome(item, out, "retry", error=f"{type(exc).__name__}: {exc}"))
        finally:
            outcomes.put(lane)  # the lane is back

    def _send_one(self, item: OutboxItem, out: Outgoing) -> Outcome:
        sender = SENDERS[Kind(item.kind)]
        if self.journal is not None and (taken := self.journal.find(item.id, queued_at=item.queued_at)):
            log.info(
                "outbox item %s (%s) was sent before (the send journal says so): not sent again", item.id, item.kind
            )
            return Outcome(item, out, "sent", sent=Sent(ts=taken.ts, card=taken.card, permalinks=taken.permalinks))
        try:
            sent = sender.send(self.delivery, out)
        except Waiting as exc:
            return Outcome(item, out, "wait", error=str(exc))
        except Retry as exc:
            return Outcome(item, out, "retry", error=str(exc))
        except Defer as exc:
            return Outcome(item, out, "defer", until=exc.until, error=str(exc))
        except Skip as exc:
            return Outcome(item, out, "skip", error=str(exc))
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown_error") if exc.response is not None else "unknown_error"
            status = exc.response.status_code if exc.response is not None else 0
            if error not in PERMANENT and (status == 429 or status >= 500 or error in PASSING):
                if status == 429 and (channel := sender.channel(out)):
                    self.pacer.pause(channel, retry_after(exc))
                return Outcome(item, out, "retry", error=error)
            return Outcome(item, out, "refused", error=error)
        except (SlackClientError, OSError) as exc:
            return Outcome(item, out, "retry", error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a bug or bad data in this one item: give it up, keep the queue moving
            return Outcome(item, out, "failed", exc=exc, error=f"{type(exc).__name__}: {exc}"[:500])
        if self.journal is not None and item.queued_at:
            try:
                self.journal.record(
                    item.id,
                    queued_at=item.queued_at,
                    taken=Taken(ts=sent.ts, card=sent.card, permalinks=dict(sent.permalinks)),
                )
            except OSError as exc:
                log.error(
                    "could not write outbox item %s to the send journal %s (%s): a restore may send it again",
                    item.id,
                    self.journal.path,
                    exc,
                )
        return Outcome(item, out, "sent", sent=sent)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _record(self, outcomes: list[Outcome], *, now: datetime) -> None:
        """Record what became of these items, in one unit of work."""
        if not outcomes:
            return
        for o in outcomes:
            self._log(o)
        homes: set[str] = set()
        with self.store.transaction(background=True) as tx:
            for o in outcomes:
                self._record_one(tx, o, now=now)
                if o.item.kind == Kind.CARD and o.what not in ("retry", "wait") and o.out is not None:
                    homes |= set(getattr(o.out.payload, "homes", []))
            tx.outbox.refresh_homes(homes, at=now)  # cards handled: the App Homes their changes concern

    def _record_one(self, tx: Tx, o: Outcome, *, now: datetime) -> None:
        item, out = o.item, o.out
        if o.what == "sent":
            assert o.sent is not None
            if o.sent.card and out is not None and out.request is not None:
                tx.set_card(out.request.id, channel=o.sent.card[0], ts=o.sent.card[1])
            for request_id, permalink in o.sent.permalinks.items():
                tx.set_card_permalink(request_id, permalink)
            tx.outbox.mark_sent(item.id, at=now, ts=o.sent.ts)
            if item.kind == Kind.CARD and item.request_id:
                tx.outbox.mark_superseded(item.request_id, kind=Kind.CARD, up_to=item.id, at=now)
        elif o.what == "superseded":
            tx.outbox.mark_item_superseded(item.id, at=now)
        elif o.what in ("retry", "wait"):
            tx.outbox.mark_retry(
                item.id,
                next_at=now + timedelta(seconds=min(2**item.attempts, MAX_BACKOFF_SECONDS)),
                error=o.error,
                failed=o.what == "retry",
            )
        elif o.what == "defer":
            assert o.until is not None
            tx.outbox.mark_retry(item.id, next_at=o.until, error=o.error)
        else:  # skip, refused, failed
            tx.outbox.mark_failed(item.id, error=o.error, at=now)
            if self.metrics is not None:
                self.metrics.given_up(item.kind, why={"skip": "skipped"}.get(o.what, o.what))
            request = out.request if out is not None else None
            if o.what == "refused" and request and item.kind == Kind.CARD:
                # A direct message: the channel that refused the card may be where the person filed it.
                facts = {"key": request.key, "channel": request.card_channel, "error": o.error}
                tx.outbox.enqueue(
                    Ephemeral(user=request.requester, told=Told(what="card_not_posted", facts=facts)), at=now
                )

    @staticmethod
    def _log(o: Outcome) -> None:
        item = o.item
        if o.what in ("retry", "wait"):
            delay = min(2**item.attempts, MAX_BACKOFF_SECONDS)
            log.warning(
                "Slack call for outbox item %s (%s) failed with %s; retrying in %ss", item.id, item.kind, o.error, delay
            )
        elif o.what == "refused":
            request = o.out.request if o.out else None
            channel = getattr(o.out.payload, "channel", None) if o.out else None
            channel = channel or (request.card_channel if request else None)
            log.error(
                "Slack refused outbox item %s (%s) for %s in %s: %s",
                item.id,
                item.kind,
                request.key if request else "-",
                channel,
                o.error,
            )
        elif o.what == "failed":
            log.error("outbox item %s (%s) cannot be sent; giving it up", item.id, item.kind, exc_info=o.exc)


__all__ = ["OutboxWorker", "Outcome", "PERMANENT", "PASSING"]
