"""Every nag's words, one module per nag rule — its sentence, and the lines the digests give what it nags about
(`sla`, `review`, `unowned`, `no_answer`, `unanswered`) — and what every nag shares: the text of a nag with who
covers for a recipient who is away (`said`), one person's batched text (`explain_batch`).

Pure: the domain's facts (`bot.domain.nag_facts`) in, mrkdwn out (user text escaped here).
"""

from collections.abc import Sequence

from bot.blocks.nag_rules import no_answer, review, sla, unanswered, unowned
from bot.blocks.nag_rules.words import mentions
from bot.domain.nag_facts import (
    Cover,
    NagFacts,
    NoAnswerFacts,
    ReviewFacts,
    SlaFacts,
    Told,
    UnansweredFacts,
    UnownedFacts,
)
from bot.domain.nags import AnyNag, Nag, batch


def sentence(facts: NagFacts) -> str:
    """Why a nag nags, in the words of its rule."""
    if isinstance(facts, SlaFacts):
        return sla.sentence(facts)
    if isinstance(facts, ReviewFacts):
        return review.sentence(facts)
    if isinstance(facts, UnownedFacts):
        return unowned.sentence(facts)
    if isinstance(facts, NoAnswerFacts):
        return no_answer.sentence(facts)
    if isinstance(facts, UnansweredFacts):
        return unanswered.sentence(facts)
    raise TypeError(f"no words for {type(facts).__name__}")


def told(t: Told) -> str:
    """The sentence, and who covers for each recipient who is away: "… (<@U0PPM> is away, back Mon 30 Nov:
    <@U0LEAD> covers)"."""
    text = sentence(t.facts)
    if not t.away:
        return text
    return f"{text} ({'; '.join(_covers(c) for c in t.away)})"


def said(nag: AnyNag) -> str:
    """What a nag says (the plain mrkdwn of its direct message, and of its line in a thread)."""
    return told(Told(nag.facts, nag.away if isinstance(nag, Nag) else ()))


def _covers(c: Cover) -> str:
    back = f", back {c.until:%a %d %b}" if c.until else ""
    return f"<@{c.user}> is away{back}: {mentions(c.covers, joined=' and ')} covers"


def explain_batch(user: str, nags: Sequence[AnyNag]) -> str:
    """The plain (mrkdwn) text of `user`'s batched message; nags not addressed to `user` are left out."""
    ordered = batch([n for n in nags if user in n.recipients]).get(user, [])
    if len(ordered) <= 1:
        return said(ordered[0]) if ordered else ""
    lines = [f"{len(ordered)} reminders, most urgent first:"]
    lines += [f"• {'URGENT ' if n.urgent else ''}{said(n)}" for n in ordered]
    return "\n".join(lines)


__all__ = ["sentence", "told", "said", "explain_batch", "sla", "review", "unowned", "no_answer", "unanswered"]
