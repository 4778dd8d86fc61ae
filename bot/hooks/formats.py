"""Which body formats each hook endpoint reads (`?format=`), what each field becomes, and the entry points.

`parse_regressions` and `parse_changes` take the raw body (after the signature is checked), refuse
it with a HookError (413 over 1 MB, 400 when it is not JSON or a field is missing or bad, naming the
field) and otherwise say what it asks for, as typed results.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bot.hooks import alertmanager, langfuse, langsmith, native, sentry
from bot.hooks.errors import BadRequest
from bot.hooks.fields import read_json
from bot.hooks.results import Batch, FiledRegression, LoggedChange

Endpoint = Literal["regressions", "changes"]
NATIVE = "native"
_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Format:
    """A body format: the names `?format=` accepts, the tool, its endpoint, its parser, and the
    fields it reads, as (their field, what it becomes)."""

    names: tuple[str, ...]
    tool: str
    endpoint: Endpoint
    parse: Callable[..., Batch[Any]]
    fields: tuple[tuple[str, str], ...]


FORMATS: tuple[Format, ...] = (
    Format(
        ("alertmanager", "grafana"),
        "Prometheus Alertmanager and Grafana Alerting webhooks",
        "regressions",
        alertmanager.regressions,
        (
            (
                "`alerts[].labels.alertname`, `groupKey`",
                "id `<alertname>@<digest of groupKey>`: a group's alerts of one name are one regression",
            ),
            (
                "`alerts[].fingerprint`, `labels`",
                "the card's list of those alerts, each by the labels that tell it apart, firing or resolved",
            ),
            (
                "`alerts[].annotations.summary`, else `labels.alertname`",
                "title (its first line; the rest goes to the description)",
            ),
            (
                "`alerts[].annotations.description`, `annotations.message`, `values` (else `valueString`), `labels`",
                "description (Markdown stripped)",
            ),
            (
                "`alerts[].generatorURL`, `dashboardURL`, `panelURL`, `silenceURL`, `annotations.runbook_url`",
                "links, labelled on the card by what they are",
            ),
            ("`alerts[].labels.domain`, `labels.asset`", "domain, asset"),
            (
                "`alerts[].labels.priority`, else `labels.severity`",
                "priority: the most urgent of the firing alerts (critical P1, high or error P2, warning P3, info P4)",
            ),
            ("`alerts[].status`, else `status`", "`resolved` for every alert of the name: recovered, nothing filed"),
            ("`truncatedAlerts`", "reported as left out, with the `max_alerts` that still fits 1 MB"),
        ),
    ),
    Format(
        ("sentry",),
        "Sentry metric and issue alerts of an internal integration",
        "regressions",
        sentry.regressions,
        (
            ("`data.metric_alert.id`", "id `metric-alert-<id>` (the incident)"),
            ("`data.description_title`, else `data.metric_alert.alert_rule.name`", "title"),
            ("`data.description_text` (else `alert_rule.query`), `alert_rule.name`", "description"),
            ("`action`", "`critical` P1, `warning` P3, `resolved`: recovered"),
            (
                "`data.event.issue_id`, else the number in `issue_url`",
                "id `issue-<id>`: every alert on one issue is one regression",
            ),
            ("`data.event.title`, `triggered_rule`, `culprit`, `level`", "title, description"),
            ("`data.event.tags` `domain`, `asset`, `priority`", "domain, asset, priority"),
            ("`data.event.level`", "priority when no tag says (fatal P1, error P2, warning P3, info P4)"),
            ("`data.web_url`, `data.event.web_url`", "links"),
        ),
    ),
    Format(
        ("langfuse",),
        "Langfuse prompt-version webhooks",
        "changes",
        langfuse.changes,
        (
            (
                "`action`",
                "`created` logs a change; `updated` only when `production` moved to this version (to a lower one: a rollback, outcome `rollback`; where it was already: nothing, `unchanged`); `deleted` nothing",
            ),
            ("`prompt.name`, `prompt.version`", "id `<name>@v<version>` (`#production` when promoted), what, version"),
            ("`prompt.labels`", "what (on creation); whether an update is a change"),
            ("`prompt.commitMessage`", "what (its first line)"),
            ("`prompt.name`", "the asset, when the catalog lists an asset by that name"),
            ("(none)", "side platform, kind prompt"),
        ),
    ),
    Format(
        ("langsmith",),
        "LangSmith prompt webhooks",
        "changes",
        langsmith.changes,
        (
            ("`prompt_name`, `commit_hash`", "id `<name>@<hash>`, what, version (the hash's first 8 characters)"),
            (
                "`event`, `tag_name`",
                "`commit` (the default) or `tag:create`/`tag:update`: id `<name>@<hash>#<tag>`; a tag moved back to a commit it was on is a rollback, one set again where it is logs nothing",
            ),
            ("`prompt_name`", "the asset, when the catalog lists an asset by that name"),
            ("(none)", "side platform, kind prompt"),
        ),
    ),
)


def format_names(endpoint: Endpoint | None = None) -> list[str]:
    """Every name `?format=` accepts (on `endpoint` only, when given), native first."""
    return [NATIVE, *(n for f in FORMATS if endpoint in (None, f.endpoint) for n in f.names)]


def parse_regressions(
    body: bytes, *, source: str, format: str | None = None, domain: str | None = None
) -> Batch[FiledRegression]:
    """The regressions a POST /hooks/regressions body files or recovers.

    `source`: the verified X-AI-Intake-Source. `format`: the `?format=` value (None: ours).
    `domain`: the `?domain=` value, for items whose body names no domain. Raises HookError.
    """
    return _parse(body, endpoint="regressions", source=source, format=format, domain=domain)


def parse_changes(
    body: bytes, *, source: str, format: str | None = None, domain: str | None = None
) -> Batch[LoggedChange]:
    """The changes a POST /hooks/changes body logs; arguments as for `parse_regressions`. Raises HookError."""
    return _parse(body, endpoint="changes", source=source, format=format, domain=domain)


def _parse(body: bytes, *, endpoint: Endpoint, source: str, format: str | None, domain: str | None) -> Batch[Any]:
    parse = _parser(format, endpoint)
    if domain is not None and not _DOMAIN.match(domain):
        raise BadRequest(f"?domain= must be a domain name like support, not {domain[:40]!r}", field="domain")
    return parse(read_json(body), source=source, domain=domain)


def _parser(name: str | None, endpoint: Endpoint) -> Callable[..., Batch[Any]]:
    if name in (None, "", NATIVE):
        return native.regression if endpoint == "regressions" else native.change
    found = next((f for f in FORMATS if name in f.names), None)
    if found is None:
        raise BadRequest(
            f"unknown format {name[:40]!r}; /hooks/{endpoint} reads {', '.join(format_names(endpoint))}", field="format"
        )
    if found.endpoint != endpoint:
        raise BadRequest(f"format {name} sends {found.endpoint}: post it to /hooks/{found.endpoint}", field="format")
    return found.parse


def format_table() -> str:
    """The Markdown table of every format and the fields it reads (kept in docs/changes.md)."""
    rows = ["| `?format=` | posts to | their field | becomes |", "| --- | --- | --- | --- |"]
    for f in FORMATS:
        for i, (theirs, ours) in enumerate(f.fields):
            name = ", ".join(f"`{n}`" for n in f.names) + f": {f.tool}" if i == 0 else ""
            rows.append(f"| {name} | {f'`/hooks/{f.endpoint}`' if i == 0 else ''} | {theirs} | {ours} |")
    return "\n".join(rows)
