"""The labelled set of triage (`requests.yml`): the requests the bot learns from when it starts (`part: learn`, its
seed) and those it is scored on (`part: score`), with pairs of duplicates and near-misses."""

import hashlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import yaml

if TYPE_CHECKING:
    from bot.domain.policy import Config

PATH = Path(__file__).with_name("requests.yml")


class Labelled(NamedTuple):
    text: str
    kind: str
    domain: str | None
    urgent: bool
    part: str


class Pair(NamedTuple):
    a: str
    b: str
    same: bool
    part: str


@cache
def _raw() -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it: a start stays quick
    return yaml.load(PATH.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (a safe loader)


def labelled(part: str | None = None) -> list[Labelled]:
    """The labelled requests (of one `part`, "learn" or "score"; all when None)."""
    rows = [
        Labelled(r["text"], r["kind"], None if r["domain"] == "none" else r["domain"], bool(r["urgent"]), r["part"])
        for r in _raw()["requests"]
    ]
    return [r for r in rows if part is None or r.part == part]


def pairs(part: str | None = None) -> list[Pair]:
    """The duplicate pairs (`same`) and near-misses (of one `part`; all when None)."""
    rows = [Pair(p["a"], p["b"], bool(p["same"]), p["part"]) for p in _raw()["duplicates"]]
    return [p for p in rows if part is None or p.part == part]


def fingerprint() -> str:
    """A digest of the file: the stored seed is replaced when it changes."""
    return hashlib.sha256(PATH.read_bytes()).hexdigest()[:16]


def fixed_examples(config: "Config") -> tuple[list[tuple[str, str | None, str | None, str]], str]:
    """The examples triage starts from, (text, kind, domain, origin) each, and their fingerprint: the seed's
    requests, and for each configured domain one example of its description, keywords and catalog assets
    (no kind). Seed requests of a domain the config does not have count for their kind only."""
    names = {d.name for d in config.domains}
    rows: list[tuple[str, str | None, str | None, str]] = [
        (r.text, r.kind, r.domain if r.domain in names else None, "seed") for r in labelled("learn")
    ]
    for domain in config.domains:
        assets = [a.name.replace("-", " ").replace("_", " ") for a in config.assets if a.domain == domain.name]
        words = " ".join([domain.description or "", *domain.keywords, *assets]).strip()
        if words:
            rows.append((words, None, domain.name, "config"))
    digest = hashlib.sha256(repr(rows).encode()).hexdigest()[:16]
    return rows, digest
