"""Turning what a person or a machine says into a change to log: what `/ai-request shipped …` means, and
where a change belongs (its domain, side, kind and asset) and who on the other side is asked.

Pure: the config, the words and the time are passed in. Every refusal is an InvalidInput naming the
field to fix (`what`, `domain`, `side`, `kind`, `asset`, `version`, `links`).
"""

import re
from dataclasses import dataclass
from datetime import datetime

from bot.domain.changes import (
    KINDS,
    SIDE_KINDS,
    SIDES,
    WHAT_LIMIT,
    HookOrigin,
    ShippedChange,
    asked,
    is_web_link,
    side_of,
)
from bot.domain.errors import InvalidInput
from bot.domain.owners import lead_of, pair_for
from bot.domain.policy import Config
from bot.domain.text import first_line, truncate

VERSION_LIMIT = 100
LINKS_LIMIT = 5
_KIND_PREFIX = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*:\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class ShippedText:
    """What `/ai-request shipped [product|platform] [kind:] <what>` says; empty `what` opens the form."""

    what: str
    side: str | None = None
    kind: str | None = None


def kind_named(word: str) -> str | None:
    """The change kind a typed word names ("Eval suite", "eval-suite", "success metric" …), or None."""
    name = re.sub(r"[\s-]+", "_", word.strip().lower())
    return name if name in KINDS else None


def parse_shipped(text: str) -> ShippedText:
    """Read the words after `shipped`: an optional side, an optional `kind:` prefix, then what shipped
    (its first line). A prefix that names no kind ("Note: …") stays part of what shipped."""
    words = text.strip().split(maxsplit=1)
    side = words[0].lower() if words and words[0].lower().rstrip(":") in SIDES else None
    rest = (words[1] if len(words) > 1 else "") if side else text.strip()
    side = side.rstrip(":") if side else None
    kind = None
    match = _KIND_PREFIX.match(rest)
    if match and (named := kind_named(match.group(1))):
        kind, rest = named, match.group(2)
    return ShippedText(what=rest.strip(), side=side, kind=kind)


@dataclass(frozen=True)
class ChangeDraft:
    """A change someone asks to log, before it is placed. `channel`: where it was typed (its domain's,
    when no domain is named). `origin`: the hook source and the sender's id, for a machine."""

    what: str
    shipped_by: str
    side: str | None = None
    kind: str | None = None
    domain: str | None = None
    asset: str | None = None
    version: str | None = None
    links: tuple[str, ...] = ()
    channel: str | None = None
    origin: HookOrigin | None = None


def plan_change(draft: ChangeDraft, config: Config, *, at: datetime) -> ShippedChange:
    """The change `draft` logs at `at` (its id still to be given, "CHG-0"), with the person to ask.

    Domain: the one named, else the channel's, else the asset's, else the only domain the person
    belongs to. Side: the one named, else the kind's, else the asset's, else the person's own (the
    product or platform owner of the domain or asset). Raises InvalidInput naming the field.
    """
    what = _what(draft.what)
    domain, asset = _place(draft, config)
    kind = _kind(draft.kind)
    side = _side(draft, config, domain=domain, asset=asset, kind=kind)
    if kind is not None and kind not in SIDE_KINDS[side]:
        raise InvalidInput(
            f"A {side} change cannot be a {kind.replace('_', ' ')}; {side} changes are "
            f"{', '.join(k.replace('_', ' ') for k in SIDE_KINDS[side])}.",
            field="kind",
        )
    change = ShippedChange(
        id="CHG-0",
        domain=domain,
        side=side,
        kind=kind,
        what=what,
        asset=asset,
        version=_version(draft.version),
        links=_links(draft.links),
        shipped_by=draft.origin.source if draft.origin else draft.shipped_by,
        origin=draft.origin,
        at=at,
    )
    return change.model_copy(
        update={"asked": asked(change, pair_for(config, domain, asset=asset), lead=lead_of(config, domain))}
    )


def _what(text: str) -> str:
    what = first_line(text or "", WHAT_LIMIT + 1).strip()
    if not what:
        raise InvalidInput("Say what shipped, e.g. `/ai-request shipped intent: express refund`.", field="what")
    if len(what) > WHAT_LIMIT:
        raise InvalidInput(f"Say what shipped in one line of at most {WHAT_LIMIT} characters.", field="what")
    return what


def _place(draft: ChangeDraft, config: Config) -> tuple[str, str | None]:
    names = [d.name for d in config.domains]
    typed_in = config.domain_of_channel(draft.channel)
    domain = draft.domain or (typed_in.name if typed_in and draft.asset is None else None)
    placed, asset = config.catalog.place(domain, asset=draft.asset, domains=names, domain_required=False)
    if placed is None and typed_in is not None:
        placed = typed_in.name
    if placed is None:
        mine = [d.name for d in config.member_domains(draft.shipped_by)]
        placed = mine[0] if len(mine) == 1 else None
    if placed is None and draft.origin is not None:
        raise InvalidInput(
            f"say which domain this belongs to ({', '.join(names) or 'none configured'}): a domain, "
            "an asset from the catalog, or ?domain= on the hook's URL",
            field="domain",
        )
    if placed is None:
        raise InvalidInput(
            f"Say which domain shipped it ({', '.join(names) or 'none configured'}): use the form "
            "(`/ai-request shipped`), or type it in the domain's channel.",
            field="domain",
        )
    return placed, asset


def _kind(kind: str | None) -> str | None:
    if kind is None or not kind.strip():
        return None
    named = kind_named(kind)
    if named is None:
        raise InvalidInput(
            f"{truncate(kind, 40)!r} is not a kind of change; the kinds are "
            f"{', '.join(k.replace('_', ' ') for k in KINDS)}.",
            field="kind",
        )
    return named


def _side(draft: ChangeDraft, config: Config, *, domain: str, asset: str | None, kind: str | None) -> str:
    if draft.side is not None:
        if draft.side not in SIDES:
            raise InvalidInput(f"A side is product or platform, not {truncate(draft.side, 40)!r}.", field="side")
        return draft.side
    found = config.catalog.asset(asset)
    side = side_of(kind) if kind else (found.side if found else None)
    if side is None:
        pair = pair_for(config, domain, asset=asset)
        mine = [s for s in SIDES if pair.owner(s) == draft.shipped_by]
        side = mine[0] if len(mine) == 1 else None
    if side is None:
        raise InvalidInput(
            "Say which side shipped it: `/ai-request shipped product: …` (intents, surfaces, flows, "
            "success metrics) or `/ai-request shipped platform: …` (prompts, models, eval suites, "
            "cost ceilings, retrieval).",
            field="side",
        )
    return side


def _version(version: str | None) -> str | None:
    text = (version or "").strip()
    if len(text) > VERSION_LIMIT or "\n" in text:
        raise InvalidInput(f"A version is one line of at most {VERSION_LIMIT} characters.", field="version")
    return text or None


def _links(links: tuple[str, ...]) -> list[str]:
    found = [link.strip() for link in links if link and link.strip()]
    if len(found) > LINKS_LIMIT:
        raise InvalidInput(f"At most {LINKS_LIMIT} links.", field="links")
    for link in found:
        if not is_web_link(link):
            raise InvalidInput("A link must be a plain http(s) address.", field="links")
    return found


def question_channel(config: Config, domain: str) -> str:
    """Where a domain's changes are asked about: its first channel, else the triage channel."""
    found = config.domain(domain)
    return found.channels[0] if found and found.channels else config.triage_channel
