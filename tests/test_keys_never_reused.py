"""No key names two things: after `ai-intake restore` of an older backup, the next request and the next change
get keys past every one the replaced database gave, since those are still on messages in Slack.

Through the real bot, a real backup and a real restore: CHG-1 is logged, the backup is taken, CHG-2 and AIR-1
follow; the backup is restored and the bot started on it. The next change is CHG-3, the next request AIR-2,
and *Needs work* on the old CHG-2 message finds no change rather than answering the new one.
"""

import copy
import json
from pathlib import Path

from bot.blocks import ids
from bot.domain.errors import NotFound
from storage.backup import backup, restore
from tests.fake_slack import FakeSlack
from tests.harness import START, Harness, start_harness
from tests.test_change_log import CATALOG, CONFIG, ship


def logged(h: Harness, key: str) -> bool:
    try:
        h.bot.changelog.get(key)
    except NotFound:
        return False
    return True


def test_after_a_restore_no_request_or_change_key_is_given_twice(tmp_path: Path, fake_slack: FakeSlack) -> None:
    config = {**copy.deepcopy(CONFIG), **CATALOG}
    first = start_harness(tmp_path, fake_slack, config=config)
    try:
        assert "CHG-1" in ship(first, "intent: express-refund intent")
        backup(tmp_path / "intake.db", tmp_path / "nightly.db")
        assert "CHG-2" in ship(first, "prompt: refund answers quote the order date")
        first.command("question: filed after the backup")
        first.settle()
        assert first.bot.queries.get(1) is not None
    finally:
        first.stop()

    restore(tmp_path / "nightly.db", tmp_path / "intake.db", now=START)

    second = start_harness(tmp_path, fake_slack, config=config)
    try:
        assert not logged(second, "CHG-2"), "CHG-2 was logged after the backup"
        second.click(ids.CHANGE_NEEDS_WORK, "CHG-2", user="U0MLPM")  # its message is still in Slack
        second.settle()
        assert second.bot.queries.get(1) is None, "the old message files nothing"
        said = ship(second, "intent: partial-refund intent")
        assert "CHG-3" in said and "CHG-2" not in said, said
        assert logged(second, "CHG-3") and not logged(second, "CHG-2")
        assert "AIR-2" in second.command("question: filed after the restore").json()["text"]
        second.click(ids.CHANGE_NEEDS_WORK, "CHG-2", user="U0MLPM")
        second.settle()
        assert second.bot.changelog.get("CHG-3").answer is None, "an answer to the old message reaches no other change"
        assert "CHG-3" not in json.dumps([r["body"] for r in fake_slack.responses][-1:])
    finally:
        second.stop()
