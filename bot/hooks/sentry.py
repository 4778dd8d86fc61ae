"""Sentry alert webhooks of an internal integration (`?format=sentry`): metric alerts and issue alerts.

A metric alert (`Sentry-Hook-Resource: metric_alert`) is named by its incident: `critical` and
`warning` file it (a repeat is recognised), `resolved` reports it recovered. An issue alert
(`event_alert`) is named by the Sentry issue, so every alert on the same issue is the same regression.
"""

from __future__ import annotations

import re
from typing import Any

from bot.domain.changes import is_web_link
from bot.hooks.errors import BadRequest
from bot.hooks.fields import ID_LIMIT, Obj, label, labelled_priority, plain_markdown, titled
from bot.hooks.results import Batch, FiledRegression

METRIC_ACTIONS = {"critical": "P1", "warning": "P3", "resolved": None}


def regressions(data: Any, *, source: str, domain: str | None) -> Batch[FiledRegression]:
    """The regression a Sentry metric or issue alert files or recovers; `domain` when no `domain` tag says."""
    body = Obj(data)
    inner = body.obj("data", required=True)
    assert inner is not None
    if inner.has("metric_alert"):
        return Batch((_metric_alert(body, inner, source=source, domain=domain),))
    if inner.has("event"):
        return Batch((_issue_alert(inner, source=source, domain=domain),))
    raise BadRequest("expected a Sentry metric alert (data.metric_alert) or issue alert (data.event)", field="data")


def _metric_alert(body: Obj, inner: Obj, *, source: str, domain: str | None) -> FiledRegression:
    action = body.choice("action", tuple(METRIC_ACTIONS), required=True, of=" of a metric alert")
    incident = inner.obj("metric_alert", required=True)
    assert incident is not None
    rule = incident.obj("alert_rule")
    rule_name = rule.line("name") if rule else None
    heading = inner.text("description_title") or rule_name or incident.text("title") or "Sentry metric alert"
    title, rest = titled(heading)
    about = f"Sentry metric alert “{rule_name}” is {action}." if rule_name else f"Sentry metric alert is {action}."
    query = rule.line("query") if rule else None
    told = plain_markdown(inner.text("description_text") or "")
    parts = [about, rest, told or (f"Query: {query}" if query else "")]
    return FiledRegression(
        source=source,
        id=f"metric-alert-{incident.ident('id')}",
        title=title,
        domain=domain,
        description="\n".join(p for p in parts if p),
        links=_link(inner.line("web_url")),
        priority=METRIC_ACTIONS[action],
        recovered=action == "resolved",
    )


def _issue_alert(inner: Obj, *, source: str, domain: str | None) -> FiledRegression:
    event = inner.obj("event", required=True)
    assert event is not None
    issue = _issue_id(event)
    tags = _tags(event)
    title, rest = titled(event.text("title") or event.text("message") or f"Sentry issue {issue}")
    rule = inner.line("triggered_rule")
    level = event.line("level")
    parts = [
        f"Sentry alert rule “{rule}” fired." if rule else "",
        rest,
        f"Culprit: {event.line('culprit')}" if event.has("culprit") else "",
        f"Level: {level}" if level else "",
    ]
    return FiledRegression(
        source=source,
        id=f"issue-{issue}",
        title=title,
        domain=label(tags, "domain") or domain,
        description="\n".join(p for p in parts if p),
        links=_link(event.line("web_url")),
        priority=labelled_priority({"priority": tags.get("priority", ""), "severity": level or ""}),
        asset=label(tags, "asset"),
    )


_ISSUE_IN_URL = re.compile(r"/issues/(\d+)(?:/|$)")


def _issue_id(event: Obj) -> str:
    """The Sentry issue: `issue_id`, else the number in `issue_url` (".../api/0/issues/4521987/"), which an event
    alert carries when it has no `issue_id`."""
    if event.has("issue_id") or not event.has("issue_url"):
        return event.ident("issue_id", what=" (or issue_url naming the issue)")
    url = event.line("issue_url", limit=ID_LIMIT) or ""
    found = _ISSUE_IN_URL.search(url)
    if found is None:
        raise BadRequest(
            f"{event.where('issue_url')} names no issue (expected …/issues/<number>/)", field=event.where("issue_url")
        )
    return found.group(1)


def _tags(event: Obj) -> dict[str, str]:
    """Sentry's tags, a list of [key, value] pairs, as a dict (pairs of any other shape are left out)."""
    pairs = event.items("tags")
    return {p[0]: p[1] for p in pairs if isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p)}


def _link(url: str | None) -> list[str]:
    return [url] if url and is_web_link(url) else []
