from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_slack import FakeSlack, fake_slack  # noqa: F401  (the fixture)
from tests.harness import Harness, start_harness


@pytest.fixture
def harness(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Harness]:  # noqa: F811
    h = start_harness(tmp_path, fake_slack)
    yield h
    h.stop()
