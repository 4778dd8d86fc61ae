"""A server child for the HTTP benchmarks (not a benchmark itself).

    python bench/_serve.py bot   --db PATH --api-url URL    the real bot: build_app, bot.start() (the
                                                            outbox worker's thread), bot.entry.server.make_server;
                               [--post-interval SECONDS]    the outbox worker's per-channel pacing (default:
                                                            as shipped)
                               [--config FILE]              a YAML config (default: tests/harness.py's)
                               [--root DIR] [--profile]     the bot of another checkout; per-thread profiles
                               [--split]                    as `ai-intake run` serves HTTP: this process acks and
                                                            keeps, a worker process (`_serve.py worker`, the same
                                                            arguments) works the inbox and sends the outbox
                                                            (bot/entry/worker.py)
    python bench/_serve.py floor --api-url URL              a bare Bolt app whose listeners only ack,
                                                            under the same make_server (waitress)

Both on 127.0.0.1, a free port. Prints {"url": ...}; answers JSON lines on stdin: {"op": "stats"},
{"op": "idle"} (once the inbox was worked and the listeners finished what they do after their acks), {"op": "stop"} (stats: CPU
seconds, peak RSS, and for the bot the outbox by status).

{"op": "arm"} marks the start of what is measured (work before it, a warm-up, is not counted);
{"op": "cpu"} answers the CPU seconds each group of threads used since (`ack`: waitress, from the socket to the
HTTP answer; `work`: the inbox worker and the listener pool, what is done after the ack; `outbox`: the outbox
worker and its lanes; `other`), read from each thread's own CPU
clock, so no profiler is in the way. With `--profile`, every thread also gets its own cProfile
profiler timed in thread CPU time once armed; {"op": "profile"} answers, per group of threads, each
function's call count, own and cumulative CPU seconds (bench/profile_ack.py reads both).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import SIGNING_SECRET, TOKEN, cpu_seconds, peak_rss_mb, serve_stdin  # noqa: E402

if "--root" in sys.argv:  # another checkout of the bot (an older commit, for "before" figures)
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])
from bot.entry.app import LISTENER_THREADS, build_app, web_client  # noqa: E402
from bot.runtime.config import load_config, parse_config  # noqa: E402
from bot.entry.server import make_server  # noqa: E402
from bot.entry.worker import WorkerProcess, serve as serve_worker  # noqa: E402
from tests.harness import CONFIG, serve_until_closed  # noqa: E402


def bare_app(api_url: str) -> Any:
    """The floor: Bolt with the bot's client, signing check and executor size, listeners that only ack."""
    from slack_bolt import App

    app = App(
        client=web_client(TOKEN, api_url=api_url),
        signing_secret=SIGNING_SECRET,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS),
        logger=logging.getLogger("slack_bolt"),
    )
    app.command("/ai-request")(lambda ack: ack())
    app.action(re.compile(".*"))(lambda ack: ack())
    app.event("app_mention")(lambda ack: ack())
    app.shortcut(re.compile(".*"))(lambda ack: ack())
    return SimpleNamespace(app=app)


def group_of(thread_name: str) -> str:
    """The group a thread's CPU is counted in: `ack` (waitress: from the socket to the HTTP answer; and the inbox's
    keeper, which writes the deliveries the acks hand it), `work` (the inbox
    worker and Bolt's listener pool: what is done after the ack), `outbox` (the outbox worker and its lanes) or
    `other`."""
    if "outbox" in thread_name:
        return "outbox"
    if thread_name.startswith(("waitress", "ai-intake-keeper")):
        return "ack"
    return "work" if thread_name.startswith(("ai-intake-inbox", "ai-intake-listener")) else "other"


class ThreadClocks:
    """Each thread's CPU clock (`time.pthread_getcpuclockid`), read for every live thread at `arm` and again at
    `read`; a thread started in between counts from zero. The request and outbox threads are pools that live as
    long as the server, so nothing measured is lost with a thread that ended."""

    def __init__(self) -> None:
        self._start: dict[int, float] = {}

    @staticmethod
    def _now() -> dict[int, tuple[str, float]]:
        out = {}
        for thread in threading.enumerate():
            if thread.ident is None:
                continue
            try:
                out[thread.ident] = (thread.name, time.clock_gettime(time.pthread_getcpuclockid(thread.ident)))
            except (OSError, ProcessLookupError):  # ended meanwhile
                continue
        return out

    def arm(self) -> None:
        self._start = {ident: cpu for ident, (_, cpu) in self._now().items()}

    def read(self) -> dict[str, float]:
        groups = {"ack": 0.0, "work": 0.0, "outbox": 0.0, "other": 0.0}
        for ident, (name, cpu) in self._now().items():
            groups[group_of(name)] += cpu - self._start.get(ident, 0.0)
        return groups


class Profiles:
    """One cProfile profiler per thread (thread CPU time), installed on each thread's first call once armed."""

    def __init__(self) -> None:
        import cProfile

        self._make = lambda: cProfile.Profile(time.thread_time)
        self.armed = False
        self.by_thread: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def install(self) -> None:
        threading.setprofile(self._hook)
        sys.setprofile(None)

    def _hook(self, frame: Any, event: str, arg: Any) -> None:
        if not self.armed:
            return
        sys.setprofile(None)
        profile = self._make()
        with self._lock:
            self.by_thread.append((threading.current_thread().name, profile))
        profile.enable()

    def report(self) -> dict[str, Any]:
        import pstats

        groups: dict[str, dict[str, list[float]]] = {}
        with self._lock:
            found = list(self.by_thread)
        for name, profile in found:
            group = group_of(name)
            stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
            into = groups.setdefault(group, {})
            for (path, line, function), (_, calls, own, cumulative, _) in stats.items():
                key = f"{path}:{line}:{function}"
                row = into.setdefault(key, [0, 0.0, 0.0])
                row[0] += calls
                row[1] += own
                row[2] += cumulative
        return {"threads": len(found), "groups": groups}


def build(args: argparse.Namespace, *, elsewhere: Any = None) -> Any:
    """The bot of these arguments (not started)."""
    config = load_config(args.config) if args.config else parse_config(CONFIG)
    bot = build_app(
        config=config,
        db_path=args.db,
        token=TOKEN,
        signing_secret=SIGNING_SECRET,
        api_url=args.api_url,
        elsewhere=elsewhere,
    )
    if args.post_interval is not None:
        bot.outbox.pacer.interval = args.post_interval
    if lanes := os.environ.get("AI_INTAKE_BENCH_INBOX_LANES"):  # an experiment's knob: the inbox worker's lanes
        bot.inbox.lanes = int(lanes)
    return bot


def work(args: argparse.Namespace) -> int:
    """The worker process of `--split`: the same bot, working the inbox and sending the outbox until stdin closes."""
    logging.basicConfig(level=logging.ERROR)
    return serve_worker(lambda sleep: build(args))


def worker_cpu_seconds(worker: Any) -> float:
    """CPU seconds the worker process used so far (user + system, from /proc)."""
    try:
        fields = Path(f"/proc/{worker.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["bot", "floor", "worker"])
    parser.add_argument("--db")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--config", help="a YAML config (default: the tests' two-domain CONFIG)")
    parser.add_argument("--post-interval", type=float, help="override the outbox worker's per-channel pacing (seconds)")
    parser.add_argument("--root", help="import the bot from this checkout instead")
    parser.add_argument("--profile", action="store_true", help="profile every thread once armed (see the docstring)")
    parser.add_argument("--split", action="store_true", help="the work in a worker process, as `ai-intake run` does")
    args = parser.parse_args()
    if args.mode == "worker":
        sys.exit(work(args))
    profiles = Profiles() if args.profile else None
    clocks = ThreadClocks()
    if profiles:
        profiles.install()
    logging.basicConfig(level=logging.ERROR)  # waitress warns about its queue depth under load: expected here

    bot = worker = None
    if args.mode == "bot":
        if args.split:
            worker = WorkerProcess([sys.executable, *[a for a in sys.argv if a != "--split"]], env=None)
            worker.argv[worker.argv.index("bot")] = "worker"
        bot = build(args, elsewhere=worker.ring if worker else None)
        if worker is not None:
            worker.start()
        else:
            bot.start()
        target: Any = bot
    else:
        target = bare_app(args.api_url)
    server = make_server(target, host="127.0.0.1", port=0)
    thread = threading.Thread(target=serve_until_closed, args=(server,), daemon=True)
    thread.start()
    cpu0 = cpu_seconds()

    worker_cpu0 = worker_cpu_seconds(worker) if worker else 0.0

    def stats() -> dict[str, Any]:
        out: dict[str, Any] = {"cpu_seconds": cpu_seconds() - cpu0, "max_rss_mb": peak_rss_mb()}
        if worker is not None:
            out["worker_cpu_seconds"] = worker_cpu_seconds(worker) - worker_cpu0
        if bot is not None:
            out["commits"] = getattr(bot.db, "commits", 0)
            if (inbox := getattr(bot, "inbox", None)) is not None and inbox.inbox.owned:
                out["inbox_commits"] = inbox.inbox.db.commits  # the acks' commits, in the inbox's own file
            with bot.db.read() as db:
                out["outbox"] = {
                    r["status"]: r["n"] for r in db.query("SELECT status, count(*) AS n FROM outbox GROUP BY status")
                }
                out["requests"] = next(db.query("SELECT count(*) AS n FROM requests"))["n"]
        return out

    def handle(message: dict[str, Any]) -> Any:
        if message["op"] == "stats":
            return stats()
        if message["op"] == "arm":
            clocks.arm()
            if profiles:
                profiles.armed = True
            return {"ok": True}
        if message["op"] == "cpu":
            return clocks.read()
        if message["op"] == "idle":  # until the listeners have finished what they do after their acks
            timeout = float(message.get("timeout", 60))
            if bot is None:
                return {"idle": True}
            if worker is not None:  # the worker process works it: until nothing kept is left undone
                deadline = time.monotonic() + timeout
                while bot.inbox.inbox.count_pending() and time.monotonic() < deadline:
                    time.sleep(0.05)
                worked = not bot.inbox.inbox.count_pending()
            else:
                worked = bot.inbox.wait_idle(timeout=timeout) if hasattr(bot, "inbox") else True
            return {"idle": worked and bot.pool.wait_idle(timeout=timeout)}
        if message["op"] == "profile" and profiles:
            return profiles.report()
        if message["op"] == "stop":
            server.close()
            thread.join(timeout=5)
            if bot is not None:
                bot.pool.wait_idle(timeout=10)
            out = stats()
            if worker is not None:
                worker.stop(timeout=0)  # its drain of a slow Slack's backlog is not measured: ended now
            return out
        return {"error": f"unknown op {message['op']!r}"}

    serve_stdin(handle, {"url": f"http://127.0.0.1:{server.effective_port}"})
    # Not bot.stop(): OutboxWorker.stop() cannot interrupt a drain in progress, and with a slow Slack the
    # backlog left by the load takes minutes. The database is a throwaway (WAL: committed work is on
    # disk), so the process simply ends.
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
