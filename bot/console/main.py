"""`ai-intake console`: the bot with no Slack workspace — the same app, against a stand-in for Slack.

The real `build_app(...)` (listeners, use cases, storage, outbox worker) is built on a database of its own,
with the injected clock, and with its Web API pointed at `Workspace`, served on 127.0.0.1. Neither the
outbox worker's thread nor the scheduler is started: each typed line is settled synchronously, and
`/time-travel` runs the scheduler's jobs itself.
"""

import argparse
import logging
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.entry.app import Bot, build_app
from bot.blocks.common import local
from bot.runtime.config import load_config
from bot.console.directory import Directory
from bot.console.session import Console
from bot.console.timeline import ConsoleClock, TimeError, demo_start, parse_instant
from bot.console.workspace import Workspace
from bot.domain.policy import Config
from bot.runtime.logs import setup_logging
from bot.runtime.settings import SettingsError, load_settings
from storage.store import Store

log = logging.getLogger(__name__)
DEMO_CONFIG = Path(__file__).resolve().parents[1] / "demo" / "ai-intake.yml"
CONSOLE_DB = Path("ai-intake-console.db")
BOT_USER = "U0AIINTAKE"


@dataclass
class Session:
    """A running console: the bot, the stand-in workspace and the person typing."""

    console: Console
    bot: Bot
    workspace: Workspace

    def close(self) -> None:
        self.bot.stop()
        self.workspace.stop()


def open_session(
    config: Config,
    *,
    db_path: str,
    start: datetime | None = None,
    out: TextIO = sys.stdout,
    ask: Callable[[str], str] | None = None,
    skip_quiet_ticks: bool = True,
) -> Session:
    """Start the stand-in workspace and the real bot on `db_path`; the clock starts at `start` (default: the
    demo Monday 09:00), or later if the database already holds later changes. `skip_quiet_ticks=False`
    makes /time-travel stop at every scheduler tick (slow; the same transcript)."""
    names = Directory.of(config, bot_user_id=BOT_USER)
    clock = ConsoleClock(start or demo_start(config.calendar(None).tz))
    workspace = Workspace(clock=clock, names=names, timezone=config.timezone).start()
    secret = secrets.token_hex(16)
    hook_secrets = {
        source: secrets.token_hex(16) for source in config.hooks
    }  # /hook signs with these, as a sender would
    try:
        # post_interval=0: the stand-in has no per-channel rate limit to respect, and the clock stands still;
        # one outbox lane: messages appear in the order they were queued, so a transcript reads the same every time.
        bot = build_app(
            config=config,
            db_path=db_path,
            token=workspace.token,
            signing_secret=secret,
            api_url=workspace.api_url,
            clock=clock,
            post_interval=0,
            outbox_lanes=1,
            hook_secrets=hook_secrets,
        )
    except BaseException:
        workspace.stop()
        raise
    last = last_change(bot.store)
    if last is not None and last > clock():
        clock.set(last)
    console = Console(
        bot,
        workspace,
        names,
        clock,
        signing_secret=secret,
        out=out,
        ask=ask,
        skip_quiet_ticks=skip_quiet_ticks,
        hook_secrets=hook_secrets,
    )
    return Session(console=console, bot=bot, workspace=workspace)


def last_change(store: Store) -> datetime | None:
    """When the newest request last changed: a console reopened on its database goes on from there."""
    with store.reading() as tx:
        return tx.last_changed()


def run_script(console: Console, lines: Iterable[str]) -> None:
    """Each line echoed after the prompt, then what Slack would show; `#` lines are printed as they are."""
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            console.say(line)
            continue
        console.say(console.prompt + line.strip())
        if not console.run(line):
            break


def run_interactive(console: Console) -> None:
    """Read lines until /quit or end of input; a failure of the console itself is logged, and the session goes on."""
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:
        pass
    while True:
        try:
            line = input(console.prompt)
        except EOFError:
            console.say()
            return
        try:
            if not console.run(line):
                return
        except Exception:
            log.exception("the console failed on %r; type another line, or /quit", line)


def banner(session: Session, *, config_path: Path, db_label: str) -> list[str]:
    console = session.console
    tz = console.config.calendar(None).tz
    demo = config_path == DEMO_CONFIG
    return [
        "ai-intake console: the real bot, against a stand-in for Slack on this machine (no workspace, no tokens).",
        f"  config    {config_path}"
        + (" (the demo organisation: copy it, edit it, point AI_INTAKE_CONFIG at it)" if demo else ""),
        f"  database  {db_label}",
        f"  clock     {local(console.clock(), tz)} {console.config.timezone} (/time-travel 3d moves it)",
        f"  you are   @{console.names.user_name(console.user)} in {console.names.channel_label(console.channel)}"
        " — /people and /channels list who and where; /help lists what you can type; /quit leaves.",
        "  try       /ai-request regression: refund bot answers with the wrong window",
    ]


def paths(args: argparse.Namespace) -> tuple[Path, Path | None, str]:
    """(config, database or None for a throwaway one, how to describe the database)."""
    settings, defaults = load_settings(), load_settings({})
    config_path = settings.config_path if settings.config_path != defaults.config_path else DEMO_CONFIG
    if settings.db_path != defaults.db_path:
        if args.fresh:
            raise SettingsError(
                f"--fresh deletes only the console's own database; AI_INTAKE_DB is {settings.db_path} "
                "(delete it yourself if you mean to)"
            )
        return config_path, settings.db_path, f"{settings.db_path} (AI_INTAKE_DB)"
    if args.script:
        return config_path, None, "a throwaway one: a script starts from nothing (set AI_INTAKE_DB to keep it)"
    fresh = " (started over)" if args.fresh else ""
    return config_path, CONSOLE_DB, f"{CONSOLE_DB.resolve()}{fresh} (--fresh starts over; AI_INTAKE_DB picks another)"


def cmd_console(args: argparse.Namespace) -> int:
    """The `ai-intake console` command."""
    config_path, db_path, db_label = paths(args)
    config = load_config(config_path)
    setup_logging(level=logging.WARNING)  # the bot's warnings and errors, on stderr
    try:
        start = parse_instant(args.now, tz=config.calendar(None).tz) if args.now else None
    except TimeError as exc:
        raise SettingsError(f"--now: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="ai-intake-console-") as scratch:
        if db_path is None:
            db_path = Path(scratch) / "console.db"
        elif args.fresh:
            for suffix in ("", "-wal", "-shm", ".sent"):  # .sent: its send journal (storage/backup.py)
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        session = open_session(
            config, db_path=str(db_path), start=start, out=sys.stdout, ask=None if args.script else input
        )
        try:
            lines = banner(session, config_path=config_path, db_label=db_label)
            print("\n".join(lines), file=sys.stderr if args.script else sys.stdout, flush=True)
            if args.script:
                with open(args.script, encoding="utf-8") as script:
                    run_script(session.console, script)
            else:
                run_interactive(session.console)
        finally:
            session.close()
    return 0
