"""The organisation's routing and SLA policy, as validated pydantic models (standard library + pydantic).

`bot.runtime.config` loads it from YAML; triage, the SLA clock and authorization read it.
"""

import re
from collections.abc import Mapping
from functools import cached_property, lru_cache
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from bot.domain.business_hours import BusinessCalendar
from bot.domain.catalog import Assets, Catalog, ChangeLogSettings, Hooks
from bot.domain.models import DEFAULT_KINDS, KIND_DEFAULT_PRIORITY, PRIORITIES
from bot.domain.slack_ids import BotIds, ChannelId, ChannelIds, UserId, UserIds


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@lru_cache(maxsize=64)
def _calendar(tz: str, days: str, start: str, end: str, holidays: frozenset[date]) -> BusinessCalendar:
    return BusinessCalendar.parse(tz=tz, days=days, start=start, end=end, holidays=holidays)


def _check_zone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected an IANA time zone name like Europe/Berlin, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)") from None
    return value


def _check_hhmm(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f'expected a time as "HH:MM", got {value!r}')
    return value


def _check_day(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"holiday {value!r} is not a date; write YYYY-MM-DD, e.g. '2026-12-25'")


Zone = Annotated[str, BeforeValidator(_check_zone)]
HHMM = Annotated[str, BeforeValidator(_check_hhmm)]
Day = Annotated[date, BeforeValidator(_check_day)]


class BusinessHours(Strict):
    days: str = "mon-fri"
    start: HHMM = "09:00"
    end: HHMM = "17:00"

    @model_validator(mode="after")
    def _ordered(self) -> "BusinessHours":
        if time.fromisoformat(self.end) <= time.fromisoformat(self.start):
            raise ValueError(f"end {self.end} must be after start {self.start}")
        BusinessCalendar.parse(tz="UTC", days=self.days, start=self.start, end=self.end)
        return self


class Holidays(Strict):
    """The days an SLA clock skips: a country's public holidays (and a subdivision's), plus listed dates.

    `country`/`subdivision` are codes of the `holidays` library (ISO 3166: DE, BE). The domain cannot
    look them up: whoever loads the config resolves them once with `with_public_holidays`; until
    then `dates` refuses to answer for a calendar that names a country. A plain list of dates in
    the config means `{extra: [...]}`.
    """

    country: str | None = None
    subdivision: str | None = None
    extra: list[Day] = Field(default_factory=list)
    days_off: list[Day] = Field(default_factory=list)
    _public: Mapping[date, str] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        if isinstance(value, list):
            return {"extra": [_check_day(v) for v in value]}
        if not isinstance(value, (dict, Holidays)):
            raise ValueError(
                f"expected a list of dates like ['2026-12-25'] or a calendar like {{country: DE, subdivision: BE}}, got {value!r}"
            )
        return value

    @field_validator("country")
    @classmethod
    def _country_code(cls, value: str | None) -> str | None:
        return value.strip().upper() if value is not None else None

    @model_validator(mode="after")
    def _subdivision_of_a_country(self) -> "Holidays":
        if self.subdivision is not None and self.country is None:
            raise ValueError(f"subdivision {self.subdivision!r} needs a country (e.g. country: DE, subdivision: BE)")
        return self

    def with_public_holidays(self, public: Mapping[date, str]) -> "Holidays":
        """A copy that knows its country's public holidays (date -> name), as looked up outside the domain."""
        resolved = self.model_copy()
        resolved._public = dict(public)
        resolved.__dict__.pop("dates", None)  # computed again, with them
        return resolved

    @cached_property
    def dates(self) -> frozenset[date]:
        """Every date closed all day (computed once: every SLA figure asks). Raises ValueError when the
        country's holidays were never looked up."""
        if self.country is not None and self._public is None:
            raise ValueError(
                f"the public holidays of {self.country} were not looked up (load the config with bot.runtime.config)"
            )
        return frozenset([*(self._public or {}), *self.extra, *self.days_off])

    def named(self) -> dict[date, str]:
        """Every closed date, in order, with what it is: the public holiday's name, "extra holiday" (or
        "holiday" in a plain list) or "company day off"."""
        names = {day: "company day off" for day in self.days_off}
        names.update({day: "extra holiday" if self.country else "holiday" for day in self.extra})
        names.update(self._public or {})
        return {day: names[day] for day in sorted(self.dates)}

    def describe(self) -> str:
        """What the calendar is made of, e.g. `DE-BE + 1 listed + 2 days off`, or `none`."""
        where = f"{self.country}-{self.subdivision}" if self.subdivision else self.country
        parts = [where] if where else []
        parts += [f"{len(self.extra)} listed"] if self.extra else []
        parts += [f"{len(self.days_off)} day{'s' if len(self.days_off) > 1 else ''} off"] if self.days_off else []
        return " + ".join(parts) or "none"


class Target(Strict):
    """SLA targets in business hours."""

    first_response: float = Field(gt=0)
    resolution: float = Field(gt=0)


DEFAULT_SLA = {
    "P1": Target(first_response=1, resolution=8),
    "P2": Target(first_response=4, resolution=40),
    "P3": Target(first_response=16, resolution=120),
    "P4": Target(first_response=40, resolution=400),
}


class SlaPolicy(Strict):
    P1: Target = DEFAULT_SLA["P1"]
    P2: Target = DEFAULT_SLA["P2"]
    P3: Target = DEFAULT_SLA["P3"]
    P4: Target = DEFAULT_SLA["P4"]
    at_risk: float = Field(default=0.75, gt=0, lt=1)
    by_kind: dict[str, dict[str, Target]] = Field(default_factory=dict)

    @field_validator("by_kind")
    @classmethod
    def _priorities(cls, value: dict[str, dict[str, Target]]) -> dict[str, dict[str, Target]]:
        for kind, targets in value.items():
            for priority in targets:
                if priority not in PRIORITIES:
                    raise ValueError(f"{kind}: unknown priority {priority!r} (use P1-P4)")
        return value

    def target(self, *, priority: str, kind: str) -> Target:
        """The targets for a request of this priority and kind (a kind's override wins)."""
        return self.by_kind.get(kind, {}).get(priority) or getattr(self, priority)


class Nags(Strict):
    requester_updates: Literal["all", "important", "none"] = "all"
    """What a requester is told of her request by default (each person may choose with `/ai-request notify`)."""
    review_stale_days: int = Field(default=7, ge=1)
    review_ladder_days: list[int] = Field(default_factory=lambda: [7, 21, 45, 90])
    review_repeat_days: int = Field(default=3, ge=1)
    regression_unowned_hours: float = Field(default=4, gt=0)
    snooze_max_days: int = Field(default=3, ge=1, le=14)
    requester_reminder_days: int | None = Field(default=3, ge=1)
    """Business days a request may wait on its requester before they are reminded; at twice that it closes as
    no answer. None: it waits as long as it takes."""

    @field_validator("review_ladder_days")
    @classmethod
    def _a_ladder_climbs(cls, value: list[int]) -> list[int]:
        if not value or value[0] < 1 or any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError(f"must be days that strictly increase from 1 on, like [7, 21, 45, 90]; got {value}")
        return value


class Digest(Strict):
    channel: ChannelId
    cron: str = "0 9 * * mon"
    private_channel: ChannelId | None = None
    """A private channel that gets the organisation's confidential requests listed in full each week (only
    people who may see every confidential request belong in it)."""

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f'expected a cron expression of 5 fields like "0 9 * * mon", got {value!r}')
        return value


class KindSpec(Strict):
    description: str
    default_priority: str = "P3"

    @field_validator("default_priority")
    @classmethod
    def _priority(cls, value: str) -> str:
        if value not in PRIORITIES:
            raise ValueError(f"expected one of P1, P2, P3, P4, got {value!r}")
        return value


class Domain(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")
    channels: ChannelIds = Field(default_factory=list)
    engineers: UserIds
    reviewers: UserIds = Field(default_factory=list)
    product_owner: UserId | None = None
    platform_owner: UserId | None = None
    lead: UserId | None = None
    keywords: list[str] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=1000)
    """What the domain looks after, in plain words ("the customer-support assistant: refunds, tickets, handoff to
    agents"): triage reads it, with the keywords and the domain's catalog assets, to route requests."""
    away: UserIds = Field(default_factory=list)
    review_channel: ChannelId | None = None
    timezone: Zone | None = None
    business_hours: BusinessHours | None = None
    sla: SlaPolicy | None = None
    holidays: Holidays | None = None

    @field_validator("engineers")
    @classmethod
    def _someone(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a domain needs at least one engineer")
        return value

    @model_validator(mode="after")
    def _away_are_its_own(self) -> "Domain":
        strangers = [p for p in self.away if p not in (*self.engineers, *self.reviewers)]
        if strangers:
            raise ValueError(f"away lists {', '.join(strangers)}, not one of {self.name}'s engineers or reviewers")
        return self

    @property
    def members(self) -> frozenset[str]:
        """Everyone who may work this domain's requests."""
        people = [*self.engineers, *self.reviewers, self.product_owner, self.platform_owner, self.lead]
        return frozenset(p for p in people if p)


class Config(Strict):
    timezone: Zone = "UTC"
    admins: UserIds = Field(default_factory=list)
    triage_channel: ChannelId
    digest: Digest | None = None
    business_hours: BusinessHours = BusinessHours()
    sla: SlaPolicy = SlaPolicy()
    nags: Nags = Nags()
    kinds: dict[str, KindSpec] = Field(default_factory=dict)
    priority_words: list[str] = Field(
        default_factory=lambda: [
            "outage",
            "down",
            "customers",
            "customer-facing",
            "legal",
            "compliance",
            "incident",
            "leak",
            "urgent",
        ]
    )
    domains: list[Domain] = Field(default_factory=list)
    holidays: Holidays = Holidays()
    hooks: Hooks = Field(default_factory=dict)
    assets: Assets = Field(default_factory=list)
    change_log: ChangeLogSettings = ChangeLogSettings()
    allowed_bots: BotIds = Field(default_factory=list)
    """Other apps' bot ids (B…) whose mentions file requests; every other bot is ignored."""

    @model_validator(mode="after")
    def _unique(self) -> "Config":
        seen_names: set[str] = set()
        seen_channels: dict[str, str] = {}
        for domain in self.domains:
            if domain.name in seen_names:
                raise ValueError(f"domain {domain.name!r} is defined twice")
            seen_names.add(domain.name)
            for channel in domain.channels:
                if channel in seen_channels:
                    raise ValueError(f"channel {channel} belongs to both {seen_channels[channel]} and {domain.name}")
                seen_channels[channel] = domain.name
        return self

    # -- lookups ---------------------------------------------------------------------------
    @cached_property
    def catalog(self) -> Catalog:
        """The change log's part of the config: hook sources, the asset catalog and the change-log settings."""
        return Catalog(hooks=self.hooks, assets=self.assets, change_log=self.change_log)

    def domain(self, name: str | None) -> Domain | None:
        return next((d for d in self.domains if d.name == name), None)

    def domain_of_channel(self, channel: str | None) -> Domain | None:
        return next(
            (d for d in self.domains if channel and (channel in d.channels or channel == d.review_channel)), None
        )

    @property
    def kind_names(self) -> dict[str, str]:
        """Every kind this organisation files, name -> description (defaults first)."""
        return {**DEFAULT_KINDS, **{k: v.description for k, v in self.kinds.items()}}

    def default_priority(self, kind: str) -> str:
        if kind in self.kinds:
            return self.kinds[kind].default_priority
        return KIND_DEFAULT_PRIORITY.get(kind, "P3")

    def is_admin(self, user: str) -> bool:
        return user in self.admins

    def member_domains(self, user: str) -> list[Domain]:
        return [d for d in self.domains if user in d.members]

    def home_domain(self, user: str) -> Domain | None:
        """The domain a person works in: the first where they are an engineer or a reviewer, else the first they
        belong to (None: they belong to none)."""
        workers = [d for d in self.domains if user in (*d.engineers, *d.reviewers)]
        return (workers or self.member_domains(user) or [None])[0]

    def calendar(self, domain: str | None) -> BusinessCalendar:
        """The business-hours calendar a domain's SLA clock counts in (the org's when unrouted)."""
        found = self.domain(domain)
        hours = (found and found.business_hours) or self.business_hours
        tz = (found and found.timezone) or self.timezone
        return _calendar(tz, hours.days, hours.start, hours.end, self.holidays_of(domain).dates)

    def holidays_of(self, domain: str | None) -> Holidays:
        """The holidays a domain's SLA clock skips: its own when it has them (they replace the org's), else the org's."""
        found = self.domain(domain)
        return found.holidays if found and found.holidays is not None else self.holidays

    def sla_policy(self, domain: str | None) -> SlaPolicy:
        found = self.domain(domain)
        return (found and found.sla) or self.sla
