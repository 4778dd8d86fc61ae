"""The outbox's lanes: clicks on two cards of one channel update both at once, while one request's messages keep
their order (its card before the lines in its thread) and each channel is paced as strictly as ever."""

import threading
import time

from bot.outbox.pacing import BURST
from tests.harness import Harness


def file_cards(h: Harness, n: int) -> list[str]:
    """`n` requests filed in #support, their cards posted; their keys."""
    for i in range(n):
        h.command(f"question: does the refund eval cover case {i}?")
    h.settle()
    keys = [f"AIR-{i}" for i in range(1, n + 1)]
    assert all(h.bot.queries.get(int(k.split("-")[1])).card_ts for k in keys)
    return keys


def card_ts(h: Harness, key: str) -> str:
    ts = h.bot.queries.get(int(key.split("-")[1])).card_ts
    assert ts
    return ts


def lines_under(h: Harness, ts: str) -> list[dict]:
    return [c for c in h.fake.calls_to("chat.postMessage") if c.get("thread_ts") == ts]


def wait_for(what, *, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def test_two_cards_of_one_channel_are_updated_side_by_side_and_each_cards_line_waits_for_its_update(
    harness: Harness,
) -> None:
    """Slack holds the answer to one card's chat.update: the other card's update and the line in its thread
    still go out meanwhile; the held card's own line waits until its update was answered, then follows it."""
    h = harness
    first, second = file_cards(h, 2)
    h.click("request.claim", first, user="U0ENG1")
    h.click("request.claim", second, user="U0ENG2")
    assert h.bot.inbox.wait_idle(timeout=10) and h.bot.pool.wait_idle(timeout=10)  # both clicks' messages queued
    with h.bot.store.reading() as tx:
        pending = [r["kind"] for r in tx.outbox.rows() if r["status"] == "pending"]
    assert (pending.count("card"), pending.count("thread")) == (2, 2)
    before = len(h.fake.calls_to("chat.update"))
    h.fake.hold_answer("chat.update", nth=1)
    drain = threading.Thread(target=h.bot.outbox.drain)
    drain.start()
    try:
        assert h.fake.held.wait(timeout=10), "no card was updated"
        cards = {card_ts(h, first), card_ts(h, second)}
        wait_for(lambda: any(lines_under(h, ts) for ts in cards))  # one card updated and its line posted ...
        (other,) = [ts for ts in cards if lines_under(h, ts)]
        (held,) = cards - {other}  # ... while Slack holds the answer to the other card's update
        assert sorted(c["ts"] for c in h.fake.calls_to("chat.update")[before:]) == sorted(cards)
        assert lines_under(h, held) == []  # the held card's line waits for its update
    finally:
        h.fake.release.set()
        drain.join(timeout=30)
    h.settle()
    order = [
        (c.method, c.args.get("ts") or c.args.get("thread_ts"))
        for c in h.fake.calls
        if c.method in ("chat.update", "chat.postMessage") and held in (c.args.get("ts"), c.args.get("thread_ts"))
    ]
    assert order == [("chat.update", held), ("chat.postMessage", held)]
    assert "Claimed" in h.card_text(first) and "Claimed" in h.card_text(second)
    assert len(lines_under(h, card_ts(h, first))) == len(lines_under(h, card_ts(h, second))) == 1


def test_a_card_not_posted_yet_goes_before_its_line_and_after_the_cards_filed_before_it(harness: Harness) -> None:
    """A card waiting to be posted is in its channel's lane: it goes after the cards queued before it (a channel's
    cards appear in the order filed) and the line in its thread after it, in the same round."""
    h = harness
    for i in range(4):
        h.command(f"question: does the refund eval cover case {i}?")
    h.click("request.claim", "AIR-3", user="U0ENG1")  # claimed before its card was posted
    h.settle()
    top = [m for m in h.fake.messages("C0SUPPORT") if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert [next(w for w in m["text"].split() if w.startswith("AIR-")) for m in top] == [
        "AIR-1",
        "AIR-2",
        "AIR-3",
        "AIR-4",
    ]
    card = h.card("AIR-3")
    assert "Claimed" in h.card_text("AIR-3")
    replies = [m for m in h.fake.thread("C0SUPPORT", card["ts"]) if m["ts"] != card["ts"]]
    assert len(replies) == 1 and replies[0]["ts"] > card["ts"]


def test_a_channel_out_of_tokens_defers_the_rest_of_its_items_in_every_lane_in_order(harness: Harness) -> None:
    """Clicks on four cards of #support at once queue eight messages there (each card's update and its line): the
    channel's burst goes at once, in queue order, however the lanes fall; the rest wait for the channel's tokens and
    go one a second, still in queue order; #search, filed meanwhile, is not held up."""
    h = harness
    keys = file_cards(h, 4)
    h.bot.outbox.pacer.interval = 1.0  # from here on a full bucket: BURST posts at once, then one a second
    for key in keys:
        h.click("request.claim", key, user="U0ENG1")
    h.command("question: ranking eval", channel="C0SEARCH")
    h.settle()

    def sent() -> list[tuple[str, str]]:
        """What went to #support since the clicks, as (update or line, the card), sorted in the order queued."""
        cards = {card_ts(h, k): k for k in keys}
        done = []
        for c in h.fake.calls:
            if c.method == "chat.update" and c.args["channel"] == "C0SUPPORT":
                done.append(("update", cards[c.args["ts"]]))
            elif c.method == "chat.postMessage" and c.args.get("thread_ts") in cards:
                done.append(("line", cards[c.args["thread_ts"]]))
        return sorted(done, key=lambda d: (keys.index(d[1]), d[0] == "line"))

    queued = [(what, key) for key in keys for what in ("update", "line")]
    assert len(sent()) == BURST and sent() == queued[:BURST]
    assert len(h.fake.messages("C0SEARCH")) == 1
    with h.bot.store.reading() as tx:
        waiting = [r for r in tx.outbox.rows() if r["status"] == "pending"]
    assert len(waiting) == len(queued) - BURST and {r["error"] for r in waiting} == {"paced"}
    for n in range(BURST + 1, len(queued) + 1):
        h.clock.advance(seconds=1)
        h.settle()
        assert sent() == queued[:n]
    assert all("Claimed" in h.card_text(k) for k in keys)


def test_a_channels_backlog_of_new_cards_goes_a_few_a_batch_so_a_card_clicked_meanwhile_is_not_held_behind_it(
    harness: Harness,
) -> None:
    """Ten new cards wait for #support (pacing off: nothing spaces them). A batch sends a few of them
    (`LANE_ITEMS`), not all, so a card clicked while they go out is updated in the next batch, beside the next few,
    instead of after the whole backlog."""
    from bot.outbox.lanes import LANE_ITEMS

    h = harness
    (clicked,) = file_cards(h, 1)
    for i in range(10):
        h.command(f"question: does the ranking eval cover case {i}?")
    h.fake.hold_answer("chat.postMessage", nth=1)  # Slack takes the first new card and holds its answer
    drain = threading.Thread(target=h.bot.outbox.drain)
    drain.start()
    try:
        assert h.fake.held.wait(timeout=10), "no card was posted"
        with h.bot.store.reading() as tx:
            cards = [r for r in tx.outbox.rows() if r["kind"] == "card" and r["status"] == "pending"]
        assert len(cards) == 10 and sum(1 for r in cards if r["attempts"]) == LANE_ITEMS  # the rest not tried yet
        h.click("request.claim", clicked, user="U0ENG1")  # meanwhile, on the card posted before
    finally:
        h.fake.release.set()
        drain.join(timeout=30)
    h.settle()
    calls = [c for c in h.fake.calls if c.method in ("chat.update", "chat.postMessage")]
    update = next(i for i, c in enumerate(calls) if c.method == "chat.update" and c.args["ts"] == card_ts(h, clicked))
    new_cards = [
        i
        for i, c in enumerate(calls)
        if c.method == "chat.postMessage" and c.args["channel"] == "C0SUPPORT" and not c.args.get("thread_ts")
    ][1:]
    assert len(new_cards) == 10 and update < new_cards[-1]  # not behind the whole backlog
    assert "Claimed" in h.card_text(clicked)
    top = [m for m in h.fake.messages("C0SUPPORT") if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top) == 11  # every card once, in the order filed
    assert [int(next(w for w in m["text"].split() if w.startswith("AIR-"))[4:]) for m in top] == list(range(1, 12))


def test_a_card_clicked_while_another_card_waits_for_slack_is_updated_without_waiting_for_it(harness: Harness) -> None:
    """Batches overlap: while a new card's post waits for Slack's answer, a card clicked meanwhile is updated at once,
    not once that answer came (a click used to wait for whatever the outbox had out: a card, a line, an App Home)."""
    h = harness
    (clicked,) = file_cards(h, 1)
    h.command("question: does the ranking eval cover refunds?")  # a new card for #support, queued
    h.fake.hold_answer("chat.postMessage", nth=1)  # Slack takes it and holds its answer
    drain = threading.Thread(target=h.bot.outbox.drain)
    drain.start()
    try:
        assert h.fake.held.wait(timeout=10), "the new card was not posted"
        h.click("request.claim", clicked, user="U0ENG1")
        wait_for(lambda: any(c.method == "chat.update" and c.args["ts"] == card_ts(h, clicked) for c in h.fake.calls))
        assert not h.fake.release.is_set()  # updated while the other card's answer is still held
    finally:
        h.fake.release.set()
        drain.join(timeout=30)
    h.settle()
    assert "Claimed" in h.card_text(clicked) and h.bot.queries.get(2).card_ts  # both, once
    top = [m for m in h.fake.messages("C0SUPPORT") if m.get("thread_ts", m["ts"]) == m["ts"]]
    assert len(top) == 2
