"""HTTP mode: Bolt's WSGI adapter at /slack/events, /healthz and /readyz, the hooks (/hooks/regressions, /hooks/changes,
`bot.entry.webhooks`), served by waitress (one process, threads); and the server of its own that serves /metrics on
another port (never the bot's). In Socket Mode the bot's server serves only /healthz, /readyz and the
hooks, and only when the config names hook sources.

Limits (docs/security.md gives them too):
- `MAX_BODY_BYTES`: a larger body is answered 413 from its Content-Length, before it is read.
- `CONNECTION_LIMIT` open connections (the process's open-file limit is raised to fit them); one idle for
  `IDLE_TIMEOUT_SECONDS` is closed, and one whose request has not arrived whole `REQUEST_DEADLINE_SECONDS`
  after its first byte (a client dripping its headers or body) too. Past the limit new connections wait
  in the listen queue, so a few hundred idle or slow sockets cannot hold up Slack's requests; a
  determined flood is a reverse proxy's job (docs/security.md shows one).
- A body Bolt cannot parse (not UTF-8, broken form or JSON, JSON nested too deep) is answered 400
  with one WARNING line, never a traceback; a missing, repeated, stale or wrong signature 401
  (`bot.listeners.trust.verify_signature`).
"""

import json
import resource
import time
from http import HTTPStatus
import logging
import sqlite3
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer, create_server
from waitress.task import ThreadedTaskDispatcher

from bot.entry.app import Bot
from bot.entry.webhooks import PREFIX as HOOKS_PREFIX
from bot.listeners.inbox import DEFERRABLE, InboxWorker
from storage.health import outbox_state, schema_problem, write_problem, writer_wedged

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
METRICS_PATH = "/metrics"
METRICS_THREADS = 2
SERVER_THREADS = 16
MAX_BODY_BYTES = 1024 * 1024
"""1 MiB. Slack's payloads are small: the biggest form (an edit with a 3,000-character description of
emoji in both the view and its state, two long links) is about 160 KB, and a message shortcut on a
40,000-character message in a non-Latin script, with its rich-text copy, about 640 KB (tests/test_door.py
measures both)."""
OUTBOX_STALLED_AFTER = timedelta(minutes=10)
"""/readyz calls the outbox stalled once a message has been due this long without being handled: nobody sends (the
worker stopped, or no process holds the outbox). A message held for its recipient's working hours, or paced behind
others in a backlog that drains at Slack's pace, is not due until its time, so it never counts."""
CONNECTION_LIMIT = 2000
"""Open connections waitress serves at once (its default, 100, let 100 idle sockets stall every request; 500 let
520 stall them 13 s). Past it, new connections wait in the listen queue until one closes. `make_server` raises
the process's soft limit of open files to fit them (and the database's files and Web API calls) when the hard
limit allows, else serves fewer (`connection_limit`)."""
IDLE_TIMEOUT_SECONDS = 10
"""A connection with no request in flight and nothing sent for this long is closed (waitress's default is 120 s).
Slack sends a request and reads the answer within 3 s."""
REQUEST_DEADLINE_SECONDS = 5
"""A request must arrive whole (headers and body) within this many seconds of its first byte, or its connection
is closed: Slack sends each request at once, and a client that drips a byte now and then, which the idle timeout
never catches, holds no connection for longer."""
ACCEPT_BATCH = 128
"""Connections taken from the listen queue at most per turn of the server's loop."""
FILES_BESIDES_CONNECTIONS = 256
"""Open files kept for everything but connections: the database, its WAL, readers, Web API calls, logs."""


def liveness(bot: Bot) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /healthz: 200 while the process serves and its writer is not wedged (its lock comes
    within `WRITE_WAIT_SECONDS`); else 503. Nothing a restart would not cure makes it fail: a full disk, a database
    another process holds, Slack down or a stalled outbox are /readyz's."""
    wedged = writer_wedged(bot.db)
    return (200 if wedged is None else 503), {"alive": True, "writer": "ok" if wedged is None else wedged}


def readiness(
    bot: Bot, *, scheduler_running: Callable[[], bool] = lambda: True, worker_running: Callable[[], bool] = lambda: True
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /readyz: 200 when the database reads, a write can begin, its schema is this version's,
    the outbox drains (no message overdue past `OUTBOX_STALLED_AFTER`, none failing again and again), the
    scheduler runs and so does the worker process (`bot.entry.worker`, over HTTP); else 503. The body says each
    (docs/operations.md)."""
    now = bot.clock()
    try:
        outbox, schema, database = outbox_state(bot.db, now=now), schema_problem(bot.db), "ok"
    except sqlite3.Error:
        outbox, schema, database = None, None, "unavailable"
    schema = bot.db.stopped or schema
    writes = write_problem(bot.db)
    stalled = outbox is not None and outbox.overdue_seconds > OUTBOX_STALLED_AFTER.total_seconds()
    failing = outbox is not None and outbox.failing > 0
    scheduler, worker = scheduler_running(), worker_running()
    body = {
        "database": database,
        "writes": "ok" if writes is None else writes,
        "schema": "ok" if schema is None else schema,
        "outbox": "stalled" if stalled else "failing" if failing else "ok",
        "outbox_pending": outbox.pending if outbox else None,
        "outbox_overdue_seconds": outbox.overdue_seconds if outbox else None,
        "outbox_failing": outbox.failing if outbox else None,
        "scheduler": "running" if scheduler else "stopped",
        "worker": "running" if worker else "restarting",
    }
    ready = (
        database == "ok" and writes is None and schema is None and not stalled and not failing and scheduler and worker
    )
    return (200 if ready else 503), body


def _json_answer(start_response: Callable[..., Any], status: int, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def hook_answer(bot: Bot, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A POST /hooks/… request, answered by `bot.hooks` (the body is read only when it may be)."""
    length = environ.get("CONTENT_LENGTH") or ""
    headers = {key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")}
    status, body = bot.hooks.handle_request(
        method=environ.get("REQUEST_METHOD", ""),
        path=environ.get("PATH_INFO", ""),
        query=environ.get("QUERY_STRING", ""),
        headers=headers,
        content_length=int(length) if length.isdigit() else None,
        read=environ["wsgi.input"].read,
    )
    bot.metrics.hook_answered(str(environ.get("PATH_INFO", "")), status)
    return _json_answer(start_response, status, body)


class DeferringHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, marking what it dispatches as come over HTTP: a command, a click or a shortcut may then
    be kept in the inbox and acked at once (`bot.listeners.inbox`)."""

    def __init__(self, app: App, path: str, *, acks: InboxWorker | None = None) -> None:
        super().__init__(app, path=path)
        self.acks = acks

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        if self.acks is not None:
            self.acks.ack_started()  # the inbox worker lets the acks in flight go first
        try:
            return self.app.dispatch(
                BoltRequest(
                    body=request.get_body(),
                    query=request.query_string,
                    headers=request.get_headers(),
                    context={DEFERRABLE: True},
                )
            )
        finally:
            if self.acks is not None:
                self.acks.ack_ended()


def wsgi_app(
    bot: Bot,
    *,
    scheduler_running: Callable[[], bool] = lambda: True,
    worker_running: Callable[[], bool] = lambda: True,
    slack_events: bool = True,
) -> Callable[..., Iterable[bytes]]:
    """The bot's WSGI app. `slack_events`: serve /slack/events (HTTP mode); in Socket Mode only /healthz, /readyz and
    the hooks are served, since Slack's requests arrive over the socket. Never /metrics: that has a port of its own
    (`make_metrics_server`), so the port that faces Slack, and so the internet, shows no figures."""
    slack = DeferringHandler(bot.app, path=EVENTS_PATH, acks=getattr(bot, "inbox", None))

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path in (HEALTH_PATH, READY_PATH) or path.startswith(HOOKS_PREFIX):
            return route(environ, start_response)  # a 503 there is an answer, not a refusal; the hooks count their own

        def counted(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            if (code := int(status.split(" ", 1)[0])) >= 400:
                bot.metrics.refused(code)  # Slack's requests (a bad signature, an unreadable body) and unknown paths
            return start_response(status, headers, *rest)

        return route(environ, counted)

    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _json_answer(start_response, *liveness(bot))
        if environ.get("PATH_INFO") == READY_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _json_answer(
                start_response, *readiness(bot, scheduler_running=scheduler_running, worker_running=worker_running)
            )
        if str(environ.get("PATH_INFO", "")).startswith(HOOKS_PREFIX):
            return hook_answer(bot, environ, start_response)
        if not slack_events:
            return _json_answer(start_response, 404, {"error": "not found"})
        try:
            return slack(environ, start_response)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError):
            # Bolt parses the body before it checks the signature: a body it cannot read is the sender's fault.
            log.warning("refused a request whose body Bolt could not read")
            payload = b"bad request"
            start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
            return [payload]

    return application


class DeadlineChannel(HTTPChannel):
    """waitress's connection, remembering when the request it is still receiving began (`request_started`)."""

    request_started: float | None = None

    def received(self, data: bytes) -> bool:
        fresh = self.request is None
        result = super().received(data)
        if self.request is None:
            self.request_started = None
        elif fresh or self.request_started is None:
            self.request_started = time.time()
        return result


class GuardedServer(TcpWSGIServer):
    """waitress's TCP server, closing (besides idle connections) those whose request is overdue, and accepting
    the connections waiting in the listen queue in batches (waitress takes one per turn of its loop, and each
    turn polls every open connection: a thousand arriving at once kept the next request waiting a second)."""

    channel_class = DeadlineChannel
    request_deadline: float = REQUEST_DEADLINE_SECONDS

    def handle_accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            if len(self._map) >= self.adj.connection_limit:
                return
            before = len(self._map)
            super().handle_accept()
            if len(self._map) == before:  # nothing more was waiting (or it failed and was logged)
                return

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = now - self.request_deadline
        for channel in list(self.active_channels.values()):
            started = getattr(channel, "request_started", None)
            if started is not None and started < cutoff and not channel.requests:
                channel.will_close = True


def connection_limit(wanted: int = CONNECTION_LIMIT) -> int:
    """How many connections to serve: `wanted`, once the soft limit of open files is raised to fit them (up to the
    hard limit); fewer when the hard limit is lower (then a WARNING says so)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FILES_BESIDES_CONNECTIONS
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        fitted = max(100, soft - FILES_BESIDES_CONNECTIONS)
        log.warning(
            "the open-file limit (%d) fits %d connections, not %d: raise it (ulimit -n) or keep a proxy in front",
            soft,
            fitted,
            wanted,
        )
        return fitted
    return wanted


def make_server(
    bot: Bot,
    *,
    host: str,
    port: int,
    scheduler_running: Callable[[], bool] = lambda: True,
    worker_running: Callable[[], bool] = lambda: True,
    loop_timeout: float = 1.0,
    idle_timeout: int = IDLE_TIMEOUT_SECONDS,
    slack_events: bool = True,
    request_deadline: float = REQUEST_DEADLINE_SECONDS,
) -> Any:
    """A waitress server (not yet serving: call `.run()`; `.close()` stops it within `loop_timeout` s). port 0 picks a free one.
    `slack_events=False` (Socket Mode): only /healthz and the hooks.

    Idle connections are closed after `idle_timeout` seconds, and those whose request has not arrived whole
    `request_deadline` seconds after its first byte (both checked every second); poll() rather than select(),
    which cannot watch a socket numbered 1,024 or more.
    """
    application = wsgi_app(
        bot, scheduler_running=scheduler_running, worker_running=worker_running, slack_events=slack_events
    )
    settings = dict(
        host=host,
        port=port,
        threads=SERVER_THREADS,
        ident="ai-intake",
        asyncore_loop_timeout=loop_timeout,
        asyncore_use_poll=True,
        connection_limit=connection_limit(),
        channel_timeout=idle_timeout,
        cleanup_interval=1,
        max_request_body_size=MAX_BODY_BYTES,
    )
    adjustments = Adjustments(**settings)
    if len(adjustments.listen) != 1:  # a host name with several addresses: waitress's own server, idle timeout only
        return create_server(application, **settings)
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adjustments.threads)
    server = GuardedServer(
        application, {}, True, None, dispatcher=dispatcher, adj=adjustments, sockinfo=adjustments.listen[0]
    )
    server.request_deadline = request_deadline
    return server


def metrics_wsgi_app(bot: Bot) -> Callable[..., Iterable[bytes]]:
    """/metrics and nothing else (404)."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == METRICS_PATH:
            return bot.metrics.wsgi(environ, start_response)
        payload = b"not found: this port serves /metrics"
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
        return [payload]

    return application


def make_metrics_server(
    bot: Bot, *, host: str, port: int, loop_timeout: float = 1.0, idle_timeout: int = IDLE_TIMEOUT_SECONDS
) -> Any:
    """A waitress server of its own for /metrics (AI_INTAKE_METRICS_PORT, or Socket Mode), not yet serving, with the
    limits of `make_server`; port 0 picks a free one."""
    return create_server(
        metrics_wsgi_app(bot),
        host=host,
        port=port,
        threads=METRICS_THREADS,
        ident="ai-intake-metrics",
        asyncore_loop_timeout=loop_timeout,
        asyncore_use_poll=True,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=idle_timeout,
        cleanup_interval=max(1, idle_timeout // 2),
        max_request_body_size=MAX_BODY_BYTES,
    )
