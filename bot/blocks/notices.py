"""The one-sentence answers the listeners give, and the titles of the lists they show: worded here, so no
listener holds a sentence of its own. Pure."""

from datetime import datetime, tzinfo

from bot.blocks.words import local_when

SOMETHING_WENT_WRONG = "Something went wrong on our side; it has been logged. Please try again."
WHICH_REQUEST = "Which request? Try `/ai-request status AIR-12`."
SAY_WHAT_YOU_NEED = (
    "Say what you need after the kind, e.g. `/ai-request regression: refund bot quotes the wrong window`."
)
OUR_OWN_MESSAGE = "That is ai-intake's own message: nothing was filed."
DM_HINT = (
    "You have no open request I could add this to. To file one, type `/ai-request <what you need>` in a channel "
    "(or `/ai-request` for the form); `/ai-request mine` lists your requests."
)
TICKET_GONE = "Nothing was filed: the message you marked with :ticket: is gone (deleted, or no longer kept by Slack)."
TICKET_NOT_IN = (
    "Nothing was filed: ai-intake cannot read the messages of that channel. Invite it "
    "(`/invite @ai-intake`) and add the :ticket: again."
)

MINE_TITLE, ASSIGNED_TO_YOU, FILED_BY_YOU = "Your requests", "Assigned to you", "Filed by you"
OLDEST_FIRST = "Oldest first"


def queue_title(domain: str | None) -> str:
    return f"Open in {domain}" if domain else "Open requests"


def changes_title(domain: str | None) -> str:
    return f"Latest changes in {domain}" if domain else "Latest changes"


def closed_as_duplicate(key: str, of: str) -> str:
    return f"{key} is closed as a duplicate of {of}; its requester is told."


def snoozed(key: str, until: datetime, *, tz: tzinfo) -> str:
    return f"{key} is snoozed until {local_when(until, tz=tz)}."


def reminders_snoozed(change_id: str, until: datetime, *, tz: tzinfo) -> str:
    return f"Reminders about {change_id} are snoozed until {local_when(until, tz=tz)}."
