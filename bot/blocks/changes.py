"""The change log in Block Kit: the question a change puts to the other side, change lists, the App Home's
part, and the forms (log a change, the eval case that covers it, why it is not relevant). Pure."""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, DividerBlock, PlainTextInputElement, UrlInputElement
from slack_sdk.models.views import View

from bot.blocks import ids
from bot.blocks.change_text import ANSWER_WORDS, answer_text, ask_text, closure_text, describe, shipper
from bot.blocks.common import button, context, input_block, link, local, option, section, static_select, user
from bot.domain.changes import (
    Pair,
    CAUSES,
    KINDS,
    REASON_LIMIT,
    SIDE_KINDS,
    SIDES,
    WHAT_LIMIT,
    ChangeRecord,
    change_state,
    kind_words,
)
from bot.domain.changes_loop import (
    FLAP_WINDOW,
    RECOVERED,
    REFIRED,
    REOPEN_WITHIN,
    AlertReport,
    Closure,
    Suspect,
    flap_count,
    latest_alerts,
)
from bot.domain.changes_filing import VERSION_LIMIT, question_channel
from bot.domain.models import Event, Request
from bot.domain.policy import Config
from bot.domain.text import escape, truncate

LIST_LIMIT = 15
ANSWER_EMOJI = {
    "covered": ":white_check_mark:",
    "needs_work": ":hammer_and_wrench:",
    "not_relevant": ":heavy_minus_sign:",
}


def _when(at: datetime, config: Config, domain: str | None) -> str:
    return local(at, config.calendar(domain).tz)


def question_message(record: ChangeRecord, config: Config, *, now: datetime) -> tuple[str, list[Block]]:
    """The question about a change in its domain's channel: who shipped what, asked of whom, with the three
    answers while it is unanswered, and the answer once given."""
    change, answer = record.change, record.answer_at(now)
    details = [f"*{change.id}* · logged {_when(change.at, config, change.domain)}"]
    if change.asset:
        details.append(f"asset `{escape(change.asset)}`")
    if change.links:
        details.append("Links: " + " · ".join(link(u, f"link {i + 1}") for i, u in enumerate(change.links[:5])))
    blocks: list[Block] = [
        section(ask_text(change, asked_user=change.asked), block_id="change.question"),
        context(" · ".join(details)),
    ]
    if answer is None:
        blocks.append(
            ActionsBlock(
                block_id="change.actions",
                elements=[
                    button("Covered (link an eval)", ids.CHANGE_COVERED, change.id, style="primary"),
                    button(
                        "Needs work",
                        ids.CHANGE_NEEDS_WORK,
                        change.id,
                        confirm=f"File an eval request for the platform side about {change.id}?",
                    ),
                    button("Not relevant", ids.CHANGE_NOT_RELEVANT, change.id),
                ],
            )
        )
    else:
        blocks.append(
            context(
                f"{ANSWER_EMOJI[answer.answer]} {user(answer.by)} answered "
                f"{_when(answer.at, config, change.domain)}: {answer_text(answer)}"
            )
        )
    fallback = f"{change.id}: {change.side} shipped {escape(truncate(change.what, 200))} in {escape(change.domain)}"
    return fallback, blocks


def answer_state(record: ChangeRecord, config: Config, *, now: datetime) -> str:
    """Where a change's question stands, in mrkdwn: ":hourglass: asked @fay, 1.5 business days" or the answer."""
    change = record.change
    state = change_state(record, asked_user=change.asked, calendar=config.calendar(change.domain), now=now)
    if state.answer is not None:
        return f"{ANSWER_EMOJI[state.answer.answer]} {user(state.answer.by)}: {answer_text(state.answer)}"
    asked = f"asked {user(change.asked)}" if change.asked else "nobody to ask"
    return f":hourglass: {asked}, unanswered for {state.waiting_business_days:.1f} business days"


def change_line(record: ChangeRecord, config: Config, *, now: datetime) -> str:
    """One change as a list line: id, when, side, what, who shipped it and where its question stands."""
    change = record.change
    return (
        f"*{change.id}* · {_when(change.at, config, change.domain)} · {escape(change.domain)} · {change.side} · "
        f"{describe(change)} · {shipper(change)} · {answer_state(record, config, now=now)}"
    )


def changes_reply(
    title: str, records: Sequence[ChangeRecord], config: Config, *, now: datetime
) -> tuple[str, list[Block]]:
    """The answer to `/ai-request changes [domain]`: the latest changes, newest first."""
    lines = [change_line(r, config, now=now) for r in records[:LIST_LIMIT]]
    body = "\n".join(lines) if lines else "_no changes logged yet: `/ai-request shipped <what>` logs one_"
    return title, [section(f"*{escape(title)}*"), section(body)]


def logged_reply(record: ChangeRecord, config: Config, *, created: bool) -> tuple[str, list[Block]]:
    """The answer to whoever logged a change: its id, and who is asked where."""
    change = record.change
    where = f"<#{question_channel(config, change.domain)}>"
    asked = f"{user(change.asked)} is asked in {where}" if change.asked else f"nobody to ask; it is shown in {where}"
    verb = "Logged" if created else "Already logged as"
    text = f"{verb} *{change.id}*: {describe(change)} ({change.side}, {escape(change.domain)}); {asked}."
    return f"{verb} {change.id}", [section(text)]


def home_blocks(
    waiting: Sequence[ChangeRecord], recent: Sequence[ChangeRecord], config: Config, *, now: datetime
) -> list[Block]:
    """The change log's part of a person's App Home: what waits for their answer, and their domains' latest."""
    blocks: list[Block] = [DividerBlock()]
    waiting_lines = [change_line(r, config, now=now) for r in waiting[:LIST_LIMIT]]
    blocks.append(
        section(
            f"*Changes waiting for your answer* ({len(waiting)})\n"
            + ("\n".join(waiting_lines) if waiting_lines else "_nothing to answer_")
        )
    )
    if recent:
        lines = [change_line(r, config, now=now) for r in recent[:LIST_LIMIT]]
        blocks.append(section("*Latest changes in your domains*\n" + "\n".join(lines)))
    blocks.append(context("Log one with `/ai-request shipped <what>`; `/ai-request changes` lists them."))
    return blocks


# -- a regression's card ----------------------------------------------------------------------------
SUSPECTS_SHOWN = 5


def suspect_line(suspect: Suspect, config: Config) -> str:
    """One suspect: id, when, side, what, who shipped it, and whether the other side acknowledged it."""
    change, answer = suspect.change, suspect.answer
    if answer is None:
        asked = f" (asked {user(change.asked)})" if change.asked else ""
        state = f":warning: not acknowledged{asked}"
    else:
        state = f"{ANSWER_EMOJI[answer.answer]} acknowledged by {user(answer.by)}: {ANSWER_WORDS[answer.answer]}"
    same = " · :dart: same asset" if suspect.same_asset else ""
    return (
        f"• *{change.id}* {_when(change.at, config, change.domain)} · {change.side} · {describe(change)} · "
        f"shipped by {shipper(change)} · {state}{same}"
    )


def suspects_block(suspects: Sequence[Suspect], config: Config, *, domain: str) -> Block:
    """The card's suspects: the domain's changes of the days before the regression, newest first."""
    days = config.change_log.suspect_days
    lines = [suspect_line(s, config) for s in suspects[:SUSPECTS_SHOWN]]
    if len(suspects) > SUSPECTS_SHOWN:
        lines.append(f"… and {len(suspects) - SUSPECTS_SHOWN} more: `/ai-request changes {escape(domain)}`")
    head = f"*Suspects* — changes in {escape(domain)} in the {days} days before it, newest first:"
    return section("\n".join([head, *lines]), block_id="card.suspects")


def closure_block(closure: Closure) -> Block:
    """How the regression closed: its cause and the eval case that now covers it (or why none does)."""
    return context(f":mag: Closed with {closure_text(closure)}")


def hook_report_block(events: Sequence[Event], config: Config, *, domain: str | None) -> Block | None:
    """What the hook that filed a regression last reported about it: recovered, or firing again; None when
    it reported neither."""
    last = next((e for e in reversed(events) if e.type in (RECOVERED, REFIRED)), None)
    if last is None:
        return None
    said = "reported it recovered" if last.type == RECOVERED else "reported it firing again"
    emoji = ":white_check_mark:" if last.type == RECOVERED else ":rotating_light:"
    flaps = flap_count(events)
    counted = f" ({flaps} changes of state in {int(FLAP_WINDOW.total_seconds() // 3600)} hours)" if flaps > 1 else ""
    return context(f"{emoji} The `{escape(last.actor)}` hook {said} {_when(last.at, config, domain)}{counted}.")


ALERTS_SHOWN = 10
_LINK_KINDS = (  # (what a link is, a piece of its address that says so), the first that matches wins
    ("panel", "viewPanel="),
    ("silence", "/silence"),
    ("silence", "#/silences"),
    ("runbook", "runbook"),
    ("dashboard", "/d/"),
    ("alert rule", "/alerting/"),
    ("alert rule", "/alerts/rules/"),
    ("query", "/graph?"),
    ("issue", "/issues/"),
)


def link_labels(urls: Sequence[str]) -> list[str]:
    """Each link's label by what it is (a monitoring tool's dashboard, panel, silence, runbook, alert rule, query
    or issue), numbered when two are alike ("dashboard 2"); "link 3" for one of nothing known."""
    kinds = [next((kind for kind, piece in _LINK_KINDS if piece in url), None) for url in urls]
    labels = []
    for i, kind in enumerate(kinds):
        if kind is None:
            labels.append(f"link {i + 1}")
            continue
        n = kinds[:i].count(kind) + 1
        labels.append(kind if n == 1 else f"{kind} {n}")
    return labels


def alerts_block(events: Sequence[Event]) -> Block | None:
    """The alerts of its group a regression stands for, firing first, each by the labels that tell it apart; None
    when it stands for one alert."""
    alerts = latest_alerts(events)
    if len(alerts) < 2:
        return None
    firing = [a for a in alerts if a.get("firing")]
    ordered = firing + [a for a in alerts if not a.get("firing")]
    lines = [
        f"{':rotating_light:' if a.get('firing') else ':white_check_mark:'} `{escape(truncate(str(a.get('labels') or a.get('id')), 120))}`"
        for a in ordered[:ALERTS_SHOWN]
    ]
    if len(ordered) > ALERTS_SHOWN:
        lines.append(f"… and {len(ordered) - ALERTS_SHOWN} more")
    head = f"*Alerts* — {len(firing)} firing, {len(alerts) - len(firing)} resolved:"
    return section("\n".join([head, *lines]), block_id="card.alerts")


def owners_block(asset: str, owners: Pair) -> Block:
    """The asset a request names, and its pair of owners (each the asset's own, else the domain's)."""
    return context(
        f":package: Asset `{escape(asset)}` · product owner {user(owners.product, none='none')} · "
        f"platform owner {user(owners.platform, none='none')}"
    )


def closure_modal(key: str, suspects: Sequence[Suspect]) -> View:
    """Resolving a regression asks for its cause (one of its suspects, a side, both or outside) and the eval
    case that now covers it, or why there is none."""
    options = [
        option(f"change:{s.change.id}", f"{s.change.id}: {s.change.what} ({s.change.side})") for s in suspects[:95]
    ]
    options += [option(c, CAUSE_LABEL[c]) for c in CAUSES]
    reason = PlainTextInputElement(
        action_id=ids.INPUT,
        multiline=True,
        max_length=REASON_LIMIT,
        placeholder="e.g. the provider's model changed; no case can pin it",
    )
    blocks = [
        input_block(ids.CAUSE, "What caused it?", static_select(options, placeholder="A suspect change, or a side")),
        input_block(
            ids.EVAL_CASE, "The eval case that now covers it", UrlInputElement(action_id=ids.INPUT), optional=True
        ),
        input_block(ids.NO_EVAL_REASON, "Or: why there is no eval case", reason, optional=True),
    ]
    return View(
        type="modal",
        callback_id=ids.CLOSURE_MODAL,
        title=f"Resolve {key}"[:24],
        submit="Resolve",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"key": key}),
    )


CAUSE_LABEL = {
    "product": "The product side",
    "platform": "The platform side",
    "both": "Both sides",
    "outside": "Outside (a model provider, a data source)",
}


# -- forms ---------------------------------------------------------------------------------------


def change_modal(
    config: Config, *, channel: str | None = None, what: str | None = None, side: str | None = None
) -> View:
    """The "Log a change" form; its domain starts as the channel's, `what` and `side` as given."""
    here = config.domain_of_channel(channel)
    domains = [option(d.name, d.name) for d in config.domains]
    sides = [option(s, f"{s.capitalize()} ({', '.join(kind_words(k) for k in SIDE_KINDS[s])})") for s in SIDES]
    kinds = [option(k, f"{kind_words(k)} ({next(s for s in SIDES if k in SIDE_KINDS[s])})") for k in KINDS]
    blocks: list[Block] = [
        input_block(
            ids.DOMAIN,
            "Domain",
            static_select(domains, placeholder="Which domain", initial=here.name if here else None),
        ),
        input_block(ids.SIDE, "Side", static_select(sides, placeholder="Who shipped it", initial=side)),
        input_block(ids.CHANGE_KIND, "Kind", static_select(kinds, placeholder="What it changed"), optional=True),
        input_block(
            ids.WHAT,
            "What shipped",
            PlainTextInputElement(
                action_id=ids.INPUT,
                max_length=WHAT_LIMIT,
                initial_value=truncate(what, WHAT_LIMIT) if what else None,
                placeholder="express-refund intent",
            ),
        ),
    ]
    if config.assets:
        assets = [option(a.name, f"{a.name} ({a.domain}, {kind_words(a.kind)})") for a in config.assets]
        blocks.append(
            input_block(
                ids.ASSET,
                "AI asset",
                static_select(assets, placeholder="From the catalog"),
                optional=True,
                hint="Its owners are asked instead of the domain's.",
            )
        )
    blocks.append(
        input_block(
            ids.VERSION, "Version", PlainTextInputElement(action_id=ids.INPUT, max_length=VERSION_LIMIT), optional=True
        )
    )
    for i in range(2):
        blocks.append(
            input_block(
                f"{ids.LINKS}.{i}",
                "Link" if i == 0 else "Another link",
                UrlInputElement(action_id=ids.INPUT),
                optional=True,
            )
        )
    return View(
        type="modal",
        callback_id=ids.CHANGE_MODAL,
        title="Log a change",
        submit="Log it",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps({"channel": channel}),
    )


def covered_modal(change_id: str) -> View:
    """ "Covered" asks for the eval case that covers the change."""
    return View(
        type="modal",
        callback_id=ids.COVERED_MODAL,
        title=f"Covered: {change_id}"[:24],
        submit="Send",
        close="Cancel",
        blocks=[input_block(ids.EVAL_LINK, "The eval case that covers it", UrlInputElement(action_id=ids.INPUT))],
        private_metadata=json.dumps({"change": change_id}),
    )


def not_relevant_modal(change_id: str) -> View:
    """ "Not relevant" asks why, for the side that shipped it."""
    reason = PlainTextInputElement(
        action_id=ids.INPUT,
        multiline=True,
        max_length=REASON_LIMIT,
        placeholder="e.g. the prompt never sees refund requests",
    )
    return View(
        type="modal",
        callback_id=ids.NOT_RELEVANT_MODAL,
        title=f"Not relevant: {change_id}"[:24],
        submit="Send",
        close="Cancel",
        blocks=[input_block(ids.REASON, "Why is it not relevant to your side?", reason)],
        private_metadata=json.dumps({"change": change_id}),
    )


# -- an alert's life, in the thread of the regression its hook filed ---------------------------------
_HOURS = int(FLAP_WINDOW.total_seconds() // 3600)


def _hook(source: str) -> str:
    return f"The `{escape(source)}` hook"


def state_line(source: str, said: AlertReport) -> str:
    """A change of state told in the thread; the last one told says the next ones are only counted."""
    line = f"{_hook(source)} {'reports this recovered' if said.outcome == RECOVERED else 'reports it firing again'}."
    if said.counted_from_now:
        line += (
            f" That is {said.changes} changes of state in {_HOURS} hours: the next ones are counted on the card, "
            "not told here."
        )
    return line


def reopened_line(source: str, *, closed_at: datetime | None, now: datetime) -> str:
    """A closed request reopened by its alert firing again."""
    ago = _ago(closed_at, now)
    return (
        f"{_hook(source)} reports it firing again{f', {ago} after it closed' if ago else ''}: reopened "
        f"(an alert firing within {REOPEN_WITHIN.days} days of its close reopens it)."
    )


def filed_again_line(source: str, *, key: str, closed_at: datetime | None, now: datetime) -> str:
    """In the old request's thread: its alert fired again too long after it closed, and was filed anew."""
    ago = _ago(closed_at, now)
    return f"{_hook(source)} reports it firing again{f', {ago} after it closed' if ago else ''}: filed as {key}."


def raised_line(source: str, *, before: str | None, after: str) -> str:
    """The tool asked for a more urgent priority (a warning became critical)."""
    return f"{_hook(source)} raised its priority {f'from {before} ' if before else ''}to {after}: the SLA follows it."


def last_time(old: Request, closure: Mapping[str, str]) -> str:
    """The description's first line of a request filed again: what became of the last one (plain text)."""
    how = old.closed_as or old.status
    when = f" on {old.resolved_at:%Y-%m-%d}" if old.resolved_at else ""
    cause = closure.get("cause")
    parts = [f"Fired again; last time {old.key}, closed as {how}{when}"]
    if cause:
        parts.append(f"cause {cause.removeprefix('change:')}")
    if closure.get("eval_case"):
        parts.append(f"eval case {closure['eval_case']}")
    elif closure.get("no_eval_reason"):
        parts.append(f"no eval case: {closure['no_eval_reason']}")
    return ", ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "") + "."


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    if seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds >= 2 * 3600:
        return f"{seconds // 3600} hours"
    return f"{max(1, seconds // 60)} minutes"
