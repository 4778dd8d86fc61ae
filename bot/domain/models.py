"""The request, its events and the vocabulary around them. Standard library and pydantic only."""

import re
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

DEFAULT_KINDS: dict[str, str] = {
    "feature": "New AI capability",
    "regression": "AI behaviour got worse for users",
    "security_review": "Security review",
    "eval": "Quality or eval-coverage gap",
    "question": "Question",
}
KIND_DEFAULT_PRIORITY: dict[str, str] = {
    "feature": "P3",
    "regression": "P2",
    "security_review": "P3",
    "eval": "P3",
    "question": "P4",
}
PRIORITIES = ("P1", "P2", "P3", "P4")
PRIORITY_WEIGHT = {"P1": 8, "P2": 4, "P3": 2, "P4": 1}

Status = Literal["open", "claimed", "waiting", "resolved", "declined"]
Stage = Literal["requested", "in_review", "approved", "changes_requested"]
Source = Literal["command", "modal", "mention", "shortcut", "reaction", "hook", "change"]
"""How a request was filed: by a person (the first five), by a machine over HTTP (`hook`), or by a "Needs work"
answer to a logged change (`change`, an eval request)."""
OPEN_STATUSES: tuple[str, ...] = ("open", "claimed", "waiting")
CLOSED_STATUSES: tuple[str, ...] = ("resolved", "declined")

# Whose court the ball is in. The SLA clock pauses only while it is with the requester.
Court = Literal["requester", "assignee", "reviewer", "owners", "lead", "triage", "nobody"]

NO_ANSWER = "no_answer"
"""`closed_as` of a request closed because its requester did not answer (declined; the requester may reopen it)."""


def request_key(request_id: int) -> str:
    """The user-facing key of a request id: 12 -> "AIR-12"."""
    return f"AIR-{request_id}"


class Disclaimer(BaseModel):
    """A reasoned "Not mine" from one side of a regression."""

    model_config = ConfigDict(frozen=True)
    by: str
    reason: str
    at: datetime


ReasonKind = Literal["kind", "routed", "unrouted", "assigned", "unassigned", "moved", "priority", "said"]
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


class Reason(BaseModel):
    """Why a request is where it is, as facts: triage's reading, or what a person did (`bot.blocks.reasons` words
    it). `kind` says what it explains and `how` on what grounds:

    - kind (the request's kind `of`): `how` "cues" (the phrases found, `terms`), "examples" (the nearest requests'
      `keys`, else a seed `example`'s words), "nothing" (no word said otherwise);
    - routed (to `domain`): "form", "hook" or "change" (who named it), "channel" (filed in `channel`), "keywords"
      (`terms` found), "examples" (as for kind), "vocabulary" (past requests' words, `terms`);
    - unrouted: nothing pointed to a domain;
    - assigned (to `user`): "load" (`count` open, weighted `load`; `tie` "least_recent" or "first_listed"),
      "picked" (`by` someone), "platform_owner" (for the change `change`), None (named when filed);
    - unassigned (in `domain`, for lack of a `role`): "away" (everyone is), "filer" (the only one filed it);
    - moved (to `domain` by `by`, `source` the domain it left, None: triage);
    - priority (`priority`): "chosen", "urgent" (`terms` found), "raised" (from `default`, `terms` found),
      "default" (the default of the kind `of`), "kept" (a move keeps it).

    A request stored by an earlier version holds sentences: each reads as a reason whose `text` is shown as it is
    ("said"; "assigned" with its `user` when it named who triage assigned, so a reassignment still replaces it).
    """

    model_config = ConfigDict(frozen=True)

    kind: ReasonKind
    how: str | None = None
    domain: str | None = None
    user: str | None = None
    by: str | None = None
    source: str | None = None
    of: str | None = None
    channel: str | None = None
    priority: str | None = None
    default: str | None = None
    role: str | None = None
    change: str | None = None
    terms: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    example: str | None = None
    count: int | None = None
    load: int | None = None
    tie: str | None = None
    text: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_old_sentence(cls, data: Any) -> Any:
        if isinstance(data, str):
            if data.startswith("assigned to"):
                named = _MENTION.search(data)
                return {"kind": "assigned", "user": named[1] if named else None, "text": data}
            return {"kind": "said", "text": data}
        return data

    @model_serializer(mode="plain")
    def _only_what_is_set(self) -> dict[str, Any]:
        """Stored without the facts it lacks: {"kind": "routed", "domain": "support", "how": "keywords", …}."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items() if v is not None and v != ()
        }


class Draft(BaseModel):
    """What a person asked for, before triage: the input of `file_request`."""

    title: str
    description: str = ""
    kind: str = "question"
    kind_from_words: bool = False
    """No kind was typed or chosen: triage reads it from the words (`kind` is the fallback)."""
    domain: str | None = None
    priority: str | None = None
    links: list[str] = Field(default_factory=list)
    confidential: bool | None = None
    requester: str
    source: Source
    channel: str | None = None
    origin_ts: str | None = None
    permalink: str | None = None
    asset: str | None = None
    reporter: str | None = None
    """Who filed someone else's message (the shortcut or a :ticket:), when not its author."""
    private: bool = False
    """Filed in a private conversation (a private channel, a group or direct message): confidential by default."""


class Request(BaseModel):
    """A request as stored: every field the card, the SLA clock and the export need."""

    model_config = ConfigDict(frozen=True)

    id: int
    kind: str
    domain: str | None
    title: str
    description: str
    priority: str
    status: Status
    stage: Stage | None = None
    requester: str
    reporter: str | None = None
    assignee: str | None = None
    owner: str | None = None
    confidential: bool = False
    source: Source
    links: list[str] = Field(default_factory=list)
    origin_channel: str | None = None
    origin_ts: str | None = None
    origin_private: bool = False
    permalink: str | None = None
    card_channel: str | None = None
    card_ts: str | None = None
    card_permalink: str | None = None
    court: Court = "assignee"
    route_reasons: list[Reason] = Field(default_factory=list)
    """Why it is where it is (`Reason`): triage's, or a move's."""
    disclaimers: list[Disclaimer] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_as: str | None = None
    version: int = 1
    asset: str | None = None

    @property
    def key(self) -> str:
        return request_key(self.id)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_security_review(self) -> bool:
        return self.kind == "security_review"

    @property
    def is_regression(self) -> bool:
        return self.kind == "regression"


class Event(BaseModel):
    """One append-only entry of a request's history."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    request_id: int
    at: datetime
    actor: str
    type: str
    data: dict[str, Any] = Field(default_factory=dict)


WithEvents = tuple[Request, list[Event]]
"""A request with its history, oldest event first: what the SLA clocks, the nags and the renderers read."""


PAGE_SIZE = 15
"""Requests on one page of a list (`mine`, `queue`, the App Home's lists)."""
ASSIGNED, FILED = "assigned", "filed"
"""The App Home's own lists, by name (beside one per domain queue, named after its domain)."""


class Listing(NamedTuple):
    """One page of a list of requests: the requests on it (oldest first, each with its history), how many the
    whole list holds, and how many come before this page. Every surface that lists says how many more there are."""

    items: list[WithEvents]
    total: int
    skipped: int = 0

    @property
    def more(self) -> int:
        """How many come after this page."""
        return max(0, self.total - self.skipped - len(self.items))

    @property
    def page(self) -> int:
        """This page's number, from 1."""
        return self.skipped // PAGE_SIZE + 1


class Away(NamedTuple):
    """Someone triage skips: `user`, until the day `until` (when they are back; None: until they say so), by their
    own word (`/ai-request away`) or, `in_config`, because the config's `away` lists them."""

    user: str
    until: date | None
    in_config: bool = False
    cover: str | None = None
    """Who covers for them while they are away (their nags go there; else to the domain's lead)."""
