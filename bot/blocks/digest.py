"""The weekly digest: what needs a human decision first (with buttons), then the week's figures; and the
private digest of a review channel, which lists the confidential requests in full. The change log's part —
the changes nobody answered among the decisions, and closing the loop after the figures — is rendered apart
(`loop_decisions`, `loop_figures_blocks`) from its own figures (`LoopFigures`).

Nothing is cut off silently: the decisions are always counted, those not listed are named by number with
the way to see them, confidential ones are counted where they may not be listed, and the stalled reviews
at the top of the ladder are always named in the organisation's digest. Each message stays inside Block
Kit's limits (a long digest becomes several messages). What a digest says of each thing a nag is about (an unowned
regression, a stalled review, an unanswered change) is that nag's, in `bot/blocks/nag_rules/`.

The outbox words each digest message when it sends it, from the facts the job kept (`digest_messages`).
"""

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, HeaderBlock

from bot.blocks.card import kind_label, shown_title
from bot.blocks.common import context, section
from bot.blocks.ids import action_ids
from bot.blocks.nag_rules import review as review_nag
from bot.blocks.nag_rules import unanswered as unanswered_nag
from bot.blocks.nag_rules import unowned as unowned_nag
from bot.blocks.nags import actions
from bot.domain.changes_loop import LoopFigures
from bot.blocks.words import COURT_LABEL, local_when
from bot.domain.courts import ball_holders
from bot.domain.digest import ConfidentialRequest, DigestFigures
from bot.domain.digest_facts import PrivateDigest, PublicDigest
from bot.domain.nag_facts import Offer
from bot.domain.policy import Config

MAX_BLOCKS = 45
DECISIONS_LIMIT = 8
"""Unowned regressions, and stalled reviews, listed with their buttons (two blocks each); the rest are counted."""
LINES_CHARS = 2800
"""Room for the lines of one section (Slack cuts a section's text at 3,000 characters)."""


def change(current: float | int | None, previous: float | int | None, *, points: bool = False) -> str:
    """The change against last week, for people: counts as a difference ("+3", "-2", "±0"), other
    numbers (durations) relative in percent ("-12 %"), or with `points` as a difference in
    percentage points ("+4 pts"); "—" when either is unknown or a relative change has no base.
    """
    if current is None or previous is None:
        return "—"
    if points:
        return _signed(round(current - previous), unit=" pts")
    if isinstance(current, int) and isinstance(previous, int):
        return _signed(current - previous)
    if previous == 0:
        return "±0" if current == 0 else "—"
    return _signed(round((current - previous) / previous * 100), unit=" %")


def _signed(number: int, *, unit: str = "") -> str:
    if number == 0:
        return "±0"
    return f"{number:+d}{unit}"


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f} h"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} %"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def confidential_listed_in(config: Config, scope: str | None, *, queue: str) -> str:
    """Where the confidential requests a digest of `scope` (a domain's name; None: the organisation) only counts are
    really listed: its review channel(s) and the organisation's private digest channel, else `queue` for members."""
    domains = [config.domain(scope)] if scope else list(config.domains)
    channels = [f"<#{d.review_channel}>" for d in domains if d is not None and d.review_channel]
    if config.digest and config.digest.private_channel:
        channels.append(f"<#{config.digest.private_channel}>")
    if channels:
        return "listed in full in " + ", ".join(channels)
    return f"listed to its members by `{queue}`"


def title(scope: str | None, *, private: bool = False) -> str:
    """ "Weekly digest: support", "Weekly digest: all domains"; "Private digest: …" for a review channel's."""
    return f"{'Private' if private else 'Weekly'} digest: {scope or 'all domains'}"


def digest_messages(
    facts: PublicDigest | PrivateDigest, config: Config, *, now: datetime
) -> list[tuple[str, list[Block]]]:
    """The (text, blocks) messages of one digest, from the facts its job kept at `now`."""
    if isinstance(facts, PrivateDigest):
        return render_private_digest(list(facts.listed), config, title=title(facts.scope, private=True), now=now)
    scope = facts.scope
    queue = f"/ai-request queue {scope}" if scope else "/ai-request queue"
    return render_digest(
        facts.figures,
        title=title(scope),
        queue=queue,
        stale_days=config.nags.review_stale_days,
        org=scope is None,
        loop=facts.loop,
        changes=f"/ai-request changes {scope}" if scope else "/ai-request changes",
        listed_in=confidential_listed_in(config, scope, queue=queue),
    )


def render_digest(
    figures: DigestFigures,
    *,
    title: str,
    queue: str,
    stale_days: int,
    org: bool = False,
    loop: LoopFigures | None = None,
    changes: str = "/ai-request changes",
    listed_in: str | None = None,
) -> list[tuple[str, list[Block]]]:
    """One or more (text, blocks) messages. `queue` is the command that lists every open request of the
    digest's scope (`/ai-request queue support`); `stale_days` the silence at which a review counts as
    stalled; `org`: the organisation's digest, which always names the reviews at the top of the ladder.
    `loop`: the change log's figures of the same scope, and `changes` the command that lists its changes;
    `listed_in`: where its confidential requests are listed in full (`confidential_listed_in`)."""
    blocks: list[Block] = [HeaderBlock(text=title[:150])]
    blocks += _decisions(
        figures, queue=queue, stale_days=stale_days, org=org, others=loop_decision_counts(loop), listed_in=listed_in
    )
    blocks += loop_decisions(loop, changes=changes)
    blocks.append(DividerBlock())
    blocks += _figures(figures, listed_in=listed_in)
    blocks += loop_figures_blocks(loop)
    text = (
        f"{title}: {figures.opened} opened, {figures.resolved} resolved, {_plural(figures.unowned_total, 'unowned regression')}, "
        f"{_plural(figures.stalled_total, 'stalled review')}"
    )
    return _messages(title, text, blocks)


def _decisions(
    figures: DigestFigures,
    *,
    queue: str,
    stale_days: int,
    org: bool,
    others: Sequence[str] = (),
    listed_in: str | None = None,
) -> list[Block]:
    """ "Needs a decision": every unowned regression and stalled review counted, up to `DECISIONS_LIMIT` of
    each listed with their buttons, the rest named by number with where to see them. `others`: what else
    needs a decision, counted ("1 change unanswered …"), listed after these."""
    unowned, stalled = figures.unowned_total, figures.stalled_total
    if not unowned and not stalled and not others:
        return [section("*Needs a decision*\nNothing: no unowned regression, no stalled review. :tada:")]
    counts = [
        _plural(n, what) for n, what in ((unowned, "unowned regression"), (stalled, "stalled security review")) if n
    ]
    counts += others
    blocks = [section(f"*Needs a decision*: {', '.join(counts)}")]
    for _, key, hours in figures.unowned_regressions[:DECISIONS_LIMIT]:
        blocks.append(section(unowned_nag.digest_line(key, hours)))
        blocks.append(_buttons(key, *unowned_nag.DIGEST_OFFERS))
    for _, key, days in figures.stale_reviews[:DECISIONS_LIMIT]:
        blocks.append(section(review_nag.digest_line(key, days)))
        blocks.append(_buttons(key, *review_nag.DIGEST_OFFERS))
    more = [
        _plural(n, f"more {what}")
        for n, what in (
            (len(figures.unowned_regressions) - DECISIONS_LIMIT, "unowned regression"),
            (len(figures.stale_reviews) - DECISIONS_LIMIT, "stalled review"),
        )
        if n > 0
    ]
    if more:
        blocks.append(context(f"+{' and +'.join(more)}: `{queue}` lists every open request."))
    hidden = _hidden(figures, stale_days=stale_days, org=org, listed_in=listed_in)
    if hidden:
        blocks.append(context(hidden))
    if org and figures.top_rung:
        blocks += _top_rung(figures)
    return blocks


def _hidden(figures: DigestFigures, *, stale_days: int, org: bool, listed_in: str | None = None) -> str:
    """The confidential decisions this channel may not list, counted: "2 confidential security reviews
    stalled over 7 days, oldest 63 days"."""
    parts = []
    (stalled, longest), (unowned, hours) = figures.hidden_stalled, figures.hidden_unowned
    if stalled:
        parts.append(review_nag.hidden_count(stalled, stale_days=stale_days, longest=longest))
    if unowned:
        parts.append(unowned_nag.hidden_count(unowned, longest=hours))
    if not parts:
        return ""
    where = listed_in or (
        "listed in full in each domain's private review channel"
        if org
        else "listed in full in the private review channel"
    )
    return ":lock: " + "; ".join(parts) + f" ({where})"


def _top_rung(figures: DigestFigures) -> list[Block]:
    """Every stalled review at the top of the ladder, by key; a title only where this channel may see it."""
    lines = [review_nag.top_rung_line(key, days, court, shown) for _, key, days, court, shown in figures.top_rung]
    return [section("\n".join(chunk)) for chunk in _chunks([review_nag.TOP_RUNG_HEADING, *lines])]


def _figures(figures: DigestFigures, *, listed_in: str | None = None) -> list[Block]:
    prev = figures.previous
    kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(figures.open_by_kind.items())) or "none"
    fields = [
        f"*Opened*\n{figures.opened} ({change(figures.opened, prev and prev.opened)})",
        f"*Resolved*\n{figures.resolved} ({change(figures.resolved, prev and prev.resolved)})",
        f"*Open now*\n{kinds}",
        f"*Median first response*\n{_hours(figures.median_first_response_seconds)}",
        f"*Median resolution*\n{_hours(figures.median_resolution_seconds)}",
        f"*SLA attainment*\n{_pct(figures.sla_attainment)} ({change(figures.sla_attainment, prev and prev.sla_attainment, points=True)})",
        f"*Breaches*\n{figures.breaches} ({change(figures.breaches, prev and prev.breaches)})",
    ]
    if figures.confidential_open:
        fields.append(
            f"*Confidential open*\n{figures.confidential_open} ({listed_in or 'details in the private review channel'})"
        )
    blocks: list[Block] = [section(None, fields=fields)]
    if figures.oldest_open:
        blocks.append(
            section("*Oldest open*\n" + "\n".join(f"*{key}* — {days} days" for _, key, days in figures.oldest_open))
        )
    if figures.snoozed:
        blocks.append(
            context(
                "Snoozed: "
                + ", ".join(f"{key} until {until:%a %d %b} (<@{by}>)" for _, key, until, by in figures.snoozed)
            )
        )
    return blocks


# --- the change log's part ------------------------------------------------------------------------------


def loop_decision_counts(loop: LoopFigures | None) -> list[str]:
    """The changes that need a decision, counted for the heading: "1 change unanswered for 2 business days or more"."""
    if loop is None or not loop.needs_answer:
        return []
    return [unanswered_nag.digest_count(len(loop.needs_answer), after_days=loop.decide_after)]


def loop_decisions(loop: LoopFigures | None, *, changes: str) -> list[Block]:
    """Every change unanswered past the nag's N business days, longest first, up to `DECISIONS_LIMIT` listed with
    its answers as buttons (answering from the digest is answering the question); the rest counted with `changes`,
    the command that lists them."""
    if loop is None or not loop.needs_answer:
        return []
    blocks: list[Block] = []
    for record, days in loop.needs_answer[:DECISIONS_LIMIT]:
        snoozed = None
        if loop.end is not None and (until := record.snoozed_until(loop.end)) is not None:
            snoozed = (until, record.snoozed_by(loop.end))
        blocks.append(section(unanswered_nag.digest_line(record.change, days, snoozed=snoozed)))
        blocks.append(_buttons(record.change.id, *unanswered_nag.DIGEST_OFFERS, change=True))
    if len(loop.needs_answer) > DECISIONS_LIMIT:
        more = len(loop.needs_answer) - DECISIONS_LIMIT
        blocks.append(context(f"+{_plural(more, 'more unanswered change')}: `{changes}` lists the latest changes."))
    return blocks


def loop_figures_blocks(loop: LoopFigures | None) -> list[Block]:
    """Closing the loop, after the week's figures: regressions closed and how many without an eval case (those
    this channel may see, by key; the others counted), changes logged and those never acknowledged (this week's,
    and all still open). Nothing when the change log has nothing to say this week."""
    if loop is None or not loop.has_news:
        return []
    never = f"{len(loop.unacknowledged_this_week)} logged this week, {len(loop.unacknowledged_open)} still open"
    fields = [
        f"*Regressions closed*\n{loop.regressions_closed}",
        f"*Without an eval case*\n{loop.closed_without_eval_case}",
        f"*Changes logged*\n{loop.changes_logged}",
        f"*Never acknowledged*\n{never}",
    ]
    blocks: list[Block] = [section("*Closing the loop*", fields=fields)]
    keys = [key for _, key in loop.closed_without_eval_case_listed]
    hidden = loop.closed_without_eval_case_hidden
    if keys or hidden:
        named = ", ".join(f"*{key}*" for key in keys[:20])
        extra = [f"{len(keys) - 20} more"] if len(keys) > 20 else []
        extra += [_plural(hidden, "confidential regression")] if hidden else []
        listed = named + (f" and {' and '.join(extra)}" if named and extra else " and ".join(extra) if extra else "")
        blocks.append(context(f"Closed without an eval case: {listed}"))
    if loop.caused_after_not_relevant:
        changes = ", ".join(f"*{c}*" for c in loop.caused_after_not_relevant[:20])
        blocks.append(context(f"Named as a regression's cause after “not relevant”: {changes}"))
    return blocks


# --- the private digest -------------------------------------------------------------------------------


def render_private_digest(
    listed: Sequence[ConfidentialRequest], config: Config, *, title: str, now: datetime
) -> list[tuple[str, list[Block]]]:
    """The confidential requests a private review channel may see, listed in full — key, title, kind, age and
    whose court — those needing a decision first, with their buttons."""
    blocks: list[Block] = [
        HeaderBlock(text=title[:150]),
        context(":lock: Confidential requests, listed in full here only: the public digests count them."),
    ]
    needs = [x.decision.stalled_days is not None or x.decision.unowned_hours is not None for x in listed]
    decide = [x for x, needed in zip(listed, needs) if needed]
    rest = [x for x, needed in zip(listed, needs) if not needed]  # not `x not in decide`: quadratic in the listed
    if decide:
        blocks.append(section(f"*Needs a decision*: {len(decide)}"))
        for item in decide:
            blocks.append(section(_private_line(item, config, now=now)))
            if (row := _private_buttons(item)) is not None:
                blocks.append(row)
    if rest:
        heading = f"*Open*: {len(rest)}"
        blocks += [
            section("\n".join(chunk))
            for chunk in _chunks([heading, *(_private_line(x, config, now=now) for x in rest)])
        ]
    text = f"{title}: {len(listed)} confidential open, {len(decide)} needing a decision"
    return _messages(title, text, blocks)


def _private_line(item: ConfidentialRequest, config: Config, *, now: datetime) -> str:
    request, decision = item.request, item.decision
    holders = " ".join(f"<@{u}>" for u in ball_holders(request, config)) or "nobody"
    parts = [
        f"*{request.key}*",
        shown_title(request, redact=False),
        kind_label(request.kind),
        f"{_plural(item.age_days, 'day')} open",
        f"ball with {COURT_LABEL.get(request.court, request.court)} ({holders})",
    ]
    if decision.stalled_days is not None:
        parts.append(review_nag.private_silence(decision.stalled_days, top=decision.top))
    if decision.unowned_hours is not None:
        parts.append(unowned_nag.private_hours(decision.unowned_hours))
    if decision.snoozed is not None:
        until, by = decision.snoozed
        parts.append(f"snoozed until {local_when(until, tz=config.calendar(request.domain).tz)} (<@{by}>)")
    return " · ".join(parts)


def _private_buttons(item: ConfidentialRequest) -> ActionsBlock | None:
    key, request = item.request.key, item.request
    if item.decision.unowned_hours is not None:
        return _buttons(key, *unowned_nag.DIGEST_OFFERS)
    start = [Offer.START_REVIEW] if request.stage in ("requested", "changes_requested") else []
    return _buttons(key, *start, Offer.SNOOZE)


def _buttons(key: str, *offers: Offer, change: bool = False) -> ActionsBlock:
    """A decision's buttons, each naming its request or change ("Take ownership AIR-3"), as a nag's do."""
    row = actions(key, action_ids(offers, change=change))
    assert row is not None  # every id given here has a label
    return row


# --- fitting Slack's limits -----------------------------------------------------------------------------


def _chunks(lines: Sequence[str]) -> list[list[str]]:
    """Lines in groups that each fit one section."""
    out: list[list[str]] = [[]]
    size = 0
    for line in lines:
        line = line[:LINES_CHARS]
        if out[-1] and size + len(line) + 1 > LINES_CHARS:
            out.append([])
            size = 0
        out[-1].append(line)
        size += len(line) + 1
    return out


def _messages(title: str, text: str, blocks: list[Block]) -> list[tuple[str, list[Block]]]:
    """The blocks as messages of at most `MAX_BLOCKS` each, never parting a section from its buttons."""
    parts: list[list[Block]] = [[]]
    for i, block in enumerate(blocks):
        follows = i + 1 < len(blocks) and isinstance(blocks[i + 1], ActionsBlock)
        if len(parts[-1]) + (2 if follows and not isinstance(block, ActionsBlock) else 1) > MAX_BLOCKS:
            parts.append([])
        parts[-1].append(block)
    return [(text if i == 0 else f"{title} (continued)", part) for i, part in enumerate(parts)]
