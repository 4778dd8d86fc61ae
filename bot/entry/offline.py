"""What the commands that work on the database without Slack share (`export`, `doctor`, `jobs run`): reading
`--at`, and opening the store with each request's facts brought up to date."""

from datetime import datetime, timezone
from pathlib import Path

from bot.domain.policy import Config
from storage.store import Store


def at_in(at: datetime | None, config: Config) -> datetime:
    """`--at` as an instant: a time without a zone is in the organisation's time zone; none given is now."""
    if at is None:
        return datetime.now(timezone.utc)
    return at if at.tzinfo else at.replace(tzinfo=config.calendar(None).tz)


def open_store(db_path: Path, config: Config) -> Store:
    """The database at `db_path` with each request's facts kept under `config`, brought up to date first (after an
    upgrade or a change of the config, as the bot does when it starts)."""
    from bot.usecases.facts import Facts, facts_of
    from storage.db import Db

    store = Store(Db(str(db_path)), facts_of=facts_of(config))
    facts = Facts(store, config)
    facts.prepare()
    facts.wait()
    return store
