"""`ai-intake`: the command line, and the commands that check the config, export, check the kept facts, back up
and restore. `ai-intake --help` lists every command; `run` is served by `bot.entry.run`, `jobs run` by
`bot.entry.jobs_cli`."""

import argparse
import logging
import sys
from datetime import date, datetime, timezone
from collections.abc import Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.entry.jobs_cli import cmd_jobs_run
from bot.entry.offline import at_in, open_store
from bot.entry.run import cmd_run
from bot.runtime.config import ConfigError, load_config
from bot.domain.catalog import catalog_lines
from bot.domain.changes import Pair
from bot.domain.policy import Config
from bot.runtime.logs import setup_logging
from bot.runtime.settings import Settings, SettingsError, hook_secrets, load_settings, requested_log_format
from storage.db import StorageError

log = logging.getLogger("ai_intake")
DELIVERY_WAIT_SECONDS = 30.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except (SettingsError, StorageError) as exc:
        fatal(str(exc))
        return 2
    except ConfigError as exc:
        if requested_log_format() == "json":
            fatal("the config is not valid: " + "; ".join(exc.problems), problems=list(exc.problems))
        else:
            print_config_problems(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def fatal(message: str, **fields: object) -> None:
    """Why the command stops, in one sentence on stderr: `ai-intake: …`, or with AI_INTAKE_LOG_FORMAT=json one JSON
    object like every other line of the log (level CRITICAL; `fields` as its extra fields), secrets redacted."""
    if requested_log_format() != "json":
        print(f"ai-intake: {message}", file=sys.stderr)
        return
    root = logging.getLogger()
    if not any(getattr(handler, "_ai_intake", False) for handler in root.handlers):
        setup_logging(fmt="json")  # it stopped before the log was set up
    log.critical(message, extra=fields)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ai-intake", description="The intake desk for AI requests, in Slack.")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT)")
    run.set_defaults(handler=cmd_run)
    config = commands.add_parser("config", help="work with the routing config")
    config_commands = config.add_subparsers(title="config commands", metavar="COMMAND")
    check = config_commands.add_parser("check", help="validate the config and print the routing table")
    check.add_argument("file", nargs="?", help="the config file (default: $AI_INTAKE_CONFIG or ./ai-intake.yml)")
    check.add_argument(
        "--from",
        dest="start",
        type=parse_day,
        metavar="DATE",
        help="list the holidays skipped from this YYYY-MM-DD on (default: today in the org's time zone)",
    )
    check.set_defaults(handler=cmd_config_check)
    jobs = commands.add_parser("jobs", help="run a scheduled job once")
    jobs_commands = jobs.add_subparsers(title="jobs commands", metavar="COMMAND")
    job_run = jobs_commands.add_parser("run", help="run one job once: sla, nags or digest")
    job_run.add_argument("job", choices=["sla", "nags", "digest"])
    job_run.add_argument(
        "--at",
        type=parse_at,
        help="evaluate the rules as if the time were this ISO-8601 instant (without a zone: in the org's time zone; "
        "default: now); the messages go out now",
    )
    job_run.add_argument("--dry-run", action="store_true", help="print what would be sent; send and record nothing")
    job_run.add_argument(
        "--wait",
        type=float,
        default=DELIVERY_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"wait up to this long for the messages to be delivered (default {DELIVERY_WAIT_SECONDS:.0f})",
    )
    job_run.set_defaults(handler=cmd_jobs_run)
    export = commands.add_parser("export", help="every request with its events, SLA figures and time in each court")
    export.add_argument("--format", choices=["json", "csv"], default="json")
    export.add_argument("--out", help="write to this file (default: standard output)")
    export.add_argument(
        "--at",
        type=parse_at,
        help="the SLA figures and time in each court as of this ISO-8601 instant (without a zone: in the org's "
        "time zone; default: now)",
    )
    export.add_argument(
        "--changes", action="store_true", help="export the change log (every logged change with its events) instead"
    )
    export.set_defaults(handler=cmd_export)
    doctor = commands.add_parser(
        "doctor", help="recompute every request's kept facts from its event log and name those that differ"
    )
    doctor.add_argument("--fix", action="store_true", help="rewrite the facts that differ from what the log says")
    doctor.set_defaults(handler=cmd_doctor)
    backup = commands.add_parser(
        "backup", help="copy the database to a new FILE, consistent even while the bot runs and writes"
    )
    backup.add_argument("file", metavar="FILE", help="the backup to write (must not exist yet)")
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser(
        "restore",
        help="replace the database with the backup FILE (or the Litestream replica at URL) "
        "once checked; refused while the bot runs",
    )
    restore.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help="a backup made by `ai-intake backup` (or any copy of an ai-intake database)",
    )
    restore.add_argument(
        "--from-replica",
        metavar="URL",
        help="restore the latest state of this Litestream replica instead "
        "(file:///replica, s3://bucket/path …; needs the litestream command)",
    )
    restore.set_defaults(handler=cmd_restore)
    console = commands.add_parser(
        "console", help="try it with no Slack workspace: the real bot against a stand-in for Slack on this machine"
    )
    console.add_argument("--script", metavar="FILE", help="run the lines of FILE as if typed and print the transcript")
    console.add_argument("--fresh", action="store_true", help="start over with an empty console database")
    console.add_argument(
        "--now",
        metavar="TIME",
        help="start the clock at this ISO-8601 time (default: Mon 2026-11-23 09:00 in the org's zone)",
    )
    console.set_defaults(handler=cmd_console)
    return parser


def parse_at(text: str) -> datetime:
    """An ISO-8601 instant; a time without a zone stays naive here and is read in the organisation's time zone once
    the config is loaded (`at_in`), as the console reads it."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO-8601 time like 2026-12-01T09:00:00+01:00, got {text!r}"
        ) from None


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2026-12-01, got {text!r}") from None


def print_config_problems(exc: ConfigError, *, file=sys.stderr) -> None:
    print("ai-intake: the config is not valid:", file=file)
    for problem in exc.problems:
        print(f"  {problem}", file=file)


# -- config check -------------------------------------------------------------------------------
def cmd_config_check(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else load_settings().config_path
    config = load_config(path)
    print(f"{path}: ok")
    print(routing_table(config))
    print("\n".join(change_log_lines(config)))
    today = args.start or datetime.now(ZoneInfo(config.timezone)).date()
    print("\n".join(holiday_lines(config, today=today)))
    return 0


def change_log_lines(config: Config, *, environ: dict[str, str] | None = None) -> list[str]:
    """The hook sources (saying which secrets are not set), the change-log settings and the asset catalog."""
    secrets = hook_secrets({name: source.secret_env for name, source in config.hooks.items()}, environ)
    pairs = {d.name: Pair(product=d.product_owner, platform=d.platform_owner) for d in config.domains}
    return catalog_lines(config.catalog, secrets_set={config.hooks[s].secret_env for s in secrets}, domain_pairs=pairs)


def routing_table(config: Config) -> str:
    """The routing table as text: one row per domain, then triage and the org-wide settings."""
    header = ("domain", "channels", "engineers", "reviewers", "owners (product/platform)", "lead", "away", "keywords")
    rows = [header]
    for d in config.domains:
        rows.append(
            (
                d.name,
                " ".join(d.channels) or "-",
                " ".join(d.engineers),
                " ".join(d.reviewers) or "-",
                f"{d.product_owner or '-'}/{d.platform_owner or '-'}",
                d.lead or "-",
                " ".join(d.away) or "-",
                ", ".join(d.keywords) or "-",
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(
        f"unrouted requests go to {config.triage_channel}; time zone {config.timezone}; admins: {' '.join(config.admins) or '-'}"
    )
    if config.digest:
        lines.append(f'digest: {config.digest.channel} at "{config.digest.cron}"')
    lines.append(
        "away: as the config lists it; who said `/ai-request away` is in the database, and on each one's App Home"
    )
    return "\n".join(lines)


def holiday_lines(config: Config, *, today: date, count: int = 5) -> list[str]:
    """The next holidays each SLA clock skips from `today` on: the org's, then each domain whose list differs."""
    org = _next_skipped(config, None, today=today, count=count)
    lines = [
        f"holidays the SLA clock skips next (business days from {today.isoformat()} on):",
        f"  org ({config.holidays.describe()}): {org}",
    ]
    for domain in config.domains:
        mine = _next_skipped(config, domain.name, today=today, count=count)
        if mine != org:
            lines.append(f"  {domain.name} ({config.holidays_of(domain.name).describe()}): {mine}")
    return lines


def _next_skipped(config: Config, domain: str | None, *, today: date, count: int) -> str:
    open_days = config.calendar(domain).days
    named = config.holidays_of(domain).named()
    days = [d for d in named if d >= today and d.weekday() in open_days][:count]
    return "; ".join(f"{d.isoformat()} ({d:%a}) {named[d]}" for d in days) or "none"


# -- jobs and export ----------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    from bot.usecases.export import export, export_to_file

    db_path, config_path = export_sources(load_settings(), load_settings({}))
    config = load_config(config_path)
    store, now = open_store(db_path, config), at_in(args.at, config)
    try:
        if args.out:
            count = export_to_file(store, config, now=now, fmt=args.format, path=Path(args.out), changes=args.changes)
            print(f"wrote {count} {'change' if args.changes else 'request'}(s) to {args.out}", file=sys.stderr)
        else:
            export(store, config, now=now, fmt=args.format, out=sys.stdout, changes=args.changes)
    except Exception as exc:  # any failure is told in one sentence, never as a traceback
        left = f"nothing was written to {args.out}" if args.out else "the output above is incomplete"
        reason = " ".join(str(exc).split())  # one line, whatever the error says
        print(f"ai-intake: the export failed ({type(exc).__name__}: {reason}); {left}.", file=sys.stderr)
        return 1
    return 0


def export_sources(settings: Settings, defaults: Settings, *, doing: str = "export") -> tuple[Path, Path]:
    """The database and the config an export (or `doing`: "check") reads: AI_INTAKE_DB and AI_INTAKE_CONFIG; with
    neither set and no ./ai-intake.db, the console's database and the config it ran with (the demo's unless
    AI_INTAKE_CONFIG). SettingsError, in one sentence, when there is no database to read (none is created)."""
    from bot.console.main import CONSOLE_DB, DEMO_CONFIG

    db_path, config_path = settings.db_path, settings.config_path
    db_set, config_set = db_path != defaults.db_path, config_path != defaults.config_path
    if not db_set and not db_path.exists() and CONSOLE_DB.exists():
        print(
            f"ai-intake: {doing}ing the console's database {CONSOLE_DB} (AI_INTAKE_DB names another)", file=sys.stderr
        )
        return CONSOLE_DB, config_path if config_set else DEMO_CONFIG
    if not db_path.exists():
        where = "AI_INTAKE_DB" if db_set else "the default, as AI_INTAKE_DB is not set"
        raise SettingsError(
            f"there is no database at {db_path} ({where}): set AI_INTAKE_DB to the database to {doing}."
        )
    return db_path, config_path


# -- doctor -----------------------------------------------------------------------------------------
def cmd_doctor(args: argparse.Namespace) -> int:
    """Recompute every request's facts from its event log under the config and compare them with the kept ones:
    one line per request that differs (and what), exit 1 when any does; `--fix` rewrites those, exit 0."""
    from bot.usecases.facts import Facts
    from storage.db import Db
    from storage.store import Store

    db_path, config_path = export_sources(load_settings(), load_settings({}), doing="check")
    config = load_config(config_path)
    facts = Facts(Store(Db(str(db_path))), config)
    differ, checked = [], 0

    def progress(n: int) -> None:
        nonlocal checked
        checked = n

    for difference in facts.check(on_page=progress):
        differ.append(difference.request_id)
        print(f"{difference.key}: {difference.what()} (kept facts differ from its log)")
    if not differ:
        print(f"checked {checked} request(s): every one's facts are what its log says")
        return 0
    if not args.fix:
        print(
            f"checked {checked} request(s): {len(differ)} differ; `ai-intake doctor --fix` rewrites them from their logs"
        )
        return 1
    fixed = facts.fix(differ)
    print(f"checked {checked} request(s): rewrote the facts of {fixed} from their logs")
    return 0


# -- backup and restore -------------------------------------------------------------------------
def cmd_backup(args: argparse.Namespace) -> int:
    from storage.backup import backup

    source = load_settings().db_path
    summary = backup(source, Path(args.file))
    print(f"backed up {source} to {summary.path}: {summary.describe()}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from storage.backup import restore, restore_from_replica

    if bool(args.file) == bool(args.from_replica):
        raise SettingsError("restore takes a backup FILE or --from-replica URL (one of them).")
    target = load_settings().db_path
    now = datetime.now(timezone.utc)
    if args.from_replica:
        done, source = restore_from_replica(args.from_replica, target, now=now), f"the replica {args.from_replica}"
    else:
        done, source = restore(Path(args.file), target, now=now), args.file
    if done.kept:
        print(f"kept the database it replaces as {done.kept}")
    print(f"restored {source} into {target}: {done.summary.describe()}")
    if done.journal:
        print(
            f"{done.pending} message(s) wait in its outbox; the send journal shows {done.found_sent} of them sent since "
            f"the backup: those are not sent again"
        )
    elif done.pending:
        print(
            f"{done.pending} message(s) wait in its outbox and there is no send journal beside the database: each is "
            f"looked for in its channel before it is posted; direct messages among them may be sent again"
        )
    if done.summary.level < done.summary.known:
        print(f"`ai-intake run` upgrades it to schema level {done.summary.known} when it starts")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    from bot.console.main import cmd_console as console

    return console(args)


if __name__ == "__main__":
    sys.exit(main())
