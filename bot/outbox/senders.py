"""Delivery: one sender per outbox kind, registered in one table (`SENDERS`), each over its typed payload.

A sender renders with `bot/blocks/` and calls the Web API through the `Poster`; it gets everything it
needs passed in (the item read once, the `Delivery` tools) and never touches the store. It returns
what it sent (`Sent`), or raises `Retry`, `Defer` or `Skip`; the worker records the outcome.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from slack_sdk.errors import SlackApiError

from bot.blocks.card import card_message, moved_card
from bot.blocks.change_text import thread_line
from bot.blocks.changes import home_blocks, question_message
from bot.blocks.common import to_dicts
from bot.blocks.digest import digest_messages
from bot.blocks.home import home_view
from bot.blocks.lines import told_text
from bot.blocks.messages import away_mark, filed_reply
from bot.blocks.nag_rules import told
from bot.blocks.nags import legacy_nag_dm, nag_dm, thread_nag
from bot.runtime.clock import Clock
from bot.domain.business_hours import BusinessCalendar
from bot.domain.changes import ChangeRecord
from bot.domain.changes_loop import Suspect
from bot.domain.changes_thread import line_from_json
from bot.domain.digest_facts import digest_from_json
from bot.domain.duplicates import similar_ids
from bot.domain.models import Away, Event, Request
from bot.domain.nag_facts import facts_from_json
from bot.domain.nags import still_applies
from bot.domain.policy import Config
from bot.outbox.slack import Poster
from bot.usecases.changelog import ChangeHome, ChangeView
from bot.usecases.queries import HomeData
from storage.outbox import (
    CardMoved,
    CardUpdate,
    ChangeLine,
    ChangeNagItem,
    ChangeQuestion,
    ChannelMessage,
    DigestPart,
    Ephemeral,
    FiledReply,
    HomeRefresh,
    Kind,
    NagItem,
    NagMessage,
    Payload,
    ThreadLine,
)

P = TypeVar("P", bound=Payload)


class Retry(Exception):
    """Send this item again later (the card it threads under is not posted yet, or a passing failure)."""


class Waiting(Retry):
    """Send this item again later: what it threads under is not posted yet (a wait, not a failure)."""


class Defer(Exception):
    """Send this item at `until` (a nag waiting for its recipient's working hours)."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"outside the recipient's working hours until {until.isoformat()}")
        self.until = until


class Skip(Exception):
    """This item can never be sent (its card could not be posted); drop it quietly."""


@dataclass(frozen=True)
class Outgoing(Generic[P]):
    """One due outbox item, read once: its typed payload and, for an item about a request, the request with
    its events. `card_pending`: the request's card is not posted yet, and an item to post it still waits."""

    id: int
    attempts: int
    payload: P
    request: Request | None = None
    events: list[Event] = field(default_factory=list)
    card_pending: bool = False


@dataclass(frozen=True)
class Sent:
    """What a sender did: the ts of the message it posted, if any, where it posted a request's card, and the
    cards' permalinks it fetched (request id -> permalink), to remember."""

    ts: str | None = None
    card: tuple[str, str] | None = None  # (channel, ts)
    permalinks: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What the senders use: the Web API, the config, the clock, a person's working hours, the lists of an
    App Home and the requests a batched nag is about (by id)."""

    poster: Poster
    config: Config
    clock: Clock
    working_hours: Callable[[str], BusinessCalendar]
    home_of: Callable[..., HomeData]
    requests_of: Callable[[Sequence[int]], dict[int, Request]]
    change_of: Callable[[str], ChangeView | None] = lambda change_id: None
    change_home_of: Callable[[str], ChangeHome | None] = lambda user: None
    suspects_of: Callable[[Request, datetime], list[Suspect]] = lambda request, now: []
    away_of: Callable[[Sequence[str | None], date], dict[str, Away]] = lambda people, on: {}


def send_card(d: Delivery, out: Outgoing[CardUpdate]) -> Sent:
    """Update the card where it is, or post it in its channel (again, when Slack lost it)."""
    request = out.request
    if request is None or not request.card_channel:
        return Sent()
    now = d.clock()
    alike = similar_ids(out.events)
    found = d.requests_of(alike) if alike else {}
    away = d.away_of([request.assignee], now.astimezone(d.config.calendar(None).tz).date()) if request.assignee else {}
    text, blocks = card_message(
        request,
        out.events,
        d.config,
        now=now,
        suspects=d.suspects_of(request, now),
        similar=[found[i] for i in alike if i in found],
        assignee_back=away_mark(away.get(request.assignee or "")),
    )
    if request.card_ts:
        try:
            d.poster.update(channel=request.card_channel, ts=request.card_ts, text=text, blocks=to_dicts(blocks))
            return Sent(ts=request.card_ts)
        except SlackApiError as exc:
            if exc.response.get("error") != "message_not_found":
                raise
    channel, ts = d.poster.post(
        out.id,
        attempts=out.attempts,
        channel=request.card_channel,
        text=text,
        blocks=to_dicts(blocks),
        unfurl_links=False,
    )
    return Sent(ts=ts, card=(channel, ts))


def send_thread(d: Delivery, out: Outgoing[ThreadLine]) -> Sent:
    """A line (or a nag with its buttons, worded now from its facts) under the card; it waits for the card, or is
    dropped when the card will never be posted."""
    request, p = out.request, out.payload
    if request is None:
        return Sent()
    if not request.card_ts:
        if out.card_pending:
            raise Waiting("the card is not posted yet")
        raise Skip("card_not_posted")
    text, blocks = p.text, p.blocks
    if p.told is not None:
        text = told_text(p.told, request=request, config=d.config, others=d.requests_of)
    if p.facts is not None:  # the request's age as of when the nag was found due
        said = told(facts_from_json(p.facts))
        text, nag_blocks = thread_nag(said, request, d.config, now=p.written_at or d.clock(), buttons=p.buttons)
        blocks = to_dicts(nag_blocks)
    extra: dict[str, Any] = {"blocks": blocks, "unfurl_links": False} if blocks else {}
    _, ts = d.poster.post(
        out.id,
        attempts=out.attempts,
        channel=request.card_channel or "",
        thread_ts=request.card_ts,
        text=text,
        **extra,
    )
    return Sent(ts=ts)


def send_message(d: Delivery, out: Outgoing[ChannelMessage]) -> Sent:
    p = out.payload
    text = told_text(p.told, request=out.request, config=d.config, others=d.requests_of) if p.told else p.text
    extra: dict[str, Any] = {k: v for k, v in (("thread_ts", p.thread_ts), ("blocks", p.blocks)) if v is not None}
    _, ts = d.poster.post(out.id, attempts=out.attempts, channel=p.channel, text=text, unfurl_links=False, **extra)
    return Sent(ts=ts)


def send_reply(d: Delivery, out: Outgoing[FiledReply]) -> Sent:
    """ "Filed AIR-12 …": ephemerally (or by DM) to the person, or in the thread it was filed from."""
    request, p = out.request, out.payload
    if request is None:
        return Sent()
    text, blocks = filed_reply(
        request, d.config, created=True, user=p.user, channel=None if p.user else p.channel, cut=p.cut
    )
    if p.user:
        return Sent(ts=d.poster.ephemeral(user=p.user, channel=p.channel, text=text, blocks=to_dicts(blocks)))
    _, ts = d.poster.post(
        out.id,
        attempts=out.attempts,
        channel=p.channel or "",
        thread_ts=p.thread_ts,
        text=text,
        blocks=to_dicts(blocks),
        unfurl_links=False,
    )
    return Sent(ts=ts)


def send_ephemeral(d: Delivery, out: Outgoing[Ephemeral]) -> Sent:
    p = out.payload
    text = told_text(p.told, request=out.request, config=d.config, others=d.requests_of) if p.told else p.text
    if p.response_url:
        status = d.poster.respond(p.response_url, text=text)
        if status >= 500:
            raise Retry(f"response_url answered {status}")
        return Sent()
    return Sent(ts=d.poster.ephemeral(user=p.user, channel=p.channel, text=text))


def send_nag(d: Delivery, out: Outgoing[NagMessage]) -> Sent:
    """One person's batched nags, as a direct message with each nag's buttons, in their working hours (the
    org's business hours in the person's own time zone) unless one of them is urgent. A nag whose request
    was closed (or, unowned, taken) while it was held is left out, and so is one whose change was answered."""
    p, now = out.payload, d.clock()
    if not p.urgent:
        hours = d.working_hours(p.user)
        if not hours.is_open(now):
            raise Defer(hours.next_opening(now))
    if not p.items:
        _, ts = d.poster.post(
            out.id,
            attempts=out.attempts,
            channel=p.user,
            text=p.text[:3000],
            blocks=to_dicts(legacy_nag_dm(p.text, p.buttons)),
        )
        return Sent(ts=ts)
    requests = d.requests_of(sorted({i.request_id for i in p.items if isinstance(i, NagItem)}))
    changes = _unanswered(d, {i.change_id for i in p.items if isinstance(i, ChangeNagItem)})
    items = [
        i
        for i in p.items
        if (
            i.change_id in changes
            if isinstance(i, ChangeNagItem)
            else still_applies(i.rule, i.step, requests.get(i.request_id))
        )
    ]
    if not items:
        return Sent()  # held for working hours, and meanwhile every request it was about was closed or owned
    links = _permalinks(d, [requests[i.request_id] for i in items if isinstance(i, NagItem)])
    requests = {i: r.model_copy(update={"card_permalink": links[i]}) if i in links else r for i, r in requests.items()}
    text, blocks = nag_dm(p.user, items, requests, d.config, now=now, changes=changes)
    _, ts = d.poster.post(
        out.id, attempts=out.attempts, channel=p.user, text=text, blocks=to_dicts(blocks), unfurl_links=False
    )
    return Sent(ts=ts, permalinks=links)


def _unanswered(d: Delivery, change_ids: Iterable[str]) -> dict[str, ChangeRecord]:
    """The changes still waiting for an answer, of those a held message nags about (an answered one is left out)."""
    views = {change_id: d.change_of(change_id) for change_id in sorted(change_ids)}
    return {
        change_id: view.record for change_id, view in views.items() if view is not None and view.record.answer is None
    }


def _permalinks(d: Delivery, requests: Iterable[Request]) -> dict[int, str]:
    """The permalinks of posted cards not known yet, fetched once (a card Slack will not link to is named by
    its channel and ts instead)."""
    found = {}
    for request in requests:
        if request.card_permalink is None and request.card_channel and request.card_ts:
            if (link := d.poster.permalink(channel=request.card_channel, ts=request.card_ts)) is not None:
                found[request.id] = link
    return found


def send_home(d: Delivery, out: Outgoing[HomeRefresh]) -> Sent:
    user = out.payload.user
    now = d.clock()
    home = d.home_of(
        user, on=now.astimezone(d.config.calendar(None).tz).date(), section=out.payload.section, page=out.payload.page
    )
    changes = d.change_home_of(user)
    more = home_blocks(changes.waiting, changes.recent, d.config, now=now) if changes else []
    view = home_view(
        home.assigned,
        home.filed,
        home.queues,
        d.config,
        now=now,
        viewer=user,
        away=home.away,
        more=more,
        people_away=home.people_away,
    )
    d.poster.publish_home(user=user, view=view.to_dict())
    return Sent()


def send_card_moved(d: Delivery, out: Outgoing[CardMoved]) -> Sent:
    """The old card, once the new one is posted: no buttons, and where the request went (a link to its new card)."""
    request, p = out.request, out.payload
    if request is None:
        return Sent()
    if not request.card_ts or not request.card_channel:
        if out.card_pending:
            raise Waiting("the new card is not posted yet")
        raise Skip("card_not_posted")
    link = d.poster.permalink(channel=request.card_channel, ts=request.card_ts)
    text, blocks = moved_card(request.key, domain=p.domain, by=p.by, channel=request.card_channel, link_url=link)
    try:
        d.poster.update(channel=p.channel, ts=p.ts, text=text, blocks=to_dicts(blocks))
    except SlackApiError as exc:
        if exc.response.get("error") == "message_not_found":
            raise Skip("message_not_found") from None
        raise
    return Sent(ts=p.ts)


def send_change_question(d: Delivery, out: Outgoing[ChangeQuestion]) -> Sent:
    """Post the question about a change (the first item), or update it in place once it is posted."""
    p = out.payload
    view = d.change_of(p.change_id)
    if view is None:
        return Sent()
    text, blocks = question_message(view.record, d.config, now=d.clock())
    if not p.first:
        if view.ts is None:
            raise Waiting("the question is not posted yet") if view.pending else Skip("question_not_posted")
        d.poster.update(channel=p.channel, ts=view.ts, text=text, blocks=to_dicts(blocks))
        return Sent(ts=view.ts)
    _, ts = d.poster.post(
        out.id, attempts=out.attempts, channel=p.channel, text=text, blocks=to_dicts(blocks), unfurl_links=False
    )
    return Sent(ts=ts)


def send_change_line(d: Delivery, out: Outgoing[ChangeLine]) -> Sent:
    """A line under a change's question; it waits for the question, or is dropped when it will never be posted."""
    p = out.payload
    view = d.change_of(p.change_id)
    if view is None:
        return Sent()
    if view.ts is None:
        raise Waiting("the question is not posted yet") if view.pending else Skip("question_not_posted")
    _, ts = d.poster.post(out.id, attempts=out.attempts, channel=p.channel, thread_ts=view.ts, text=_change_line(p))
    return Sent(ts=ts)


def _change_line(p: ChangeLine) -> str:
    """A change's line worded now from its facts (an answer, a snooze, a regression naming it; or a nag), or the text
    an item queued before facts holds."""
    if p.facts is None:
        return p.text
    line = line_from_json(p.facts)
    return thread_line(line) if line is not None else told(facts_from_json(p.facts))


def send_digest_part(d: Delivery, out: Outgoing[DigestPart]) -> Sent:
    """One message of a weekly digest, worded now from the figures its job kept (the same after a restart)."""
    p = out.payload
    messages = digest_messages(digest_from_json(p.facts), d.config, now=p.written_at)
    if p.part >= len(messages):
        raise Skip("digest_part_gone")  # worded in fewer messages than when it was queued (a new version)
    text, blocks = messages[p.part]
    _, ts = d.poster.post(
        out.id, attempts=out.attempts, channel=p.channel, text=text, blocks=to_dicts(blocks), unfurl_links=False
    )
    return Sent(ts=ts)


def _card_channel(out: Outgoing[Any]) -> str | None:
    return out.request.card_channel if out.request else None


def _no_channel(out: Outgoing[Any]) -> str | None:
    return None  # views.publish and ephemerals are not channel posts


@dataclass(frozen=True)
class Sender:
    """How one kind is sent, and the channel it posts to (for pacing; None: not a channel post)."""

    send: Callable[[Delivery, Any], Sent]
    channel: Callable[[Outgoing[Any]], str | None]


SENDERS: dict[Kind, Sender] = {
    Kind.CARD: Sender(send_card, _card_channel),
    Kind.THREAD: Sender(send_thread, _card_channel),
    Kind.MESSAGE: Sender(send_message, lambda out: out.payload.channel),
    Kind.REPLY: Sender(send_reply, lambda out: out.payload.channel or out.payload.user),
    Kind.EPHEMERAL: Sender(send_ephemeral, _no_channel),
    Kind.NAG: Sender(send_nag, lambda out: out.payload.user),
    Kind.HOME: Sender(send_home, _no_channel),
    Kind.CHANGE: Sender(send_change_question, lambda out: out.payload.channel),
    Kind.CHANGE_LINE: Sender(send_change_line, lambda out: out.payload.channel),
    Kind.DIGEST: Sender(send_digest_part, lambda out: out.payload.channel),
    Kind.MOVED: Sender(send_card_moved, _card_channel),  # in the new card's lane: after it, so it can link to it
}
ON_CARD_CHANNEL = frozenset(kind for kind, sender in SENDERS.items() if sender.channel is _card_channel)
"""The kinds that post in their request's card channel (the others name their channel in their payload)."""
