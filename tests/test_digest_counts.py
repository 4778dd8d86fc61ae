"""Nothing is cut off silently in the digest: "Needs a decision" counts every unowned regression and stalled
review, names those it cannot list by number with where to see them, counts the confidential ones, and
every message stays inside Block Kit's limits (the fake Slack refuses any that does not). Through the real
app: forty requests filed by slash command, a week on the clock, the digest job."""

from bot.blocks import ids
from tests.harness import Harness
from tests.stories import channel_posts, shown
from tests.test_confidentiality import file_by_form


def test_needs_a_decision_counts_everything_and_says_where_the_rest_are(harness: Harness) -> None:
    h = harness
    for n in range(20):
        h.command(f"regression: refund answer number {n} is wrong")
    for n in range(12):  # public security reviews (the box unticked)
        file_by_form(
            h,
            user="U0REQ",
            kind="security_review",
            title=f"public review {n}",
            description="",
            channel="C0SUPPORT",
            confidential=False,
        )
    for n in range(3):  # confidential ones, by default
        h.command(f"security review: SECRET vendor {n}")
    h.settle()
    h.clock.advance(days=8)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()

    digests = channel_posts(h, "C0SUPPORT", containing="Weekly digest: support")
    text = " ".join(shown(d) for d in digests)
    assert "*Needs a decision*: 20 unowned regressions, 15 stalled security reviews" in text
    assert (
        "+12 more unowned regressions and +4 more stalled reviews: `/ai-request queue support` lists every open request."
        in text
    )
    assert "3 confidential security reviews stalled over 7 days, oldest 8 days (listed in full in <#G0SUPSEC>)" in text
    assert "SECRET" not in text
    assert all(len(d["blocks"]) <= 50 for d in digests)
    assert digests[0]["text"].startswith(
        "Weekly digest: support: 0 opened, 0 resolved, 20 unowned regressions, 15 stalled reviews"
    )

    private = channel_posts(h, "G0SUPSEC", containing="Private digest: support")
    listed = " ".join(shown(p) for p in private)
    assert "*Needs a decision*: 3" in listed and all(f"SECRET vendor {n}" in listed for n in range(3))
    assert "public review" not in listed  # the public ones are in the public digest

    org = channel_posts(h, "C0DIGEST", containing="Weekly digest: all domains")
    assert "`/ai-request queue` lists every open request" in " ".join(shown(o) for o in org)


def test_a_long_private_digest_lists_everything_over_several_messages(harness: Harness) -> None:
    h = harness
    for n in range(30):
        h.command(f"security review: SECRET vendor {n} " + "with a long explanation " * 6)
    h.settle()
    h.clock.advance(days=8)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()
    private = channel_posts(h, "G0SUPSEC", containing="Private digest")
    assert len(private) >= 2 and all(len(p["blocks"]) <= 50 for p in private)
    listed = " ".join(shown(p) for p in private)
    assert all(f"*AIR-{n}* · SECRET vendor {n - 1}" in listed for n in range(1, 31))
    assert private[1]["text"] == "Private digest: support (continued)"


def test_a_domain_without_a_review_channel_is_told_where_its_confidential_requests_really_are(harness: Harness) -> None:
    h = harness
    for n in range(2):  # search has no review channel: its confidential reviews' cards stay redacted in #search
        h.command(f"security review: SECRET ranking vendor {n}", channel="C0SEARCH")
    h.settle()
    h.clock.advance(days=8)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()
    text = " ".join(shown(d) for d in channel_posts(h, "C0SEARCH", containing="Weekly digest: search"))
    assert "listed to its members by `/ai-request queue search`" in text and "private review channel" not in text
    assert "SECRET" not in text


def test_needs_a_decision_lists_an_unowned_regression_only_once_its_owners_were_asked(harness: Harness) -> None:
    h = harness
    h.command("regression: refund bot quotes a 14-day window")  # Monday 10:00: asked at 14:00
    h.settle()
    h.clock.advance(hours=5)
    h.command("regression: refund bot forgets the order number")  # Monday 15:00: an hour old at the digest
    h.settle()
    h.clock.advance(hours=1)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()
    text = " ".join(shown(d) for d in channel_posts(h, "C0SUPPORT", containing="Weekly digest: support"))
    assert "*Needs a decision*: 1 unowned regression" in text and "*AIR-1* regression unowned" in text
    assert "AIR-2* regression unowned" not in text


def test_a_duplicate_is_in_none_of_the_weeks_resolution_figures(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers the refund window?", user="U0REQ")
    h.command("question: which eval covers the refund window in German?", user="U0REQ2")
    h.settle()
    h.clock.advance(minutes=30)
    card = h.card("AIR-2")
    duplicate = next(
        e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.DUPLICATE
    )
    h.interact(
        {
            "type": "block_actions",
            "user": {"id": "U0ENG1", "name": "u0eng1", "team_id": "T0TEAM"},
            "trigger_id": h.fake.new_trigger_id(),
            "response_url": h.fake.response_url(),
            "channel": {"id": "C0SUPPORT", "name": "x"},
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": "C0SUPPORT"},
            "message": card,
            "actions": [
                {
                    "action_id": ids.DUPLICATE,
                    "block_id": "card.actions",
                    "type": "static_select",
                    "selected_option": duplicate["options"][0],
                    "action_ts": "1.1",
                }
            ],
        }
    )
    h.settle()
    assert h.bot.queries.get(2).status == "declined"
    h.clock.advance(hours=2, minutes=30)  # AIR-1 resolved 3 business hours after it was filed
    h.click(ids.RESOLVE, "AIR-1", user="U0ENG1")
    h.settle()
    h.clock.advance(days=1)
    h.bot.jobs.send_digest(now=h.clock())
    h.settle()
    text = " ".join(shown(d) for d in channel_posts(h, "C0SUPPORT", containing="Weekly digest: support"))
    assert "*Resolved*\\n1 " in text and "*Median resolution*\\n3.0 h" in text, text
