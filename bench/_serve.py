"""A server child for the HTTP benchmarks (not a benchmark itself).

    python bench/_serve.py bot   --db PATH --api-url URL    the real bot: build_app, bot.start() (the
                                                            outbox worker's thread), bot.server.make_server;
                               [--post-interval SECONDS]    the outbox worker's per-channel pacing (default:
                                                            as shipped)
                               [--config FILE]              a YAML config (default: tests/harness.py's)
    python bench/_serve.py floor --api-url URL              a bare Bolt app whose listeners only ack,
                                                            under the same make_server (waitress)

Both on 127.0.0.1, a free port. Prints {"url": ...}; answers JSON lines on stdin: {"op": "stats"},
{"op": "stop"} (stats: CPU seconds, peak RSS, and for the bot the outbox by status).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import resource
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import SIGNING_SECRET, TOKEN, cpu_seconds, serve_stdin  # noqa: E402
from bot.app import LISTENER_THREADS, build_app, web_client  # noqa: E402
from bot.config import load_config, parse_config  # noqa: E402
from bot.server import make_server  # noqa: E402
from tests.harness import CONFIG, serve_until_closed  # noqa: E402


def bare_app(api_url: str) -> Any:
    """The floor: Bolt with the bot's client, signing check and executor size, listeners that only ack."""
    from slack_bolt import App

    app = App(client=web_client(TOKEN, api_url=api_url), signing_secret=SIGNING_SECRET,
              listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
              logger=logging.getLogger("slack_bolt"))
    app.command("/ai-request")(lambda ack: ack())
    app.action(re.compile(".*"))(lambda ack: ack())
    return SimpleNamespace(app=app)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["bot", "floor"])
    parser.add_argument("--db")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--config", help="a YAML config (default: the tests' two-domain CONFIG)")
    parser.add_argument("--post-interval", type=float, help="override the outbox worker's per-channel pacing (seconds)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # waitress warns about its queue depth under load: expected here

    bot = None
    if args.mode == "bot":
        config = load_config(args.config) if args.config else parse_config(CONFIG)
        bot = build_app(config=config, db_path=args.db, token=TOKEN, signing_secret=SIGNING_SECRET,
                        api_url=args.api_url)
        if args.post_interval is not None:
            bot.outbox.pacer.interval = args.post_interval
        bot.start()
        target: Any = bot
    else:
        target = bare_app(args.api_url)
    server = make_server(target, host="127.0.0.1", port=0)
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    cpu0 = cpu_seconds()

    def stats() -> dict[str, Any]:
        out: dict[str, Any] = {"cpu_seconds": cpu_seconds() - cpu0,
                               "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        if bot is not None:
            with bot.db.read() as db:
                out["outbox"] = {r["status"]: r["n"] for r in db.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")}
                out["requests"] = next(db.query("SELECT count(*) AS n FROM requests"))["n"]
        return out

    def handle(message: dict[str, Any]) -> Any:
        if message["op"] == "stats":
            return stats()
        if message["op"] == "stop":
            server.close()
            thread.join(timeout=5)
            if bot is not None:
                bot.pool.wait_idle(timeout=10)
            return stats()
        return {"error": f"unknown op {message['op']!r}"}

    serve_stdin(handle, {"url": f"http://127.0.0.1:{server.effective_port}"})
    # Not bot.stop(): OutboxWorker.stop() cannot interrupt a drain in progress, and with a slow Slack the
    # backlog left by the load takes minutes. The database is a throwaway (WAL: committed work is on
    # disk), so the process simply ends.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
