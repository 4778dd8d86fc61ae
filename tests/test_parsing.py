"""What people type after `/ai-request`: subcommands, `kind:` prefixes, request keys, then properties."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.models import DEFAULT_KINDS, request_key
from bot.domain.parsing import (
    TITLE_LIMIT,
    Away,
    Back,
    Changes,
    Duplicate,
    Help,
    Mine,
    OpenForm,
    Queue,
    QuickCreate,
    Search,
    Shipped,
    Status,
    Usage,
    normalise_kind,
    parse_command,
    parse_key,
    split_kind,
)

KINDS = tuple(DEFAULT_KINDS)
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
COMMANDS = (Help, Mine, Queue, Status, Away, Back, OpenForm, QuickCreate, Usage, Shipped, Changes, Search, Duplicate)


def parse(text: str):
    return parse_command(text, kinds=KINDS)


# --- subcommands -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", OpenForm()),
        ("   ", OpenForm()),
        ("\n\t ", OpenForm()),
        ("help", Help()),
        ("HELP", Help()),
        ("  help  ", Help()),
        ("?", Help()),
        ("mine", Mine()),
        ("Mine", Mine()),
        ("queue", Queue(domain=None)),
        ("queue support", Queue(domain="support")),
        ("Queue Support", Queue(domain="support")),
        ("status AIR-12", Status(key="AIR-12")),
        ("status", Status(key=None)),
        ("mine page 2", Mine(page=2)),
        ("queue page 3", Queue(domain=None, page=3)),
        ("queue support page 2", Queue(domain="support", page=2)),
        ("queue Support PAGE 2", Queue(domain="support", page=2)),
        ("status AIR-12 page 4", Status(key="AIR-12", page=4)),
        ("queue page", Queue(domain="page")),
    ],
)
def test_subcommands(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "subcommand"),
    [
        ("mine please", "mine"),
        ("Mine the logs for bad answers", "mine"),
        ("queue search results are stale", "queue"),
        ("status AIR-12 is still open, why", "status"),
        ("--help me", "help"),
        ("mine page two", "mine"),
        ("queue support page 0", "queue"),
        ("mine page 2 please", "mine"),
    ],
)
def test_a_subcommand_word_followed_by_words_it_does_not_take_gets_its_usage(text: str, subcommand: str) -> None:
    """A first word that is a subcommand never files a request (it would post a public card by mistake)."""
    assert parse(text) == Usage(subcommand=subcommand)


# --- kind prefixes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "title"),
    [
        (
            "regression: refund intent answers with the wrong window",
            "regression",
            "refund intent answers with the wrong window",
        ),
        (
            "Regression: refund intent answers with the wrong window",
            "regression",
            "refund intent answers with the wrong window",
        ),
        ("REGRESSION : wrong window", "regression", "wrong window"),
        ("feature:summarise tickets", "feature", "summarise tickets"),
        ("security review: new vendor model", "security_review", "new vendor model"),
        ("Security Review: new vendor model", "security_review", "new vendor model"),
        ("security-review: new vendor model", "security_review", "new vendor model"),
        ("security_review: new vendor model", "security_review", "new vendor model"),
        ("eval: no coverage for German queries", "eval", "no coverage for German queries"),
        ("question: how do I evaluate the ranking model", "question", "how do I evaluate the ranking model"),
        ("bug: search answers in English", "regression", "search answers in English"),
    ],
)
def test_a_kind_prefix_sets_the_kind(text: str, kind: str, title: str) -> None:
    assert parse(text) == QuickCreate(kind=kind, title=title, description="")


@pytest.mark.parametrize(
    "text",
    [
        "Note: the refund bot is slow",
        "https://example.com/answers is wrong",
        "FYI: ranking changed",
        "12:30 the bot was down",
    ],
)
def test_a_prefix_that_names_no_kind_stays_in_the_text(text: str) -> None:
    assert parse(text) == QuickCreate(kind=None, title=text, description="")


def test_plain_text_quick_creates_a_request_without_a_kind() -> None:
    assert parse("how do I evaluate the ranking model") == QuickCreate(
        kind=None, title="how do I evaluate the ranking model", description=""
    )


def test_a_kind_the_config_adds_is_recognised() -> None:
    parsed = parse_command("data request: churn labels for Q3", kinds=[*KINDS, "data_request"])
    assert parsed == QuickCreate(kind="data_request", title="churn labels for Q3", description="")
    assert parse("data request: churn labels for Q3").kind is None


def test_the_first_line_is_the_title_and_the_whole_text_the_description() -> None:
    parsed = parse("regression: refund bot quotes 14 days\n\nPolicy says 30 days since March.")
    assert parsed == QuickCreate(
        kind="regression",
        title="refund bot quotes 14 days",
        description="refund bot quotes 14 days\n\nPolicy says 30 days since March.",
    )


def test_a_long_first_line_is_cut_visibly_and_kept_whole_in_the_description() -> None:
    text = "refund " * 60
    parsed = parse(text)
    assert isinstance(parsed, QuickCreate)
    assert len(parsed.title) == TITLE_LIMIT and parsed.title.endswith("…")
    assert parsed.description == text.strip()


def test_a_kind_with_nothing_after_it_gives_an_empty_title() -> None:
    """The slash command answers this with a hint (see listeners/commands.py) instead of filing."""
    assert parse("regression:") == QuickCreate(kind="regression", title="", description="")


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("Security review", "security_review"),
        ("security-review", "security_review"),
        (" SECURITY  REVIEW ", "security_review"),
        ("bug", "regression"),
        ("evals", "eval"),
        ("feature", "feature"),
        ("note", None),
        ("", None),
    ],
)
def test_normalise_kind(word: str, kind: str | None) -> None:
    assert normalise_kind(word, KINDS) == kind


def test_split_kind_keeps_an_unknown_prefix() -> None:
    assert split_kind("regression: wrong window", KINDS) == ("regression", "wrong window")
    assert split_kind("  Note: wrong window  ", KINDS) == (None, "Note: wrong window")


# --- keys --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("AIR-12", 12),
        ("air-12", 12),
        (" AIR-12 ", 12),
        ("12", 12),
        ("AIR-007", 7),
        ("AIR-", None),
        ("AIR-12a", None),
        ("AIR12", None),
        ("ABC-12", None),
        ("", None),
        ("AIR-1234567890", None),
        ("AIR--12", None),
        ("AIR-1 2", None),
    ],
)
def test_parse_key(text: str, key: int | None) -> None:
    assert parse_key(text) == key


@PROPERTY
@given(st.integers(min_value=1, max_value=999_999_999))
def test_parse_key_round_trips_request_keys(n: int) -> None:
    key = request_key(n)
    assert key == f"AIR-{n}"
    assert parse_key(key) == n
    assert parse_key(key.lower()) == n
    assert parse(f"status {key}") == Status(key=key)


# --- properties --------------------------------------------------------------------------------

AWKWARD = [
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u202e",
    "\u2066",
    "\u061c",
    "مرحبا بالعالم",
    "שלום",
    "🔥",
    "👩🏽‍💻",
    "🏳️‍🌈",
    "\x00",
    "\r\n",
    "\u2028",
    "\x85",
    "\x1c",
    "\t",
    " ",
    ":",
    "regression:",
    "security review:",
    "help",
    "queue",
    "status",
    "AIR-12",
    "<!channel>",
    "&amp;",
    "`",
    "*",
    "\\",
]
any_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.lists(st.one_of(st.sampled_from(AWKWARD), st.text(max_size=5))).map("".join),
)


def check_command(text: str) -> None:
    parsed = parse(text)
    assert isinstance(parsed, COMMANDS)
    if not text.split():
        assert parsed == OpenForm()
    if isinstance(parsed, QuickCreate):
        assert len(parsed.title) <= TITLE_LIMIT
        assert parsed.title.splitlines() in ([parsed.title], [])  # one line, no line break
        if parsed.kind is None:
            assert parsed.title, "text with a non-space character must give a title"
        elif split_kind(text, KINDS)[1].strip():
            assert parsed.title, "text after the kind must give a title"
        assert parsed.kind is None or parsed.kind in KINDS


@PROPERTY
@given(any_text)
@example("")
@example("regression: \u200b")
@example("\u202eregression: reversed")
def test_parse_command_never_raises_and_titles_fit(text: str) -> None:
    check_command(text)


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "regression: " + "x" * 100_000,
        "word " * 20_000,
        "\u200b" * 100_000,
        "\u202e" + "مرحبا " * 15_000,
        "🔥" * 50_000,
        "\x00" * 100_000,
        "help\x00",
        " " * 100_000 + "x",
        "a" + " -" * 50_000 + ":",
        "security review" + " " * 100_000 + ": x",
        "\n" * 100_000 + "title at the end",
    ],
    ids=[
        "ascii",
        "kind+long",
        "words",
        "zero-width",
        "rtl",
        "emoji",
        "nul",
        "help+nul",
        "spaces",
        "dashes",
        "spaced-colon",
        "newlines",
    ],
)
def test_huge_and_awkward_text(text: str) -> None:
    check_command(text)


def test_the_change_log_and_search_subcommands() -> None:
    assert parse("shipped intent: express refund") == Shipped(text="intent: express refund")
    assert parse("Shipped") == Shipped(text="")
    assert parse("changes") == Changes(domain=None) and parse("changes Support") == Changes(domain="support")
    assert parse("changes in the refund flow") == Usage(
        subcommand="changes"
    )  # more than a domain: its usage, no request
    assert parse("search refund  window") == Search(words="refund window")


@PROPERTY
@given(
    st.integers(min_value=1, max_value=999_999_999),
    st.integers(min_value=1, max_value=999_999_999),
    st.sampled_from(["{a} of {b}", "AIR-{a} of AIR-{b}", "air-{a} AIR-{b}", "{a} {b}"]),
    any_text,
)
def test_duplicate_names_two_requests_or_shows_its_usage(a: int, b: int, form: str, tail: str) -> None:
    assert parse(f"duplicate {form.format(a=a, b=b)}") == Duplicate(key=f"AIR-{a}", of=f"AIR-{b}")
    parsed = parse(f"duplicate AIR-{a} of {tail}")
    assert parsed == Usage("duplicate") or (isinstance(parsed, Duplicate) and parsed.key == f"AIR-{a}")
