"""Prometheus Alertmanager and Grafana alerting webhooks (`?format=alertmanager`, `?format=grafana`).

One body is an alert group (`groupKey`). Its alerts are filed by name: every alert of one `alertname` in
the group is one regression, named `<alertname>@<the group key's digest>`, whose card lists its alerts
(each by the labels that tell it from the others) and follows them as they resolve. The regression
fires while any of its alerts does, at the most urgent of their priorities, and recovers when all are
resolved. Grafana's webhook contact point sends the same shape with a few more links (`dashboardURL`,
`panelURL`, `silenceURL`) and its `values`.

An alert that cannot be read is left out and named in `skipped`; the others are filed. Only a body
none of whose alerts can be read is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from bot.domain.changes import is_web_link
from bot.domain.models import PRIORITIES
from bot.hooks.errors import BadRequest
from bot.hooks.fields import MAX_BODY_BYTES, Obj, is_blank, label, labelled_priority, plain_markdown, titled
from bot.hooks.results import AlertMember, Batch, FiledRegression

LINK_FIELDS = ("generatorURL", "dashboardURL", "panelURL", "silenceURL")
TEXT_ANNOTATIONS = ("description", "message")
"""The annotations that say what is wrong besides the summary: `message` is kube-prometheus's convention."""


def regressions(data: Any, *, source: str, domain: str | None) -> Batch[FiledRegression]:
    """One FiledRegression per alert name of the group; `domain` for alerts without a `domain` label."""
    body = Obj(data)
    if not body.has("alerts") and (body.has("evalMatches") or body.has("ruleName")):
        raise BadRequest(
            "this is Grafana's legacy alerting body; send alerts from a contact point of Grafana "
            "Alerting (unified alerting), whose body has an alerts list",
            field="alerts",
        )
    group_status = body.line("status")
    read: list[tuple[str, FiledRegression]] = []
    refused: list[BadRequest] = []
    tests = 0
    for alert in body.objects("alerts", required=True):
        if is_test_notification(alert):
            tests += 1
            continue
        try:
            read.append(_alert(alert, source=source, domain=domain, group_status=group_status))
        except BadRequest as exc:
            refused.append(exc)
    if refused and not read:
        raise refused[0]
    group = _group_digest(body)
    by_name: dict[str, list[FiledRegression]] = {}
    for name, item in read:
        by_name.setdefault(name, []).append(item)
    items = tuple(_merged(name, found, group=group) for name, found in by_name.items())
    skipped = [TEST_NOTIFICATION] if tests else []
    skipped += [f"{exc.field or 'an alert'} was left out: {exc.message}" for exc in refused]
    skipped += _truncated(body, sent=len(read) + len(refused))
    if not items and not refused and not tests:
        skipped.append("the alert group has no alerts")
    return Batch(items, tuple(skipped))


TEST_NOTIFICATION = (
    "Grafana's test notification (TestAlert): the contact point reaches the bot; a test files nothing, "
    "firing or resolved"
)
_TEST_LABELS = {"alertname": "TestAlert", "instance": "Grafana"}


def is_test_notification(alert: Obj) -> bool:
    """Whether the alert is the one Grafana sends when a contact point's *Test* is pressed (its default labels and
    summary, as Grafana Alerting's test receivers build it)."""
    labels = alert.data.get("labels")
    annotations = alert.data.get("annotations")
    return (
        isinstance(labels, dict)
        and all(labels.get(k) == v for k, v in _TEST_LABELS.items())
        and isinstance(annotations, dict)
        and annotations.get("summary") == "Notification test"
    )


def _alert(alert: Obj, *, source: str, domain: str | None, group_status: str | None) -> tuple[str, FiledRegression]:
    """(the alert's name, the regression it alone would file, its id the alert's fingerprint)."""
    labels, annotations = alert.strings("labels"), alert.strings("annotations")
    name = (labels.get("alertname") or "").strip()
    heading = annotations.get("summary") or annotations.get("title") or name
    title, rest = titled(plain_markdown(heading))
    if is_blank(title):
        raise BadRequest(
            f"{alert.where('labels')} has no alertname (and annotations has no summary) to title the regression with",
            field=alert.where("labels.alertname"),
        )
    fingerprint = alert.ident("fingerprint")
    status = alert.line("status") or group_status
    links, not_links = _links(alert, annotations)
    return name or title, FiledRegression(
        source=source,
        id=fingerprint,
        title=title,
        domain=label(labels, "domain") or domain,
        description=_description(rest, annotations, labels, _values(alert), not_links),
        links=links,
        priority=labelled_priority(labels),
        asset=label(labels, "asset"),
        recovered=status == "resolved",
        alerts=(AlertMember(id=fingerprint, labels=_pairs(labels), firing=status != "resolved"),),
    )


def _merged(name: str, found: Sequence[FiledRegression], *, group: str) -> FiledRegression:
    """The one regression of an alert name's alerts in the group: the first alert's words, the most urgent
    priority of those firing, recovered when none is, and each alert named by the labels the others lack."""
    first = found[0]
    common = set.intersection(*(set(a.alerts[0].labels) for a in found)) if len(found) > 1 else set()
    members = tuple(
        AlertMember(
            id=a.id,
            labels=tuple(p for p in a.alerts[0].labels if p not in common) or (("fingerprint", a.id),),
            firing=a.alerts[0].firing,
        )
        for a in found
    )
    firing = [a for a in found if not a.recovered]
    titles = {a.title for a in found}
    description = first.description
    if len(found) > 1:
        description = f"{len(found)} {name} alerts in the group (listed below); the first of them:\n{description}"
    return first.model_copy(
        update={
            "id": f"{name[:150]}@{group}",
            "title": first.title if len(titles) == 1 else name[:150],
            "description": description,
            "priority": _most_urgent(a.priority for a in (firing or found)),
            "links": list(dict.fromkeys(link for a in found for link in a.links)),
            "domain": next((a.domain for a in found if a.domain), None),
            "asset": next((a.asset for a in found if a.asset), None),
            "recovered": not firing,
            "alerts": members,
        }
    )


def _most_urgent(priorities: Any) -> str | None:
    known = [p for p in priorities if p in PRIORITIES]
    return min(known, key=PRIORITIES.index) if known else None


def _group_digest(body: Obj) -> str:
    """A short name of the alert group: its `groupKey` (else its `groupLabels`) hashed."""
    key = body.line("groupKey", limit=MAX_BODY_BYTES) or repr(sorted(body.strings("groupLabels").items()))
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:12]


def _truncated(body: Obj, *, sent: int) -> list[str]:
    """What the sender left out (`truncatedAlerts`), and how far `max_alerts` may be raised to file it in a body
    that stays under our size limit."""
    truncated = body.data.get("truncatedAlerts")
    if not isinstance(truncated, int) or isinstance(truncated, bool) or truncated <= 0:
        return []
    per_alert = max(1, len(str(body.data.get("alerts"))) // max(1, sent))
    room = max(sent, int(MAX_BODY_BYTES * 0.8) // per_alert)
    advice = (
        f"raise max_alerts to {min(sent + truncated, room)} to file them all"
        if sent + truncated <= room
        else f"raise max_alerts up to {room} (a body of more would pass our {MAX_BODY_BYTES // 1000} KB limit), "
        "or split the group (group_by)"
    )
    return [f"{truncated} alert(s) of the group were left out by the sender (truncatedAlerts); {advice}"]


def _links(alert: Obj, annotations: dict[str, str]) -> tuple[list[str], list[str]]:
    """The alert's web links (generator, dashboard, panel, silence, runbook), and any value there that is not one."""
    values = [alert.data.get(k) for k in LINK_FIELDS] + [annotations.get("runbook_url")]
    found = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    links = list(dict.fromkeys(v for v in found if is_web_link(v)))
    return links, [v for v in found if not is_web_link(v)]


def _values(alert: Obj) -> str | None:
    """Grafana's `values` ({"A": 0.74}) as "A=0.74, B=1", else its `valueString`."""
    values = alert.data.get("values")
    if isinstance(values, dict) and values:
        return ", ".join(f"{k}={v}" for k, v in values.items() if isinstance(v, (int, float, str)))[:500]
    return alert.text("valueString")


def _pairs(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k != "alertname"))


def _description(
    rest: str, annotations: dict[str, str], labels: dict[str, str], value: str | None, not_links: list[str]
) -> str:
    told = [plain_markdown(annotations.get(k, "").strip()) for k in TEXT_ANNOTATIONS]
    parts = [rest, *told]
    parts.append(f"Value: {value}" if value else "")
    parts.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "")
    parts.append("Links that are not web addresses: " + ", ".join(not_links) if not_links else "")
    return "\n".join(dict.fromkeys(p for p in parts if p))
