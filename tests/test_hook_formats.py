"""The webhook formats `?format=` reads, each from a recorded sample shaped like the tool's documented
payload: Alertmanager and Grafana alert groups, Sentry metric and issue alerts, Langfuse prompt
versions and LangSmith prompt commits."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.hooks import BadRequest, FiledRegression, LoggedChange, parse_changes, parse_regressions
from bot.hooks.results import AlertMember

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "samples" / "hooks"


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def regressions(data: Any, format: str, **kw: Any) -> Any:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return parse_regressions(raw, source="monitoring", format=format, **kw)


def changes(data: Any, format: str, **kw: Any) -> Any:
    return parse_changes(json.dumps(data).encode(), source="prompts", format=format, **kw)


def refusal(parse: Any, data: Any, format: str) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse(data, format)
    return caught.value


# --- Alertmanager and Grafana ----------------------------------------------------------------------


def test_an_alertmanager_group_files_one_regression_per_alert() -> None:
    raw = (SAMPLES / "alertmanager-firing.json").read_bytes()  # the recorded bytes, as posted
    batch = regressions(raw, "alertmanager")
    first, second = batch.items
    assert first == FiledRegression(
        source="monitoring",
        id="RefundAnswerAccuracyDrop@4fee82d29bae",
        title="Refund answers disagree with the policy for 12% of conversations",
        domain="support",
        asset="refund-intent",
        priority="P1",
        recovered=False,
        description="The online judge flags refund-window answers as wrong in 12% of sampled conversations (baseline 2%) "
        "over the last 30 minutes.\nLabels: alertname=RefundAnswerAccuracyDrop, asset=refund-intent, "
        "domain=support, job=support-bot-evals, severity=critical",
        links=[
            "https://prometheus.example.com/graph?g0.expr=refund_judge_error_ratio+%3E+0.05&g0.tab=1",
            "https://runbooks.example.com/support/refund-accuracy",
        ],
        alerts=(
            AlertMember(
                id="7c1a9e03b2d4f5a6",
                labels=(
                    ("asset", "refund-intent"),
                    ("domain", "support"),
                    ("job", "support-bot-evals"),
                    ("severity", "critical"),
                ),
            ),
        ),
    )
    assert (second.id, second.title, second.domain, second.priority) == (
        "EscalationRateHigh@4fee82d29bae",
        "EscalationRateHigh",
        None,
        "P3",
    )
    assert batch.skipped == ()


def test_the_url_domain_applies_to_alerts_without_a_domain_label() -> None:
    first, second = regressions(sample("alertmanager-firing"), "alertmanager", domain="search").items
    assert (first.domain, second.domain) == ("support", "search")


def test_a_resolved_alert_reports_the_same_regression_recovered() -> None:
    batch = regressions(sample("alertmanager-resolved"), "alertmanager")
    [resolved] = batch.items
    [firing, _] = regressions(sample("alertmanager-firing"), "alertmanager").items
    assert resolved.recovered and (resolved.source, resolved.id) == (firing.source, firing.id)
    assert batch.skipped == (
        "2 alert(s) of the group were left out by the sender (truncatedAlerts); raise max_alerts to 3 to file them all",
    )


def test_an_alerts_own_status_wins_over_the_groups() -> None:
    data = sample("alertmanager-firing")
    data["alerts"][1]["status"] = "resolved"
    assert [a.recovered for a in regressions(data, "alertmanager").items] == [False, True]
    del data["alerts"][0]["status"]
    data["status"] = "resolved"
    assert regressions(data, "alertmanager").items[0].recovered


def test_grafana_alerts_bring_their_dashboard_links_and_values() -> None:
    [alert] = regressions(sample("grafana-firing"), "grafana").items
    assert alert.id == "Search answer groundedness below 0.8@d854c627a447"
    assert alert.domain == "search" and alert.priority == "P2"  # the priority label
    assert alert.title == "Answers cite passages that do not support them"
    assert alert.links == [
        "https://grafana.example.com/alerting/grafana/d41f7a2e/view",
        "https://grafana.example.com/d/ai-quality",
        "https://grafana.example.com/d/ai-quality?viewPanel=4",
        "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DSearch",
    ]
    assert "Value: A=0.74, B=1" in alert.description  # its values, read as the tool gave them
    assert regressions(sample("grafana-firing"), "alertmanager").items == (alert,)  # one shape, two names


def test_a_long_or_multi_line_summary_keeps_its_first_line_as_title_and_the_rest() -> None:
    data = sample("alertmanager-firing")
    data["alerts"][0]["annotations"]["summary"] = "Refund answers wrong\nsince the 09:00 deploy\n" + "x" * 10
    data["alerts"][1]["annotations"]["summary"] = "y" * 200
    first, second = regressions(data, "alertmanager").items
    assert first.title == "Refund answers wrong" and first.description.startswith(
        "Refund answers wrong\nsince the 09:00 deploy"
    )
    assert len(second.title) == 150 and second.title.endswith("…") and second.description.startswith("y" * 200)


def test_odd_links_are_kept_in_the_description() -> None:
    data = sample("alertmanager-firing")
    data["alerts"][0]["generatorURL"] = "prometheus:9090/graph"
    [first, _] = regressions(data, "alertmanager").items
    assert first.links == ["https://runbooks.example.com/support/refund-accuracy"]
    assert first.description.endswith("Links that are not web addresses: prometheus:9090/graph")


@pytest.mark.parametrize(
    "edit, field, message",
    [
        (
            lambda d: [a.pop("fingerprint") for a in d["alerts"]],
            "alerts[0].fingerprint",
            "alerts[0].fingerprint is required",
        ),
        (lambda d: d.update(alerts="many"), "alerts", "alerts must be a list, not a string"),
        (lambda d: d.update(alerts=[1]), "alerts[0]", "alerts[0] must be a JSON object, not a number"),
        (lambda d: d.pop("alerts"), "alerts", "alerts is required"),
    ],
)
def test_a_bad_alert_names_its_field(edit: Any, field: str, message: str) -> None:
    data = copy.deepcopy(sample("alertmanager-firing"))
    edit(data)
    error = refusal(regressions, data, "alertmanager")
    assert error.field == field and error.message.startswith(message)


@pytest.mark.parametrize(
    "edit, named",
    [
        (
            lambda d: d["alerts"][0].pop("fingerprint"),
            "alerts[0].fingerprint was left out: alerts[0].fingerprint is required",
        ),
        (
            lambda d: d["alerts"][0].update(labels={"job": "x"}, annotations={}),
            "alerts[0].labels.alertname was left out: alerts[0].labels has no alertname",
        ),
    ],
)
def test_one_bad_alert_is_named_and_the_good_ones_are_filed(edit: Any, named: str) -> None:
    data = copy.deepcopy(sample("alertmanager-firing"))
    edit(data)
    batch = regressions(data, "alertmanager")
    assert [i.title for i in batch.items] == ["EscalationRateHigh"]
    assert batch.skipped[0].startswith(named)


def test_an_empty_group_files_nothing_and_says_so() -> None:
    batch = regressions({"status": "firing", "alerts": []}, "alertmanager")
    assert batch.items == () and batch.skipped == ("the alert group has no alerts",)


def test_grafanas_legacy_alerting_body_is_explained() -> None:
    legacy = {"title": "[Alerting] Refund errors", "ruleName": "Refund errors", "state": "alerting", "evalMatches": []}
    error = refusal(regressions, legacy, "grafana")
    assert error.field == "alerts" and "legacy alerting" in error.message


# --- Sentry -------------------------------------------------------------------------------------------


def test_a_sentry_metric_alert_files_its_incident() -> None:
    [critical] = regressions(sample("sentry-metric-alert-critical"), "sentry", domain="support").items
    assert critical == FiledRegression(
        source="monitoring",
        id="metric-alert-508",
        title="Critical: Refund answer errors",
        domain="support",
        priority="P1",
        description="Sentry metric alert “Refund answer errors” is critical.\n41 events in the last 10 minutes\n"
        "Filter: transaction:/refunds/answer level:error",
        links=["https://example.sentry.io/alerts/rules/details/31/?alert=508"],
    )
    [resolved] = regressions(sample("sentry-metric-alert-resolved"), "sentry").items
    assert resolved.recovered and resolved.id == critical.id and resolved.priority is None


def test_a_sentry_warning_is_a_lower_priority() -> None:
    data = sample("sentry-metric-alert-critical")
    data["action"] = "warning"
    assert regressions(data, "sentry").items[0].priority == "P3"
    data["action"] = "exploded"
    error = refusal(regressions, data, "sentry")
    assert error.field == "action" and "critical, warning or resolved" in error.message


def test_a_metric_alert_without_a_description_shows_its_query() -> None:
    data = sample("sentry-metric-alert-critical")
    del data["data"]["description_text"], data["data"]["description_title"]
    [alert] = regressions(data, "sentry").items
    assert alert.title == "Refund answer errors" and alert.description.endswith(
        "Query: transaction:/refunds/answer level:error"
    )


def test_a_sentry_issue_alert_files_its_issue() -> None:
    [issue] = regressions(sample("sentry-issue-alert"), "sentry").items
    assert issue == FiledRegression(
        source="monitoring",
        id="issue-4521987",
        title="RefundPolicyError: refund window missing from retrieved policy",
        domain="support",
        priority="P2",
        description="Sentry alert rule “Refund answers: new errors in production” fired.\n"
        "Culprit: support_bot.answers.refunds in compose_answer\nLevel: error",
        links=["https://example.sentry.io/issues/4521987/events/9f2c4e6a8b1d4f3e9a7c5b3d1e2f4a6b/"],
    )


def test_sentry_tags_name_the_asset_and_priority_and_fatal_is_p1() -> None:
    data = sample("sentry-issue-alert")
    data["data"]["event"]["tags"] += [["asset", "refund-intent"], ["priority", "P4"], ["odd"]]
    [issue] = regressions(data, "sentry").items
    assert (issue.asset, issue.priority) == ("refund-intent", "P4")
    data["data"]["event"]["tags"] = []
    data["data"]["event"]["level"] = "fatal"
    assert regressions(data, "sentry", domain="search").items[0].priority == "P1"
    assert regressions(data, "sentry", domain="search").items[0].domain == "search"


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d.pop("data"), "data"),
        (lambda d: d.update(data={"installation": {}}), "data"),
        (lambda d: [d["data"]["event"].pop(k) for k in ("issue_id", "issue_url")], "data.event.issue_id"),
        (lambda d: d["data"].update(event="oops"), "data.event"),
    ],
)
def test_a_bad_sentry_body_names_its_field(edit: Any, field: str) -> None:
    data = sample("sentry-issue-alert")
    edit(data)
    assert refusal(regressions, data, "sentry").field == field


# --- Langfuse and LangSmith ------------------------------------------------------------------------


def test_a_new_langfuse_prompt_version_is_a_platform_change() -> None:
    [created] = changes(sample("langfuse-prompt-created"), "langfuse", domain="support").items
    assert created == LoggedChange(
        source="prompts",
        id="refund-answer@v14",
        side="platform",
        kind="prompt",
        domain="support",
        what="prompt refund-answer v14 (latest): Shorter answers; cite the policy section",
        version="14",
        asset_if_listed="refund-answer",
    )


def test_promotion_to_production_is_a_change_of_its_own() -> None:
    [promoted] = changes(sample("langfuse-prompt-promoted"), "langfuse").items
    assert promoted.id == "refund-answer@v14#production"
    assert promoted.what == "prompt refund-answer v14 now in production: Shorter answers; cite the policy section"


def test_other_langfuse_events_log_nothing_and_say_why() -> None:
    data = sample("langfuse-prompt-promoted")
    data["prompt"]["labels"] = ["latest"]
    assert changes(data, "langfuse").skipped == (
        "prompt refund-answer v14 was relabelled without the production label; only reaching production logs a change",
    )
    data["action"] = "deleted"
    assert changes(data, "langfuse").skipped == ("prompt refund-answer v14 was deleted; a deletion logs no change",)
    data["type"] = "trace"
    assert changes(data, "langfuse").items == ()


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d.update(action="renamed"), "action"),
        (lambda d: d.pop("prompt"), "prompt"),
        (lambda d: d["prompt"].pop("name"), "prompt.name"),
        (lambda d: d["prompt"].update(version=1.5), "prompt.version"),
    ],
)
def test_a_bad_langfuse_body_names_its_field(edit: Any, field: str) -> None:
    data = sample("langfuse-prompt-created")
    edit(data)
    assert refusal(changes, data, "langfuse").field == field


def test_a_langsmith_commit_is_a_platform_change() -> None:
    [commit] = changes(sample("langsmith-prompt-commit"), "langsmith").items
    assert commit == LoggedChange(
        source="prompts",
        id="search-answer@e41b7c09d2a35f68b1c4e7a90d3f2b6c8e5a1d47",
        side="platform",
        kind="prompt",
        what="prompt search-answer commit e41b7c09",
        version="e41b7c09",
        asset_if_listed="search-answer",
        person="mlpm@example.com",
    )
    older = sample("langsmith-prompt-commit")
    del older["event"]  # the first webhooks sent no event: a commit
    assert changes(older, "langsmith").items == (commit,)


def test_a_langsmith_tag_is_a_change_named_by_its_tag() -> None:
    [tagged] = changes(sample("langsmith-prompt-tagged"), "langsmith", domain="search").items
    assert tagged.id == "search-answer@e41b7c09d2a35f68b1c4e7a90d3f2b6c8e5a1d47#production"
    assert tagged.what == "prompt search-answer commit e41b7c09 tagged production" and tagged.domain == "search"


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda d: d.pop("commit_hash"), "commit_hash"),
        (lambda d: d.pop("prompt_name"), "prompt_name"),
        (lambda d: d.update(event="tag:delete"), "event"),
        (lambda d: d.pop("tag_name"), "tag_name"),
    ],
)
def test_a_bad_langsmith_body_names_its_field(edit: Any, field: str) -> None:
    data = sample("langsmith-prompt-tagged")
    edit(data)
    assert refusal(changes, data, "langsmith").field == field


# --- the samples ----------------------------------------------------------------------------------


def test_every_sample_is_read_by_a_test_and_its_origin_written_beside_it() -> None:
    source = Path(__file__).read_text()
    origins = (SAMPLES / "README.md").read_text()
    for path in SAMPLES.glob("*.json"):
        assert f'"{path.stem}"' in source, path.name
        assert f"| `{path.name}` |" in origins, path.name


# --- bodies a real Alertmanager 0.25 sent (recorded by tests/samples/hooks/record_alertmanager.py) ----------------


def test_a_real_group_of_22_pods_is_one_regression_listing_them() -> None:
    pods, accuracy = regressions(sample("alertmanager-group-firing"), "alertmanager").items
    assert (pods.title, pods.priority, pods.recovered, len(pods.alerts)) == ("KubePodNotReady", "P3", False, 22)
    assert pods.id.startswith("KubePodNotReady@") and accuracy.id.startswith("RefundAnswerAccuracyDrop@")
    assert pods.alerts[0].labels == (("pod", "support-bot-api-00"),)  # what tells it from the other 21
    assert pods.description.startswith(
        "22 KubePodNotReady alerts in the group (listed below); the first of them:\n"
        "Pod support-bot/support-bot-api-00 has been in a non-ready state"
    )  # annotations.message
    assert "in 12% of sampled conversations" in accuracy.description and "**" not in accuracy.description
    assert (
        regressions(sample("alertmanager-group-refired"), "alertmanager").items[0].id == accuracy.id
    )  # the same group


def test_a_real_group_partly_resolved_still_fires_and_says_which() -> None:
    pods, _ = regressions(sample("alertmanager-group-partly-resolved"), "alertmanager").items
    assert not pods.recovered and sorted(a.labels for a in pods.alerts if not a.firing) == [
        (("pod", "support-bot-api-03"),),
        (("pod", "support-bot-api-07"),),
    ]


def test_a_real_escalation_is_the_most_urgent_firing_alert() -> None:
    _, accuracy = regressions(sample("alertmanager-group-escalated"), "alertmanager").items
    assert (accuracy.priority, accuracy.recovered, [a.firing for a in accuracy.alerts]) == ("P1", False, [True, False])


def test_a_real_group_resolved_recovers_every_name() -> None:
    batch = regressions(sample("alertmanager-group-resolved"), "alertmanager")
    assert [i.recovered for i in batch.items] == [True, True]


def test_a_real_truncated_group_advises_a_max_alerts_that_fits() -> None:
    batch = regressions(sample("alertmanager-group-truncated"), "alertmanager")
    assert batch.skipped == (
        "18 alert(s) of the group were left out by the sender (truncatedAlerts); raise max_alerts "
        "to 23 to file them all",
    )
    data = sample("alertmanager-group-truncated")
    data["truncatedAlerts"] = 5000
    [advice] = regressions(data, "alertmanager").skipped
    most = int(advice.split("raise max_alerts up to ")[1].split(" ")[0])
    one = len(json.dumps(data["alerts"][0]).encode())
    assert 5 < most and most * one < 1_000_000 and "split the group" in advice  # the advice keeps a body under 1 MB


def test_grafanas_test_notification_files_nothing_firing_or_resolved() -> None:
    for name in ("grafana-test-notification", "grafana-test-notification-resolved"):
        batch = regressions(sample(name), "grafana")
        assert batch.items == () and batch.skipped[0].startswith("Grafana's test notification (TestAlert)")


def test_a_sentry_event_alert_without_issue_id_is_named_by_its_issue_url() -> None:
    data = sample("sentry-issue-alert")
    del data["data"]["event"]["issue_id"]
    [issue] = regressions(data, "sentry").items
    assert issue.id == "issue-4521987"
    data["data"]["event"]["issue_url"] = "https://example.sentry.io/api/0/projects/"
    error = refusal(regressions, data, "sentry")
    assert error.field == "data.event.issue_url" and "names no issue" in error.message
    del data["data"]["event"]["issue_url"]
    assert refusal(regressions, data, "sentry").field == "data.event.issue_id"


def test_a_label_move_is_decided_against_where_the_label_was() -> None:
    from bot.hooks.deployments import move

    [back] = changes(sample("langfuse-prompt-rolled-back"), "langfuse").items
    assert back.deployment is not None and (back.deployment.version, back.deployment.order) == ("v13", 13)
    rolled = move(back.deployment, ["refund-answer@v13#production", "refund-answer@v14#production"], what=back.what)
    assert (rolled.id, rolled.rollback, rolled.what) == (
        "refund-answer@v13#production@2",
        True,
        "prompt refund-answer rolled back to v13 in production (from v14)",
    )
    [edited] = changes(sample("langfuse-prompt-tags-edited"), "langfuse").items
    assert move(edited.deployment, ["refund-answer@v14#production"], what=edited.what).id is None  # nothing moved
    [tagged] = changes(sample("langsmith-prompt-tagged"), "langsmith").items
    [moved] = changes(sample("langsmith-prompt-tag-moved"), "langsmith").items
    [again] = changes(sample("langsmith-prompt-tag-rolled-back"), "langsmith").items
    history = [tagged.id, moved.id]
    assert move(moved.deployment, [tagged.id], what=moved.what).rollback is False
    found = move(again.deployment, history, what=again.what)
    assert (found.id, found.rollback, found.what) == (
        f"{tagged.id}@2",
        True,
        "prompt search-answer rolled back to e41b7c09 in production (from 9a0c4e71)",
    )
