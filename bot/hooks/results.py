"""What a hook body asks for, whatever format it came in: regressions to file and changes to log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class AlertMember(BaseModel):
    """One alert of a regression filed for a group's alerts of one name: its fingerprint, the labels that tell it
    from the others (sorted pairs), and whether it fires."""

    model_config = ConfigDict(frozen=True)

    id: str
    labels: tuple[tuple[str, str], ...] = ()
    firing: bool = True


class FiledRegression(BaseModel):
    """A regression a machine files (or reports recovered). `(source, id)` names it: the same pair
    again means the same regression. `recovered`: the sender says it is over (an alert resolved);
    that adds "recovered" to the open regression instead of filing one. `alerts`: the alerts of a group it
    stands for (an alert group's alerts of one name), which its card lists."""

    model_config = ConfigDict(frozen=True)

    source: str
    id: str
    title: str
    domain: str | None = None
    description: str = ""
    links: list[str] = Field(default_factory=list)
    priority: str | None = None
    asset: str | None = None
    recovered: bool = False
    alerts: tuple[AlertMember, ...] = ()


class Deployment(BaseModel):
    """A prompt's label or tag (`label`, e.g. production) now on `version` ("v14", or a commit); `order` the
    version's number when versions are numbered (Langfuse), so that a lower one is a rollback."""

    model_config = ConfigDict(frozen=True)

    prompt: str
    label: str
    version: str
    order: int | None = None


class LoggedChange(BaseModel):
    """A change a machine logs for one side of a domain. `(source, id)` names it: the same pair again
    means the same change.

    asset: a catalog asset the sender named. asset_if_listed: the tool's own name for what changed
    (a prompt's name), which is the asset only when the catalog lists an asset by that name.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    id: str
    side: Literal["product", "platform"]
    what: str
    domain: str | None = None
    kind: str | None = None
    version: str | None = None
    links: list[str] = Field(default_factory=list)
    asset: str | None = None
    asset_if_listed: str | None = None
    person: str | None = None
    """The tool's name for who made the change (an email, a login, a user id), credited when it is a known user."""
    deployment: Deployment | None = None
    """Set when the change is a label moving: its id and what are then decided against the label's history."""


T = TypeVar("T", FiledRegression, LoggedChange)


@dataclass(frozen=True)
class Batch(Generic[T]):
    """What one body asks for: `items` in the body's order, and a sentence for each part of it that asks
    for nothing (an alert group's left-out alerts, a prompt deleted)."""

    items: tuple[T, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)
