"""The nag rules and their thresholds, in one table: per rule, its steps and when each is reached.

The rules (which step of a rule is due, `bot.domain.nags.nags_due`) and the next-check scheduler (when
the next step can fall due, `next_check_at`) both read `thresholds(config, domain)`, so the two cannot
disagree. Pure: standard library and the config.
"""

from dataclasses import dataclass
from math import floor

from bot.domain.changes import RULE_UNACKNOWLEDGED, business_day_seconds
from bot.domain.policy import Config, Nags

RULE_AT_RISK = "sla.at_risk"
RULE_BREACHED = "sla.breached"
RULE_STALE_REVIEW = "review.stale"
RULE_UNOWNED = "regression.unowned"
RULE_NO_ANSWER = "requester.no_answer"
REQUEST_RULES = frozenset({RULE_AT_RISK, RULE_BREACHED, RULE_STALE_REVIEW, RULE_UNOWNED, RULE_NO_ANSWER})
"""The rules about requests."""
CHANGE_RULES = frozenset({RULE_UNACKNOWLEDGED})
"""The rules about the change log's changes (a change is not a request: `bot.domain.changes_nag`)."""
ALL_RULES = REQUEST_RULES | CHANGE_RULES

SHARE_OF_TARGET = "share of the SLA target"
DAYS_SILENT = "days the ball holder has been silent"
BUSINESS_SECONDS_FILED = "business seconds since filed"
BUSINESS_SECONDS_WAITING = "business seconds waiting on the requester"
BUSINESS_DAYS_UNANSWERED = "business days a change has waited for an answer"


@dataclass(frozen=True)
class Step:
    """A step of a rule and where on the rule's measure it is reached."""

    name: str
    at: float


@dataclass(frozen=True)
class Ladder:
    """One rule's steps, lowest first, on one measure (`SHARE_OF_TARGET`, `DAYS_SILENT`, `BUSINESS_SECONDS_FILED`,
    `BUSINESS_SECONDS_WAITING` or `BUSINESS_DAYS_UNANSWERED`). With `repeat`, the highest step reached fires again every `repeat` of the
    measure until the next step; `begins` is where the rule starts firing at all.

    `scale` converts a step into the measure of a value: an SLA target's business seconds, so that
    `at_risk` at 0.75 is reached at 0.75 × the target.
    """

    measure: str
    steps: tuple[Step, ...]
    repeat: float | None = None
    begins: float = 0.0

    def reached(self, value: float, *, scale: float = 1.0) -> Step | None:
        """The highest step reached at `value` (None: none yet, or before the rule begins)."""
        if value < self.begins * scale:
            return None
        return next((step for step in reversed(self.steps) if step.at * scale <= value), None)

    def repeats(self, value: float, step: Step) -> int:
        """How many times `step` has come round again by `value` (0 without `repeat`)."""
        return floor((value - step.at) / self.repeat) if self.repeat else 0

    def next_after(self, value: float, *, scale: float = 1.0) -> float | None:
        """The least point of the measure above `value` at which a step is reached or repeats (None: never)."""
        found = []
        for i, step in enumerate(self.steps):
            start = step.at * scale
            end = self.steps[i + 1].at * scale if i + 1 < len(self.steps) else float("inf")
            if value < start:
                first = start
            elif self.repeat:
                first = start + (floor((value - start) / self.repeat) + 1) * self.repeat
            else:
                continue
            if first < end:
                found.append(first)
        return min(found) if found else None


def thresholds(config: Config, domain: str | None) -> dict[str, Ladder]:
    """Every rule's ladder for a request of `domain`, from the config:

    - sla.at_risk: at the SLA policy's `at_risk` share of a target; sla.breached: at the whole target;
    - review.stale: a rung at each of `review_ladder_days` days of silence (the first by
      `review_stale_days` at the latest), repeating every `review_repeat_days`, from `review_stale_days`;
    - regression.unowned: the owners at `regression_unowned_hours` business hours, the lead at twice that;
    - requester.no_answer: while waiting on the requester, a reminder at `requester_reminder_days`
      business days (of the domain's opening hours), closing as no answer at twice that; no steps when
      the setting is off;
    - change.unacknowledged (a change of `domain`, not a request): the person asked at
      `change_log.unacknowledged_business_days` business days without an answer, the lead too at twice that.
    """
    return {
        rule: ladder(config, domain, rule)
        for rule in (RULE_AT_RISK, RULE_BREACHED, RULE_STALE_REVIEW, RULE_UNOWNED, RULE_NO_ANSWER, RULE_UNACKNOWLEDGED)
    }


def ladder(config: Config, domain: str | None, rule: str) -> Ladder:
    """One rule's ladder (`thresholds` lists them all)."""
    nags = config.nags
    if rule == RULE_AT_RISK:
        return Ladder(SHARE_OF_TARGET, (Step("at_risk", config.sla_policy(domain).at_risk),))
    if rule == RULE_BREACHED:
        return Ladder(SHARE_OF_TARGET, (Step("breached", 1.0),))
    if rule == RULE_STALE_REVIEW:
        rungs = tuple(Step(f"rung{n}", start) for n, start in enumerate(_rung_starts(nags), 1))
        return Ladder(DAYS_SILENT, rungs, repeat=nags.review_repeat_days, begins=nags.review_stale_days)
    if rule == RULE_UNOWNED:
        hours = nags.regression_unowned_hours * 3600
        return Ladder(BUSINESS_SECONDS_FILED, (Step("owners", hours), Step("lead", 2 * hours)))
    if rule == RULE_NO_ANSWER:
        if nags.requester_reminder_days is None:
            return Ladder(BUSINESS_SECONDS_WAITING, ())
        remind = nags.requester_reminder_days * business_day_seconds(config.calendar(domain))
        return Ladder(BUSINESS_SECONDS_WAITING, (Step("remind", remind), Step("close", 2 * remind)))
    if rule == RULE_UNACKNOWLEDGED:
        return unacknowledged_ladder(config.change_log.unacknowledged_business_days)
    raise ValueError(f"unknown nag rule {rule!r}")


def unacknowledged_ladder(days: float) -> Ladder:
    """change.unacknowledged with N = `days` business days: `asked` (the person asked) at N, `lead` (the lead too) at 2N."""
    return Ladder(BUSINESS_DAYS_UNANSWERED, (Step("asked", days), Step("lead", 2 * days)))


def _rung_starts(settings: Nags) -> list[float]:
    """Days of silence at which each rung begins; rung 1 begins by `review_stale_days` at the latest."""
    starts: list[float] = sorted(settings.review_ladder_days) or [settings.review_stale_days]
    starts[0] = min(starts[0], settings.review_stale_days)
    return starts
