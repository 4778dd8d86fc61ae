"""Langfuse prompt-version webhooks (`?format=langfuse`) as platform-side prompt changes.

A version `created` is a change; an `updated` version is one only when it now carries the
`production` label (Langfuse's deployed version: the change users meet) and production was on another
version: moved to a lower version it is a rollback, shown as one; on the version it was on already (a
label or tag edit) it logs nothing. Other label or tag updates and `deleted` versions log nothing. The prompt's name is the asset when the catalog lists it.
"""

from __future__ import annotations

from typing import Any

from bot.domain.changes import WHAT_LIMIT
from bot.domain.text import truncate
from bot.hooks.fields import ID_LIMIT, Obj, titled
from bot.hooks.results import Batch, Deployment, LoggedChange

DEPLOYED_LABEL = "production"
ACTIONS = ("created", "updated", "deleted")


def changes(data: Any, *, source: str, domain: str | None) -> Batch[LoggedChange]:
    """The change a prompt-version event logs (none for deletions and non-production updates)."""
    body = Obj(data)
    event_type = body.line("type", limit=80)
    if event_type is not None and event_type != "prompt-version":
        return Batch((), (f"Langfuse {event_type!r} events log no change; only prompt-version events do",))
    action = body.choice("action", ACTIONS, required=True)
    prompt = body.obj("prompt", required=True)
    assert prompt is not None
    name = prompt.ident("name")
    version = prompt.ident("version")
    labels = [x for x in prompt.items("labels") if isinstance(x, str)]
    if action == "deleted":
        return Batch((), (f"prompt {name} v{version} was deleted; a deletion logs no change",))
    if action == "updated" and DEPLOYED_LABEL not in labels:
        return Batch(
            (),
            (
                f"prompt {name} v{version} was relabelled without the {DEPLOYED_LABEL} label; only "
                f"reaching {DEPLOYED_LABEL} logs a change",
            ),
        )
    note, _ = titled(prompt.text("commitMessage") or "")
    if action == "created":
        what, change_id = (
            f"prompt {name} v{version}" + (f" ({', '.join(labels)})" if labels else ""),
            f"{name}@v{version}",
        )
    else:
        what, change_id = f"prompt {name} v{version} now in {DEPLOYED_LABEL}", f"{name}@v{version}#{DEPLOYED_LABEL}"
    deployment = (
        None
        if action == "created"
        else Deployment(
            prompt=name, label=DEPLOYED_LABEL, version=f"v{version}", order=int(version) if version.isdigit() else None
        )
    )
    return Batch(
        (
            LoggedChange(
                source=source,
                id=change_id,
                side="platform",
                kind="prompt",
                what=truncate(what + (f": {note}" if note else ""), WHAT_LIMIT),
                domain=domain,
                version=version,
                asset_if_listed=name,
                deployment=deployment,
                person=prompt.line("createdBy", limit=ID_LIMIT),
            ),
        )
    )
