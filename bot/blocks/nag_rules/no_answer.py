"""The `requester.no_answer` nag: the reminder to a requester the request waits on, and the news that it closed."""

from zoneinfo import ZoneInfo

from bot.domain.nag_facts import NoAnswerFacts
from bot.blocks.words import local_when


def sentence(f: NoAnswerFacts) -> str:
    """The reminder, e.g. "AIR-3 has waited on <@U0ANA> since Mon 23 Nov 10:00: answer in the thread, or it
    closes as no answer on Thu 26 Nov 10:00"; and, once that came, "AIR-3 closed as no answer …"."""
    tz = ZoneInfo(f.tz)
    if f.closed:
        return (
            f"{f.key} closed as no answer: it waited on <@{f.requester}> since {local_when(f.since, tz=tz)}. "
            "Answer in the thread, or reopen it, to pick it up again"
        )
    return (
        f"{f.key} has waited on <@{f.requester}> since {local_when(f.since, tz=tz)}: answer in the thread, "
        f"or it closes as no answer on {local_when(f.closing, tz=tz)}"
    )
