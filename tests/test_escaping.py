"""User text shown back in Slack: mrkdwn escaping, visible truncation, and the card built from both."""

import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.blocks import messages
from bot.blocks.card import DESCRIPTION_LIMIT, TITLE_LIMIT, render_card
from bot.blocks.common import SECTION_LIMIT, link, quote, section, to_dicts
from bot.runtime.config import parse_config
from bot.domain.models import Disclaimer, Event, Request, Listing
from bot.domain.text import BIDI_CONTROLS, ELLIPSIS, escape, escape_within, first_line, truncate
from tests.harness import CONFIG

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
AT = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
CFG = parse_config(CONFIG)
UNESCAPES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
ENTITY = re.compile("&(?:amp|lt|gt);")

INJECTIONS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<!subteam^S123>",
    "<!subteam^S123|@team>",
    "<http://evil.example|click me>",
    "<#C123|general>",
    "@channel",
    "&lt;!channel&gt;",
    "<<!channel>>",
    "<!date^1392734382^{date}|x>",
]
FORBIDDEN = ["<!", "<@U123", "<http://evil", "<#C123", "<<"]
# The only `<…>` a card may hold: mentions and channels whose ids come from Slack and the config.
LEGIT_ANGLES = re.compile(r"<(?:@U0[A-Z0-9]+|#C0[A-Z0-9]+|#G0[A-Z0-9]+)>")


def unescape(text: str) -> str:
    return ENTITY.sub(lambda m: UNESCAPES[m.group(0)], text)


def no_bare_ampersand(text: str) -> bool:
    return "&" not in ENTITY.sub("", text)


def request(**overrides: Any) -> Request:
    base: dict[str, Any] = dict(
        id=7,
        kind="regression",
        domain="support",
        title="refund bot quotes the wrong window",
        description="",
        priority="P2",
        status="open",
        requester="U0REQ",
        assignee="U0ENG1",
        source="command",
        created_at=AT,
        updated_at=AT,
        card_channel="C0SUPPORT",
        card_ts="1700000000.000100",
        route_reasons=[
            "routed to support (filed in <#C0SUPPORT>)",
            "assigned to <@U0ENG1> (fewest open: 0)",
            "priority P2 (regression default)",
        ],
    )
    return Request(**{**base, **overrides})


def card_json(req: Request, *, redact: bool = False) -> tuple[str, str]:
    """(fallback text, the blocks as JSON with non-ASCII kept) — to_dicts() enforces Block Kit's limits."""
    text, blocks = render_card(req, sla_lines=["first response due Mon 23 Nov 14:00"], redact=redact)
    return text, json.dumps(to_dicts(blocks), ensure_ascii=False)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise TimeoutError in the block after `seconds` of this process's CPU time (a hang becomes a failure, not a
    stuck run). CPU time, not the wall clock: the other worker's tests sharing the machine do not count, so these
    need not run alone."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s of CPU time")

    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


# --- escape ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("", ""),
        ("R&D", "R&amp;D"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<http://evil.example|click me>", "&lt;http://evil.example|click me&gt;"),
        ("&amp;", "&amp;amp;"),  # raw text is escaped again: it shows as typed
        ("@channel *bold* _it_", "@channel *bold* _it_"),
    ],
)
def test_escape(text: str, escaped: str) -> None:
    assert escape(text) == escaped


@PROPERTY
@given(st.text())
@example("&&<<>>")
@example("&amp;lt;")
def test_escape_leaves_no_angle_bracket_or_bare_ampersand_and_unescapes_back(text: str) -> None:
    out = escape(text)
    assert "<" not in out and ">" not in out
    assert no_bare_ampersand(out)
    assert unescape(out) == "".join(
        c for c in text if c not in BIDI_CONTROLS
    )  # bidi controls are dropped (test_bidi.py)


# --- truncate, escape_within, first_line -------------------------------------------------------


@PROPERTY
@given(st.text(), st.integers(min_value=1, max_value=400))
def test_truncate_ends_with_an_ellipsis_exactly_when_it_cut(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert out == text[: limit - 1] + ELLIPSIS
        assert len(out) == limit


def test_truncate_examples() -> None:
    assert truncate("abcdef", 6) == "abcdef"
    assert truncate("abcdef", 5) == "abcd…"
    assert truncate("abcdef", 1) == "…"


@PROPERTY
@given(st.text(alphabet=st.sampled_from("ab &<>\n…é🔥")), st.integers(min_value=0, max_value=120))
@example("&&&&", 4)
@example("&", 3)
@example("a&b", 5)
def test_escape_within_fits_and_never_splits_an_entity(text: str, limit: int) -> None:
    out = escape_within(text, limit)
    assert len(out) <= limit
    assert "<" not in out and ">" not in out
    assert no_bare_ampersand(out)
    if len(escape(text)) <= limit:
        assert out == escape(text)
    else:
        shown = unescape(out)
        assert shown == "" or (shown.endswith(ELLIPSIS) and text.startswith(shown[:-1]))


@pytest.mark.parametrize(
    "text",
    ["R&D " * 1000, "<div><p>answer</p></div>" * 200, "&" * 100 + "a" * 10_000],
    ids=["r-and-d", "html", "ampersands"],
)
def test_escape_within_keeps_as_much_as_fits(text: str) -> None:
    out = escape_within(text, 300)
    assert len(out) >= 300 - len("&amp;")  # at most one entity's worth short of the limit


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", ""),
        ("\n\n  \n", ""),
        ("  first  \nsecond", "first"),
        ("\n\n  third line", "third line"),
        ("a\u2028b", "a"),
        ("x" * 200, "x" * 149 + "…"),
    ],
)
def test_first_line(text: str, line: str) -> None:
    assert first_line(text, 150) == line


# --- common builders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.com/a?b=1&c=2", "<https://example.com/a?b=1&amp;c=2|link &amp; more>"),
        ("http://evil.example|click me", "http://evil.example|click me"),
        ("<http://evil.example|click me>", "&lt;http://evil.example|click me&gt;"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("https://example.com/<!channel>", "https://example.com/&lt;!channel&gt;"),
        ("https://exa mple.com", "https://exa mple.com"),
    ],
)
def test_link_links_only_plain_http_urls(url: str, shown: str) -> None:
    assert link(url, "link & more") == shown


def test_link_refuses_a_url_with_a_trailing_newline() -> None:
    assert link("http://evil.example\n", "x") == "http://evil.example\n"


def test_quote_escapes_and_marks_every_line() -> None:
    assert quote("first <!here>\nsecond & last", 200) == ">first &lt;!here&gt;\n>second &amp; last"
    assert quote("", 200) == ""


@PROPERTY
@given(st.text(alphabet=st.sampled_from("ab &<>\n…"), max_size=300), st.integers(min_value=40, max_value=1200))
def test_quote_fits_its_limit_for_newline_separated_text(text: str, limit: int) -> None:
    out = quote(text, limit)
    assert len(out) <= limit
    assert "<" not in out and no_bare_ampersand(out.replace(">", ""))
    assert all(line.startswith(">") for line in out.split("\n")) if out else True


@pytest.mark.parametrize("sep", ["\r", "\u2028", "\x85"])
def test_quote_fits_its_limit_with_other_line_breaks(sep: str) -> None:
    assert len(quote(("a" + sep) * 1000, DESCRIPTION_LIMIT)) <= DESCRIPTION_LIMIT


def test_section_cuts_long_text_to_block_kit_limits() -> None:
    block = section("x" * 10_000, fields=["y" * 5000]).to_dict()
    assert len(block["text"]["text"]) == SECTION_LIMIT and block["text"]["text"].endswith(ELLIPSIS)
    assert block["fields"][0]["text"].endswith(ELLIPSIS)


# --- the card ----------------------------------------------------------------------------------


@pytest.mark.parametrize("injection", INJECTIONS)
def test_injected_text_cannot_ping_mention_or_link_from_the_card(injection: str) -> None:
    req = request(
        title=f"{injection} refund bot",
        description=f"see {injection}\nand again {injection}",
        links=[injection, f"https://example.com/{injection}"],
        permalink=injection,
        disclaimers=[Disclaimer(by="U0MLPM", reason=f"not the model {injection}", at=AT)],
    )
    text, blocks = card_json(req)
    for forbidden in FORBIDDEN:
        assert forbidden not in blocks
        assert forbidden not in text
    assert "<@U0REQ>" in blocks and "<@U0ENG1>" in blocks  # the ids from Slack still mention people
    assert "&lt;" in blocks or "<" not in injection


@pytest.mark.parametrize("injection", INJECTIONS)
def test_injected_text_is_escaped_in_every_reply(injection: str) -> None:
    req = request(title=f"{injection} refund bot", description=injection)
    event = Event(request_id=7, at=AT, actor="U0REQ", type="created")
    replies = [
        messages.filed_reply(req, CFG, created=True, user="U0REQ"),
        messages.status_reply(req, [event], CFG, viewer="U0REQ"),
        messages.list_reply(
            "Your requests",
            [messages.Group("Filed by you", Listing([(req, [event])], 1), "mine page 2")],
            CFG,
            now=AT,
            viewer="U0REQ",
        ),
    ]
    for text, blocks in replies:
        dumped = json.dumps(to_dicts(blocks), ensure_ascii=False)
        for forbidden in FORBIDDEN:
            assert forbidden not in dumped and forbidden not in text


@PROPERTY
@given(st.text(max_size=400), st.text(max_size=500))
@example("<!channel> & <@U123>", "<http://evil.example|click me>\n" * 20)
def test_any_title_and_description_render_and_hold_only_legit_angles(title: str, description: str) -> None:
    text, blocks = card_json(request(title=title, description=description))
    assert "<" not in LEGIT_ANGLES.sub("", blocks)
    assert "<" not in LEGIT_ANGLES.sub("", text)


def test_a_huge_title_and_description_render_cut_visibly() -> None:
    req = request(title="t" * 10_000, description="d" * 10_000)
    text, blocks = card_json(req)
    assert "t" * (TITLE_LIMIT - 1) + ELLIPSIS in blocks
    assert "t" * TITLE_LIMIT not in blocks
    assert "d" * 100 in blocks and "d" + ELLIPSIS in blocks
    assert ELLIPSIS in text and len(text) < 400


def test_a_huge_title_of_special_characters_renders() -> None:
    text, blocks = card_json(request(title="<&>" * 3_000, description="<!here> & " * 1_000))
    assert "<!here>" not in blocks and ELLIPSIS in blocks


def test_a_confidential_card_shown_outside_its_channel_hides_the_text() -> None:
    req = request(
        kind="security_review",
        title="vendor <!channel> model",
        description="secret plan",
        links=["https://x.example"],
        confidential=True,
    )
    text, blocks = card_json(req, redact=True)
    assert "vendor" not in blocks and "secret plan" not in blocks and "x.example" not in blocks
    assert "Confidential security review" in blocks and "vendor" not in text


def test_a_description_with_many_lines_renders() -> None:
    with deadline(0.3):
        card_json(request(description="line\n" * 700))


def test_a_description_of_blank_lines_renders() -> None:
    with deadline(0.3):
        card_json(request(description="\n" * 599 + "x"))


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_slack_to_plain_leaves_no_markup_that_escaping_would_not_neutralise(text: str) -> None:
    from bot.domain.text import slack_to_plain

    shown = escape(slack_to_plain(text))
    assert "<" not in shown and ">" not in shown
