"""HTTP mode: Bolt's WSGI adapter at /slack/events and /healthz, served by waitress (one process, threads)."""

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.app import Bot

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SERVER_THREADS = 16


def health(bot: Bot, *, scheduler_running: Callable[[], bool] = lambda: True) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of /healthz: 200 when the database answers and the scheduler runs."""
    database = bot.intake.store.healthy()
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
        return slack(environ, start_response)

    return application


def make_server(bot: Bot, *, host: str, port: int, scheduler_running: Callable[[], bool] = lambda: True) -> Any:
    """A waitress server (not yet serving: call `.run()`; `.close()` stops it). port 0 picks a free one."""
    return create_server(wsgi_app(bot, scheduler_running=scheduler_running), host=host, port=port,
                         threads=SERVER_THREADS, ident="ai-intake", channel_timeout=30)
