"""Our own hook bodies, the contract a deploy pipeline or an eval run writes to.

POST /hooks/regressions: {"id", "title", "domain"?, "description"?, "links"?, "priority"?, "asset"?, "recovered"?}
POST /hooks/changes:     {"id", "side": "product"|"platform", "what", "domain"?, "kind"?, "version"?, "links"?, "asset"?}

Unknown keys are refused (a misspelt "tittle" would otherwise be lost without a word).
"""

from __future__ import annotations

from typing import Any, Literal, cast

from bot.domain.changes import SIDE_KINDS, SIDES, WHAT_LIMIT
from bot.hooks.fields import TITLE_LIMIT, Obj
from bot.hooks.results import Batch, FiledRegression, LoggedChange

REGRESSION_FIELDS = ("id", "title", "domain", "description", "links", "priority", "asset", "recovered")
CHANGE_FIELDS = ("id", "side", "what", "domain", "kind", "version", "links", "asset")
NAME_LIMIT = 80
VERSION_LIMIT = 100


def regression(data: Any, *, source: str, domain: str | None) -> Batch[FiledRegression]:
    """One regression from our own body; `domain` is used when the body names none."""
    body = Obj(data)
    body.reject_unknown(REGRESSION_FIELDS, what="a regression")
    return Batch(
        (
            FiledRegression(
                source=source,
                id=body.ident("id", what=": the sender's own id for this regression, so that a repeat is recognised"),
                title=_required_line(body, "title", TITLE_LIMIT, what=": one line saying what got worse"),
                domain=body.line("domain", limit=NAME_LIMIT) or domain,
                description=body.text("description") or "",
                links=body.links("links"),
                priority=body.priority("priority"),
                asset=body.line("asset", limit=NAME_LIMIT),
                recovered=body.flag("recovered"),
            ),
        )
    )


def change(data: Any, *, source: str, domain: str | None) -> Batch[LoggedChange]:
    """One change from our own body; `domain` is used when the body names none."""
    body = Obj(data)
    body.reject_unknown(CHANGE_FIELDS, what="a change")
    side = _side(body)
    return Batch(
        (
            LoggedChange(
                source=source,
                id=body.ident("id", what=": the sender's own id for this change, so that a repeat is recognised"),
                side=side,
                what=_required_line(body, "what", WHAT_LIMIT, what=": one line saying what shipped"),
                domain=body.line("domain", limit=NAME_LIMIT) or domain,
                kind=_kind(body, side),
                version=body.line("version", limit=VERSION_LIMIT),
                links=body.links("links"),
                asset=body.line("asset", limit=NAME_LIMIT),
            ),
        )
    )


def _required_line(body: Obj, key: str, limit: int, *, what: str) -> str:
    value = body.line(key, required=True, limit=limit, what=what)
    assert value is not None
    return value


def _side(body: Obj) -> Literal["product", "platform"]:
    side = body.choice("side", SIDES, required=True)
    return cast(Literal["product", "platform"], side)


def _kind(body: Obj, side: str) -> str | None:
    return body.choice("kind", SIDE_KINDS[side], of=f" of a {side} change")
