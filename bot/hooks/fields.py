"""Reading JSON bodies field by field, each mistake a 400 that names the field ("alerts[0].fingerprint")."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from bot.domain.changes import is_web_link
from bot.domain.models import PRIORITIES
from bot.domain.text import first_line, truncate
from bot.hooks.errors import BadRequest, TooLarge

MAX_BODY_BYTES = 1_000_000
"""The largest body a hook accepts, in bytes (1 MB, under the server's 1 MiB for any request); a larger one is
answered 413. A real Alertmanager group
of 23 alerts is 13.8 KB (tests/samples/hooks), so 1 MB holds groups of well over a thousand alerts."""
TITLE_LIMIT = 150
ID_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)


def plain_markdown(text: str) -> str:
    """A tool's Markdown as plain text, as the card shows it: `**bold**` and `__bold__` lose their marks,
    `[label](url)` becomes "label (url)", a heading's `#` go. Code and lists are kept (mrkdwn shows them)."""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    text = _MD_EMPHASIS.sub(lambda m: m.group(2), text)
    return _MD_HEADING.sub("", text)


def read_json(body: bytes) -> Any:
    """The JSON value of a raw body, every lone surrogate (`"\\ud800"`, which no text can store) replaced by U+FFFD;
    TooLarge over MAX_BODY_BYTES, BadRequest when it is not JSON."""
    if len(body) > MAX_BODY_BYTES:
        raise TooLarge(f"the body is {len(body)} bytes; a hook accepts at most {MAX_BODY_BYTES} bytes (1 MB)")
    try:
        return _cleaned(json.loads(body, parse_constant=_no_constant))
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"the body is not JSON ({_why(exc)})") from None


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    return value


def is_blank(text: str) -> bool:
    """Whether `text` shows nothing: only spaces and invisible format characters (zero-width spaces, bidi controls,
    the byte-order mark)."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _why(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not UTF-8 text"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    return str(exc).split(":")[0] if isinstance(exc, json.JSONDecodeError) else str(exc)


class Obj:
    """A JSON object being read; `path` is where it sits in the body ("" for the body itself)."""

    def __init__(self, data: Any, path: str = "") -> None:
        if not isinstance(data, dict):
            where = path or "the body"
            raise BadRequest(f"{where} must be a JSON object, not {_json_type(data)}", field=path or None)
        self.data: dict[str, Any] = data
        self.path = path

    def where(self, key: str) -> str:
        """The field name of `key` in this object, for error messages: "alerts[0].labels"."""
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def reject_unknown(self, allowed: tuple[str, ...], *, what: str) -> None:
        """BadRequest naming the first key that is not in `allowed`."""
        for key in self.data:
            if key not in allowed:
                raise BadRequest(f"unknown field {key!r}; {what} has {', '.join(allowed)}", field=self.where(key))

    def obj(self, key: str, *, required: bool = False) -> Obj | None:
        """The object at `key`; None when absent or null (BadRequest when required)."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise BadRequest(f"{self.where(key)} is required", field=self.where(key))
            return None
        return Obj(value, self.where(key))

    def items(self, key: str, *, required: bool = False) -> list[Any]:
        """The list at `key` ([] when absent or null, BadRequest when required)."""
        value = self.data.get(key)
        if value is None and not required:
            return []
        if not isinstance(value, list):
            problem = "is required" if value is None else f"must be a list, not {_json_type(value)}"
            raise BadRequest(f"{self.where(key)} {problem}", field=self.where(key))
        return value

    def text(self, key: str, *, required: bool = False, limit: int | None = None, what: str = "") -> str | None:
        """A string at `key`, stripped and without control characters (new lines kept); None when absent,
        null or blank. Numbers are read as their decimal text. BadRequest when required and missing,
        when not a string, or over `limit` characters."""
        value = self.data.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"{self.where(key)} must be a string, not {_json_type(value)}", field=self.where(key))
        cleaned = _CONTROL.sub("", value).strip() if value is not None else ""
        if is_blank(cleaned):
            if required:
                raise BadRequest(f"{self.where(key)} is required{what}", field=self.where(key))
            return None
        if limit is not None and len(cleaned) > limit:
            raise BadRequest(f"{self.where(key)} is {len(cleaned)} characters; at most {limit}", field=self.where(key))
        return cleaned

    def line(self, key: str, *, required: bool = False, limit: int | None = None, what: str = "") -> str | None:
        """Like `text`, for a value that must be one line."""
        value = self.text(key, required=required, limit=limit, what=what)
        if value is not None and ("\n" in value or "\r" in value):
            raise BadRequest(f"{self.where(key)} must be one line", field=self.where(key))
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, required: bool = False, of: str = "") -> str | None:
        """One of `choices` at `key` (one line), None when absent; BadRequest naming them otherwise.
        `of` qualifies the field in the message: "action of a metric alert must be …"."""
        alternatives = either(choices)
        value = self.line(key, required=required, limit=ID_LIMIT, what=f": {alternatives}")
        if value is not None and value not in choices:
            raise BadRequest(
                f"{self.where(key)}{of} must be {alternatives}, not {truncate(value, 40)!r}", field=self.where(key)
            )
        return value

    def ident(self, key: str, *, what: str = "") -> str:
        """The sender's id at `key`: a string or an integer, one line, at most 200 characters; required."""
        value = self.data.get(key)
        if isinstance(value, float) or isinstance(value, bool):
            raise BadRequest(f"{self.where(key)} must be a string or an integer", field=self.where(key))
        found = self.line(key, required=True, limit=ID_LIMIT, what=what)
        assert found is not None
        return found

    def flag(self, key: str) -> bool:
        """A boolean at `key` (false when absent)."""
        value = self.data.get(key, False)
        if not isinstance(value, bool):
            raise BadRequest(f"{self.where(key)} must be true or false", field=self.where(key))
        return value

    def links(self, key: str) -> list[str]:
        """A list of http(s) links at `key`, each checked."""
        found = []
        for i, value in enumerate(self.items(key)):
            if not isinstance(value, str) or not is_web_link(value.strip()):
                raise BadRequest(
                    f"{self.where(key)}[{i}] is not an http(s) link: {truncate(repr(value), 80)}", field=self.where(key)
                )
            found.append(value.strip())
        return found

    def priority(self, key: str) -> str | None:
        """P1-P4 (any case) at `key`, as "P2"."""
        value = self.line(key)
        if value is None:
            return None
        if value.upper() not in PRIORITIES:
            raise BadRequest(
                f"{self.where(key)} must be one of {', '.join(PRIORITIES)}, not {truncate(value, 40)!r}",
                field=self.where(key),
            )
        return value.upper()

    def strings(self, key: str) -> dict[str, str]:
        """A flat object of strings at `key` (labels, annotations), non-string values as JSON text."""
        found = self.obj(key)
        if found is None:
            return {}
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in found.data.items() if v is not None}

    def objects(self, key: str, *, required: bool = False) -> Iterator[Obj]:
        """Each object of the list at `key`, with its index in its path."""
        for i, value in enumerate(self.items(key, required=required)):
            yield Obj(value, f"{self.where(key)}[{i}]")


def either(choices: tuple[str, ...]) -> str:
    """("a", "b", "c") as "a, b or c"."""
    return f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else choices[0]


def titled(text: str) -> tuple[str, str]:
    """A title from free text: its first line cut to 150 characters, and what it left out (to describe)."""
    title = first_line(text, TITLE_LIMIT)
    rest = "\n".join(line.strip() for line in text.strip().splitlines()).strip()
    return title, ("" if rest == title else rest)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


SEVERITY_PRIORITY = {
    "critical": "P1",
    "fatal": "P1",
    "page": "P1",
    "high": "P2",
    "error": "P2",
    "major": "P2",
    "warning": "P3",
    "warn": "P3",
    "medium": "P3",
    "minor": "P3",
    "info": "P4",
    "low": "P4",
    "debug": "P4",
}
"""Monitoring severities as priorities, for senders that have no `priority` label or tag."""


def labelled_priority(labels: dict[str, str]) -> str | None:
    """A `priority` label (P1-P4, any case), else the `severity` label mapped by SEVERITY_PRIORITY, else None."""
    given = labels.get("priority", "").strip().upper()
    if given in PRIORITIES:
        return given
    return SEVERITY_PRIORITY.get(labels.get("severity", "").strip().lower())


def label(labels: dict[str, str], key: str) -> str | None:
    """A label's value, stripped, one line, at most 80 characters; None when absent or unusable."""
    value = labels.get(key, "").strip()
    return value if value and "\n" not in value and len(value) <= 80 else None
