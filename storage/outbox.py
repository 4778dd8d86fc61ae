"""What the outbox table holds: the kinds of queued Slack messages, spelled once, and a typed payload for each.

The use cases queue a payload in their transaction (`tx.outbox.enqueue(ThreadLine(told=Told(…)), …)`); the
outbox worker (bot/outbox/) reads it back with `read_payload`, which validates it, and hands it to the sender
of its kind. A message is queued as what it tells (`Told`: facts) and worded when it is sent, like a card;
a nag, a digest and a line under a change's question keep their domain facts (`facts`, as JSON) the same
way. A `text` is what older items hold. Both sides import this; it imports only the standard library and
pydantic.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class Kind(StrEnum):
    CARD = "card"
    """Post or update a request's card (the request row says which)."""
    THREAD = "thread"
    """A line in the thread under a request's card."""
    MESSAGE = "message"
    """A message to a channel (a digest, the help under a mention)."""
    REPLY = "reply"
    """The "Filed AIR-12 …" answer to whoever filed a request."""
    EPHEMERAL = "ephemeral"
    """A message only one person sees (a refusal, a problem the worker met)."""
    NAG = "nag"
    """One person's batched nags, as a direct message in their working hours."""
    HOME = "home"
    """A fresh App Home for one person."""
    MOVED = "moved"
    """The old card of a request moved to another domain: updated to say where it went."""
    CHANGE = "change"
    """Post, or update in place, the question a logged change puts to the other side."""
    CHANGE_LINE = "change_line"
    """A line in the thread under a change's question (its answer, a snooze, a regression naming it, a nag)."""
    DIGEST = "digest"
    """One message of a weekly digest, worded when it is sent from the figures kept when it was queued."""


class Payload(BaseModel):
    """The data one outbox item carries; `kind` says which sender sends it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: ClassVar[Kind]

    def row(self) -> dict[str, Any]:
        """The payload as stored (JSON-ready)."""
        return self.model_dump(mode="json")


class CardUpdate(Payload):
    """The card as the request stands when it is sent (the item's request is the card). `homes`: the people whose
    App Home the change may alter; once the card is handled, the worker refreshes those of them who use it."""

    kind: ClassVar[Kind] = Kind.CARD
    homes: list[str] = []


class Told(BaseModel):
    """What a message says, as facts: which sentence (`what`), who caused it (`by`), what it names (`facts`) and
    the other requests it speaks of (`requests`, by id: read when it is sent, as they are then). The sender words
    it when it is sent (`bot.blocks.lines`); the stored facts read as plainly as the sentence would."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    what: str
    by: str = ""
    facts: dict[str, Any] = {}
    requests: list[int] = []


class _Worded(Payload):
    """A message that holds its text, or what it tells (worded when it is sent)."""

    text: str = ""
    told: Told | None = None

    def _has_words(self) -> bool:
        return bool(self.text) or self.told is not None

    @model_validator(mode="after")
    def _says_something(self) -> "_Worded":
        if not self._has_words():
            raise ValueError("a message has a text or what it tells")
        return self


class ThreadLine(_Worded):
    """A line in the card's thread: `told` (facts, worded when sent) or `text` (mrkdwn, already escaped); with
    `blocks`, `text` is their fallback. A nag in the thread keeps its `facts` instead (and the action ids of its
    `buttons`, and when it was found due, `written_at`): it is worded when it is sent."""

    kind: ClassVar[Kind] = Kind.THREAD
    blocks: list[dict[str, Any]] | None = None
    facts: dict[str, Any] | None = None
    buttons: list[str] = []
    written_at: datetime | None = None

    def _has_words(self) -> bool:
        return super()._has_words() or self.facts is not None


class ChannelMessage(_Worded):
    """`text` (mrkdwn, already escaped) or `told` (worded when sent), and optional `blocks`, in `channel`, in the
    thread `thread_ts` if given."""

    kind: ClassVar[Kind] = Kind.MESSAGE
    channel: str
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None


class FiledReply(Payload):
    """Where to answer "Filed AIR-12 …": in a thread (channel, thread_ts), ephemerally to `user` in
    `channel`, or as a direct message to `user` (no channel); `cut` names the fields cut to fit."""

    kind: ClassVar[Kind] = Kind.REPLY
    channel: str | None = None
    thread_ts: str | None = None
    user: str | None = None
    cut: list[str] = []

    @model_validator(mode="after")
    def _somewhere(self) -> "FiledReply":
        if self.user is None and not (self.channel and self.thread_ts):
            raise ValueError("a reply goes to a person or into a thread (channel and thread_ts)")
        return self


class Ephemeral(_Worded):
    """`text` (or `told`, worded when sent) only `user` sees: through `response_url` when given, else ephemeral in
    `channel`, else a DM."""

    kind: ClassVar[Kind] = Kind.EPHEMERAL
    user: str
    channel: str | None = None
    response_url: str | None = None


class NagItem(BaseModel):
    """One nag in a person's message: the request it is about, the rule and step it was sent under, its
    `facts` (worded when it is sent; an item queued before them has its `text`, mrkdwn already escaped) and the
    action ids of its buttons."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    request_id: int
    key: str
    rule: str
    step: str
    text: str = ""
    facts: dict[str, Any] | None = None
    buttons: list[str] = []
    urgent: bool = False
    urgency: int = 0
    written_at: datetime | None = None
    """When `text` was written, for a text that says the request's age ("27 days open"): a message held for working
    hours says its age as of then, as its text does."""

    @property
    def about(self) -> tuple[int, str]:
        """(request id, rule): a later step of the same rule for the same request supersedes this one."""
        return (self.request_id, self.rule)

    @property
    def order(self) -> tuple[int, int, int, str]:
        """Most urgent first; a request's before a change's of equal urgency."""
        return (-self.urgency, 0, self.request_id, self.rule)


class ChangeNagItem(BaseModel):
    """One nag about a change of the change log (not a request) in a person's message: the change (`change_id`,
    "CHG-7"), the rule and step it was sent under, its `facts` (or, queued before them, its `text`) and its
    buttons' action ids (each answers the change, or snoozes its nags)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    change_id: str
    rule: str
    step: str
    text: str = ""
    facts: dict[str, Any] | None = None
    buttons: list[str] = []
    urgency: int = 0

    urgent: ClassVar[bool] = False

    @property
    def key(self) -> str:
        return self.change_id

    @property
    def about(self) -> tuple[str, str]:
        """(change id, rule): a later step of the same rule for the same change supersedes this one."""
        return (self.change_id, self.rule)

    @property
    def order(self) -> tuple[int, int, int, str]:
        number = self.change_id.removeprefix("CHG-")
        return (-self.urgency, 1, int(number) if number.isdigit() else 0, self.rule)


class NagMessage(Payload):
    """`user`'s batched nags, most urgent first (`items`: about requests, or about changes); each says what it is
    about when it is sent.
    `urgent` (a P1 breach) goes out at once; otherwise it waits for the person's working hours.

    `text` and `buttons` (per request key, the action ids) are the older shape, still read from an
    outbox queued before `items` existed."""

    kind: ClassVar[Kind] = Kind.NAG
    user: str
    items: list[NagItem | ChangeNagItem] = []
    text: str = ""
    buttons: list[tuple[str, list[str]]] = []
    urgent: bool = False


class HomeRefresh(Payload):
    """Publish `user`'s App Home as it stands when sent, each list at its first page but `section`, at `page`."""

    kind: ClassVar[Kind] = Kind.HOME
    user: str
    section: str | None = None
    page: int = 1


class CardMoved(Payload):
    """The card the request had at (`channel`, `ts`) before `by` moved it to `domain`: it now points to the new one."""

    kind: ClassVar[Kind] = Kind.MOVED
    channel: str
    ts: str
    by: str
    domain: str


class ChangeQuestion(Payload):
    """The question about change `change_id` ("CHG-7") as it stands when sent, in `channel`. `first`: the
    item that posts it (queued with the key `change_question_key`); later ones update it in place."""

    kind: ClassVar[Kind] = Kind.CHANGE
    change_id: str
    channel: str
    first: bool = False


class ChangeLine(Payload):
    """A line in the thread under change `change_id`'s question in `channel`: its `facts` (an answer, a snooze, a
    regression naming it, or a nag's), worded when it is sent; an item queued before facts holds its `text` (mrkdwn,
    already escaped)."""

    kind: ClassVar[Kind] = Kind.CHANGE_LINE
    change_id: str
    channel: str
    text: str = ""
    facts: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _said(self) -> "ChangeLine":
        if not self.text and self.facts is None:
            raise ValueError("a change's line has its facts, or its text")
        return self


class DigestPart(Payload):
    """Message `part` (from 0) of a weekly digest in `channel`: its `facts` (the figures as they stood when it was
    queued, at `written_at`) are worded when it is sent, the same after a restart."""

    kind: ClassVar[Kind] = Kind.DIGEST
    channel: str
    part: int
    facts: dict[str, Any]
    written_at: datetime


def change_question_key(change_id: str) -> str:
    """The outbox key of the item that posts a change's question: its ts is found by this key."""
    return f"change:{change_id}:question"


PAYLOADS: dict[Kind, type[Payload]] = {
    p.kind: p
    for p in (
        CardUpdate,
        ThreadLine,
        ChannelMessage,
        FiledReply,
        Ephemeral,
        NagMessage,
        HomeRefresh,
        ChangeQuestion,
        ChangeLine,
        CardMoved,
        DigestPart,
    )
}


def read_payload(kind: str, data: dict[str, Any]) -> Payload:
    """The typed payload of a stored item; ValueError when the kind is unknown or the data does not fit it."""
    try:
        model = PAYLOADS[Kind(kind)]
    except ValueError:
        raise ValueError(f"unknown outbox kind {kind!r}") from None
    return model.model_validate(data)


__all__ = [
    "Kind",
    "Payload",
    "CardUpdate",
    "ThreadLine",
    "Told",
    "ChannelMessage",
    "FiledReply",
    "Ephemeral",
    "NagMessage",
    "NagItem",
    "ChangeNagItem",
    "HomeRefresh",
    "ChangeQuestion",
    "ChangeLine",
    "DigestPart",
    "change_question_key",
    "CardMoved",
    "PAYLOADS",
    "read_payload",
]
