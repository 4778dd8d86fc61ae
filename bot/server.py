"""HTTP mode: Bolt's WSGI adapter at /slack/events and /healthz, served by waitress (one process, threads)."""

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.app import Bot

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SERVER_THREADS = 16


def health(bot: Bot, *, scheduler_running: Callable[[], bool] = lambda: True) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /healthz: 200 when the database answers and the scheduler runs."""
    database = bot.store.healthy()
    scheduler = scheduler_running()
    body = {"database": "ok" if database else "unavailable", "scheduler": "running" if scheduler else "stopped"}
    return (200 if database and scheduler else 503), body


def wsgi_app(bot: Bot, *, scheduler_running: Callable[[], bool] = lambda: True) -> Callable[..., Iterable[bytes]]:
    slack = SlackRequestHandler(bot.app, path=EVENTS_PATH)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            status, body = health(bot, scheduler_running=scheduler_running)
            payload = json.dumps(body).encode()
            start_response(f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                           [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
            return [payload]
        try:
            return slack(environ, start_response)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            # Bolt reads the body before it checks the signature: a body it cannot read is the sender's fault.
            log.warning("refused a request whose body Bolt could not read")
            payload = b"bad request"
            start_response("400 Bad Request", [("Content-Type", "text/plain"), ("Content-Length", str(len(payload)))])
            return [payload]

    return application


def make_server(bot: Bot, *, host: str, port: int, scheduler_running: Callable[[], bool] = lambda: True,
                loop_timeout: float = 1.0) -> Any:
    """A waitress server (not yet serving: call `.run()`; `.close()` stops it within `loop_timeout` s). port 0 picks a free one."""
    return create_server(wsgi_app(bot, scheduler_running=scheduler_running), host=host, port=port,
                         threads=SERVER_THREADS, ident="ai-intake", channel_timeout=30, asyncore_loop_timeout=loop_timeout)
