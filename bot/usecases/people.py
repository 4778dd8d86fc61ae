"""A person's settings: away (with who covers) and back, what she is told of the requests she filed, her App
Home; and what Slack said of a channel's privacy."""

from datetime import date

from bot.domain.courts import escalation
from bot.domain.errors import InvalidInput
from bot.domain.models import Away, Request
from bot.usecases.base import UseCases
from storage.outbox import CardUpdate, ChannelMessage, HomeRefresh, Told
from storage.rows import to_db_time


class PeopleSettings(UseCases):
    """Away, back, notify, the App Home, a channel's privacy."""

    def set_away(self, user: str, *, until: date | None, cover: str | None = None) -> Away:
        """`user` is away: triage skips them from now until the day `until` (None: until `back`); their nags go to
        `cover` (else to the lead of each request's domain), who is sent the open requests they hold. InvalidInput
        when `until` is not after today, when triage never assigns to them anyway, or when `cover` is themselves."""
        now = self._clock()
        today = self._today(now)
        if until is not None and until <= today:
            raise InvalidInput(
                f"{until.isoformat()} is not after today ({today.isoformat()}): say the day you are back."
            )
        if not any(user in (*d.engineers, *d.reviewers) for d in self._config.domains):
            raise InvalidInput("Triage assigns you nothing anyway: you are no domain's engineer or reviewer.")
        if cover == user:
            raise InvalidInput("Name someone else to cover for you (`cover @someone`), or leave it to your lead.")
        away = Away(user, until, cover=cover)
        with self._unit() as tx:
            tx.people.set_away(user, until=until, since=now, cover=cover)
            held = tx.open_assigned_to(user, limit=500)
            stand_ins: dict[str, list[Request]] = {}
            for request in held:
                tx.outbox.enqueue(CardUpdate(), at=now, request_id=request.id)  # its card marks the assignee away
                for person in [cover] if cover else list(escalation(request, self._config)):
                    stand_ins.setdefault(person, []).append(request)
            for person, theirs in stand_ins.items():
                facts = {"user": user, "until": until.isoformat() if until else None, "cover": cover, "to": person}
                told = Told(what="cover", facts=facts, requests=[r.id for r in theirs])
                tx.outbox.enqueue(
                    ChannelMessage(channel=person, told=told),
                    at=now,
                    key=f"cover:{user}:{to_db_time(now)}:{person}",
                )
            tx.outbox.refresh_homes({user, *stand_ins}, at=now)
        return away

    def notify(self, user: str, level: str | None) -> tuple[str, bool]:
        """What `user` is told of the requests they filed: set to `level` ("all", "important", "none"), or as it is
        (None). Returns (the level, whether it is the organisation's default they never changed)."""
        if level is not None:
            with self._unit() as tx:
                tx.people.set_notify_level(user, level, since=self._clock())
            return level, False
        with self._store.reading() as rx:
            chosen = rx.people.notify_level(user)
        return chosen or self._config.nags.requester_updates, chosen is None

    def back(self, user: str) -> bool:
        """`user` is back: triage assigns to them again. False when they were not away (by their own word)."""
        now = self._clock()
        with self._unit() as tx:
            was = tx.people.clear_away(user)
            for request in tx.open_assigned_to(user, limit=500) if was else []:
                tx.outbox.enqueue(CardUpdate(), at=now, request_id=request.id)  # its card no longer marks them away
            tx.outbox.refresh_homes({user}, at=now)
        return was

    def remember_channel(self, channel: str, *, private: bool) -> None:
        """Remember what Slack said of a channel's privacy (asked again after a day: channels can change)."""
        with self._store.transaction(background=True) as tx:
            tx.channels.remember_channel(channel, private=private, at=self._clock())

    def refresh_home(self, user: str, *, section: str | None = None, page: int = 1) -> None:
        """Queue a fresh App Home for `user` (one of its lists, `section`, at `page`)."""
        with self._unit() as tx:
            tx.people.remember_home_opened(user)
            tx.outbox.enqueue(HomeRefresh(user=user, section=section, page=page), at=self._clock(), unless_pending=True)


__all__ = ["PeopleSettings"]
