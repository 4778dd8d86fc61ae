"""The outbox's lanes: how one batch of items read is split into lanes sent side by side (`bot.outbox.worker`).

A lane is sent in order, one item after the other; lanes go at once. A request whose card is posted has a lane of
its own in each channel it posts to (its card's updates, the lines in its thread), so clicks on two cards of one
channel update both at once; a channel's other items (new cards with the lines under them, so a channel's cards
appear in the order filed; messages, digests, a change's question and its lines) share the channel's lane; an item
that posts to no channel is a lane by itself. The channel's tokens (`Pacer`) are taken in queue order, whatever the
lanes fall.

Batches overlap: the worker reads the next items while earlier lanes are still out. An item whose lane is still
out (`busy`) is not started beside it, so a lane's items still go one after the other in the order queued; it waits,
untried, for the next read after that lane is done. `Flight` is what is out during one drain; `Outcome` what became
of one item sent.
"""

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.outbox.pacing import Pacer
from bot.outbox.senders import SENDERS, Outgoing, Sent
from storage.outbox import Kind
from storage.queue import OutboxItem

LEASE_SECONDS = 30.0
"""How long the outbox's `notifier` lease lasts once taken (one sender per database)."""
LANE_ITEMS = 4
"""Items a lane takes from one read, at most (with more than one lane): a lane's later items wait for the next read
after it, so a channel's backlog of new cards holds no one else, and a card clicked meanwhile goes with the next
few. The rest waits, in order."""


@dataclass
class Outcome:
    """What became of one item: `sent`, `retry` (a passing failure), `wait` (for the card it threads under),
    `defer` (until `until`), `skip`, `refused`
    (Slack said no for good), `failed` (a bug or bad data), or `superseded` (a newer card of the request was sent)."""

    item: OutboxItem
    out: Outgoing | None
    what: str
    sent: Sent | None = None
    error: str = ""
    until: datetime | None = None
    exc: BaseException | None = None


@dataclass
class Lane:
    """Items sent one after the other, in the order queued (see the module docstring), under `key`."""

    key: str
    channel: str | None
    items: list[tuple[OutboxItem, Outgoing]] = field(default_factory=list)


@dataclass
class Split:
    """A batch split into lanes: `lanes` to send now; `paced`: (item, outgoing, until) of the channels out of tokens;
    `later`: the items not started (their lane is out, full, or no lane was free), left pending and untried."""

    lanes: list[Lane]
    paced: list[tuple[OutboxItem, Outgoing, datetime]]
    later: list[OutboxItem]


def lane_key(item: OutboxItem, channel: str | None, *, posted: int | None, lanes: int) -> str:
    """A request whose card is posted (`posted`: its id) has a lane of its own in each channel it posts to. A card not
    posted yet waits in its channel's lane, with the lines under it, for the cards queued before it: Slack shows a
    channel's cards in the order they were posted (and posts them about one a second anyway). With one lane at
    a time there is nothing to win: a lane per channel, as queued."""
    if not channel:
        return f"item:{item.id}"
    if lanes > 1 and posted is not None:
        return f"{channel} request:{posted}"
    return channel


def split(
    outs: list[tuple[OutboxItem, Outgoing]],
    *,
    now: datetime,
    pacer: Pacer,
    lanes: int,
    busy: set[str] | frozenset[str] = frozenset(),
    room: int | None = None,
) -> Split:
    """The lanes of `outs`, each in queue order. The tokens are taken per channel in queue order, whatever the
    lanes: a channel out of tokens defers the rest of its items (in every lane of it), in order; the others go on.
    A lane takes `LANE_ITEMS` at most. `busy`: the keys of lanes still out, whose items wait for the next read;
    `room`: how many lanes may start (the others' items wait too)."""
    found: dict[str, Lane] = {}
    held: dict[str, datetime] = {}  # channel -> out of tokens: its later items wait until then
    paced: list[tuple[OutboxItem, Outgoing, datetime]] = []
    later: list[OutboxItem] = []
    closed: set[str] = set(busy)  # lanes that take no more items from this read
    for item, out in outs:
        channel = SENDERS[Kind(item.kind)].channel(out)
        posted = out.request.id if out.request is not None and out.request.card_ts else None
        key = lane_key(item, channel, posted=posted, lanes=lanes)
        if key in closed or (key not in found and room is not None and len(found) >= room):
            later.append(item)
            continue
        if channel and channel not in held and (wait := pacer.reserve(channel)) > 0:
            held[channel] = now + timedelta(seconds=wait)
        if channel in held:
            paced.append((item, out, held[channel]))
            continue
        lane = found.setdefault(key, Lane(key, channel))
        lane.items.append((item, out))
        if lanes > 1 and len(lane.items) >= LANE_ITEMS:
            closed.add(key)
    return Split(list(found.values()), paced, later)


@dataclass
class Flight:
    """The lanes out (by key) during one `drain`, the ids of their items not recorded yet, and where their outcomes
    (and each lane, once it is back) arrive."""

    lanes: dict[str, Lane] = field(default_factory=dict)
    ids: set[int] = field(default_factory=set)
    outcomes: "queue.Queue[Outcome | Lane]" = field(default_factory=queue.Queue)
    taken_at: float | None = None

    def leased(self, take: Callable[[], bool]) -> bool:
        """Whether this worker holds the lease: taken (`take`) at the drain's first read, then again once
        `LEASE_SECONDS` / 6 passed (reads come at each lane's outcomes: a write each would be one too many)."""
        if self.taken_at is not None and time.monotonic() - self.taken_at < LEASE_SECONDS / 6:
            return True
        held = take()
        self.taken_at = time.monotonic() if held else None
        return held
