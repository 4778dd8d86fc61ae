"""What is told in the thread of a change's question, as facts: an answer, the first snooze of its nags, and a
regression resolved naming it as its cause.

The change log's use cases queue these (`ChangeLine.facts`, as JSON: `line_json`); the outbox words them when it
sends them (`bot.blocks.change_text.thread_line`), the same after a restart. A nag's line in the same thread keeps
the nag's facts instead (`bot.domain.nag_facts`); `line_from_json` tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter

from bot.domain.changes import Acknowledgement


@dataclass(frozen=True)
class Answered:
    """`user` answered the change's question: `answer`."""

    user: str
    answer: Acknowledgement
    what: Literal["answered"] = "answered"


@dataclass(frozen=True)
class Snoozed:
    """`user` pressed Snooze on the change's nags for the first time: quiet `until`, said in time zone `tz` (named,
    the change's domain's)."""

    user: str
    change_id: str
    until: datetime
    tz: str
    what: Literal["snoozed"] = "snoozed"


@dataclass(frozen=True)
class NamedCause:
    """`user` resolved `regression` (a request's key) naming the change as its cause; `shown`: the regression may be
    named where the question is (else it is "a confidential regression"). `answer`: the answer this gave the change,
    when it had none; else `had_answer`, the answer it had been given before."""

    user: str
    change_id: str
    regression: str
    shown: bool
    answer: Acknowledgement | None = None
    had_answer: str | None = None
    what: Literal["named_cause"] = "named_cause"


ThreadLine = Union[Answered, Snoozed, NamedCause]
_LINE: TypeAdapter[ThreadLine] = TypeAdapter(Annotated[ThreadLine, Field(discriminator="what")])
_WHAT = ("answered", "snoozed", "named_cause")


def line_json(line: ThreadLine) -> dict[str, Any]:
    """The line's facts as JSON, as the outbox keeps them."""
    return _LINE.dump_python(line, mode="json")


def line_from_json(data: dict[str, Any]) -> ThreadLine | None:
    """The line kept by `line_json`; None for facts that are not one of these lines (a nag's)."""
    if data.get("what") not in _WHAT:
        return None
    return _LINE.validate_python(data)
