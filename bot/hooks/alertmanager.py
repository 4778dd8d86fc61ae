"""Prometheus Alertmanager and Grafana alerting webhooks (`?format=alertmanager`, `?format=grafana`).

One body is an alert group: each alert in `alerts` is one regression, named by its `fingerprint`.
A firing alert files (or repeats) it; a resolved one reports it recovered. Grafana's webhook contact
point sends the same shape with a few more links (`dashboardURL`, `panelURL`) and `valueString`.
"""

from __future__ import annotations

from typing import Any

from bot.domain.changes import is_web_link
from bot.hooks.errors import BadRequest
from bot.hooks.fields import Obj, label, labelled_priority, titled
from bot.hooks.results import Batch, FiledRegression

LINK_FIELDS = ("generatorURL", "dashboardURL", "panelURL")


def regressions(data: Any, *, source: str, domain: str | None) -> Batch[FiledRegression]:
    """One FiledRegression per alert of the group; `domain` for alerts without a `domain` label."""
    body = Obj(data)
    if not body.has("alerts") and (body.has("evalMatches") or body.has("ruleName")):
        raise BadRequest("this is Grafana's legacy alerting body; send alerts from a contact point of Grafana "
                         "Alerting (unified alerting), whose body has an alerts list", field="alerts")
    group_status = body.line("status")
    items = tuple(_alert(alert, source=source, domain=domain, group_status=group_status)
                  for alert in body.objects("alerts", required=True))
    skipped = []
    truncated = body.data.get("truncatedAlerts")
    if isinstance(truncated, int) and not isinstance(truncated, bool) and truncated > 0:
        skipped.append(f"{truncated} alert(s) of the group were left out by the sender (truncatedAlerts); "
                       "raise max_alerts to file them")
    if not items:
        skipped.append("the alert group has no alerts")
    return Batch(items, tuple(skipped))


def _alert(alert: Obj, *, source: str, domain: str | None, group_status: str | None) -> FiledRegression:
    labels, annotations = alert.strings("labels"), alert.strings("annotations")
    heading = annotations.get("summary") or annotations.get("title") or labels.get("alertname") or ""
    if not heading.strip():
        raise BadRequest(f"{alert.where('labels')} has no alertname (and annotations has no summary) to title the "
                         "regression with", field=alert.where("labels.alertname"))
    title, rest = titled(heading)
    status = alert.line("status") or group_status
    links, not_links = _links(alert, annotations)
    return FiledRegression(
        source=source, id=alert.ident("fingerprint"), title=title,
        domain=label(labels, "domain") or domain,
        description=_description(rest, annotations, labels, alert.text("valueString"), not_links),
        links=links, priority=labelled_priority(labels), asset=label(labels, "asset"),
        recovered=status == "resolved",
    )


def _links(alert: Obj, annotations: dict[str, str]) -> tuple[list[str], list[str]]:
    """The alert's web links (generator, dashboard, panel, runbook), and any value there that is not one."""
    values = [alert.data.get(k) for k in LINK_FIELDS] + [annotations.get("runbook_url")]
    found = [v.strip() for v in values if isinstance(v, str) and v.strip()]
    links = list(dict.fromkeys(v for v in found if is_web_link(v)))
    return links, [v for v in found if not is_web_link(v)]


def _description(rest: str, annotations: dict[str, str], labels: dict[str, str], value: str | None,
                 not_links: list[str]) -> str:
    parts = [rest, annotations.get("description", "").strip()]
    parts.append(f"Value: {value}" if value else "")
    parts.append("Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) if labels else "")
    parts.append("Links that are not web addresses: " + ", ".join(not_links) if not_links else "")
    return "\n".join(p for p in parts if p)
