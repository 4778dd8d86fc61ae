"""Outbox kinds and their payloads: each kind has one payload type, stored as JSON and validated when read back."""

import json
from datetime import datetime, timezone

import pytest

from storage.outbox import (
    PAYLOADS,
    CardMoved,
    CardUpdate,
    ChangeLine,
    ChangeQuestion,
    ChannelMessage,
    DigestPart,
    Ephemeral,
    FiledReply,
    HomeRefresh,
    Kind,
    NagMessage,
    ThreadLine,
    read_payload,
)

EXAMPLES = [
    CardUpdate(),
    ThreadLine(text="<@U0ENG1> claimed this."),
    ChannelMessage(channel="C0SUPPORT", text="Weekly digest", blocks=[{"type": "divider"}]),
    ChannelMessage(channel="C0SUPPORT", thread_ts="1700000000.000100", text="help"),
    FiledReply(channel="C0SUPPORT", thread_ts="1700000000.000100"),
    FiledReply(channel="C0SUPPORT", user="U0REQ"),
    FiledReply(user="U0REQ"),
    Ephemeral(
        user="U0REQ", channel="C0SUPPORT", text="Only members can claim AIR-1.", response_url="https://hooks.example/1"
    ),
    NagMessage(
        user="U0ENG1", text="AIR-1 first response at risk", buttons=[("AIR-1", ["request.snooze"])], urgent=True
    ),
    HomeRefresh(user="U0ENG1"),
    HomeRefresh(user="U0ENG1", section="support", page=3),
    FiledReply(user="U0REQ", cut=["description"]),
    CardMoved(channel="C0SUPPORT", ts="1700000000.000100", by="U0ENG1", domain="search"),
    ChangeQuestion(change_id="CHG-7", channel="C0SUPPORT", first=True),
    ChangeLine(change_id="CHG-7", channel="C0SUPPORT", text="<@U0MLPM> answered: covered."),
    DigestPart(
        channel="C0SUPPORT",
        part=1,
        facts={"what": "public", "scope": "support"},
        written_at=datetime(2026, 11, 30, 8, tzinfo=timezone.utc),
    ),
]


def test_every_kind_has_one_payload_type() -> None:
    assert set(PAYLOADS) == set(Kind)
    assert {type(p).kind for p in EXAMPLES} == set(Kind)


@pytest.mark.parametrize("payload", EXAMPLES, ids=lambda p: type(p).__name__)
def test_a_payload_reads_back_as_it_was_queued(payload) -> None:
    stored = json.loads(json.dumps(payload.row()))
    assert read_payload(str(payload.kind), stored) == payload


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("thread", {}),  # no text
        ("message", {"text": "no channel"}),
        ("reply", {"channel": "C0SUPPORT"}),  # neither a person nor a thread
        ("nag", {"user": "U0ENG1", "text": "x", "buttons": "request.own"}),
        ("home", {"user": "U0ENG1", "channel": "C0SUPPORT"}),  # a field no home refresh has
        ("fax", {"user": "U0ENG1"}),  # no such kind
    ],
)
def test_a_payload_that_does_not_fit_its_kind_is_refused(kind: str, data: dict) -> None:
    with pytest.raises(ValueError):
        read_payload(kind, data)


def test_payloads_stored_before_the_kinds_were_typed_still_read() -> None:
    """Items queued by an earlier version (plain dicts, every key present) are still sent after an upgrade."""
    assert read_payload(
        "ephemeral", {"user": "U0REQ", "channel": None, "text": "hi", "response_url": None}
    ) == Ephemeral(user="U0REQ", text="hi")
    assert read_payload(
        "nag", {"user": "U0A", "text": "t", "buttons": [["AIR-1", ["request.own"]]], "urgent": False}
    ).buttons == [("AIR-1", ["request.own"])]
    assert read_payload("card", {}) == CardUpdate()
