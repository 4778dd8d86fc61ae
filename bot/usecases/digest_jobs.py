"""The weekly digest job: one digest per domain channel and one for the organisation, and the private ones that list
confidential requests in full. It reads the figures at the digest's moment and queues them as facts
(`bot.domain.digest_facts`); the outbox words each message when it sends it (`bot.blocks.digest.digest_messages`)."""

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.blocks.digest import digest_messages
from bot.domain.changes_loop import LoopFigures, loop_all
from bot.domain.digest import (
    WEEK,
    DigestFigures,
    OpenPicture,
    confidential_open,
    digest_all,
    digest_on,
    listed_everywhere,
    stalled_from,
    week_ending,
)
from bot.domain.digest_facts import PrivateDigest, PublicDigest, digest_json
from bot.domain.facts import RequestFacts
from bot.domain.models import Request
from bot.domain.visibility import visible_to
from bot.usecases.job_base import JobBase, measured
from storage.outbox import DigestPart

log = logging.getLogger(__name__)


class DigestJobs(JobBase):
    """The digest's part of the scheduled use cases."""

    @measured("digest")
    def send_digest(self, *, now: datetime, dry_run: bool = False, due: datetime | None = None) -> list[str]:
        """Queue this week's digests: one per domain channel and one org-wide, and the private ones (each
        domain's review channel, the org's private channel) listing confidential requests in full; at most
        one per channel and week (the week it was `due` in: default `now`).

        A digest due on a holiday goes out on the business day before (`digest_on`): run on the holiday itself
        it sends nothing; the scheduler runs it the day before with `due` naming the holiday."""
        config = self._config
        calendar = config.calendar(None)
        due = due or now
        if digest_on(calendar, due) != now.astimezone(calendar.tz).date():
            log.info("no digest today: it was due on a holiday, and went out on the business day before")
            return []
        targets = self._public_targets()
        figures_of = self.digest_figures(now=now, channels=[channel for channel, _ in targets])
        with self._store.reading() as tx:
            listing = tx.digest.confidential_listing() if self._private_targets() else []
        week = due.astimezone(calendar.tz).isocalendar()
        digests = self._public_digests(targets, figures_of, now=now) + self._private_digests(listing, now=now)
        lines = []
        queued = []
        for channel, facts in digests:
            messages = digest_messages(facts, config, now=now)  # how many messages it takes, and the lines said
            lines += [f"{channel}: {text}" for text, _ in messages]
            queued += [(channel, part, facts) for part in range(len(messages))]
        if not dry_run:
            with self._store.transaction(background=True) as tx:
                for channel, part, facts in queued:
                    tx.outbox.enqueue(
                        DigestPart(channel=channel, part=part, facts=digest_json(facts), written_at=now),
                        at=now,
                        key=f"digest:{channel}:{week.year}-W{week.week:02d}:{part}",
                    )
        return lines

    def digest_figures(
        self, *, now: datetime, channels: Sequence[str] | None = None
    ) -> dict[str | None, DigestFigures]:
        """The figures of each domain's digest (by name) and the organisation's (None) at `now`, aggregated from the
        kept facts in one read; a request is named only where every one of `channels` (default: the public digests'
        channels) may see it. Waits first for a catch-up of the facts still running since the bot started."""
        if self._facts_ready is not None:
            self._facts_ready(None)
        config = self._config
        listable = listed_everywhere(
            config, channels if channels is not None else [c for c, _ in self._public_targets()]
        )
        start, end = week_ending(now)
        with self._store.reading() as tx:
            digest = tx.digest
            weeks, previous = digest.week(start, end), digest.week(start - WEEK, start)
            shown = [ref.id for ref in digest.confidential_refs() if listable(ref)]
            counts = digest.open_counts()
            picture = OpenPicture(
                counts,
                digest.stalled(silent_since=now - timedelta(days=stalled_from(config))),
                digest.unowned(),
                digest.snoozed(now=now),
                digest.oldest_open({c.domain for c in counts}, shown=shown),
            )
        return digest_all(weeks, previous, picture, config, now=now, listable=listable)

    def _public_targets(self) -> list[tuple[str, str | None]]:
        """(channel, scope) of each domain's digest and the organisation's (None)."""
        config = self._config
        targets: list[tuple[str, str | None]] = [(d.channels[0], d.name) for d in config.domains if d.channels]
        if config.digest:
            targets.append((config.digest.channel, None))
        return targets

    def _private_targets(self) -> list[tuple[str, str | None]]:
        """(channel, scope) of each domain's review channel's digest, and the org's private one (None)."""
        config = self._config
        targets: list[tuple[str, str | None]] = [(d.review_channel, d.name) for d in config.domains if d.review_channel]
        if config.digest and config.digest.private_channel:
            targets.append((config.digest.private_channel, None))
        return targets

    def _public_digests(
        self, targets: list[tuple[str, str | None]], figures_of: dict[str | None, DigestFigures], *, now: datetime
    ) -> list[tuple[str, PublicDigest]]:
        """(channel, facts) of each domain's digest and the organisation's: its figures, and the change log's part
        beside them."""
        config = self._config
        channels = [channel for channel, _ in targets]
        loop_of = self._loop_figures(
            [scope for _, scope in targets],
            now=now,
            listable=lambda r: all(visible_to(config, r, channel=c) for c in channels),
        )
        return [(channel, PublicDigest(scope, figures_of[scope], loop_of[scope])) for channel, scope in targets]

    def _loop_figures(
        self, scopes: list[str | None], *, now: datetime, listable: Callable[[Request], bool]
    ) -> dict[str | None, LoopFigures]:
        """The change log's part of each digest (a domain's, or the organisation's for None): from its own tables
        and the regressions changed in the week, apart from the digest's own figures."""
        config = self._config
        start, end = week_ending(now)
        with self._store.reading() as tx:
            records = tx.changes.for_digest(start)
            regressions = tx.by_ids_with_events(tx.changes.regressions_changed_since(start))
            named = [
                (change_id, record.change.domain if (record := tx.changes.record(change_id)) else None, at, answer)
                for change_id, at, answer in tx.changes.named_causes_since(start)
            ]
        return loop_all(
            regressions,
            records,
            start=start,
            end=end,
            scopes=scopes,
            calendar_for=config.calendar,
            listable=listable,
            decide_after=config.change_log.unacknowledged_business_days,
            named=named,
        )

    def _private_digests(
        self, items: list[tuple[Request, RequestFacts]], *, now: datetime
    ) -> list[tuple[str, PrivateDigest]]:
        """(channel, facts) of each domain's review channel's digest, and the org's private one; none for a channel
        with no confidential request open (no weekly noise in the private channel)."""
        out = []
        for channel, scope in self._private_targets():
            listed = confidential_open(items, self._config, now=now, scope=scope, channel=channel)
            if listed:
                out.append((channel, PrivateDigest(scope, tuple(listed))))
        return out
