"""The small words every message uses (bot/blocks/words.py): each court has its label, a moment reads the same
in every locale, and what was cut to fit is said in one sentence."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from bot.blocks.words import COURT_LABEL, cut_sentence, duration, hours_text, local_when
from bot.domain.courts import COURTS


def test_every_court_has_its_label() -> None:
    assert set(COURT_LABEL) == set(COURTS)
    assert COURT_LABEL["reviewer"] == "security"


def test_a_moment_hours_and_a_duration() -> None:
    at = datetime(2026, 3, 3, 13, 5, tzinfo=timezone.utc)
    assert local_when(at, tz=ZoneInfo("Europe/Berlin")) == "Tue 3 Mar 14:05"
    assert local_when(None, tz=ZoneInfo("Europe/Berlin")) == "unknown"
    assert (hours_text(4 * 3600), hours_text(2.5 * 3600)) == ("4", "2.5")
    assert (duration(45 * 60), duration(2 * 3600), duration(26.5 * 3600)) == ("45 min", "2 h", "26.5 h")


def test_what_was_cut_in_one_sentence() -> None:
    assert cut_sentence(["title"]) == "Cut to fit: the title keeps its first 150 characters."
    assert cut_sentence(["description", "links"], whole_elsewhere=True).endswith(
        "were left out; the whole text is in the original message."
    )
