"""A regression a monitoring hook filed is named by its source in every nag, never by a mention of no user."""

import json

from tests.harness import Harness
from tests.stories import dms, thread_posts
from tests.test_change_log_story import h, hook  # noqa: F401  (the fixture: the story's config with its hooks)


def test_nags_about_a_hook_filed_regression_name_the_hook(h: Harness) -> None:  # noqa: F811
    reply = hook(
        h,
        "/hooks/regressions",
        {"id": "refund-accuracy-1", "title": "Express refunds are told to wait 14 days", "domain": "support"},
        source="monitoring",
    )
    assert reply.status == 201, reply.body
    h.settle()
    h.clock.advance(hours=4)
    h.bot.jobs.run_nags(job="nags", now=h.clock())
    h.settle()
    asked = [*thread_posts(h, "AIR-1"), *dms(h, "U0PPM"), *dms(h, "U0MLPM")]
    assert asked and all("no owner" in m["text"] for m in asked)
    for message in asked:
        seen = json.dumps(message.get("blocks"))
        assert "filed by the `monitoring` hook" in seen and "<@monitoring>" not in seen
    assert not any("<@monitoring>" in json.dumps(c.args) for c in h.fake.calls)
