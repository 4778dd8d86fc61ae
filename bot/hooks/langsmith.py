"""LangSmith prompt webhooks (`?format=langsmith`) as platform-side prompt changes.

A `commit` (the event a webhook sends when none is named) is a change named by the prompt and its
commit hash; `tag:create` and `tag:update` (a commit tagged, e.g. for an environment) are changes
named by the prompt, commit and tag: a tag moved back to a commit it was on before is a rollback, and a tag
set again on the commit it is on logs nothing. The prompt's name is the asset when the catalog lists it.
"""

from __future__ import annotations

from typing import Any

from bot.domain.changes import WHAT_LIMIT
from bot.domain.text import truncate
from bot.hooks.fields import ID_LIMIT, Obj
from bot.hooks.results import Batch, Deployment, LoggedChange

EVENTS = ("commit", "tag:create", "tag:update")
SHORT_HASH = 8


def changes(data: Any, *, source: str, domain: str | None) -> Batch[LoggedChange]:
    """The change a prompt commit or tag event logs."""
    body = Obj(data)
    event = body.choice("event", EVENTS) or "commit"
    name = body.ident("prompt_name")
    commit = body.ident("commit_hash")
    short = commit[:SHORT_HASH]
    if event == "commit":
        what, change_id = f"prompt {name} commit {short}", f"{name}@{commit}"
    else:
        tag = body.line("tag_name", required=True, limit=80, what=f" for a {event} event")
        what, change_id = f"prompt {name} commit {short} tagged {tag}", f"{name}@{commit}#{tag}"
    deployment = Deployment(prompt=name, label=tag, version=commit) if event != "commit" else None
    return Batch(
        (
            LoggedChange(
                source=source,
                id=change_id,
                side="platform",
                kind="prompt",
                what=truncate(what, WHAT_LIMIT),
                domain=domain,
                version=short,
                asset_if_listed=name,
                deployment=deployment,
                person=body.line("created_by", limit=ID_LIMIT),
            ),
        )
    )
