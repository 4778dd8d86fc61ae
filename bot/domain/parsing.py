"""Reading what people type: `/ai-request` subcommands, `kind:` prefixes and request keys."""

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.models import Draft, Request, Source
from bot.domain.text import first_line, truncate

TITLE_LIMIT = 150
DESCRIPTION_LIMIT = 3000
LINK_LIMIT = 3000
LINKS_LIMIT = 5
COMMENT_LIMIT = 2000
"""What is stored of a request's words, whatever sent them: the form's own limits (title, description), a link's
length and how many links, and how much of a thread reply its event keeps (the thread keeps it whole)."""
NO_TEXT = "(no text)"
KIND_ALIASES = {"security": "security_review", "review": "security_review", "bug": "regression", "evals": "eval"}
_KEY_RE = re.compile(r"^(?:AIR-)?(\d{1,9})$", re.IGNORECASE)
_PREFIX_RE = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*:\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Mine:
    page: int = 1


@dataclass(frozen=True)
class Queue:
    domain: str | None
    page: int = 1


@dataclass(frozen=True)
class Status:
    key: str | None
    page: int = 1


@dataclass(frozen=True)
class Away:
    """`away [until DATE] [cover @x]`: triage skips the person (until DATE, the day they are back; None: until
    `back`); `cover`: who stands in for them (their nags go there; else to the lead)."""

    until: date | None = None
    cover: str | None = None


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Notify:
    """`notify [all|important|none]`: what the person is told of the requests they filed (None: say what it is now)."""

    level: str | None = None


@dataclass(frozen=True)
class OpenForm:
    pass


@dataclass(frozen=True)
class Usage:
    """A subcommand's word followed by words it does not take (`mine please`): answered with how to type it,
    never filed as a request."""

    subcommand: str


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

    def draft(
        self,
        *,
        requester: str,
        source: Source,
        channel: str | None,
        origin_ts: str | None = None,
        reporter: str | None = None,
        permalink: str | None = None,
        private: bool = False,
    ) -> Draft:
        """The request this text asks for: the kind named, else read from the words by triage; "(no text)" for a title when empty."""
        return Draft(
            title=self.title or NO_TEXT,
            description=self.description,
            kind=self.kind or "question",
            kind_from_words=self.kind is None,
            requester=requester,
            source=source,
            channel=channel,
            origin_ts=origin_ts,
            reporter=reporter,
            permalink=permalink,
            private=private,
        )


@dataclass(frozen=True)
class Duplicate:
    """`duplicate AIR-12 of AIR-7`: close AIR-12 as a duplicate of AIR-7 (any request, suggested or not)."""

    key: str
    of: str


def _duplicate(rest: list[str]) -> "Command | None":
    keys = [w for w in rest if w.lower() != "of"]
    if len(keys) != 2 or len(rest) > 3 or any(parse_key(k) is None for k in keys):
        return None
    return Duplicate(key=f"AIR-{parse_key(keys[0])}", of=f"AIR-{parse_key(keys[1])}")


@dataclass(frozen=True)
class Search:
    """`search <words>`: past requests whose title or description hold the words."""

    words: str


Command = (
    Help
    | Mine
    | Queue
    | Status
    | Away
    | Back
    | OpenForm
    | QuickCreate
    | Usage
    | Shipped
    | Changes
    | Search
    | Notify
    | Duplicate
)


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
    (None: those words do not fit, and the person is shown the usage)."""

    usage: str
    parse: Callable[[list[str]], Command | None]


PAGE_MAX = 10_000


def paged(rest: list[str]) -> tuple[list[str], int] | None:
    """The words before a trailing `page N`, and N (1 without one); None when `page` is not followed by a page number."""
    if len(rest) >= 2 and rest[-2].lower() == "page":
        number = rest[-1]
        if not number.isdigit() or not 1 <= int(number) <= PAGE_MAX:
            return None
        return rest[:-2], int(number)
    return rest, 1


def _mine(rest: list[str]) -> Command | None:
    found = paged(rest)
    return Mine(page=found[1]) if found and not found[0] else None


def _queue(rest: list[str]) -> Command | None:
    found = paged(rest)
    if found is None or len(found[0]) > 1:
        return None
    words, page = found
    return Queue(domain=words[0].lower() if words else None, page=page)


def _status(rest: list[str]) -> Command | None:
    found = paged(rest)
    if found is None or len(found[0]) > 1:
        return None
    words, page = found
    return Status(key=words[0] if words else None, page=page)


_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


def _away(rest: list[str]) -> Command | None:
    cover = None
    if len(rest) >= 2 and rest[-2].lower() == "cover":
        found = _USER.match(rest[-1])
        if not found:
            return None
        cover, rest = found.group(1) or found.group(2), rest[:-2]
    words = rest[1:] if rest and rest[0].lower() == "until" else rest
    if not words:
        return None if rest else Away(cover=cover)
    if len(words) > 1:
        return None
    try:
        return Away(until=date.fromisoformat(words[0]), cover=cover)
    except ValueError:
        return None


def _notify(rest: list[str]) -> Command | None:
    if not rest:
        return Notify()
    level = rest[0].lower()
    return Notify(level=level) if len(rest) == 1 and level in ("all", "important", "none") else None


SUBCOMMANDS: dict[str, Subcommand] = {
    "help": Subcommand("help", lambda rest: None if rest else Help()),
    "mine": Subcommand("mine", _mine),
    "queue": Subcommand("queue [domain]", _queue),
    "status": Subcommand("status AIR-12", _status),
    "away": Subcommand("away [until 2026-12-07]", _away),  # and `cover @someone`, said in the help
    "back": Subcommand("back", lambda rest: None if rest else Back()),
    "notify": Subcommand("notify [all|important|none]", lambda rest: _notify(rest)),
    "shipped": Subcommand("shipped [product|platform] [kind:] <what>", lambda rest: Shipped(text=" ".join(rest))),
    "search": Subcommand("search <words>", lambda rest: Search(words=" ".join(rest))),
    "duplicate": Subcommand("duplicate AIR-12 of AIR-7", _duplicate),
    "changes": Subcommand(
        "changes [domain]", lambda rest: None if len(rest) > 1 else Changes(domain=rest[0].lower() if rest else None)
    ),
}
"""Every `/ai-request` subcommand, by its word; the help text and docs/operations.md show each usage. `mine`, `queue` and
`status` also take a trailing `page N` (a long list, a long history)."""
ALIASES = {"-h": "help", "--help": "help", "?": "help"}


def parse_command(text: str, *, kinds: Iterable[str]) -> Command:
    """What `/ai-request <text>` asks for. Never raises.

    A first word that names a subcommand never files a request: when the words after it do not fit
    (`mine please`), the answer is the subcommand's usage. Any other text is a new request, and so is
    `help` followed by words (`help me with the refund bot`): only `help` alone is the help text.
    """
    words = text.split()
    if not words:
        return OpenForm()
    head = ALIASES.get(words[0].lower(), words[0].lower())
    subcommand = SUBCOMMANDS.get(head)
    if subcommand is None or (words[0].lower() == "help" and len(words) > 1):
        return draft_text(text, kinds)  # "help me with …" asks for help: only `help` alone is the help text
    return subcommand.parse(words[1:]) or Usage(subcommand=head)


def within_limits(draft: Draft) -> tuple[Draft, list[str]]:
    """`draft` as it is stored, and the fields that had to be cut: a title or description over its limit is cut
    visibly ("…"); a link over `LINK_LIMIT`, or past the `LINKS_LIMIT`th, is left out (half a link is none)."""
    cut: list[str] = []
    title, description = truncate(draft.title, TITLE_LIMIT), truncate(draft.description, DESCRIPTION_LIMIT)
    links = [link for link in draft.links if len(link) <= LINK_LIMIT][:LINKS_LIMIT]
    for name, before, after in (
        ("title", draft.title, title),
        ("description", draft.description, description),
        ("links", draft.links, links),
    ):
        if before != after:
            cut.append(name)
    return draft.model_copy(update={"title": title, "description": description, "links": links}), cut


# --- a requester writing about a request she filed ("any update on AIR-5?") ------------------------------------

_KEY = re.compile(r"(?<![A-Za-z0-9])AIR-(\d{1,9})(?![0-9])", re.IGNORECASE)
_UPDATE = re.compile(
    r"\b(any (update|news|progress)|update[sd]?\b|status|news\b|progress|where are we|eta\b|how is it going|still open|"
    r"follow(ing)?[ -]up|ping|chasing)",
    re.IGNORECASE,
)


def keys_named(text: str) -> list[int]:
    """The request ids a message names ("AIR-5", "air-5"), in order, once each."""
    return list(dict.fromkeys(int(n) for n in _KEY.findall(text)))


def asks_for_update(text: str) -> bool:
    """Whether the words ask how something stands ("any update?", "status of my review", "where are we on this")."""
    return bool(_UPDATE.search(text))


def filed_by(request: Request, user: str) -> bool:
    """Whether `user` filed `request` (its requester, or the reporter of a message they filed)."""
    return user in (request.requester, request.reporter)


@dataclass(frozen=True)
class About:
    """What a requester's message is about: `request` (record it there), or `choices` (she has several open and
    named none: ask which), or neither (it is a new request)."""

    request: Request | None = None
    choices: tuple[Request, ...] = ()


def about(text: str, user: str, *, named: Sequence[Request], open_filed: Sequence[Request], direct: bool) -> About:
    """Which request `user`'s message is about. `named`: the requests its keys name; `open_filed`: the open requests
    she filed; `direct`: written to the bot (a direct message), where any words are about her requests.

    A key she filed wins (the first). Without one, a message asking for an update (or any direct message) is about
    her only open request, or asks which when she has several. Anything else is a new request."""
    mine = [r for r in named if filed_by(r, user)]
    if mine:
        return About(request=mine[0])
    if named and not direct:
        return About()  # it names someone else's request: a new request that mentions it
    if not (direct or asks_for_update(text)) or not open_filed:
        return About()
    if len(open_filed) == 1:
        return About(request=open_filed[0])
    return About(choices=tuple(open_filed))
