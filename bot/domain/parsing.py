"""Reading what people type: `/ai-request` subcommands, `kind:` prefixes and request keys."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.domain.models import Draft, Source
from bot.domain.text import first_line

TITLE_LIMIT = 150
NO_TEXT = "(no text)"
KIND_ALIASES = {"security": "security_review", "review": "security_review", "bug": "regression", "evals": "eval"}
_KEY_RE = re.compile(r"^(?:AIR-)?(\d{1,9})$", re.IGNORECASE)
_PREFIX_RE = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*:\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class Queue:
    domain: str | None


@dataclass(frozen=True)
class Status:
    key: str | None


@dataclass(frozen=True)
class OpenForm:
    pass


@dataclass(frozen=True)
class Shipped:
    """`shipped <what>`: log a change (no text: open the "Log a change" form)."""

    text: str


@dataclass(frozen=True)
class Changes:
    """`changes [domain]`: the latest logged changes."""

    domain: str | None


@dataclass(frozen=True)
class QuickCreate:
    kind: str | None
    title: str
    description: str

    def draft(self, *, requester: str, source: Source, channel: str | None, origin_ts: str | None = None) -> Draft:
        """The request this text asks for: kind "question" when none was named, "(no text)" for a title when empty."""
        return Draft(title=self.title or NO_TEXT, description=self.description, kind=self.kind or "question",
                     requester=requester, source=source, channel=channel, origin_ts=origin_ts)


@dataclass(frozen=True)
class Search:
    """`search <words>`: past requests whose title or description hold the words."""

    words: str


Command = Help | Mine | Queue | Status | OpenForm | QuickCreate | Shipped | Changes | Search


def parse_key(text: str) -> int | None:
    """The request id in "AIR-12" (any case, or a bare "12"); None when it is not a key."""
    match = _KEY_RE.match(text.strip())
    return int(match.group(1)) if match else None


def normalise_kind(word: str, kinds: Iterable[str]) -> str | None:
    """The kind a typed word names ("Security review", "security-review", "bug" …), or None."""
    name = re.sub(r"[\s-]+", "_", word.strip().lower())
    name = KIND_ALIASES.get(name, name)
    return name if name in set(kinds) else None


def split_kind(text: str, kinds: Iterable[str]) -> tuple[str | None, str]:
    """Split "regression: refund intent is wrong" into ("regression", "refund intent is wrong").

    A prefix that names no kind ("Note: …") is kept as part of the text.
    """
    match = _PREFIX_RE.match(text)
    if match:
        kind = normalise_kind(match.group(1), kinds)
        if kind:
            return kind, match.group(2).strip()
    return None, text.strip()


def draft_text(text: str, kinds: Iterable[str]) -> QuickCreate:
    """Kind, title and description of free text typed as a request."""
    kind, rest = split_kind(text, kinds)
    title = first_line(rest, TITLE_LIMIT)
    description = rest if rest.strip() != title else ""
    return QuickCreate(kind=kind, title=title, description=description)


@dataclass(frozen=True)
class Subcommand:
    """A word `/ai-request` understands: how people type it, and what it asks for given the words after it
    (None: those words do not fit, so the whole text is a new request)."""

    usage: str
    parse: Callable[[list[str]], Command | None]


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": Subcommand("help", lambda rest: None if rest else Help()),
    "mine": Subcommand("mine", lambda rest: None if rest else Mine()),
    "queue": Subcommand("queue [domain]", lambda rest: None if len(rest) > 1 else Queue(domain=rest[0].lower() if rest else None)),
    "status": Subcommand("status AIR-12", lambda rest: None if len(rest) > 1 else Status(key=rest[0] if rest else None)),
    "shipped": Subcommand("shipped [product|platform] [kind:] <what>", lambda rest: Shipped(text=" ".join(rest))),
    "search": Subcommand("search <words>", lambda rest: Search(words=" ".join(rest))),
    "changes": Subcommand("changes [domain]", lambda rest: None if len(rest) > 1 else Changes(domain=rest[0].lower() if rest else None)),
}
"""Every `/ai-request` subcommand, by its word; the help text and the README show each usage."""
ALIASES = {"-h": "help", "--help": "help", "?": "help"}


def parse_command(text: str, *, kinds: Iterable[str]) -> Command:
    """What `/ai-request <text>` asks for. Never raises: anything unrecognised is a new request."""
    words = text.split()
    if not words:
        return OpenForm()
    head = words[0].lower()
    subcommand = SUBCOMMANDS.get(ALIASES.get(head, head))
    return (subcommand and subcommand.parse(words[1:])) or draft_text(text, kinds)
