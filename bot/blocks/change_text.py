"""The change log's sentences, in mrkdwn: the question a change puts to the other side, what shipped and who
shipped it, an answer, a regression's closure, and the lines told in a change question's thread.

The domain (`bot.domain.changes`, `changes_loop`, `changes_thread`) gives the facts; every word said about them is
here. The lines of a question's thread are queued as facts and worded here when the outbox sends them
(`thread_line`). Pure: user text (what shipped, a version, a reason, a hook's name) is escaped here, ids are mentions.
"""

import re
from zoneinfo import ZoneInfo

from bot.blocks.words import local_when
from bot.domain.changes import REASON_LIMIT, Acknowledgement, ShippedChange, is_web_link, kind_words
from bot.domain.changes_loop import Closure
from bot.domain.changes_thread import Answered, NamedCause, Snoozed, ThreadLine
from bot.domain.text import escape, truncate

QUESTIONS = {
    "product": "Does the prompt/eval suite cover it?",
    "platform": "Does the product side need to act (intents, surfaces, flows, success metrics)?",
}
"""What the other side is asked about a change, by the side that shipped it."""
ANSWER_WORDS = {"covered": "covered", "needs_work": "needs work", "not_relevant": "not relevant"}


def shipper(change: ShippedChange) -> str:
    """Who shipped it: "<@U0PPM>", "the `deploys` hook", or "<@U0MLPM> (through the `prompts` hook)" when the tool
    named a person we know."""
    if change.origin is not None and change.origin.person:
        return f"<@{change.origin.person}> (through the `{escape(change.shipped_by)}` hook)"
    return f"the `{escape(change.shipped_by)}` hook" if change.by_hook else f"<@{change.shipped_by}>"


def describe(change: ShippedChange) -> str:
    """ "*express-refund intent* (intent, v2)": what shipped, bold and escaped, with its kind and version."""
    details = [kind_words(change.kind)] if change.kind else []
    details += [_version_words(change.version)] if change.version else []
    suffix = f" ({', '.join(details)})" if details else ""
    return f"*{escape(change.what)}*{suffix}"


def _version_words(version: str) -> str:
    """ "v2" for a number like 2 or 2.1, else "version 3f2a9c1e"; escaped and cut to 40 characters."""
    text = escape(truncate(version, 40))
    return f"v{text}" if re.fullmatch(r"\d+(\.\d+)*", version) else f"version {text}"


def ask_text(change: ShippedChange, *, asked_user: str | None) -> str:
    """The question put to the other side, e.g. "<@U0MLPM> Product shipped *express-refund intent* (intent, v2) in
    support (<@U0PPM>, CHG-7). Does the prompt/eval suite cover it?"."""
    to = f"<@{asked_user}> " if asked_user else ""
    return (
        f"{to}{change.side.capitalize()} shipped {describe(change)} in {escape(change.domain)} "
        f"({shipper(change)}, {change.id}). {QUESTIONS[change.side]}"
    )


def answer_text(answer: Acknowledgement) -> str:
    """What an answer says: "covered; the eval case: <https://…|https://…>", "needs work; AIR-14 asks for it",
    "not relevant: the prompt never sees refunds"."""
    if answer.answer == "covered":
        return f"covered; the eval case: {web_link(answer.eval_link or '')}"
    if answer.answer == "needs_work":
        said = f"needs work; {answer.eval_request} asks for it" if answer.eval_request else "needs work"
        if answer.reason:
            said += f" ({escape(truncate(answer.reason, REASON_LIMIT))})"
        return said + (f"; the eval case: {web_link(answer.eval_link)}" if answer.eval_link else "")
    return f"not relevant: {escape(truncate(answer.reason or '', REASON_LIMIT))}"


def web_link(url: str) -> str:
    """A mrkdwn link showing the address itself, for a plain http(s) address; otherwise its escaped text."""
    if is_web_link(url) and not any(c in url for c in "<>|"):
        shown = escape(truncate(url, 80))
        return f"<{url.replace('&', '&amp;')}|{shown}>"
    return escape(url)


def closure_text(closure: Closure) -> str:
    """A closure in words (its reason escaped): "cause CHG-7; eval case <https://…|https://…>", or "cause outside;
    no eval case: the provider changed the model"."""
    cause = closure.cause_change or closure.cause
    if closure.eval_case:
        return f"cause {cause}; eval case {web_link(closure.eval_case)}"
    return f"cause {cause}; no eval case: {escape(truncate(closure.no_eval_reason or '', REASON_LIMIT))}"


# -- lines in the thread of a change's question ------------------------------------------------------


def thread_line(line: ThreadLine) -> str:
    """A line of a change question's thread, worded from its facts (when the outbox sends it)."""
    if isinstance(line, Answered):
        return answered_line(line.user, line.answer)
    if isinstance(line, Snoozed):
        return snoozed_line(line.user, line.change_id, until=local_when(line.until, tz=ZoneInfo(line.tz)))
    if isinstance(line, NamedCause):
        which = regression_words(line.regression, shown=line.shown)
        return named_cause_line(
            line.user, line.change_id, regression=which, answer=line.answer, had_answer=line.had_answer
        )
    raise TypeError(f"no words for {type(line).__name__}")


def regression_words(key: str, *, shown: bool) -> str:
    """A regression as the thread of a change's question names it: its key, or "a confidential regression" where
    it may not be seen."""
    return key if shown else "a confidential regression"


def caused_reason(regression: str) -> str:
    """The reason of the "needs work" answer a regression naming the change as its cause gives it: "AIR-3 was caused
    by it" (`regression`: as `regression_words` names it)."""
    return f"{regression} was caused by it"


def answered_line(user: str, answer: Acknowledgement) -> str:
    """Someone answered the question: "<@U0MLPM> answered: covered; the eval case: …"."""
    return f"<@{user}> answered: {answer_text(answer)}"


def snoozed_line(user: str, change_id: str, *, until: str) -> str:
    """The first press of Snooze on a change's nags; `until` is already in words ("Tue 24 Nov 10:00")."""
    return f"<@{user}> snoozed reminders about {change_id} until {until}."


def named_cause_line(
    user: str, change_id: str, *, regression: str, answer: Acknowledgement | None, had_answer: str | None
) -> str:
    """A regression was resolved naming the change as its cause. `answer`: the answer that gave the change, when it
    had none before; else `had_answer`, the answer it had been given before ("not_relevant" is said)."""
    if answer is not None:
        return f"<@{user}> resolved {regression} naming {change_id} as its cause: {answer_text(answer)}"
    text = f"<@{user}> resolved {regression} naming {change_id} as its cause."
    return text + (" It had been answered “not relevant”." if had_answer == "not_relevant" else "")
