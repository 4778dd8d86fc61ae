"""The answer's blocks as checked dicts (`bot.blocks.checked`): the same dicts slack_sdk's models give, the same
limits refused, and a filed answer over any title that Slack takes (parsed back by the models unchanged)."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import ActionsBlock, Block

from bot.blocks import checked, common, messages
from tests.test_escaping import CFG, request

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)
ANY_TEXT = st.text(min_size=1, max_size=3_200)


@PROPERTY
@given(ANY_TEXT, ANY_TEXT, st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=290))
@example("x" * 3001, "y" * 3001, "z" * 76, "w" * 300)
def test_a_checked_dict_is_what_the_model_gives(text: str, part: str, label: str, confirm: str) -> None:
    assert checked.section(text) == common.section(text).to_dict()
    assert checked.section(text, block_id="filed") == common.section(text, block_id="filed").to_dict()
    assert checked.context(part, "", text) == common.context(part, "", text).to_dict()
    buttons = [
        checked.button(label, "request.edit", "AIR-12"),
        checked.button(label, "request.withdraw", "AIR-12", style="danger", confirm=confirm),
    ]
    models = [
        common.button(label, "request.edit", "AIR-12"),
        common.button(label, "request.withdraw", "AIR-12", style="danger", confirm=confirm),
    ]
    assert checked.actions(*buttons) == ActionsBlock(elements=models).to_dict()


@pytest.mark.parametrize(
    "build",
    [
        lambda: checked.button("Edit", "a" * 256, "AIR-1"),
        lambda: checked.button("Edit", "request.edit", "v" * 2001),
        lambda: checked.button("Edit", "request.edit", "AIR-1", style="loud"),
        lambda: checked.button("Edit", "request.edit", "AIR-1", confirm="c" * 301),
        lambda: checked.section("text", block_id="b" * 256),
        lambda: checked.section(""),
        lambda: checked.actions(*[checked.button("Edit", "request.edit", "AIR-1")] * 26),
    ],
)
def test_what_the_models_refuse_is_refused(build) -> None:
    with pytest.raises(SlackObjectFormationError):
        build()


@PROPERTY
@given(st.text(max_size=400), st.lists(st.text(max_size=300), max_size=4), st.booleans())
@example("<!channel> & <@U123> " * 30, ["mentions " * 40], True)
def test_a_filed_answer_over_any_title_is_block_kit_slack_takes(title: str, reasons: list[str], cut: bool) -> None:
    filed = request(title=title or "t", route_reasons=reasons or ["kind regression"])
    text, blocks = messages.filed_reply(filed, CFG, created=True, user="U0REQ", cut=["title"] if cut else ())
    dicts = common.to_dicts(blocks)
    assert [b.to_dict() for b in Block.parse_all(dicts)] == dicts  # the models take them whole, nothing dropped
    assert text.startswith("Filed AIR-") and dicts[0]["text"]["text"].startswith("Filed *AIR-")
