"""A person's working hours: the org's business days and hours in the person's own time zone.

The zone comes from Slack's users.info once, and is remembered in the store; when Slack cannot say,
the org's zone stands in. Nags wait for their recipient's working hours.
"""

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.business_hours import BusinessCalendar
from bot.domain.policy import Config
from storage.store import Store

log = logging.getLogger(__name__)


class WorkingHours:
    def __init__(self, store: Store, client: WebClient, config: Config) -> None:
        self._store = store
        self._client = client
        self._config = config

    def of(self, user: str) -> BusinessCalendar:
        """`user`'s working hours (users.info is asked the first time only)."""
        with self._store.reading() as tx:
            tz = tx.people.person_tz(user)
        if tz is None:
            tz = self._lookup_tz(user) or self._config.timezone
            with self._store.transaction(background=True) as tx:
                tx.people.set_person_tz(user, tz)
        hours = self._config.business_hours
        try:
            return BusinessCalendar.parse(
                tz=tz,
                days=hours.days,
                start=hours.start,
                end=hours.end,
                holidays=[d.isoformat() for d in self._config.holidays.dates],
            )
        except ValueError:
            return self._config.calendar(None)

    def _lookup_tz(self, user: str) -> str | None:
        try:
            return (self._client.users_info(user=user).get("user") or {}).get("tz")
        except SlackApiError as exc:
            log.warning("users.info for %s failed (%s); using the org's time zone", user, exc.response.get("error"))
            return None
