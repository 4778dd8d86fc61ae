"""`ai-intake run`: the bot served until it is stopped (Socket Mode, or HTTP under waitress), with its scheduler,
its hooks and /metrics; how it starts while Slack cannot be reached, and how it stops on SIGTERM within a deadline.
`bot.entry.cli` parses the command line and hands `run` to `cmd_run`."""

import argparse
import errno
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime

from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError

from bot.domain.policy import Config
from bot.runtime.config import load_config
from bot.runtime.logs import setup_logging
from bot.runtime.shutdown import SHUTDOWN_SECONDS, watchdog
from bot.runtime.settings import Settings, SettingsError, hook_secrets, load_settings
from storage.db import StorageError

log = logging.getLogger("ai_intake")
STARTUP_RETRY_MAX_SECONDS = 60


def cmd_run(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)  # first: `docker stop` during start-up (PID 1 ignores it otherwise)
    settings = load_settings()
    setup_logging(secrets=[settings.bot_token, settings.signing_secret, settings.app_token], fmt=settings.log_format)
    settings.require_slack()
    config = load_config(settings.config_path)
    secrets = hook_secrets({name: source.secret_env for name, source in config.hooks.items()})
    setup_logging(
        secrets=[settings.bot_token, settings.signing_secret, settings.app_token, *secrets.values()],
        fmt=settings.log_format,
    )  # the hooks' secrets are known once the config is
    from bot.entry.worker import WorkerProcess

    worker = None if settings.socket_mode else WorkerProcess()
    bot = start_with_retries(lambda: make_bot(settings, config, elsewhere=worker.ring if worker else None))
    from bot.entry.scheduler import Scheduler

    scheduler = Scheduler(bot.jobs, bot.store, bot.config, clock=bot.clock)
    if worker is None:
        bot.start()  # Socket Mode: everything is answered in the request, and sent from here
    scheduler.start()
    metrics_server = None
    try:
        if worker is not None:  # over HTTP: the acks here, the work in the worker process (bot/entry/worker.py)
            worker.start(counted=bot.metrics.add, worked=bot.inbox.worked)
        metrics_server = start_metrics_server(bot, settings)
        serve(
            bot,
            settings,
            scheduler_running=lambda: scheduler.running,
            worker_running=worker.running if worker else lambda: True,
        )
    finally:
        if metrics_server is not None:
            metrics_server.close()
        if worker is not None:
            worker.stop()
        scheduler.stop()
        bot.stop()
    return 0


_stopping = threading.Event()


def stop_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (a deploy, `docker stop`, `kill`) stops the bot like Ctrl-C: the server stops taking requests, the jobs
    and the outbox worker finish what they are doing, the database closes. Whatever Slack does (a call that never
    answers), the process ends within `SHUTDOWN_SECONDS`: a watchdog ends it then, and what was not sent stays
    queued (an item whose post may have reached Slack is looked up before it is posted again). A second SIGTERM
    while stopping changes nothing."""
    if _stopping.is_set():
        return
    _stopping.set()
    log.info("ai-intake stopping (SIGTERM)")
    watchdog(SHUTDOWN_SECONDS)
    raise SystemExit(0)


def make_bot(
    settings: Settings,
    config: Config,
    *,
    clock: Callable[[], datetime] | None = None,
    outbox_lanes: int | None = None,
    elsewhere: Callable[[], None] | None = None,
):
    """The bot for `run` (the outbox sends a few cards and channels at once) or, with `outbox_lanes=1`, for a one-off
    job run (one post at a time, in the order the job queued them). `elsewhere`: rings the worker process, which
    sends the outbox and works the inbox for this one (`bot.entry.worker`)."""
    from bot.entry.app import build_app
    from bot.runtime.clock import system_clock
    from bot.outbox.worker import LANES

    secrets = hook_secrets({name: source.secret_env for name, source in config.hooks.items()})
    for name in sorted(set(config.hooks) - set(secrets)):
        log.warning(
            "hook source %s has no secret ($%s is not set): its requests are refused",
            name,
            config.hooks[name].secret_env,
        )
    return build_app(
        config=config,
        db_path=str(settings.db_path),
        token=settings.bot_token or "",
        signing_secret=None if settings.socket_mode else settings.signing_secret,
        api_url=settings.api_url,
        clock=clock or system_clock,
        outbox_lanes=outbox_lanes or LANES,
        hook_secrets=secrets,
        elsewhere=elsewhere,
    )


def start_with_retries(make: Callable[[], object], *, sleep: Callable[[float], None] = time.sleep):
    """Build the bot; while Slack cannot be reached, say so and try again with backoff (1 s … 60 s).

    A token Slack refuses is final: it is reported in one sentence, not retried. Slack being down
    (no connection, HTTP 5xx or 429 from auth.test, which Bolt reports as a BoltError too) is not.
    """
    delay = 1.0
    while True:
        try:
            return make()
        except BoltError as exc:
            trouble = slack_trouble(exc)
            if trouble is None:
                raise SettingsError(
                    f"Slack refused SLACK_BOT_TOKEN ({exc}). Check the token on the app's OAuth & Permissions page."
                ) from None
        except StorageError:
            raise
        except (SlackClientError, OSError) as exc:
            trouble = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
        log.warning("Slack cannot be reached (%s); trying again in %.0f s", trouble, delay)
        sleep(delay)
        delay = min(delay * 2, STARTUP_RETRY_MAX_SECONDS)


SLACK_DOWN_ERRORS = frozenset(
    {"ratelimited", "fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)


def slack_trouble(exc: BoltError) -> str | None:
    """Why auth.test failed when Slack itself is in trouble (5xx, 429, …); None when it refused the token."""
    response = getattr(exc.__cause__ or exc.__context__, "response", None)
    if response is None:
        return None
    status, error = getattr(response, "status_code", 200), response.get("error")
    if status >= 500 or status == 429 or error in SLACK_DOWN_ERRORS:
        return f"auth.test answered HTTP {status}" + (f" {error}" if error else "")
    return None


def serve(
    bot,
    settings: Settings,
    *,
    scheduler_running: Callable[[], bool],
    worker_running: Callable[[], bool] = lambda: True,
) -> None:
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        if bot.config.hooks:
            serve_hooks(bot, settings, scheduler_running=scheduler_running)
        log.info("ai-intake connecting over Socket Mode")
        SocketModeHandler(bot.app, settings.app_token).start()
        return
    from bot.entry.server import make_server

    host = settings.host
    server = listening(
        lambda: make_server(
            bot, host=host, port=settings.port, scheduler_running=scheduler_running, worker_running=worker_running
        ),
        host=host,
        port=settings.port,
        variable="PORT",
    )
    hooks = ", POST /hooks/regressions and /hooks/changes" if bot.config.hooks else ""
    log.info(
        "ai-intake serving HTTP on %s:%s (POST /slack/events, GET /healthz, GET /readyz%s)",
        host,
        server.effective_port,
        hooks,
    )
    server.run()


def serve_hooks(bot, settings: Settings, *, scheduler_running: Callable[[], bool]):
    """In Socket Mode, with hook sources configured: serve /hooks/…, /healthz and /readyz (never /slack/events, nor
    /metrics, which has a port of its own) on $PORT from a daemon thread; returns the server."""
    from bot.entry.server import make_server

    server = listening(
        lambda: make_server(
            bot, host=settings.host, port=settings.port, scheduler_running=scheduler_running, slack_events=False
        ),
        host=settings.host,
        port=settings.port,
        variable="PORT",
    )
    log.info(
        "ai-intake serving the hooks on %s:%s (POST /hooks/regressions, /hooks/changes; GET /healthz, /readyz)",
        settings.host,
        server.effective_port,
    )
    threading.Thread(target=serve_until_closed, args=(server,), name="ai-intake-hooks", daemon=True).start()
    return server


def start_metrics_server(bot, settings: Settings):
    """/metrics on a port of its own (AI_INTAKE_METRICS_PORT, or 9102 with AI_INTAKE_METRICS=on), served from a thread
    of its own; None when the settings ask for none. `.close()` stops it."""
    port = settings.metrics_server_port
    if port is None:
        return None
    from bot.entry.server import make_metrics_server

    variable = (
        "AI_INTAKE_METRICS_PORT" if settings.metrics_port is not None else "AI_INTAKE_METRICS_PORT (9102 by default)"
    )
    server = listening(
        lambda: make_metrics_server(bot, host=settings.host, port=port),
        host=settings.host,
        port=port,
        variable=variable,
    )
    threading.Thread(target=serve_until_closed, args=(server,), name="ai-intake-metrics", daemon=True).start()
    log.info("ai-intake serving GET /metrics on %s:%s", settings.host, server.effective_port)
    return server


def listening(make: Callable[[], object], *, host: str, port: int, variable: str):
    """`make()`, a server bound to host:port; SettingsError in one sentence when it cannot listen there."""
    try:
        return make()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "the port is in use (another ai-intake, or another program, listens there)"
        elif exc.errno == errno.EACCES:
            why = "the port is reserved for root (use one above 1023)"
        else:
            why = exc.strerror or str(exc)
        raise SettingsError(
            f"cannot listen on {host}:{port}: {why}; stop that, or set {variable} to a free port."
        ) from None


def serve_until_closed(server) -> None:
    """Run a waitress server until `.close()`: closing its sockets ends its loop with EBADF, the normal end here.
    Its worker threads are stopped then too (waitress stops them itself only on SystemExit or KeyboardInterrupt)."""
    try:
        server.run()
    except (OSError, ValueError):
        pass
    finally:
        server.task_dispatcher.shutdown()
