"""What one weekly digest message is made of, as data kept in the outbox: a public digest's figures (and the change
log's beside them), or the confidential requests a private digest lists. `bot/blocks/digest.py` words them when the
outbox sends the message, so a digest queued before a restart says the same after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter

from bot.domain.changes_loop import LoopFigures
from bot.domain.digest import DigestFigures, ConfidentialRequest


@dataclass(frozen=True)
class PublicDigest:
    """The digest of a domain (`scope`, by name) or of the organisation (None): its figures and the change log's."""

    scope: str | None
    figures: DigestFigures
    loop: LoopFigures | None = None
    what: Literal["public"] = "public"


@dataclass(frozen=True)
class PrivateDigest:
    """The private digest of a domain's review channel (`scope`) or the organisation's private channel (None):
    the confidential requests it may see, those needing a decision first."""

    scope: str | None
    listed: tuple[ConfidentialRequest, ...]
    what: Literal["private"] = "private"


DigestFacts = Annotated[Union[PublicDigest, PrivateDigest], Field(discriminator="what")]
_FACTS: TypeAdapter[PublicDigest | PrivateDigest] = TypeAdapter(DigestFacts)


def digest_json(facts: PublicDigest | PrivateDigest) -> dict[str, Any]:
    """The digest's facts as JSON, as the outbox keeps them."""
    return _FACTS.dump_python(facts, mode="json")


def digest_from_json(data: dict[str, Any]) -> PublicDigest | PrivateDigest:
    """The facts `digest_json` kept."""
    return _FACTS.validate_python(data)
