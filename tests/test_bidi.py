"""Bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE …) never reach a shown title, list line or quote.

A title like "refund \u202egnp.exe" reads in Slack as something else than it holds, and an unclosed
override spills into the text after it on the same line. Shown text drops them; stored text keeps
them (the export gives back what was typed).
"""

import json
from datetime import datetime, timezone

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.blocks import messages
from bot.blocks.card import render_card, shown_title
from bot.blocks.common import quote, to_dicts
from bot.runtime.config import parse_config
from bot.domain.models import Request
from bot.domain.text import BIDI_CONTROLS, escape, escape_within
from tests.harness import CONFIG, Harness

CONFIGURED = parse_config(CONFIG)
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
# The controls the issue names: embeddings and overrides, isolates, the marks, the Arabic letter mark.
CONTROLS = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)]
TEXT = st.text(alphabet=st.one_of(st.sampled_from(CONTROLS), st.characters(), st.sampled_from("&<> \n")), max_size=200)


def request(title: str, description: str = "") -> Request:
    return Request(
        id=7,
        kind="regression",
        domain="support",
        title=title,
        description=description,
        priority="P2",
        status="open",
        requester="U0REQ",
        assignee="U0ENG1",
        source="command",
        created_at=AT,
        updated_at=AT,
        card_channel="C0SUPPORT",
        card_ts="1700000000.000100",
    )


def holds_control(text: str) -> bool:
    return any(c in text for c in CONTROLS)


def test_the_controls_named_in_the_issue_are_the_ones_dropped() -> None:
    assert sorted(CONTROLS) == sorted(BIDI_CONTROLS)


@PROPERTY
@given(TEXT, TEXT)
@example("refund \u202egnp.exe", "line one \u2066\nline \u202etwo")
def test_no_shown_title_list_line_or_card_holds_a_bidi_control(title: str, description: str) -> None:
    req = request(title, description if description.strip() else "")  # stored descriptions are stripped
    shown = [
        shown_title(req, redact=False),
        messages.line(req, redact=False),
        messages.listed_line(req, [], CONFIGURED, now=AT, viewer="U0REQ"),
        quote(description, 500),
    ]
    text, blocks = render_card(req, sla_lines=[], redact=False)
    shown += [text, json.dumps(to_dicts(blocks), ensure_ascii=False)]
    for piece in shown:
        assert not holds_control(piece), ascii(piece)


@PROPERTY
@given(TEXT, st.integers(min_value=0, max_value=120))
def test_escape_and_escape_within_drop_them_and_keep_everything_else(text: str, limit: int) -> None:
    assert escape(text) == escape("".join(c for c in text if c not in CONTROLS))
    assert not holds_control(escape_within(text, limit)) and len(escape_within(text, limit)) <= limit


def test_a_quoted_description_keeps_its_lines_after_one_with_a_control() -> None:
    assert quote("first \u202eline\nsecond line", 500) == ">first line\n>second line"


def test_a_title_filed_over_http_is_stored_as_typed_and_shown_without_the_override(harness: Harness) -> None:
    assert harness.command("regression: refund bot \u202eredro\u202c says 30 days").status == 200
    harness.settle()
    request_ = harness.bot.queries.get(1)
    assert request_ is not None and "\u202e" in request_.title
    card = harness.card("AIR-1")
    assert not holds_control(json.dumps(card["blocks"], ensure_ascii=False) + card["text"])
    assert "refund bot redro says 30 days" in card["text"]
