"""Write use cases: `Intake`, the one entry the listeners, the hooks and the change log use to file requests,
work them and keep people's settings. Listeners call these.

Each use case is one unit of work (`bot.usecases.base`): the request, its event and the Slack messages it
causes (queued in the outbox) are written together. `Intake` is made of its rooms: filing
(`bot.usecases.filing`), working a request (`bot.usecases.working`) and people's settings
(`bot.usecases.people`). The read use cases live in `bot.usecases.queries`.
"""

from bot.usecases.filing import Filed, Filing
from bot.usecases.people import PeopleSettings
from bot.usecases.working import MACHINE_SOURCES, Working
from storage.unit import Replayed


class Intake(Filing, Working, PeopleSettings):
    """The service. `clock` gives the current time (UTC); `metrics` counts what was filed."""


__all__ = ["Intake", "Filed", "Replayed", "MACHINE_SOURCES"]
