"""What every write use case of `Intake` stands on: the store, the config, the clock and the metrics; one unit of
work per use case; the day it is; queueing a message to one person.

Each use case is one unit of work: the request, its event and the Slack messages it causes (queued
in the outbox) are written together, so what was acknowledged is on disk and nothing is lost. The unit
of work (`Store.transaction`) wakes the outbox worker after its commit and, for a signed delivery
(`once`), records the delivery's key with the change, so a replay has no second effect.
"""

import copy
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Self

from bot.domain.models import Request
from bot.domain.policy import Config
from bot.runtime.clock import Clock, system_clock
from bot.runtime.metrics import Metrics
from storage.outbox import ChannelMessage, Ephemeral, Told
from storage.store import Store, Tx
from storage.unit import Delivery


class UseCases:
    """The ground the use cases share. `clock` gives the current time (UTC); `metrics` counts what was filed."""

    def __init__(
        self, store: Store, config: Config, *, clock: Clock = system_clock, metrics: Metrics | None = None
    ) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._metrics = metrics or Metrics()

    # -- deliveries ------------------------------------------------------------------------------
    def seen(self, key: str) -> bool:
        """Whether a delivery with this key had its effect already (a read: a replay is dropped before any write)."""
        with self._store.reading() as tx:
            return tx.delivery_seen(key)

    def once(self, delivery: Delivery) -> Self:
        """These use cases for one signed delivery: the first change they make records its key with it, in the same
        unit of work, and raises `Replayed` (nothing written) when the key was recorded before (`Store.claiming`)."""
        bound = copy.copy(self)
        bound._store = self._store.claiming(delivery)
        return bound

    def _unit(self) -> AbstractContextManager[Tx]:
        """One use case's unit of work: it claims the delivery it runs for (see `once`) and rings the outbox."""
        return self._store.transaction()

    def _today(self, now: datetime) -> date:
        """The day it is in the organisation's time zone (what `away … until DATE` counts in)."""
        return now.astimezone(self._config.calendar(None).tz).date()

    def _schedule_check(self, tx: Tx, request: Request, now: datetime) -> None:
        """Have the nag jobs look at `request` at their next run (after every change of it): they compute when it
        next needs them (`next_check_at`) for everything they look at, so an ack does not wait for that."""
        tx.nags.set_next_check(request.id, now)

    # -- deliveries and messages ----------------------------------------------------------------
    def tell(
        self,
        *,
        user: str,
        channel: str | None,
        text: str = "",
        told: Told | None = None,
        response_url: str | None = None,
    ) -> None:
        """Queue an ephemeral message to one person (a refusal, a problem with what they sent): its `text`, or what
        it tells (`told`, worded when it is sent).

        Always after the ack, so it waits for the writer as long as a background unit does: a person told
        "busy, try again" is told once the database frees up.
        """
        with self._store.transaction(background=True) as tx:
            tx.outbox.enqueue(
                Ephemeral(user=user, channel=channel, text=text, told=told, response_url=response_url),
                at=self._clock(),
            )

    def post_once(self, *, key: str, channel: str, thread_ts: str | None, text: str) -> None:
        """Queue a message that is sent once however often it is asked for under the same key."""
        with self._unit() as tx:
            tx.outbox.enqueue(
                ChannelMessage(channel=channel, thread_ts=thread_ts, text=text), at=self._clock(), key=f"post:{key}"
            )


def people_of(*users: str | None) -> list[str]:
    """Whose App Home a change may alter (the outbox worker refreshes those who use it, after the ack)."""
    return sorted({u for u in users if u})


__all__ = ["UseCases", "people_of"]
