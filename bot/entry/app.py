"""build_app(...): the one place a Bolt App is made, wired to the use cases, the store and the outbox worker."""

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry import RetryIntervalCalculator

from bot.usecases import learning
from bot import listeners
from bot.usecases.changelog import ChangeLog
from bot.runtime.clock import Clock, system_clock
from bot.domain.policy import Config
from bot.usecases.facts import Facts, facts_of
from bot.hooks import HookVerifier
from bot.usecases.jobs import Jobs
from bot.listeners.middleware import provide
from bot.listeners import trust
from bot.listeners.inbox import InboxWorker, answer_poster, keep_in_inbox
from bot.runtime.retries import slack_retries
from bot.listeners.trust import at_the_door, verify_signature
from bot.runtime.logs import withhold_library_payloads
from bot.usecases.machine_intake import MachineIntake
from bot.runtime.metrics import MeteredApp, MeteredWebClient, Metrics, shared_client
from bot.outbox.pacing import Pacer
from bot.outbox.senders import Delivery
from bot.outbox.slack import Poster
from bot.outbox.worker import LANES, OutboxWorker
from bot.outbox.working_hours import WorkingHours
from bot.usecases.queries import Queries
from bot.usecases.service import Intake
from bot.runtime.wakeup import Wakeup
from bot.entry.webhooks import HookEndpoints
from storage.db import Db
from storage.inbox import open_inbox
from storage.backup import SendJournal, journal_path
from storage.store import Store

LISTENER_THREADS = 16
SWITCH_INTERVAL_SECONDS = 0.001
"""How often a thread running Python hands the interpreter (the GIL) to one that waits for it: 1 ms, not Python's
5 ms. The bot's threads mostly wait (for a socket, the writer, a commit, Slack) and then need the interpreter for
a moment; under load, 5 ms per hand-over, several times per request, was most of an acknowledgement's time
(docs/benchmarks.md)."""


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener executor, counting what is in flight so shutdown (and tests) can wait for it."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="ai-intake-listener")
        self._busy = 0
        self._idle = threading.Condition()
        self._tracking = threading.local()

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        with self._idle:
            self._busy += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        started = getattr(self._tracking, "started", None)
        if started is not None:
            started.append(future)
        return future

    @contextmanager
    def tracking(self) -> Iterator[list[Future]]:
        """The listeners this thread starts inside the block (Bolt starts a request's listener on the thread that
        dispatches it): the inbox worker waits for them, so a delivery is done when its listener is."""
        started: list[Future] = []
        self._tracking.started = started
        try:
            yield started
        finally:
            self._tracking.started = None

    def _done(self, _future: object) -> None:
        with self._idle:
            self._busy -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no listener runs (True), or `timeout` seconds pass (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout)


@dataclass
class Bot:
    """Everything one running ai-intake holds: the Bolt app, the use cases (write, read, scheduled, the change
    log), the hook endpoints, the outbox worker, the store and its database (with each request's facts kept), the
    config and the clock they share."""

    app: App
    config: Config
    clock: Clock
    store: Store
    intake: Intake
    queries: Queries
    jobs: Jobs
    outbox: OutboxWorker
    db: Db
    pool: ListenerPool
    metrics: Metrics
    changelog: ChangeLog
    hooks: HookEndpoints
    facts: Facts
    inbox: InboxWorker

    def start(self) -> None:
        """Send the outbox and work the inbox in this process (Socket Mode, the worker process, the tests)."""
        self.outbox.start()
        self.inbox.start()

    def stop(self) -> None:
        self.inbox.stop()
        self.pool.wait_idle(timeout=5)
        self.outbox.stop()
        self.inbox.inbox.close()
        self.db.close()


class _QuietTokenNotice(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client's token wins; it is the same token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def bolt_logger() -> logging.Logger:
    """Bolt's logger, with no request body in its lines (Bolt copies its filters to the loggers it makes)."""
    logger = logging.getLogger("slack_bolt")
    if not any(isinstance(f, _QuietTokenNotice) for f in logger.filters):
        logger.addFilter(_QuietTokenNotice())
    withhold_library_payloads(logger)
    return logger


def web_client(
    token: str,
    *,
    api_url: str | None,
    metrics: Metrics | None = None,
    retry_intervals: RetryIntervalCalculator | None = None,
) -> WebClient:
    """The Web API client: retries connection errors, 429s (after Retry-After) and 5xx answers (`slack_retries`);
    logs no call's content; counts every call in `metrics`."""
    logger = logging.getLogger("slack_sdk.web")
    withhold_library_payloads(logger)
    return MeteredWebClient(
        metrics=metrics or Metrics(),
        token=token,
        base_url=api_url or WebClient.BASE_URL,
        logger=logger,
        retry_handlers=slack_retries(rate_limited=3, intervals=retry_intervals),
    )


def build_app(
    *,
    config: Config,
    db_path: str,
    token: str,
    signing_secret: str | None,
    api_url: str | None = None,
    clock: Clock = system_clock,
    post_interval: float = 1.0,
    outbox_lanes: int = LANES,
    hook_secrets: Mapping[str, str] | None = None,
    elsewhere: Callable[[], None] | None = None,
    retry_intervals: RetryIntervalCalculator | None = None,
) -> Bot:
    """Open the database, make the use cases, the outbox worker and the Bolt app with every listener.

    The store's units of work ring `wakeup` after each commit that queued Slack messages; the outbox worker waits on
    it. `post_interval`: seconds for a channel's pacing token to come back (Slack allows about one post a second
    per channel, with short bursts; 0: no pacing). `outbox_lanes`: lanes the worker sends at once (a posted card's
    messages, or a channel's others; 1: one post at a time, in the order queued, as the console and `ai-intake jobs
    run` do). `hook_secrets`: each configured hook source's secret (a source without one is refused). `elsewhere`:
    rung as well after each commit that queued Slack messages and each delivery kept in the inbox, when another
    process sends the outbox and works the inbox (`bot.entry.worker`). `retry_intervals`: the Slack clients' waits
    between retries in one call (`bot.runtime.retries`; default: slack_sdk's backoff with jitter).
    """
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    db = Db(db_path)
    metrics = Metrics()
    client = web_client(token, api_url=api_url, metrics=metrics, retry_intervals=retry_intervals)
    wakeup = Wakeup()
    ring = wakeup.set if elsewhere is None else lambda: (wakeup.set(), elsewhere())
    store = Store(db, facts_of=facts_of(config), ring=ring)  # its units of work ring the outbox worker
    facts = Facts(store, config)
    facts.prepare()
    learning.prepare(store, config)  # the seed and the domains' descriptions triage reads, when they changed
    metrics.watch(store, db=db, clock=clock)
    intake = Intake(store, config, clock=clock, metrics=metrics)
    queries = Queries(store, config)
    changelog = ChangeLog(store, config, intake=intake, clock=clock)
    machines = MachineIntake(store, config, intake=intake, changelog=changelog, clock=clock)
    secrets = {s: v for s, v in (hook_secrets or {}).items() if s in config.hooks}
    schemes = {name: source.signature for name, source in config.hooks.items()}
    hooks = HookEndpoints(
        machines,
        HookVerifier(secrets, clock=clock, schemes=schemes),
        enabled=bool(config.hooks),
        routes={name: (source.format, source.domain) for name, source in config.hooks.items()},
    )
    jobs = Jobs(store, config, metrics=metrics, facts_ready=facts.wait)
    pacer = Pacer(post_interval, clock=clock)
    delivery = Delivery(
        poster=Poster(client),
        config=config,
        clock=clock,
        working_hours=WorkingHours(store, client, config).of,
        home_of=queries.home,
        requests_of=queries.by_ids,
        change_of=changelog.view,
        change_home_of=changelog.home,
        suspects_of=lambda request, now: changelog.suspects_of(request, now=now),
        away_of=lambda people, on: queries.away_among(people, on=on),
    )
    journal = SendJournal(path) if (path := journal_path(db_path)) else None
    outbox = OutboxWorker(
        store, delivery, clock=clock, wakeup=wakeup, pacer=pacer, lanes=outbox_lanes, journal=journal, metrics=metrics
    )
    pool = ListenerPool(LISTENER_THREADS)
    try:
        app = MeteredApp(
            metrics=metrics,
            client=client,
            signing_secret=signing_secret or "socket-mode-does-not-sign",
            request_verification_enabled=False,  # Bolt's check logs bodies and 500s on a bad timestamp; this one does not
            before_authorize=at_the_door(verify_signature(signing_secret) if signing_secret is not None else None),
            listener_executor=pool,
            logger=bolt_logger(),
        )
        trust.guard(app, client)  # asks auth.test who this installation is
        inbox = InboxWorker(
            open_inbox(db_path, db),
            app,
            track=pool.tracking,
            clock=clock,
            post=answer_poster(retry_intervals),
            tell=lambda user, url, text: intake.tell(user=user, channel=None, text=text, response_url=url),
        )
        kept = inbox.kept if elsewhere is None else lambda seq: (inbox.kept(seq), elsewhere())
        app.use(keep_in_inbox(inbox.inbox, clock=clock, kinds=config.kind_names, kept=kept))
        app.use(provide(intake=intake, queries=queries, changelog=changelog, config=config, clock=clock))
        app.use(shared_client(client))
        listeners.register(app)
    except BaseException:  # auth.test failed: the caller may try again, without this connection left open
        pool.shutdown(wait=False)
        db.close()
        raise
    return Bot(
        app=app,
        config=config,
        clock=clock,
        store=store,
        intake=intake,
        queries=queries,
        jobs=jobs,
        outbox=outbox,
        db=db,
        pool=pool,
        metrics=metrics,
        changelog=changelog,
        hooks=hooks,
        facts=facts,
        inbox=inbox,
    )
