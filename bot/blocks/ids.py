"""Every Slack id the bot uses, spelled once: command, callback, action and block ids; and the button each offer
of a nag (`bot.domain.nag_facts.Offer`) is."""

from collections.abc import Iterable

from bot.domain.nag_facts import Offer

COMMAND = "/ai-request"

# Modals and shortcuts (callback_id)
REQUEST_MODAL = "ai_request.submit"
FROM_MESSAGE = "ai_request.from_message"
DISCLAIM_MODAL = "request.disclaim_reason"
DUPLICATE_MODAL = "request.duplicate_of"  # "Duplicate of… › Another request…": the original's key

# Card buttons (action_id); each button's value is the request key.
CLAIM = "request.claim"
REASSIGN = "request.reassign"
MOVE = "request.move"  # a static select of the other domains; the key comes from the card it is on
RESOLVE = "request.resolve"
WAIT = "request.wait"
REOPEN = "request.reopen"
OWN = "request.own"
DISCLAIM = "request.disclaim"
SNOOZE = "request.snooze"
HAND = "request.hand"  # the lead's user select: hand an unowned regression to a named person
EDIT = "request.edit"
WITHDRAW = "request.withdraw"
REVIEW_START = "review.start"
REVIEW_APPROVE = "review.approve"
REVIEW_CHANGES = "review.changes"
SET_KIND = "request.set_kind"  # "Kind…" (a select of the other kinds): each option's value is "<key>><kind>"
SET_PRIORITY = "request.set_priority"  # "Priority…" (a select of the other priorities): "<key>><P1-P4>"
TRIAGE_KEEP = (
    "triage.keep"  # on a card triage was unsure of: its choice is right; value "<key>>kind:<kind>" or ">domain:<name>"
)
TRIAGE_PICK = "triage.pick"  # on a card triage was unsure of: the other choice, in the same form of value
DUPLICATE = "request.duplicate"  # "Duplicate of…" (a select): each option's value is "<this key>><the original's key>"
ANOTHER = "…"  # the original's key in the "Another request…" option's value ("AIR-12>…"): asked for in a modal
SEARCH_MORE = "search.more"  # the next page of `/ai-request search`: its value is {"q": words, "page": n} as JSON

# The change log: the "Log a change" form and shortcut, the answers' forms (callback_id), the answer buttons
# (action_id; each button's value is the change id, "CHG-7")
CHANGE_MODAL = "change.log"
CHANGE_FROM_MESSAGE = "change.from_message"
COVERED_MODAL = "change.covered_link"
NOT_RELEVANT_MODAL = "change.not_relevant_reason"
CHANGE_COVERED = "change.covered"
CHANGE_NEEDS_WORK = "change.needs_work"
CHANGE_NOT_RELEVANT = "change.not_relevant"
CHANGE_SNOOZE = "change.snooze"  # on a change's nag: quiet its nags a day more (bounded like a request's snooze)
RESOLVE_REGRESSION = "request.resolve_regression"  # "Resolve…" on a regression's card: asks for its closure
CLOSURE_MODAL = "request.closure"

REQUEST_OFFERS = {
    Offer.TAKE: OWN,
    Offer.NOT_MINE: DISCLAIM,
    Offer.SNOOZE: SNOOZE,
    Offer.HAND: HAND,
    Offer.REOPEN: REOPEN,
    Offer.START_REVIEW: REVIEW_START,
}
"""The button of each offer about a request (the domain names intents; these are their action ids)."""
CHANGE_OFFERS = {
    Offer.COVERED: CHANGE_COVERED,
    Offer.NEEDS_WORK: CHANGE_NEEDS_WORK,
    Offer.NOT_RELEVANT: CHANGE_NOT_RELEVANT,
    Offer.SNOOZE: CHANGE_SNOOZE,
}
"""The button of each offer about a change of the change log."""


def action_ids(offers: Iterable[Offer], *, change: bool = False) -> list[str]:
    """The action ids of `offers`, about a change (`change`) or a request."""
    found = CHANGE_OFFERS if change else REQUEST_OFFERS
    return [found[o] for o in offers]


# List buttons (action_id): the value is what to show next.
LIST_PAGE = "list.page"  # an ephemeral list's next page; value: the `/ai-request` words ("queue support page 2")
HOME_PAGE = "home.page"  # the App Home with one list at another page; value: "<section> <page>" ("assigned 2")

# Modal input blocks (block_id) and their elements (action_id)
TITLE = "title"
KIND = "kind"
DOMAIN = "domain"
PRIORITY = "priority"
DESCRIPTION = "description"
LINKS = "links"
CONFIDENTIAL = "confidential"
REASON = "reason"
ORIGINAL = "original"
SIDE = "side"
CHANGE_KIND = "change_kind"
WHAT = "what"
ASSET = "asset"
VERSION = "version"
EVAL_LINK = "eval_link"
CAUSE = "cause"
EVAL_CASE = "eval_case"
NO_EVAL_REASON = "no_eval_reason"
INPUT = "value"  # the action_id of the one element inside each input block

ACTIONS = frozenset(
    {
        CLAIM,
        REASSIGN,
        MOVE,
        RESOLVE,
        WAIT,
        REOPEN,
        OWN,
        DISCLAIM,
        SNOOZE,
        HAND,
        EDIT,
        WITHDRAW,
        REVIEW_START,
        REVIEW_APPROVE,
        REVIEW_CHANGES,
        SET_KIND,
        SET_PRIORITY,
        TRIAGE_KEEP,
        TRIAGE_PICK,
        DUPLICATE,
        SEARCH_MORE,
        CHANGE_COVERED,
        CHANGE_NEEDS_WORK,
        CHANGE_NOT_RELEVANT,
        CHANGE_SNOOZE,
        RESOLVE_REGRESSION,
        LIST_PAGE,
        HOME_PAGE,
    }
)
"""Every button's and select's action id (not the inputs' of a form): what the domain never spells."""

TICKET_REACTION = "ticket"
