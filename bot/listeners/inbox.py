"""Ack at once, work after: commands, clicks and shortcuts that arrive over HTTP go through the inbox.

`keep_in_inbox` is a middleware placed after the door (signature, shape, installation): a delivery the HTTP server
marked deferrable (`DEFERRABLE` in the request's context) that is a command, a click or a shortcut is kept in the
inbox (`storage.inbox`: handed to its keeper, which writes it with the others handed over meanwhile in one
durable unit) and acked with an empty 200, before any listener runs.
The `InboxWorker` then runs each kept delivery through the same Bolt app (marked `WORKED`, so this step lets it
through and the door does not check its signature's age again: it was checked when it arrived), waits for its
listener to finish, and posts what the listener acked with (the ephemeral answer, "Filed AIR-12 → #support") to
the delivery's `response_url`; then marks it done. Over HTTP the worker works in a process of its own and the front
alone writes the inbox's file: the worker hands each done mark to the front (`done_elsewhere`, `worked`), so an ack's
commit never meets another process's lock on that file (SQLite's busy wait sleeps: 18 ms on average, measured).

Mentions, thread replies and direct messages are kept too, keyed by their event id (Slack's retries of an event
carry the same one): Slack sends no event again once it got its 200, so one acked and not yet filed would
otherwise be lost to a crash. Their effects are keyed by the Slack message they come from, so one worked twice
files once.

Kept inline (answered in the request, as before): view submissions (their ack carries the form's errors), what
opens a modal (`views.open` needs the trigger id within Slack's 3 seconds: the command's form, "Log a change",
"Not mine", "Edit", …), the other events (a :ticket: reaction reads its message before its ack, and is answered
503 for Slack to send it again when it cannot; other messages and App Home opens are ignored or only
published), Socket Mode (its ack goes over the socket) and whatever the console dispatches.

Order: deliveries are worked in the order kept, on `LANES` lanes; any free lane takes the next person's next
delivery, and one person's deliveries are worked one at a time, in the order they were sent. A delivery whose effect
committed is not applied twice: its effect's unit of work claims `sig:<signature>` (`drop_replays`), so the same
delivery worked again after a crash is dropped.
"""

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from collections import deque
from queue import Empty, SimpleQueue
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk.http_retry import RetryIntervalCalculator
from slack_sdk.webhook import WebhookClient

from bot.blocks import ids
from bot.domain import parsing
from bot.domain.errors import Busy, NotSaved
from bot.runtime.logs import withhold_library_payloads
from bot.runtime.retries import slack_retries
from storage.db import Upgraded
from storage.inbox import Inbox, Kept

log = logging.getLogger(__name__)

DEFERRABLE = "ai_intake_deferrable"
"""Context key the HTTP server sets on what it dispatches: this delivery may be acked at once and worked later."""
WORKED = "ai_intake_inbox_seq"
"""Context key the inbox worker sets on what it dispatches: the kept delivery's `seq` (the door lets it through)."""
KEPT_HEADERS = ("content-type", "x-slack-signature", "x-slack-request-timestamp")
LANES = 8
"""Deliveries worked at once. A listener that waits for Slack (a shortcut reading the message) or for its commit to
reach the disk holds one lane, not all, and the units of work of lanes working together commit in one batch. Any
free lane takes the next person's next delivery; one person's are worked one at a time, so theirs keep their order
(a lane per person, by hash, left some lanes with twice the others' people: their answers came twice as late).
Over HTTP the lanes run in the worker process (`bot.entry.worker`), apart from the acks: at 50 commands in flight
8 lanes answered in 0.67 s (p50) where 2 took 0.93 s (docs/benchmarks.md). In one process with the acks (the
tests) each lane takes its share of the interpreter from them, and lets the acks in flight go first
(`YIELD_SECONDS`)."""
POSTERS = 8
"""Answers posted to response_urls at once (Slack's round trip is waited for here, not in a lane)."""
YIELD_SECONDS = 0.02
"""Before each delivery a lane waits up to this long for the acks in flight to be answered: the acks go first."""
LISTENER_SECONDS = 30.0
"""How long a lane waits for a delivery's listener to finish before it moves on (it is logged)."""
PRUNE_EVERY_SECONDS = 60.0
BUSY_WAIT_SECONDS = 0.25
"""How long a click, a shortcut or an event waits for the writer to be kept. When it is held longer (a long job,
another process), the delivery is worked in the request as it would be without the inbox: acked at once, its
change waiting for the writer after the ack. A command waits what a person's unit of work waits, and is answered
"busy" in its ack when that passes."""

WORKED_AFTER_ACTIONS = frozenset(
    {
        ids.CLAIM,
        ids.RESOLVE,
        ids.WAIT,
        ids.REOPEN,
        ids.WITHDRAW,
        ids.OWN,
        ids.REASSIGN,
        ids.MOVE,
        ids.REVIEW_START,
        ids.REVIEW_APPROVE,
        ids.REVIEW_CHANGES,
        ids.HAND,
        ids.SNOOZE,
        ids.LIST_PAGE,
        ids.SET_KIND,
        ids.SET_PRIORITY,
        ids.TRIAGE_KEEP,
        ids.TRIAGE_PICK,
        ids.HOME_PAGE,
        ids.CHANGE_NEEDS_WORK,
        ids.CHANGE_SNOOZE,
        ids.SEARCH_MORE,
    }
)
"""The buttons and selects acked at once and worked after. Not here, so worked in the request: what opens a modal
(`views.open` needs the trigger id within Slack's 3 s: "Not mine", "Edit", "Duplicate of…", "Resolve…", the change
log's "Covered" and "Not relevant"), and what no listener knows (Bolt's 404, as before)."""
WORKED_AFTER_SHORTCUTS = frozenset({ids.FROM_MESSAGE})
"""The shortcuts acked at once and worked after ("Create AI request"; "Log a change" opens a form)."""


def deferrable(body: Any, *, kinds: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    """Whether a delivery of this shape is acked at once and worked after: `/ai-request` with words that do not open
    a form, a click, a shortcut (none that opens a modal); a mention, a thread reply or a direct message (Slack
    does not send again an event it got its 200 for: kept, it survives a crash between its ack and its filing)."""
    if not isinstance(body, dict):
        return False
    if "command" in body:
        if body.get("command") != ids.COMMAND:
            return False
        parsed = parsing.parse_command(str(body.get("text") or ""), kinds=kinds)
        return not isinstance(parsed, parsing.OpenForm) and not (
            isinstance(parsed, parsing.Shipped) and not parsed.text
        )
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return (
            isinstance(actions, list)
            and bool(actions)
            and all(isinstance(a, dict) and a.get("action_id") in WORKED_AFTER_ACTIONS for a in actions)
        )
    if kind in ("message_action", "shortcut"):
        return body.get("callback_id") in WORKED_AFTER_SHORTCUTS
    if kind == "event_callback" and isinstance(event := body.get("event"), dict):
        return event.get("type") == "app_mention" or (
            event.get("type") == "message" and bool(event.get("thread_ts") or event.get("channel_type") == "im")
        )
    return False


def key_of(body: dict[str, Any], signature: str) -> str:
    """The inbox key of a delivery: an event's id (Slack's retries of it carry the same), else its signature."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    return f"ev:{event_id}" if isinstance(event_id, str) and event_id else f"sig:{signature}"


def actor_of(body: dict[str, Any]) -> str:
    """Who sent the delivery (a command's `user_id`, an interaction's `user.id`), for the lane it is worked on."""
    user, event = body.get("user"), body.get("event")
    if isinstance(event, dict):
        user = event.get("user")
    return str(body.get("user_id") or (user.get("id") if isinstance(user, dict) else user) or "")


def keep_in_inbox(
    inbox: Inbox, *, clock: Callable[[], datetime], kinds: Any, kept: Callable[[int], None]
) -> Callable[..., BoltResponse]:
    """The middleware that keeps a deferrable delivery in the inbox and acks it with an empty 200 (see the module
    docstring). A replay of a kept delivery is acked the same and kept once. When the database cannot keep it (a
    full disk), the delivery is worked in the request, as it would be without the inbox (and the person told)."""

    def middleware(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        context = request.context
        if not context.get(DEFERRABLE) or context.get(WORKED) is not None:
            return next()
        body = request.body
        if not deferrable(body, kinds=kinds):
            return next()
        signature = (request.headers.get("x-slack-signature") or [None])[0]
        if not signature:
            return next()
        headers = {name: values[0] for name in KEPT_HEADERS if (values := request.headers.get(name))}
        headers["x-ai-intake-actor"] = actor_of(body)
        command = "command" in body
        try:
            seq = inbox.keep(
                key_of(body, signature),
                body=request.raw_body,
                headers=headers,
                at=clock(),
                wait=None if command else BUSY_WAIT_SECONDS,
            )
        except (NotSaved, Upgraded):  # worked in the request, as without the inbox: reads still answer
            return next()
        except Busy as exc:
            if command:  # it waited what a person can wait: say so now, in the ack
                return BoltResponse(status=200, body={"text": exc.message, "response_type": "ephemeral"})
            return next()  # acked at once and worked in the request, as without the inbox
        if seq is None:
            log.info("dropped a replayed delivery")
        else:
            kept(seq)
        return BoltResponse(status=200, body="")

    return middleware


def ack_answer(response: BoltResponse) -> dict[str, Any] | None:
    """What the listener acked with, as a response_url post (ephemeral), or None when it acked with nothing."""
    if response.status != 200 or not response.body:
        return None
    try:
        answer = json.loads(response.body)
    except ValueError:
        return {"text": response.body, "response_type": "ephemeral"}
    if not isinstance(answer, dict) or not (answer.get("text") or answer.get("blocks")):
        return None
    return {**answer, "response_type": answer.get("response_type") or "ephemeral"}


def answer_poster(retry_intervals: RetryIntervalCalculator | None = None) -> Callable[[str, dict[str, Any]], int]:
    """Post an answer to a response_url, retrying connection errors, 429s and 5xx answers (`slack_retries`); the
    HTTP status."""
    logger = logging.getLogger("slack_sdk.webhook")
    withhold_library_payloads(logger)

    def post(url: str, answer: dict[str, Any]) -> int:
        webhook = WebhookClient(
            url,
            logger=logger,
            retry_handlers=slack_retries(rate_limited=2, intervals=retry_intervals),
        )
        return webhook.send_dict(answer).status_code

    return post


class InboxWorker:
    """Works the kept deliveries (see the module docstring): a feeder thread reads what is pending, in order, and
    hands each to its lane; each lane dispatches, waits for the listener, posts the answer, marks it done."""

    def __init__(
        self,
        inbox: Inbox,
        app: App,
        *,
        track: Callable[[], Any],
        clock: Callable[[], datetime],
        lanes: int = LANES,
        post: Callable[[str, dict[str, Any]], int] | None = None,
        tell: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.inbox = inbox
        self.app = app
        self.track = track
        self.clock = clock
        self.lanes = max(1, lanes)
        self.post = post or answer_poster()
        self.tell = tell
        """(user, response_url, text): queue an answer in the outbox, when posting it at once failed."""
        self.answers: dict[str, tuple[str, dict[str, Any]]] = {}
        """The last answers posted (or tried: a post that failed is logged), by delivery key: (response_url, body).
        The tests read them."""
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._latest = 0  # the highest seq known kept
        self._fed = 0  # the highest seq handed to a lane
        self._in_flight = 0
        self._ready: SimpleQueue[str | None] = SimpleQueue()
        """People with a delivery to work and none being worked, in the order their next one was kept."""
        self._waiting: dict[str, deque[Kept]] = {}
        """Each person's deliveries fed and not yet taken by a lane; a person is here while one of theirs is worked."""
        self._people = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._posters = ThreadPoolExecutor(max_workers=POSTERS, thread_name_prefix="ai-intake-inbox-answer")
        self._acks = threading.Condition()
        self._acking = 0
        self._stopping = False
        self._last_prune = 0.0
        self._done: Callable[[int, datetime], None] = lambda seq, at: self.inbox.done([(seq, at)])
        self._prunes = True

    def done_elsewhere(self, done: Callable[[int, datetime], None]) -> None:
        """Another process writes the inbox (the front, `bot.entry.worker`): each delivery worked is handed to
        `done(seq, at)` instead of marked here, and nothing is pruned here. Only reads reach the inbox's file."""
        self._done = done
        self._prunes = False

    def worked(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """The worker process worked these deliveries, each `seq` at its time (the front's side of `done_elsewhere`):
        mark them done in one unit, and prune the old ones once in a while."""
        if marks:
            self.inbox.done(marks)
            self._prune(now=max(at for _, at in marks))

    # -- the HTTP side ---------------------------------------------------------------------------------------------
    def kept(self, seq: int) -> None:
        """A delivery was kept: wake the feeder."""
        with self._idle:
            self._latest = max(self._latest, seq)
        self._wake.set()

    def ring(self) -> None:
        """Another process kept deliveries (the front, `bot.entry.worker`): wake the feeder to read them."""
        self._wake.set()

    # -- running ---------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the feeder and the lanes; what was kept and not done before (a crash) is worked first."""
        if self._threads:
            return
        self._stopping = False
        self._ready, self._waiting = SimpleQueue(), {}
        pending = self.inbox.pending(limit=1_000_000)
        with self._idle:
            self._latest = max([self._latest, *(k.seq for k in pending)])
        self._threads = [threading.Thread(target=self._feed, name="ai-intake-inbox", daemon=True)] + [
            threading.Thread(target=self._lane, name=f"ai-intake-inbox-{i}", daemon=True) for i in range(self.lanes)
        ]
        for thread in self._threads:
            thread.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking deliveries; a lane finishes the one it works. What is left stays kept for the next start."""
        self._stopping = True
        self._wake.set()
        for _ in self._threads:
            self._ready.put(None)
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads = []
        self._posters.shutdown(wait=True)
        self._posters = ThreadPoolExecutor(max_workers=POSTERS, thread_name_prefix="ai-intake-inbox-answer")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every delivery kept so far was worked (True), or `timeout` seconds pass (False)."""
        self._wake.set()
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0 and self._fed >= self._latest, timeout=timeout)

    def _feed(self) -> None:
        while not self._stopping:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            if self._stopping:
                return
            try:
                self._feed_pending()
                if self._prunes:
                    self._prune(now=self.clock())
            except Exception:  # noqa: BLE001 - the database is away for a moment: try again at the next ring
                log.exception("the inbox could not be read")
                time.sleep(0.5)

    def _feed_pending(self) -> None:
        while not self._stopping:
            batch = self.inbox.pending(after=self._fed)
            if not batch:
                return
            for kept in batch:
                with self._idle:
                    self._in_flight += 1
                    self._fed = kept.seq
                person = kept.headers.get("x-ai-intake-actor", "")
                with self._people:
                    if person in self._waiting:  # one of theirs is waiting or being worked: this one follows it
                        self._waiting[person].append(kept)
                    else:
                        self._waiting[person] = deque([kept])
                        self._ready.put(person)

    def _prune(self, *, now: datetime) -> None:
        if time.monotonic() - self._last_prune >= PRUNE_EVERY_SECONDS:
            self._last_prune = time.monotonic()
            self.inbox.prune(now=now)

    def _lane(self) -> None:
        """Take the next person ready, work their next delivery, and put them back in line if they have more: any free
        lane takes any person's, and one person's are worked one at a time, in the order kept."""
        while True:
            try:
                person = self._ready.get(timeout=1.0)
            except Empty:
                if self._stopping:
                    return
                continue
            if person is None:
                return
            with self._people:
                kept = self._waiting[person].popleft()
            try:
                self._work_in_lane(kept)
            finally:
                with self._people:
                    if self._waiting[person]:
                        self._ready.put(person)
                    else:
                        del self._waiting[person]

    def _work_in_lane(self, kept: Kept) -> None:
        with self._acks:  # the acks first: a delivery waits a moment for those in flight
            self._acks.wait_for(lambda: self._acking == 0, timeout=YIELD_SECONDS)
        handed = False
        try:
            handed = self.work(kept)
        except Exception:  # noqa: BLE001 - one delivery's failure must not stop the lane; it is worked at restart
            log.exception("an inbox delivery could not be worked")
        finally:
            if not handed:
                self._finished()

    def _finished(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    # -- the acks in flight (the HTTP server counts them) ----------------------------------------------------------
    def ack_started(self) -> None:
        with self._acks:
            self._acking += 1

    def ack_ended(self) -> None:
        with self._acks:
            self._acking -= 1
            if self._acking == 0:
                self._acks.notify_all()

    def _through_outbox(self, body: dict[str, Any], url: str, text: str) -> None:
        """The answer's text, queued in the outbox to the same response_url: it retries until Slack takes it."""
        user = actor_of(body)
        if self.tell is None or not user or not text:
            return
        try:
            self.tell(user, url, text)
        except Exception as exc:  # noqa: BLE001 - the last resort: the log says the person was not answered
            log.warning("could not queue an answer either: %s", type(exc).__name__)

    def work(self, kept: Kept) -> bool:
        """Run one kept delivery through the Bolt app and wait for its listener; then mark it done, or hand its answer
        to a poster thread, which posts it and marks it done (True)."""
        headers = {k: v for k, v in kept.headers.items() if not k.startswith("x-ai-intake-")}
        request = BoltRequest(body=kept.body, headers=headers, context={WORKED: kept.seq})
        with self.track() as started:
            response = App.dispatch(self.app, request)  # not MeteredApp's: its ack was counted when it arrived
        if started:
            _, waiting = futures.wait(started, timeout=LISTENER_SECONDS)
            if waiting:
                log.warning("an inbox delivery's listener is still running after %.0f s", LISTENER_SECONDS)
        if response.status >= 400:
            log.warning("an inbox delivery was answered %d", response.status)
        answer = ack_answer(response)
        url = request.body.get("response_url") if isinstance(request.body, dict) else None
        if answer is not None and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
            log.warning("a delivery with no usable response_url: its answer was not posted")
            answer = None
        if answer is None or not isinstance(url, str):
            self._done(kept.seq, self.clock())
            return False
        self.answers[kept.key] = (url, answer)
        if len(self.answers) > 1000:
            self.answers.pop(next(iter(self.answers)))
        self._posters.submit(self._answer, kept, request.body, url, answer)
        return True

    def _answer(self, kept: Kept, body: dict[str, Any], url: str, answer: dict[str, Any]) -> None:
        """Post the answer (on a thread of its own: a lane does not wait for Slack), then mark the delivery done."""
        try:
            try:
                status = self.post(url, answer)
                failed = f"HTTP {status}" if status >= 300 else None
            except Exception as exc:  # noqa: BLE001 - the effect is done; the answer goes through the outbox instead
                failed = type(exc).__name__
            if failed is not None:
                log.warning("could not post an answer to its response_url (%s): it goes through the outbox", failed)
                self._through_outbox(body, url, str(answer.get("text") or ""))
            self._done(kept.seq, self.clock())
        except Exception:  # noqa: BLE001 - not marked done: worked again at restart, where its key drops it
            log.exception("an inbox delivery's answer could not be finished")
        finally:
            self._finished()
