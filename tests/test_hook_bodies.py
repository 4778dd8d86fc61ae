"""Our own hook bodies: the regression and change contracts, every bad field named, 1 MB, not JSON,
and property tests that no body can make the parser fail any other way."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hooks import (
    MAX_BODY_BYTES,
    BadRequest,
    FiledRegression,
    HookError,
    LoggedChange,
    TooLarge,
    format_names,
    parse_changes,
    parse_regressions,
)


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def regression(**fields: Any) -> FiledRegression:
    [found] = parse_regressions(
        body(**{"id": "r-1", "title": "refund answers quote 30 days", **fields}), source="monitoring"
    ).items
    return found


def change(**fields: Any) -> LoggedChange:
    base = {"id": "build-91", "side": "product", "what": "express-refund intent"}
    [found] = parse_changes(body(**{**base, **fields}), source="deploys").items
    return found


def refused(data: bytes, *, changes: bool = False, **kw: Any) -> HookError:
    parse = parse_changes if changes else parse_regressions
    with pytest.raises(HookError) as caught:
        parse(data, source="monitoring", **kw)
    return caught.value


def test_the_smallest_regression() -> None:
    assert regression() == FiledRegression(source="monitoring", id="r-1", title="refund answers quote 30 days")


def test_a_full_regression() -> None:
    found = regression(
        id=4711,
        domain="support",
        description="Seen in 12% of chats.\nSince 09:00.",
        links=["https://grafana.example.com/d/refunds"],
        priority="p1",
        asset="refund-intent",
        recovered=True,
    )
    assert found == FiledRegression(
        source="monitoring",
        id="4711",
        title="refund answers quote 30 days",
        domain="support",
        description="Seen in 12% of chats.\nSince 09:00.",
        links=["https://grafana.example.com/d/refunds"],
        priority="P1",
        asset="refund-intent",
        recovered=True,
    )


def test_the_url_domain_is_used_when_the_body_names_none() -> None:
    assert regression().domain is None
    [found] = parse_regressions(body(id="1", title="t"), source="m", domain="search").items
    assert found.domain == "search"
    [named] = parse_regressions(body(id="1", title="t", domain="support"), source="m", domain="search").items
    assert named.domain == "support"
    assert refused(body(id="1", title="t"), domain="Not a domain").field == "domain"


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"id": None}, "id", "id is required: the sender's own id for this regression"),
        ({"id": ""}, "id", "id is required"),
        ({"id": 1.5}, "id", "id must be a string or an integer"),
        ({"id": True}, "id", "id must be a string or an integer"),
        ({"id": "x" * 201}, "id", "id is 201 characters; at most 200"),
        ({"id": "a\nb"}, "id", "id must be one line"),
        ({"title": None}, "title", "title is required: one line saying what got worse"),
        ({"title": "   "}, "title", "title is required"),
        ({"title": ["a"]}, "title", "title must be a string, not a list"),
        ({"title": "t" * 151}, "title", "title is 151 characters; at most 150"),
        ({"title": "two\nlines"}, "title", "title must be one line"),
        ({"description": {"a": 1}}, "description", "description must be a string, not an object"),
        ({"links": "https://x.example.com"}, "links", "links must be a list, not a string"),
        ({"links": ["https://ok.example.com", "javascript:alert(1)"]}, "links", "links[1] is not an http(s) link"),
        ({"links": [42]}, "links", "links[0] is not an http(s) link: 42"),
        ({"priority": "urgent"}, "priority", "priority must be one of P1, P2, P3, P4, not 'urgent'"),
        ({"recovered": "yes"}, "recovered", "recovered must be true or false"),
        (
            {"tittle": "typo"},
            "tittle",
            "unknown field 'tittle'; a regression has id, title, domain, description, links, priority, asset, recovered",
        ),
    ],
)
def test_a_bad_regression_field_is_named(fields: dict[str, Any], field: str, message: str) -> None:
    data = {"id": "r-1", "title": "refund answers quote 30 days", **fields}
    error = refused(json.dumps({k: v for k, v in data.items() if v is not None}).encode())
    assert (error.status, error.field) == (400, field)
    assert error.message.startswith(message), error.message
    assert error.body() == {"error": error.message, "field": field}


def test_text_is_stripped_of_control_characters() -> None:
    found = regression(title="  refund\x00 answers\x1b  ", description="line one\r\nline two\x07")
    assert found.title == "refund answers" and found.description == "line one\r\nline two"


def test_the_smallest_and_a_full_change() -> None:
    assert change() == LoggedChange(source="deploys", id="build-91", side="product", what="express-refund intent")
    full = change(
        side="platform",
        what="refund-answer prompt",
        domain="support",
        kind="prompt",
        version=14,
        links=["https://langfuse.example.com/prompts/refund-answer"],
        asset="refund-answer",
    )
    assert full == LoggedChange(
        source="deploys",
        id="build-91",
        side="platform",
        what="refund-answer prompt",
        domain="support",
        kind="prompt",
        version="14",
        links=["https://langfuse.example.com/prompts/refund-answer"],
        asset="refund-answer",
    )


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"side": None}, "side", "side is required: product or platform"),
        ({"side": "ops"}, "side", "side must be product or platform, not 'ops'"),
        ({"what": None}, "what", "what is required: one line saying what shipped"),
        ({"what": "w" * 301}, "what", "what is 301 characters; at most 300"),
        (
            {"kind": "prompt"},
            "kind",
            "kind of a product change must be intent, surface, flow or success_metric, not 'prompt'",
        ),
        ({"version": "v" * 101}, "version", "version is 101 characters"),
        (
            {"description": "x"},
            "description",
            "unknown field 'description'; a change has id, side, what, domain, kind, version, links, asset",
        ),
    ],
)
def test_a_bad_change_field_is_named(fields: dict[str, Any], field: str, message: str) -> None:
    data = {"id": "build-91", "side": "product", "what": "express-refund intent", **fields}
    error = refused(json.dumps({k: v for k, v in data.items() if v is not None}).encode(), changes=True)
    assert (error.status, error.field) == (400, field)
    assert error.message.startswith(message), error.message


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the body is not JSON (Expecting value)"),
        (b"id=1&title=x", "the body is not JSON"),
        (b'{"id": "1", "title": "t",}', "the body is not JSON"),
        (b'{"id": "1", "title": "t", "priority": NaN}', "the body is not JSON"),
        (b'{"title": "\xff"}', "the body is not JSON (it is not UTF-8 text)"),
        (b"[" * 60_000, "the body is not JSON (it is nested too deeply)"),
        (b'["id", "title"]', "the body must be a JSON object, not a list"),
        (b'"a string"', "the body must be a JSON object, not a string"),
        (b"null", "the body must be a JSON object, not null"),
    ],
)
def test_what_is_not_a_json_object_is_refused(data: bytes, message: str) -> None:
    error = refused(data)
    assert error.status == 400 and error.message.startswith(message) and error.field is None


def test_1_mb_and_not_a_byte_more() -> None:
    padding = MAX_BODY_BYTES - len(body(id="1", title="t", description=""))
    exactly = body(id="1", title="t", description="x" * padding)
    assert len(exactly) == MAX_BODY_BYTES == 1_000_000
    assert parse_regressions(exactly, source="m").items[0].description == "x" * padding
    over = body(id="1", title="t", description="x" * (padding + 1))
    error = refused(over)
    assert isinstance(error, TooLarge) and error.status == 413 and "1000001 bytes" in error.message


def test_formats_are_chosen_per_endpoint() -> None:
    assert format_names("regressions") == ["native", "alertmanager", "grafana", "sentry"]
    assert format_names("changes") == ["native", "langfuse", "langsmith"]
    assert parse_regressions(body(id="1", title="t"), source="m", format="native").items[0].id == "1"
    wrong = refused(body(id="1", title="t"), format="langfuse")
    assert (wrong.field, wrong.message) == ("format", "format langfuse sends changes: post it to /hooks/changes")
    unknown = refused(body(id="1", title="t"), changes=True, format="datadog")
    assert (unknown.field, unknown.message) == (
        "format",
        "unknown format 'datadog'; /hooks/changes reads native, langfuse, langsmith",
    )


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "id",
        "title",
        "domain",
        "description",
        "links",
        "priority",
        "asset",
        "recovered",
        "side",
        "what",
        "kind",
        "version",
        "alerts",
        "data",
        "action",
        "prompt",
        "type",
        "prompt_name",
        "commit_hash",
        "event",
    ]
)
BODIES = st.dictionaries(KEYS, JSON, max_size=8) | JSON


@settings(max_examples=300, deadline=None)
@given(BODIES, st.sampled_from(format_names()))
def test_any_json_body_is_read_or_refused_with_a_400(data: Any, format: str) -> None:
    raw = json.dumps(data).encode()
    parse = parse_changes if format in format_names("changes") and format != "native" else parse_regressions
    try:
        batch = parse(raw, source="m", format=format)
    except BadRequest as error:
        assert error.status == 400 and error.message and (error.field is None or isinstance(error.field, str))
        return
    for item in batch.items:
        assert item.source == "m" and item.id


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused_with_a_400(raw: bytes) -> None:
    try:
        parse_regressions(raw, source="m")
    except BadRequest as error:
        assert error.status == 400


def test_a_lone_surrogate_is_cleaned_not_a_crash() -> None:
    raw = b'{"id": "r-\\udc80", "title": "refund \\ud800 answers", "description": "x\\udfff"}'
    found = parse_regressions(raw, source="monitoring").items[0]
    assert (found.id, found.title, found.description) == ("r-\ufffd", "refund \ufffd answers", "x\ufffd")
    found.title.encode("utf-8")  # storable text


@pytest.mark.parametrize("title", ["\u200b", "\u202e\u2066 \u2069", "\ufeff\u200d", " \u2028 "])
def test_a_title_of_only_invisible_characters_is_400_naming_title(title: str) -> None:
    error = refused(body(id="r-1", title=title))
    assert error.status == 400 and error.field == "title"


def test_an_alert_titled_only_with_invisible_characters_is_left_out_and_named() -> None:
    group = {
        "status": "firing",
        "alerts": [
            {"status": "firing", "labels": {"alertname": "\u202e\u200b"}, "annotations": {}, "fingerprint": "a1"},
            {"status": "firing", "labels": {"alertname": "RefundErrors"}, "annotations": {}, "fingerprint": "b2"},
        ],
    }
    batch = parse_regressions(body(**group), source="monitoring", format="alertmanager")
    assert [i.title for i in batch.items] == ["RefundErrors"]
    assert batch.skipped[0].startswith("alerts[0].labels.alertname was left out")


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=())), st.text())
@settings(max_examples=150, deadline=None, derandomize=True)
def test_any_text_with_any_surrogates_parses_or_is_refused_never_crashes(title: str, description: str) -> None:
    raw = json.dumps({"id": "r-1", "title": title, "description": description}).encode()  # \\uXXXX for surrogates
    try:
        [found] = parse_regressions(raw, source="monitoring").items
    except HookError as exc:
        assert exc.status == 400 and exc.field == "title"
        return
    found.title.encode("utf-8") and found.description.encode("utf-8")
