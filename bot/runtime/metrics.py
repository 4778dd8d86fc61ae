"""The bot's metrics for Prometheus (`GET /metrics`), in a registry of their own that `build_app` makes.

Counted where they happen, through the one `Metrics` that `build_app` hands to each place:
- requests filed: `Intake.file_request`, after its commit;
- acknowledgement latency: `MeteredApp.dispatch`, Bolt's entry point, which both HTTP mode (the WSGI
  adapter) and Socket Mode call: from the request reaching Bolt (its body read and parsed) to Bolt
  returning the acknowledgement that goes back to Slack, so the signature check, the replay check and a
  listener's work before `ack()` are inside, the network and the server's queue are not;
- Web API calls and errors: `MeteredWebClient.api_call`, which every WebClient method goes through
  (the outbox's, users.info's and, through Bolt's context, the listeners' calls); one call with its retries
  counts once;
- nags and SLA breaches: `Jobs.run_nags`, for each nag it recorded (so a repeated run counts nothing);
- job durations and last successes: each run of `Jobs.run_nags` and `Jobs.send_digest` (not dry runs).
Read from the store at each scrape (`StoreFigures`): open requests by status, the outbox's depth, the age of
its oldest pending message, how long its most overdue message has been due, and how many fail again and again.
"""

import logging
import os
import platform
import sqlite3
import time
from importlib.metadata import PackageNotFoundError, version
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from slack_bolt import App, BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.runtime.clock import Clock
from bot.domain.models import OPEN_STATUSES
from bot.domain.thresholds import ALL_RULES, RULE_BREACHED
from storage.db import Db
from storage.health import FAILING_AFTER, outbox_state
from storage.store import Store

log = logging.getLogger(__name__)

PREFIX = "ai_intake_"
UNROUTED = "triage"
"""The domain label of requests no domain took (as `/ai-request queue triage` names them)."""
SURFACES = ("command", "event", "block_actions", "view_submission", "shortcut", "other")
SLA_TARGETS = ("first_response", "resolution")
HOOK_PATHS = ("/hooks/regressions", "/hooks/changes")
"""The hook paths counted by name; any other path under /hooks/ is counted as `other` (the labels stay bounded)."""
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
"""Seconds. Slack waits 3 s for an acknowledgement, so `le="3"` is the line between answered and failed."""
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class _Nag(Protocol):
    rule: str
    step: str


class Metrics:
    """Every metric of one running bot, in `registry` (never prometheus_client's global one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        into = {"registry": self.registry}
        self.requests_filed = Counter(
            f"{PREFIX}requests_filed",
            "Requests filed, by kind and domain (triage: unrouted).",
            ["kind", "domain"],
            **into,
        )
        self.ack_seconds = Histogram(
            f"{PREFIX}ack_seconds",
            "Seconds from a request reaching Bolt to its acknowledgement, by surface.",
            ["surface"],
            buckets=ACK_BUCKETS,
            **into,
        )
        self.web_api_calls = Counter(
            f"{PREFIX}web_api_calls",
            "Slack Web API calls, by method (a call with its retries counts once).",
            ["method"],
            **into,
        )
        self.web_api_errors = Counter(
            f"{PREFIX}web_api_errors",
            "Slack Web API calls that failed, by method and error "
            "(Slack's error code, or the exception for no answer).",
            ["method", "error"],
            **into,
        )
        self.nags = Counter(
            f"{PREFIX}nags", "Nags recorded (each once per request, rule and step), by rule.", ["rule"], **into
        )
        self.sla_breaches = Counter(
            f"{PREFIX}sla_breaches", "SLA breaches: sla.breached nags recorded, by target.", ["target"], **into
        )
        self.job_seconds = Histogram(
            f"{PREFIX}job_duration_seconds",
            "Seconds a scheduled job run took, by job.",
            ["job"],
            buckets=JOB_BUCKETS,
            **into,
        )
        self.job_last_success = Gauge(
            f"{PREFIX}job_last_success_timestamp_seconds",
            "When each job last ran to the end (Unix seconds of the time it ran as).",
            ["job"],
            **into,
        )
        self.refusals = Counter(
            f"{PREFIX}refusals",
            "HTTP requests the bot's port refused (a bad signature, a body it "
            "cannot read, an unknown path), by HTTP status.",
            ["status"],
            **into,
        )
        self.hook_answers = Counter(
            f"{PREFIX}hook_answers",
            "Answers to POST /hooks/…, by hook path and HTTP status.",
            ["path", "status"],
            **into,
        )
        self.outbox_given_up = Counter(
            f"{PREFIX}outbox_given_up",
            "Queued Slack messages given up for good, by outbox "
            "kind and why: refused (Slack said no for good), failed (bad data or a bug), "
            "skipped (can never be sent).",
            ["kind", "why"],
            **into,
        )
        self.build_info = Gauge(
            f"{PREFIX}build_info", "Always 1: the running version and its Python.", ["version", "python"], **into
        )
        self.build_info.labels(version_of("ai-intake"), platform.python_version()).set(1)
        ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, process_resident_memory_bytes, … (Linux)
        for surface in SURFACES:
            self.ack_seconds.labels(surface)
        for rule in sorted(ALL_RULES):
            self.nags.labels(rule)
        for target in SLA_TARGETS:
            self.sla_breaches.labels(target)
        self.wsgi = make_wsgi_app(self.registry)
        """The WSGI app that answers a scrape (text format, or OpenMetrics when asked; gzip when accepted)."""

    def counted_elsewhere(self) -> list[Counter]:
        """The counters the worker process moves (bot/entry/worker.py): its filings and its Slack calls. It sends
        their growth to the front, whose /metrics shows them (`add`)."""
        return [self.requests_filed, self.web_api_calls, self.web_api_errors, self.outbox_given_up]

    def counts(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        """Every sample of `counted_elsewhere`, by the counter's name: (labels, value)."""
        out: dict[str, list[tuple[dict[str, str], float]]] = {}
        for counter in self.counted_elsewhere():
            for family in counter.collect():
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        out.setdefault(family.name, []).append((dict(sample.labels), sample.value))
        return out

    def add(self, growth: dict[str, list[tuple[dict[str, str], float]]]) -> None:
        """Count what another process counted (its `counts`' growth since it last said): unknown names and labels,
        and anything not growing, are ignored."""
        counters = {counter._name: counter for counter in self.counted_elsewhere()}
        for name, samples in growth.items():
            counter = counters.get(name)
            if counter is None:
                continue
            for labels, value in samples:
                if isinstance(labels, dict) and set(labels) == set(counter._labelnames) and value > 0:
                    counter.labels(**labels).inc(value)

    def text(self) -> str:
        """A scrape in Prometheus's text format, as GET /metrics answers it by default."""
        return generate_latest(self.registry).decode()

    def watch(self, store: Store, *, db: Db, clock: Clock) -> None:
        """Read the store's figures at each scrape (`clock` tells the outbox's ages)."""
        self.registry.register(StoreFigures(store, db=db, clock=clock))

    # -- counting ------------------------------------------------------------------------------
    def filed(self, *, kind: str, domain: str | None) -> None:
        self.requests_filed.labels(kind, domain or UNROUTED).inc()

    def acked(self, body: dict[str, Any], *, seconds: float) -> None:
        self.ack_seconds.labels(surface_of(body)).observe(seconds)

    def web_api_call(self, method: str, *, error: str | None = None) -> None:
        self.web_api_calls.labels(method).inc()
        if error is not None:
            self.web_api_errors.labels(method, error).inc()

    def refused(self, status: int) -> None:
        self.refusals.labels(str(status)).inc()

    def hook_answered(self, path: str, status: int) -> None:
        self.hook_answers.labels(path if path in HOOK_PATHS else "other", str(status)).inc()

    def given_up(self, kind: str, *, why: str) -> None:
        self.outbox_given_up.labels(kind, why).inc()

    def nags_recorded(self, nags: Iterable[_Nag]) -> None:
        """Count nags the jobs recorded; an sla.breached nag is also a breach of its target (its step's first part)."""
        for nag in nags:
            self.nags.labels(nag.rule).inc()
            if nag.rule == RULE_BREACHED:
                target = nag.step.partition("/")[0]
                self.sla_breaches.labels(target if target in SLA_TARGETS else "other").inc()

    @contextmanager
    def job_run(self, job: str, *, now: datetime) -> Iterator[None]:
        """Time one run of `job` (even a failing one); a run that ends without an error is its last success, at `now`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.job_seconds.labels(job).observe(time.perf_counter() - started)
        self.job_last_success.labels(job).set(now.timestamp())


def version_of(package: str) -> str:
    """The installed version of `package` ("unknown" when it is run from a source tree that was never installed)."""
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def surface_of(body: dict[str, Any]) -> str:
    """Which Slack surface a request body comes from: one of `SURFACES`."""
    kind = body.get("type")
    if "command" in body and kind is None:
        return "command"
    if kind == "event_callback":
        return "event"
    if kind in ("block_actions", "view_submission"):
        return kind
    if kind in ("shortcut", "message_action"):
        return "shortcut"
    return "other"


class StoreFigures:
    """The figures read from the store at each scrape, with three cheap queries (counts; one pass over the pending
    outbox rows, `storage.health.outbox_state`, the same figures /readyz reads; the hand-runs, a row per job), and the
    database's count of busy answers."""

    def __init__(self, store: Store, *, db: Db, clock: Clock) -> None:
        self._store = store
        self._db = db
        self._clock = clock

    def describe(self) -> list[Metric]:
        return self._families()

    def collect(self) -> list[Metric]:
        open_requests, depth, oldest, overdue, failing, busy, hand_at, hand_ok = self._families()
        busy.add_metric([], self._db.busy)
        now = self._clock()
        try:
            with self._store.reading() as tx:
                counts = tx.open_count_by_status()
                hand = tx.jobs.hand_runs()
            outbox = outbox_state(self._db, now=now)
        except sqlite3.Error as exc:
            log.warning("/metrics could not read the database (%s); its figures are left out of this scrape", exc)
            return [busy]
        for status in OPEN_STATUSES:
            open_requests.add_metric([status], counts.get(status, 0))
        depth.add_metric([], outbox.pending)
        oldest.add_metric([], max(0.0, (now - outbox.oldest).total_seconds()) if outbox.oldest else 0.0)
        overdue.add_metric([], outbox.overdue_seconds)
        failing.add_metric([], outbox.failing)
        for job, (at, ok, _) in sorted(hand.items()):
            hand_at.add_metric([job], at.timestamp())
            hand_ok.add_metric([job], 1 if ok else 0)
        return [open_requests, depth, oldest, overdue, failing, busy, hand_at, hand_ok]

    @staticmethod
    def _families() -> list[Metric]:
        return [
            GaugeMetricFamily(f"{PREFIX}open_requests", "Open requests now, by status.", labels=["status"]),
            GaugeMetricFamily(f"{PREFIX}outbox_pending", "Slack messages queued and not yet sent, held ones included."),
            GaugeMetricFamily(
                f"{PREFIX}outbox_oldest_pending_seconds",
                "Seconds since the oldest queued message was queued "
                "(0: none waits); held and paced messages count, so it is no alert.",
            ),
            GaugeMetricFamily(
                f"{PREFIX}outbox_overdue_seconds",
                "Seconds the message most past its time has been due "
                "and not handled (0: none); past 600 /readyz calls the outbox stalled.",
            ),
            GaugeMetricFamily(
                f"{PREFIX}outbox_failing",
                f"Queued messages that failed {FAILING_AFTER} times or more in "
                "a row; any makes /readyz call the outbox failing.",
            ),
            CounterMetricFamily(
                f"{PREFIX}busy_answers",
                "Units of work refused as busy (the writer stayed busy too long; "
                "the person was told to try again, nothing was written).",
            ),
            GaugeMetricFamily(
                f"{PREFIX}hand_run_last_timestamp_seconds",
                "When each job was last run by hand (`ai-intake jobs run`, Unix seconds of its end).",
                labels=["job"],
            ),
            GaugeMetricFamily(
                f"{PREFIX}hand_run_last_ok",
                "Whether each job's last hand-run ended well (1) or not (0: an error, or a message Slack refused).",
                labels=["job"],
            ),
        ]


# -- the edges where they are measured ------------------------------------------------------------
class MeteredApp(App):
    """Bolt's App, timing each request it dispatches (see the module docstring for what is inside)."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        self.ai_intake_metrics = metrics
        # Bolt names an app (and its loggers) after the file that made it, found with inspect.stack(), which reads
        # every frame's source: tens of milliseconds under a deep stack (a test's). This is the name it finds.
        kwargs.setdefault("name", os.path.basename(__file__))
        super().__init__(**kwargs)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        response = super().dispatch(req)
        self.ai_intake_metrics.acked(req.body, seconds=time.perf_counter() - started)
        return response


class MeteredWebClient(WebClient):
    """slack_sdk's WebClient, counting each Web API call and each failed one in `metrics`."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ai_intake_metrics = metrics

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        try:
            response = super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            self.ai_intake_metrics.web_api_call(api_method, error=error or f"http_{exc.response.status_code}")
            raise
        except Exception as exc:
            self.ai_intake_metrics.web_api_call(api_method, error=type(exc).__name__)
            raise
        self.ai_intake_metrics.web_api_call(api_method)
        return response


def shared_client(client: WebClient) -> Callable[..., BoltResponse]:
    """Middleware: listeners call the Web API through the app's own `client` (its retries, quiet logs and
    counts), not the plain copy Bolt makes for each request. Nothing changes the client's token."""

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        context["client"] = client
        return next()

    return middleware


__all__ = ["Metrics", "MeteredApp", "MeteredWebClient", "StoreFigures", "shared_client", "surface_of", "SURFACES"]
